"""The cold start, side by side: a fresh interpreter imports an app and answers one IntentRequest with
its DynamoDB store on a local moto server, for the skill and for the stock ask-sdk hello world.

What is timed is what a cold Lambda container adds to Python's own start-up: from the first import to
the reply (both apps pay the interpreter start alike). Runs alternate, so machine noise hits both.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from bench.apps import load_test_module
from bench.body import SKILL_ID, intent_envelope
from skill.settings import PROJECT_ROOT

TABLE = "bench-cold-start"
# Modules a Lambda request with no HTTP signature has no use for (the zip does not even ship the last two).
OFF_THE_LAMBDA_PATH = ("requests", "cryptography", "flask")

# Runs in the fresh interpreter: argv[1] is the app's module, argv[2] the event.
CHILD = """
import json, sys, time
started, started_cpu = time.perf_counter(), time.process_time()
app = __import__(sys.argv[1], fromlist=["handler"])
reply = app.handler(json.loads(sys.argv[2]), None)
seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "reply": reply, "modules": sorted(sys.modules)}))
"""


@dataclass(frozen=True)
class ColdApp:
    name: str
    module: str
    intent: str
    environment: Mapping[str, str]


def apps(endpoint: str) -> dict[str, ColdApp]:
    """The skill answering a request that reads its store once, as the hello world's does; the skill
    answering a topic question, which reads no preferences; and the hello world."""
    skill_environment = {"HIP_HELPER_SKILL_ID": SKILL_ID, "HIP_HELPER_STORE": "dynamodb",
                         "HIP_HELPER_DYNAMODB_TABLE": TABLE, "HIP_HELPER_DYNAMODB_ENDPOINT": endpoint}
    return {
        "skill": ColdApp("skill", "skill.lambda_handler", "ResumeRoutineIntent", skill_environment),
        "topic": ColdApp("skill, topic question", "skill.lambda_handler", "ConditionIntent", skill_environment),
        "hello": ColdApp("hello world", "bench.hello_world", "HelloWorldIntent", {
            "HELLO_WORLD_DYNAMODB_TABLE": TABLE, "HELLO_WORLD_DYNAMODB_ENDPOINT": endpoint}),
    }


def event(intent: str) -> dict:
    """The bench's request as `intent`; only the topic question keeps its slot."""
    envelope = intent_envelope(datetime.now(timezone.utc))
    envelope["request"]["intent"]["name"] = intent
    if intent != "ConditionIntent":
        del envelope["request"]["intent"]["slots"]
    return envelope


def invoke_cold(app: ColdApp) -> dict:
    """One fresh interpreter: {"seconds", "cpu_seconds", "reply", "modules"}; raises if the app did not answer."""
    aws = load_test_module("dynamodb_server").dummy_aws_environment()
    # Bytecode is written and used, as the Lambda zip ships it precompiled: no app is timed compiling itself.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", CHILD, app.module, json.dumps(event(app.intent))],
                          cwd=PROJECT_ROOT, env={**environment, **aws, **app.environment},
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{app.name} failed its cold start:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    if "outputSpeech" not in result["reply"].get("response", {}):
        raise RuntimeError(f"{app.name} answered without speech: {result['reply']}")
    return result


@contextmanager
def moto_table() -> Iterator[str]:
    """A moto server holding the table both apps read."""
    with load_test_module("dynamodb_server").MotoServer() as server:
        create_table(server.endpoint_url)
        yield server.endpoint_url


def create_table(endpoint: str) -> None:
    """Up front, as an operator provisions it (the official adapter's key layout, which the skill shares)."""
    import boto3
    aws = load_test_module("dynamodb_server").dummy_aws_environment()
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=aws["AWS_DEFAULT_REGION"],
                          aws_access_key_id=aws["AWS_ACCESS_KEY_ID"], aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"])
    try:
        client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
    except client.exceptions.ResourceInUseException:
        pass  # a test session's server, shared


@dataclass(frozen=True)
class Timing:
    """Medians of wall time, the target's measure, and of CPU time, which other load on the machine moves less."""

    wall_ms: float
    cpu_ms: float

    @classmethod
    def of(cls, runs: list[dict]) -> "Timing":
        return cls(wall_ms=statistics.median(run["seconds"] for run in runs) * 1000,
                   cpu_ms=statistics.median(run["cpu_seconds"] for run in runs) * 1000)


@dataclass(frozen=True)
class ColdStart:
    skill: Timing  # a request that reads the store, like the hello world's
    topic: Timing  # a topic question: no preferences read
    hello: Timing
    samples: int
    leaked: tuple[str, ...]  # OFF_THE_LAMBDA_PATH modules the skill's cold starts imported

    @property
    def ratio(self) -> float:
        return self.skill.wall_ms / self.hello.wall_ms


def measure(samples: int) -> ColdStart:
    with moto_table() as endpoint:
        cold_apps = apps(endpoint)
        for app in cold_apps.values():
            invoke_cold(app)  # untimed: they write the bytecode and fill the OS page cache
        runs: dict[str, list[dict]] = {name: [] for name in cold_apps}
        for _ in range(samples):
            for name, app in cold_apps.items():
                runs[name].append(invoke_cold(app))
    modules = set(runs["skill"][-1]["modules"]) | set(runs["topic"][-1]["modules"])
    return ColdStart(**{name: Timing.of(app_runs) for name, app_runs in runs.items()}, samples=samples,
                     leaked=tuple(name for name in OFF_THE_LAMBDA_PATH if name in modules))
