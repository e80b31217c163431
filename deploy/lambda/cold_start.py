"""Invoke the built Lambda tree the way a cold Lambda container does: a fresh, isolated interpreter
whose only import path is the unpacked zip (no venv, no site-packages), one LaunchRequest.

    python deploy/lambda/cold_start.py [--runs 5] [--python python3.12]

Prints the import time and the first-request time, median over the runs. boto3 is not reachable,
so the store is SQLite under a temporary directory (the DynamoDB path is tested against moto).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKILL_ID = "amzn1.ask.skill.cold-start"

# Runs in the bare interpreter: -I -S means no PYTHONPATH, no user or site packages, no cwd.
_CHILD = """
import json, sys, time
sys.path[:0] = sys.argv[1:2] + sys.argv[3:4]  # the zip first, as in /var/task, then the runtime's boto3
started = time.perf_counter()
from skill.lambda_handler import handler
imported = time.perf_counter()
reply = handler(json.loads(sys.argv[2]), None)
answered = time.perf_counter()
print(json.dumps({"reply": reply, "import_s": imported - started, "first_request_s": answered - imported,
                  "modules": sorted(sys.modules)}))
"""


def launch_request(skill_id: str = SKILL_ID, locale: str = "en-US") -> dict:
    application, user = {"applicationId": skill_id}, {"userId": "amzn1.ask.account.COLDSTART"}
    return {
        "version": "1.0",
        "session": {"new": True, "sessionId": "amzn1.echo-api.session.cold", "application": application,
                    "attributes": {}, "user": user},
        "context": {"System": {"application": application, "user": user,
                               "device": {"deviceId": "amzn1.ask.device.cold", "supportedInterfaces": {}}}},
        "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.cold", "locale": locale,
                    "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
    }


def invoke_bare(tree: Path, event: dict, python: str, state_dir: Path,
                runtime_path: Path | None = None, environment: dict[str, str] | None = None) -> dict:
    """One cold invocation; returns the reply, the timings and the modules the child imported.
    `runtime_path` stands in for what the Lambda runtime adds after /var/task (boto3)."""
    env = {"HIP_HELPER_SKILL_ID": SKILL_ID, "HIP_HELPER_DB_PATH": str(state_dir / "prefs.sqlite3"),
           "PATH": "/usr/bin:/bin", **(environment or {})}
    runtime = [str(runtime_path)] if runtime_path else []
    done = subprocess.run([python, "-I", "-S", "-c", _CHILD, str(tree), json.dumps(event), *runtime],
                          env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"the bare interpreter failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=ROOT / "build" / "hip-helper-lambda.zip")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=sys.executable)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "task"
        zipfile.ZipFile(arguments.zip).extractall(tree)
        runs = [invoke_bare(tree, launch_request(), arguments.python, Path(tempfile.mkdtemp(dir=scratch)))
                for _ in range(arguments.runs)]
    imports = statistics.median(run["import_s"] for run in runs)
    firsts = statistics.median(run["first_request_s"] for run in runs)
    print(f"{arguments.python}: import {imports * 1000:.0f} ms, first LaunchRequest {firsts * 1000:.0f} ms, "
          f"total {(imports + firsts) * 1000:.0f} ms (median of {len(runs)} cold runs)")


if __name__ == "__main__":
    main()
