"""Closed-loop HTTP load from separate client processes, so the clients do not share one GIL.

Each client POSTs the same request over and over for a fixed time, one fresh connection per
request (gunicorn's sync workers close every connection anyway), and records each one's latency.
"""
from __future__ import annotations

import socket
import time
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType

from bench.servers import HOST
from bench.stats import Run

PATH = "/alexa"
REQUEST_TIMEOUT_S = 10.0
_RECEIVE_BYTES = 64 * 1024


def http_request(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    """The whole POST as bytes, built once per run.

    Raw sockets cost the client less CPU than http.client, and on a 2-core machine every client
    cycle is one the measured server does not get.
    """
    lines = [f"POST {PATH} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {len(body)}", "Connection: close",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _post_once(port: int, request: bytes) -> bool:
    """Send one request on a fresh connection and read until the server closes it; True on HTTP 200."""
    try:
        with socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT_S) as connection:
            connection.sendall(request)
            response = bytearray()
            while chunk := connection.recv(_RECEIVE_BYTES):
                response += chunk
    except OSError:
        return False
    return response.startswith(b"HTTP/1.1 200 ")


def _client(port: int, request: bytes, duration_s: float) -> tuple[list[float], int, float]:
    """One client process: (latencies of successful requests, failed requests, elapsed seconds)."""
    latencies: list[float] = []
    failures = 0
    started = time.perf_counter()
    deadline = started + duration_s
    while (sent := time.perf_counter()) < deadline:
        if _post_once(port, request):
            latencies.append(time.perf_counter() - sent)
        else:
            failures += 1
    return latencies, failures, time.perf_counter() - started


class LoadGenerator:
    """A pool of client processes kept for the whole benchmark, so runs don't pay for process start-up."""

    name = "Python client processes"

    def __init__(self, clients: int) -> None:
        self._clients = clients
        self._pool = ProcessPoolExecutor(max_workers=clients)

    def run(self, port: int, body: bytes, headers: dict[str, str], duration_s: float) -> Run:
        """All clients against 127.0.0.1:`port` for `duration_s`; raises if not one request succeeded."""
        request = http_request(port, body, headers)
        futures = [self._pool.submit(_client, port, request, duration_s) for _ in range(self._clients)]
        results = [future.result() for future in futures]
        latencies = [latency for client_latencies, _, _ in results for latency in client_latencies]
        if not latencies:
            raise RuntimeError(f"no request to port {port} succeeded: see the gunicorn logs in .bench/")
        failures = sum(client_failures for _, client_failures, _ in results)
        elapsed = max(client_elapsed for _, _, client_elapsed in results)
        return Run.from_latencies(latencies, elapsed, failures)

    def __enter__(self) -> "LoadGenerator":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(cancel_futures=True)
