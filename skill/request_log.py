"""One structured log line per request.

What a person says about their body stays out of logs: no slot values, no speech, and user
ids only as a short one-way hash (enough to follow one user's requests, not to identify them).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from skill.envelope import field

log = logging.getLogger("hip_helper.requests")


def hash_user_id(user_id: str | None) -> str | None:
    if not user_id:
        return None
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:16]


class RequestLog:
    def handled(self, envelope: dict, reply: dict, started: float) -> None:
        response = reply.get("response") or {}
        self._write(envelope, 200, started, end_session=response.get("shouldEndSession"))

    def rejected(self, envelope: dict | None, status: int, reason: str, started: float) -> None:
        self._write(envelope, status, started, reason=reason)

    @staticmethod
    def _write(envelope: dict | None, status: int, started: float, **extra: Any) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        request = field(envelope, "request")
        fields = {
            "request_id": field(request, "requestId"),
            "type": field(request, "type"),
            "intent": field(request, "intent", "name"),
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "user": hash_user_id(field(envelope, "context", "System", "user", "userId")),
            **extra,
        }
        log.info(json.dumps({k: v for k, v in fields.items() if v is not None}, separators=(",", ":")))
