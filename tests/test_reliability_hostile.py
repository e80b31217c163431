"""Hostile bodies at the door of the production app: a 400 with a short reason, never a 500,
never a traceback, and nothing unbounded or identifying in the log.

They are unsigned, as an attacker's would be; the ones the door lets through are then refused
by signature verification. Signed hostile bodies are in the fuzzer (test_reliability_fuzz).
"""
from __future__ import annotations

import json
import logging
import random

import pytest

from alexa_requests import DEVICE_ID, USER_ID
from conftest import SKILL_ID

VALID = {
    "version": "1.0",
    "session": {"new": True, "sessionId": "amzn1.echo-api.session.1", "attributes": {},
                "application": {"applicationId": SKILL_ID}, "user": {"userId": USER_ID}},
    "context": {"System": {"application": {"applicationId": SKILL_ID}, "user": {"userId": USER_ID},
                           "device": {"deviceId": DEVICE_ID}}},
    "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.1",
                "timestamp": "2026-12-03T09:00:00Z", "locale": "en-US"},
}


def with_field(path: str, value: object) -> bytes:
    envelope = json.loads(json.dumps(VALID))
    *parents, last = path.split(".")
    target = envelope
    for key in parents:
        target = target[key]
    target[last] = value
    return json.dumps(envelope, allow_nan=True).encode("utf-8", "surrogatepass")


HOSTILE = {
    "990 nested lists": b"[" * 990 + b"]" * 990,
    "100k nested lists": b"[" * 100_000 + b"]" * 100_000,
    "nested objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "nested attributes": with_field("session.attributes", json.loads('{"x":' * 200 + "1" + "}" * 200)),
    "user id a number": b'{"context":{"System":{"user":{"userId":5}}}}',
    "user id a number in a full envelope": with_field("context.System.user.userId", 5),
    "user id a lone surrogate": with_field("context.System.user.userId", "\ud800"),
    "lone surrogate as a key": with_field("session.attributes", {"\udfff": 1}),
    "NaN attribute": with_field("session.attributes", {"step": float("nan")}),
    "Infinity attribute": with_field("session.attributes", {"step": float("inf")}),
    "1e999": with_field("session.attributes", {}).replace(b'"attributes": {}', b'"attributes": {"x": 1e999}'),
    "request type a number": with_field("request.type", 7),
    "request a list": with_field("request", []),
    "intent name an object": with_field("request", {**VALID["request"], "type": "IntentRequest", "intent": {"name": {}}}),
    "slots a list": with_field("request", {**VALID["request"], "type": "IntentRequest",
                                           "intent": {"name": "HelpIntent", "slots": []}}),
    "attributes a list": with_field("session.attributes", [1, 2]),
    "session new a string": with_field("session.new", "yes"),
    "application id an object": with_field("context.System.application.applicationId", {"id": SKILL_ID}),
    "no request": b'{"version":"1.0"}',
    "not an object": b'"hello"',
    "null": b"null",
    "empty": b"",
    "invalid UTF-8": b'{"version":"1.0\xff\xfe"}',
    "truncated": json.dumps(VALID).encode()[:-7],
    "250 KB request id": with_field("request.requestId", "r" * 250_000),
    "request id with newlines": with_field("request.requestId", 'x"\n{"status":200}'),
    "250 KB intent name": with_field("request", {**VALID["request"], "type": "IntentRequest",
                                                 "intent": {"name": "N" * 250_000}}),
}


@pytest.fixture
def post(production_app, caplog):
    caplog.set_level(logging.INFO)
    client = production_app.test_client()

    def send(body: bytes):
        return client.post("/alexa", data=body, content_type="application/json")
    return send


def assert_refused_cleanly(response, caplog) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    reason = response.get_json()["error"]
    assert 0 < len(reason) < 120
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    for record in caplog.records:
        message = record.getMessage()
        assert len(message) < 500 and "Traceback" not in message
        assert USER_ID not in message and DEVICE_ID not in message


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_body_gets_a_400_with_a_short_reason(post, caplog, body):
    assert_refused_cleanly(post(body), caplog)


def test_the_request_log_holds_only_bounded_id_like_fields(post, caplog):
    post(HOSTILE["request id with newlines"])
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "hip_helper.requests"]
    assert line["request_id"] == "(unloggable)" and line["status"] == 400


def test_a_well_formed_unsigned_envelope_passes_the_door_and_is_refused_by_verification(post, caplog):
    response = post(json.dumps(VALID).encode())
    assert response.status_code == 400 and "verification failed" in response.get_json()["error"]


def mutations(seed: int, count: int):
    """Byte-level damage to a valid envelope: flips, cuts, repeats and inserted JSON tokens."""
    rng = random.Random(seed)
    base = json.dumps(VALID).encode()
    tokens = [b"[", b"]", b"{", b"}", b'"', b"\\", b"NaN", b"-Infinity", b"1e999", b"\\ud800", b",", b":", b"null"]
    for _ in range(count):
        body = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(body))
            choice = rng.random()
            if choice < 0.3:
                body[at] = rng.randrange(256)
            elif choice < 0.6:
                body[at:at] = rng.choice(tokens) * rng.randint(1, 400)
            elif choice < 0.8:
                del body[at:at + rng.randint(1, 40)]
            else:
                body[at:at] = body[at:at + 30] * rng.randint(1, 50)
        yield bytes(body)


def test_damaged_envelopes_never_reach_a_500(post, caplog):
    seed = 20261203
    for number, body in enumerate(mutations(seed, 1500)):
        response = post(body)
        assert response.status_code == 400, f"seed {seed}, body {number}: {response.status_code}"
    assert_refused_cleanly(response, caplog)
