"""Load from wrk (https://github.com/wg/wrk), when it is on the PATH: one C thread drives all the
connections, so the servers measured keep nearly all of a 2-core machine, which Python client
processes would share with them.

Same protocol as bench.load.LoadGenerator: the same signed POST, closed loop, for a fixed time.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from bench.load import PATH
from bench.servers import HOST
from bench.stats import Run

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_script(body: bytes, headers: dict[str, str]) -> str:
    """wrk's request: JSON string literals are valid Lua string literals for this ASCII body."""
    lines = [f"wrk.method = {json.dumps('POST')}", f"wrk.body = {json.dumps(body.decode('ascii'))}"]
    lines += [f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items()]
    return "\n".join(lines) + "\n"


def parse_output(text: str) -> Run:
    """wrk --latency's report as a Run; failures are non-2xx replies plus socket errors."""
    percentiles = {int(rank): float(value) * _UNITS_MS[unit] for rank, value, unit in _PERCENTILE.findall(text)}
    requests = _REQUESTS.search(text)
    if requests is None or set(percentiles) != {50, 99}:
        raise RuntimeError(f"wrk's output was not understood:\n{text}")
    non_2xx = int(match[1]) if (match := _NON_2XX.search(text)) else 0
    socket_errors = sum(map(int, match.groups())) if (match := _SOCKET_ERRORS.search(text)) else 0
    # wrk counts every completed response, error statuses included.
    succeeded = int(requests[1]) - non_2xx
    elapsed_s = float(requests[2]) * _UNITS_MS[requests[3]] / 1000
    if succeeded <= 0:
        raise RuntimeError(f"no request succeeded under wrk:\n{text}")
    return Run(requests_per_second=succeeded / elapsed_s, p50_ms=percentiles[50], p99_ms=percentiles[99],
               failures=non_2xx + socket_errors)


class WrkLoad:
    name = "wrk"

    def __init__(self, clients: int) -> None:
        self._clients = clients
        self._scripts = tempfile.TemporaryDirectory(prefix="bench-wrk-")

    def run(self, port: int, body: bytes, headers: dict[str, str], duration_s: float) -> Run:
        script = Path(self._scripts.name) / "request.lua"
        script.write_text(lua_script(body, headers))
        command = ["wrk", "--threads", "1", "--connections", str(self._clients), "--duration", f"{duration_s:g}s",
                   "--timeout", "10s", "--latency", "--script", str(script), f"http://{HOST}:{port}{PATH}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 30)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return parse_output(done.stdout)

    def __enter__(self) -> "WrkLoad":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._scripts.cleanup()
