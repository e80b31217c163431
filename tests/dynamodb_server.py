"""A real DynamoDB-compatible HTTP server for tests: moto's server mode in a subprocess.

    with MotoServer() as server:
        boto3.resource("dynamodb", endpoint_url=server.endpoint_url, ...)

It listens on a free loopback port only, and is stopped (then killed if need be) on exit.
"""
from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import pytest

from ports import listen_port

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class MotoServer:
    def __init__(self) -> None:
        self.port = listen_port()
        self.endpoint_url = f"http://{HOST}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        # moto logs every request; a file (not a pipe nobody reads) can never fill up and block it.
        self._log = tempfile.NamedTemporaryFile(prefix="moto-server-", suffix=".log", delete=False)

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}:\n{self._log_tail()}")
            if self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"moto server did not answer within {STARTUP_TIMEOUT_SECONDS:.0f} s:\n{self._log_tail()}")

    def _answers(self) -> bool:
        # http.client, unlike urllib, never routes through a proxy from the environment.
        connection = http.client.HTTPConnection(HOST, self.port, timeout=1.0)
        try:
            connection.request("GET", "/moto-api/")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def _log_tail(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-2000:]


@contextmanager
def unresponsive_endpoint() -> Iterator[str]:
    """A loopback URL that accepts TCP connections and never answers: a hung store."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((HOST, 0))
        listener.listen(16)  # the kernel completes handshakes into the backlog; nothing reads them
        yield f"http://{HOST}:{listener.getsockname()[1]}"


def dummy_aws_environment() -> dict[str, str]:
    """Credentials and region boto3 needs to sign requests to moto; with them set it never looks
    for real ones (which would mean asking the EC2 metadata address)."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": HOST,
    }


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A DynamoDB-compatible server (moto's server mode) for the whole test session."""
    with MotoServer() as server:
        yield server.endpoint_url


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for this test only, so boto3 never goes looking for real ones."""
    for name, value in dummy_aws_environment().items():
        monkeypatch.setenv(name, value)
