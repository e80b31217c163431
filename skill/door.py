"""The door: raw request bytes become a checked envelope before anything else trusts them.

Runs before signature verification, so everything here treats the body as hostile: strict
JSON (no NaN or Infinity), bounded nesting (Alexa's envelopes are a few levels deep), text
that encodes as UTF-8, and the right JSON type for every field the service itself reads.
Whatever fails gets a short reason for a 400; nothing here raises anything else.

orjson parses every body first (about a third of the stdlib's time). The stdlib parse stays the
reference: a body orjson refuses (or might have changed, see `check`) is parsed again by it, so
every body gets the answer, and every refusal the reason, it always did.
"""
from __future__ import annotations

import json
import math

import orjson

# Alexa's deepest envelopes (APL user events, viewport profiles) stay well under this.
MAX_DEPTH = 32
# orjson turns an integer outside 64 bits into the nearest float, which is at least this large.
_ROUNDED = float(2**63)

# The fields this service reads before or around the SDK, with the JSON type each must have
# when present. The SDK's own deserialiser checks the rest.
_STRING = str
_OBJECT = dict
FIELD_TYPES: dict[tuple[str, ...], type] = {
    ("version",): _STRING,
    ("session",): _OBJECT,
    ("session", "sessionId"): _STRING,
    ("session", "new"): bool,
    ("session", "attributes"): _OBJECT,
    ("session", "application"): _OBJECT,
    ("session", "application", "applicationId"): _STRING,
    ("session", "user"): _OBJECT,
    ("session", "user", "userId"): _STRING,
    ("context",): _OBJECT,
    ("context", "System"): _OBJECT,
    ("context", "System", "application"): _OBJECT,
    ("context", "System", "application", "applicationId"): _STRING,
    ("context", "System", "user"): _OBJECT,
    ("context", "System", "user", "userId"): _STRING,
    ("context", "System", "device"): _OBJECT,
    ("context", "System", "device", "deviceId"): _STRING,
    ("context", "System", "apiEndpoint"): _STRING,
    ("context", "System", "apiAccessToken"): _STRING,
    ("request",): _OBJECT,
    ("request", "type"): _STRING,
    ("request", "requestId"): _STRING,
    ("request", "timestamp"): _STRING,
    ("request", "locale"): _STRING,
    ("request", "intent"): _OBJECT,
    ("request", "intent", "name"): _STRING,
    ("request", "intent", "slots"): _OBJECT,
}
REQUIRED = (("request",), ("request", "type"))
_JSON_NAMES = {_STRING: "a string", _OBJECT: "an object", bool: "true or false"}


class Refused(ValueError):
    """The body cannot be let in; `reason` is short, fixed text safe to log and return."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _no_constants(name: str) -> object:
    raise Refused("NaN and Infinity are not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity, which no reply may carry
        raise Refused("a number too large for JSON")
    return value


def admit(body: bytes) -> dict:
    """The envelope in `body`, or Refused with the reason it cannot come in."""
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError:
        envelope = None  # a BOM or UTF-16 it refuses, the stdlib reads; and its reasons are worded its own way
    if isinstance(envelope, dict) and check(envelope):
        return envelope
    envelope = _reference_loads(body)
    check(envelope)
    return envelope


def _reference_loads(body: bytes) -> object:
    try:
        return json.loads(body, parse_constant=_no_constants, parse_float=_finite_float)
    except Refused:
        raise
    except RecursionError:
        raise Refused(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # includes UnicodeDecodeError
        raise Refused("malformed JSON") from None


def check(envelope: object) -> bool:
    """Refused unless an already parsed envelope (a Lambda event) has the shape we read.

    False when a number in it is 2**63 or larger: from orjson, that may be a rounded integer.
    """
    if not isinstance(envelope, dict):
        raise Refused("not a JSON object")
    exact = _check_shape(envelope)
    _check_fields(envelope)
    return exact


def _check_shape(envelope: dict) -> bool:
    """Depth and text in one iterative walk, a level at a time: no recursion for a hostile body to
    exhaust, and no per-value bookkeeping (this runs on every request). True when every number is
    below 2**63 in size."""
    level: list[object] = [envelope]
    exact = True
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise Refused(f"JSON nested deeper than {MAX_DEPTH} levels")
        below: list[object] = []
        for value in level:
            if isinstance(value, dict):
                for key in value:
                    if not key.isascii():
                        _check_text(key)
                below.extend(value.values())
            elif isinstance(value, list):
                below.extend(value)
            elif isinstance(value, str):
                if not value.isascii():
                    _check_text(value)
            elif type(value) is float and not -_ROUNDED < value < _ROUNDED:
                exact = False
        level = below
    return exact


def _check_text(text: str) -> None:
    # A lone surrogate ("\ud800") parses but can never be encoded, logged or stored.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused("text that is not valid Unicode") from None


def _check_fields(envelope: dict) -> None:
    for path, expected in FIELD_TYPES.items():
        value = envelope
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            if path in REQUIRED:
                raise Refused(f"{'.'.join(path)} is missing")
            continue
        if type(value) is not expected:
            raise Refused(f"{'.'.join(path)} must be {_JSON_NAMES[expected]}")
