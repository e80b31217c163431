"""`python -m bench`: how much the skill costs over a plain Flask app, with and without signature checks,
and how its cold start compares with the stock ask-sdk hello world's.

Cold: fresh interpreters alternately import the skill's Lambda handler and bench/hello_world.py and
answer one IntentRequest, each with its DynamoDB store on a local moto server (bench/cold.py).
Warm: both apps run under gunicorn with identical settings (2 sync workers) on 127.0.0.1. wrk (when
on the PATH, else Python client processes) POSTs the same ~2 KB IntentRequest, re-signed with a fresh
timestamp for every run. After a warm-up, runs alternate skill, plain, skill, plain... and each app's
median-throughput round is reported, with the skill/plain ratios and the skill workers' memory. The
import time of `skill.app` is measured before any server starts. Exit status is 0 whatever the
numbers (machines are noisy); non-zero only on a crash.
"""
from __future__ import annotations

import argparse
import signal
import sys
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Protocol

from cryptography import x509

from bench import cold, wrk
from bench.apps import load_test_module, skill_app, write_trust_files
from bench.body import encode, intent_envelope
from bench.import_time import import_time_ms
from bench.load import LoadGenerator
from bench.report import run_line, table
from bench.servers import GunicornServer
from bench.stats import Comparison, Run, median_run
from skill.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / ".bench"


class Load(Protocol):
    """bench.load.LoadGenerator or bench.wrk.WrkLoad."""

    name: str

    def run(self, port: int, body: bytes, headers: dict[str, str], duration_s: float) -> Run: ...


class Signer(Protocol):
    """What the bench uses of tests/pki.py's AlexaSigner."""

    root: x509.Certificate
    chain_pem: bytes
    url: str

    def sign(self, body: bytes) -> dict[str, str]: ...


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per app and mode (default 3)")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per timed run (default 4)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of untimed load per server first")
    parser.add_argument("--clients", type=int, default=4, help="client processes (default 4: 2 per worker)")
    parser.add_argument("--import-samples", type=int, default=7, help="fresh interpreters to time the import")
    parser.add_argument("--cold-samples", type=int, default=5, help="cold starts per app (default 5)")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="the load generator: wrk when on the PATH (auto), or Python client processes")
    return parser.parse_args(argv)


def signed_request(signer: Signer) -> tuple[bytes, dict[str, str]]:
    """A new body stamped now, so it stays inside the skill's 150 s window for the whole run."""
    body = encode(intent_envelope(datetime.now(timezone.utc)))
    return body, {"Content-Type": "application/json", **signer.sign(body)}


def skill_server(verify: bool, signer: Signer, pki_dir: Path) -> GunicornServer:
    spec = (f"bench.apps:skill_app(verify={verify}, pki_dir={str(pki_dir)!r}, chain_url={signer.url!r}, "
            f"state_dir={str(BENCH_DIR)!r})")
    return GunicornServer(f"skill verification {'on' if verify else 'off'}", spec, BENCH_DIR)


def record_skill_reply(signer: Signer, pki_dir: Path) -> Path:
    """The skill's own answer to the bench request, in-process; the plain app replies with these bytes.

    Response size alone moves loopback latency, so both apps must send the same bytes back. This is
    also a fail-fast check that the skill accepts the bench's request and PKI.
    """
    app = skill_app(verify=True, pki_dir=str(pki_dir), chain_url=signer.url, state_dir=str(BENCH_DIR))
    body, headers = signed_request(signer)
    response = app.test_client().post("/alexa", data=body, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"the skill answered the bench request with HTTP {response.status_code}: "
                           f"{response.get_data(as_text=True)}")
    reply_path = BENCH_DIR / "plain-reply.json"
    reply_path.write_bytes(response.get_data())
    return reply_path


def compare(load: Load, skill: GunicornServer, plain: GunicornServer, verify: bool,
            signer: Signer, args: argparse.Namespace) -> tuple[Comparison, tuple[list[float], list[float]]]:
    """The median rounds, and the skill workers' RSS after the warm-up and after the timed runs."""
    apps = {"skill": skill, "plain": plain}
    for server in apps.values():
        load.run(server.port, *signed_request(signer), args.warmup)
    warm_rss = skill.worker_rss_mb()
    runs: dict[str, list[Run]] = {name: [] for name in apps}
    for round_number in range(1, args.rounds + 1):
        for name, server in apps.items():
            run = load.run(server.port, *signed_request(signer), args.duration)
            runs[name].append(run)
            print(run_line(verify, name, round_number, run), flush=True)
    comparison = Comparison(skill=median_run(runs["skill"]), plain=median_run(runs["plain"]))
    return comparison, (warm_rss, skill.worker_rss_mb())


def load_generator(choice: str, clients: int) -> Load:
    if choice == "wrk" or (choice == "auto" and wrk.available()):
        return wrk.WrkLoad(clients)
    return LoadGenerator(clients)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `with` blocks, which stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    BENCH_DIR.mkdir(exist_ok=True)
    pki_dir = BENCH_DIR / "pki"
    signer = load_test_module("pki").build_signer()
    write_trust_files(pki_dir, signer.root, signer.chain_pem)

    reply_path = record_skill_reply(signer, pki_dir)
    print(f"Timing `import skill.app` ({args.import_samples} fresh interpreters)...", flush=True)
    import_ms = import_time_ms("skill.app", args.import_samples)
    print(f"Timing cold starts on a moto server ({args.cold_samples} per app, alternating)...", flush=True)
    cold_start = cold.measure(args.cold_samples)

    comparisons: dict[bool, Comparison] = {}
    memory: dict[bool, tuple[list[float], list[float]]] = {}
    with ExitStack() as stack:
        load = stack.enter_context(load_generator(args.load, args.clients))
        print(f"Starting gunicorn (2 sync workers per app); load from {load.name}, {args.clients} connections, "
              f"{args.rounds} rounds x {args.duration:g} s per app and mode...", flush=True)
        plain = stack.enter_context(GunicornServer(
            "plain flask", f"bench.apps:plain_app(reply_path={str(reply_path)!r})", BENCH_DIR).running())
        for verify in (True, False):
            with skill_server(verify, signer, pki_dir).running() as skill:
                comparisons[verify], memory[verify] = compare(load, skill, plain, verify, signer, args)

    print(f"\nMedian rounds (logs in {BENCH_DIR.relative_to(PROJECT_ROOT)}/)\n")
    print(table(comparisons, import_ms, args.import_samples, cold_start, memory, load.name))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; the servers are stopped", file=sys.stderr)
        sys.exit(130)
