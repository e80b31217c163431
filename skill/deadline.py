"""One deadline per request, on the monotonic clock, and sockets that keep to it.

The entry point (the Flask app, the Lambda handler) starts it when the request arrives; every
outbound call made for the request (certificate download, Alexa's APIs) ends by it, so the
whole request stays inside its budget however the time is split between them.
"""
from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[Deadline | None] = ContextVar("hip_helper_request_deadline", default=None)


class Deadline:
    """A moment on the monotonic clock by which an answer must be ready."""

    def __init__(self, at: float):
        self.at = at

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def left(self) -> float:
        """What is left, for a timeout; TimeoutError once nothing is."""
        left = self.remaining()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def within(self, seconds: float) -> Deadline:
        """This deadline, or `seconds` from now if that comes first."""
        return Deadline(min(self.at, time.monotonic() + seconds))


class DeadlineSocket:
    """A connected socket whose every send and receive may take only what is left of the deadline.

    Socket timeouts bound each read, so a reply trickled a byte at a time would never time out
    on its own; arming every call with what is left makes the deadline cover the whole exchange.
    """

    def __init__(self, sock: socket.socket, deadline: Deadline):
        self._sock, self._deadline = sock, deadline

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)

    def arm(self) -> None:
        self._sock.settimeout(self._deadline.left())

    def sendall(self, data: bytes, *args: object) -> None:
        self.arm()  # since Python 3.5 a socket timeout bounds the whole sendall
        self._sock.sendall(data, *args)

    def recv_into(self, buffer: bytearray | memoryview, nbytes: int = 0) -> int:
        self.arm()
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        # http.client reads the status line, headers and body through this file. The socket's
        # own unbuffered file keeps it open until the reply is read, as socket.makefile does.
        return io.BufferedReader(_DeadlineReader(self, self._sock.makefile("rb", buffering=0)))


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: DeadlineSocket, raw: io.RawIOBase):
        super().__init__()
        self._sock, self._raw = sock, raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._sock.arm()
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


@contextmanager
def request_budget(seconds: float) -> Iterator[Deadline]:
    """The deadline of the request being handled inside the block."""
    deadline = Deadline.after(seconds)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def current() -> Deadline | None:
    """The deadline of the request being handled, if an entry point started one."""
    return _current.get()
