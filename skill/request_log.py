"""One structured log line per request.

What a person says about their body stays out of logs: no slot values, no speech, and user
ids only as a short keyed hash (enough to follow one user's requests, not to identify them,
and never the key the store uses). The body may be unverified, so every field is bounded.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import time
from typing import Any

import orjson

from skill.envelope import field

log = logging.getLogger("hip_helper.requests")
# A skill hears from the same users again and again; their pseudonyms are computed once (bounded).
PSEUDONYM_CACHE = 4096


# Alexa's ids, types and intent names fit this; anything else is an unverified body's noise.
_LOGGABLE = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def loggable(value: object) -> str | None:
    """A field from the body as it may reach a log: a short id-like string, or a marker."""
    if value is None:
        return None
    if isinstance(value, str) and _LOGGABLE.fullmatch(value):
        return value
    return "(unloggable)"


class RequestLog:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._keyed = functools.lru_cache(maxsize=PSEUDONYM_CACHE)(self._keyed_hash)

    def pseudonym(self, user_id: object) -> str | None:
        if not isinstance(user_id, str) or not user_id:
            return None
        return self._keyed(user_id)

    def _keyed_hash(self, user_id: str) -> str:
        return hmac.new(self._secret, user_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]

    def handled(self, envelope: dict, reply: dict, started: float) -> None:
        response = reply.get("response") or {}
        self._write(envelope, 200, started, end_session=response.get("shouldEndSession"))

    def rejected(self, envelope: dict | None, status: int, reason: str, started: float) -> None:
        self._write(envelope, status, started, reason=reason)

    def _write(self, envelope: dict | None, status: int, started: float, **extra: Any) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        request = field(envelope, "request")
        fields = {
            "request_id": loggable(field(request, "requestId")),
            "type": loggable(field(request, "type")),
            "intent": loggable(field(request, "intent", "name")),
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "user": self.pseudonym(field(envelope, "context", "System", "user", "userId")),
            **extra,
        }
        line = orjson.dumps({k: v for k, v in fields.items() if v is not None}).decode()
        # The record is made here: log.info would walk the stack on every call to find its caller,
        # which is always this method.
        log.handle(log.makeRecord(log.name, logging.INFO, __file__, _LINE, line, None, None, "_write"))


_LINE = RequestLog._write.__code__.co_firstlineno
