"""Gunicorn servers on 127.0.0.1 for the benchmark: started, health-checked, and always stopped."""
from __future__ import annotations

import contextlib
import http.client
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.apps import load_test_module
from skill.settings import PROJECT_ROOT

HOST = "127.0.0.1"
# The same for every app, so the comparison is about the apps and not the servers.
GUNICORN_OPTIONS = ("--workers", "2", "--worker-class", "sync", "--preload",
                    "--timeout", "30", "--graceful-timeout", "5", "--log-level", "warning")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


class GunicornServer:
    def __init__(self, name: str, app_spec: str, log_dir: Path) -> None:
        self.name = name
        self.app_spec = app_spec  # "module:factory(literal args)", which gunicorn evaluates
        self.port = load_test_module("ports").listen_port()
        self.log_path = log_dir / f"gunicorn-{name.replace(' ', '-')}.log"
        self._process: subprocess.Popen | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator["GunicornServer"]:
        """Serve until the block ends, however it ends (errors and Ctrl-C included)."""
        self.log_path.unlink(missing_ok=True)
        command = [sys.executable, "-m", "gunicorn", *GUNICORN_OPTIONS, "--bind", f"{HOST}:{self.port}",
                   "--error-logfile", str(self.log_path), self.app_spec]
        process = self._process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL)
        try:
            self._wait_until_healthy(process)
            yield self
        finally:
            _stop(process)

    def worker_rss_mb(self) -> list[float]:
        """Each worker's resident memory now, in MB (Linux /proc), in pid order; [] elsewhere."""
        if self._process is None:
            return []
        return [rss for pid in sorted(_children(self._process.pid)) if (rss := _rss_mb(pid)) is not None]

    def _wait_until_healthy(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(self.port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; {self.log_path} ends with:\n{_tail(self.log_path)}")
            time.sleep(0.1)


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kilobytes = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(kilobytes) / 1024 if kilobytes else None


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM is gunicorn's graceful stop (its master takes the workers down); SIGKILL if that stalls."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
