"""One deadline per request, on the monotonic clock.

The entry point (the Flask app, the Lambda handler) starts it when the request arrives; every
outbound call made for the request (certificate download, Alexa's APIs) ends by it, so the
whole request stays inside its budget however the time is split between them.
"""
from __future__ import annotations

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

    def within(self, seconds: float) -> Deadline:
        """This deadline, or `seconds` from now if that comes first."""
        return Deadline(min(self.at, time.monotonic() + seconds))


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
