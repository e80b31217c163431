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

log = logging.getLogger("hip_helper.requests")


def hash_user_id(user_id: str | None) -> str | None:
    if not user_id:
        return None
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:16]


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


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
        request = _get(envelope, "request")
        fields = {
            "request_id": _get(request, "requestId"),
            "type": _get(request, "type"),
            "intent": _get(request, "intent", "name"),
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "user": hash_user_id(_get(envelope, "context", "System", "user", "userId")),
            **extra,
        }
        log.info(json.dumps({k: v for k, v in fields.items() if v is not None}, separators=(",", ":")))
