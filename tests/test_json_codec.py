"""JSON in and out with orjson: every body gets the answer, and every refusal the reason, the
stdlib gave; replies are the stdlib's JSON, strict, sent as encoded; the log line is one real record."""
from __future__ import annotations

import dataclasses
import json
import logging

import orjson
import pytest

import locales
from skill import door
from skill.domain.content import Line
from skill.request_log import RequestLog
from skill.runtime import SkillRuntime
from skill.serializer import PlainJson, strict_json
from skill.settings import DEV_SKILL_ID, Settings
from skill.simulator.engine import Simulator
from skill.simulator.envelopes import DeviceProfile
from test_conversations import CONVERSATIONS, load_conversation, resolver_for
from test_reliability_hostile import HOSTILE, VALID, mutations

BOM = b"\xef\xbb\xbf"
VALID_BODY = json.dumps(VALID).encode()


def with_attributes(raw: str) -> bytes:
    return VALID_BODY.replace(b'"attributes": {}', b'"attributes": ' + raw.encode("utf-8", "surrogatepass"))


# The reasons the door gave before orjson, word for word.
REFUSED = {
    "NaN": (with_attributes('{"x": NaN}'), "NaN and Infinity are not JSON"),
    "-Infinity": (with_attributes('{"x": -Infinity}'), "NaN and Infinity are not JSON"),
    "1e400": (with_attributes('{"x": 1e400}'), "a number too large for JSON"),
    "-1e400": (with_attributes('{"x": -1e400}'), "a number too large for JSON"),
    "escaped lone surrogate": (with_attributes('{"x": "\\ud800"}'), "text that is not valid Unicode"),
    "encoded lone surrogate": (with_attributes('{"x": "\udfff"}'), "text that is not valid Unicode"),
    "lone surrogate key": (with_attributes('{"\\udfff": 1}'), "text that is not valid Unicode"),
    "invalid UTF-8": (b'{"request": {"type": "\xff"}}', "malformed JSON"),
    "Latin-1": ('{"request": {"type": "Caf\u00e9"}}'.encode("latin-1"), "malformed JSON"),
    "empty": (b"", "malformed JSON"),
    "whitespace": (b" \n", "malformed JSON"),
    "trailing data": (VALID_BODY + b" {}", "malformed JSON"),
    "33 levels": (b"[" * 33 + b"]" * 33, "not a JSON object"),
    "33 levels in an object": (with_attributes('{"x":' + "[" * 33 + "]" * 33 + "}"), "JSON nested deeper than 32 levels"),
    "2000 levels": (b'{"a":' * 2000 + b"1" + b"}" * 2000, "JSON nested deeper than 32 levels"),
    "100k levels": (b"[" * 100_000 + b"]" * 100_000, "JSON nested deeper than 32 levels"),
    "a list": (b"[]", "not a JSON object"),
    "null": (b"null", "not a JSON object"),
    "a BOM before a list": (BOM + b"[]", "not a JSON object"),
    "huge integer request type": (b'{"request": {"type": 123456789012345678901234567890}}', "request.type must be a string"),
    "no request": (b'{"version": "1.0"}', "request is missing"),
}

# Bodies the stdlib let in: the same envelope, to the type and order of every value.
ADMITTED = {
    "BOM": BOM + VALID_BODY,
    "UTF-16": json.dumps(VALID).encode("utf-16"),
    "UTF-32": json.dumps(VALID).encode("utf-32"),
    "duplicate keys": VALID_BODY.replace(b'{"version": "1.0",', b'{"version": "0.9", "request": 1, "version": "1.0",'),
    "huge integer": with_attributes('{"x": 123456789012345678901234567890}'),
    "huge negative integer": with_attributes('{"x": -123456789012345678901234567890}'),
    "integers at 64 bits": with_attributes(json.dumps({"x": [2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1]})),
    "a large float": with_attributes('{"x": [1e19, -1e300, 5e-324, 0.1, -0.0]}'),
    "NUL and controls escaped": with_attributes('{"x": "\\u0000\\u001f\\n"}'),
    "non-ASCII": with_attributes(json.dumps({"caf\u00e9": "\U0001f600 \u00e9"}, ensure_ascii=False)),
    "32 levels": with_attributes('{"x":' + "[" * 29 + "]" * 29 + "}"),
}


def outcome(admit, body: bytes) -> str:
    try:
        return repr(admit(body))  # repr tells 1 from 1.0 and keeps key order
    except door.Refused as refused:
        return f"Refused: {refused.reason}"


def reference_admit(body: bytes) -> dict:
    """The door as it was: the stdlib parse, then the same checks."""
    envelope = door._reference_loads(body)
    door.check(envelope)
    return envelope


@pytest.mark.parametrize("body, reason", REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_body_gets_the_reason_it_always_did(body, reason):
    assert outcome(door.admit, body) == outcome(reference_admit, body) == f"Refused: {reason}"


@pytest.mark.parametrize("body", ADMITTED.values(), ids=ADMITTED.keys())
def test_an_admitted_body_is_the_envelope_the_stdlib_reads(body):
    assert outcome(door.admit, body) == repr(json.loads(body))


def test_huge_integers_stay_integers():
    """orjson alone would hand these on as rounded floats."""
    assert orjson.loads(b"[123456789012345678901234567890]") != [123456789012345678901234567890]
    attributes = door.admit(ADMITTED["integers at 64 bits"])["session"]["attributes"]
    assert attributes == {"x": [2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1]}
    assert all(type(number) is int for number in attributes["x"])


def test_every_hostile_and_damaged_body_gets_the_same_answer_as_from_the_stdlib():
    bodies = [*HOSTILE.values(), *mutations(seed=11, count=400), *(b for b, _ in REFUSED.values()), *ADMITTED.values()]
    differ = [body[:120] for body in bodies if outcome(door.admit, body) != outcome(reference_admit, body)]
    assert differ == []


def with_wrong_type(path: tuple[str, ...]) -> bytes:
    envelope = json.loads(VALID_BODY)
    target = envelope
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = "yes" if door.FIELD_TYPES[path] is bool else 7
    return json.dumps(envelope).encode()


@pytest.mark.parametrize("path", door.FIELD_TYPES, ids=".".join)
def test_every_field_the_service_reads_is_refused_in_the_wrong_type(path):
    body = with_wrong_type(path)
    name = {str: "a string", dict: "an object", bool: "true or false"}[door.FIELD_TYPES[path]]
    assert outcome(door.admit, body) == outcome(reference_admit, body) == f"Refused: {'.'.join(path)} must be {name}"


@pytest.mark.parametrize("name", ["BOM", "UTF-16", "huge integer"])
def test_a_signed_body_the_stdlib_took_is_still_answered(alexa, name):
    envelope = alexa.envelope({"type": "LaunchRequest"})
    huge = {**envelope, "session": {**envelope["session"], "attributes": {"routine": {"id": "cool_down", "step": 10**30}}}}
    body = {"BOM": BOM + json.dumps(envelope).encode(), "UTF-16": json.dumps(envelope).encode("utf-16"),
            "huge integer": json.dumps(huge).encode()}[name]
    response = alexa.client.post("/alexa", data=body, headers=alexa.signer.sign(body), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Welcome to Hip Helper" in response.get_json()["response"]["outputSpeech"]["ssml"]


# ---------------------------------------------------------------- replies


def strict_loads(data: bytes | str) -> object:
    def refuse(name: str) -> object:
        raise AssertionError(f"{name} in a reply")
    return json.loads(data, parse_constant=refuse)


def stdlib_json(value: object) -> str:
    """What strict_json wrote before orjson."""
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


def test_a_reply_never_carries_nan_or_infinity():
    sent = strict_json({"a": float("nan"), "b": [float("inf"), -float("inf"), 1e308 * 10], "c": 1.5})
    assert strict_loads(sent) == {"a": None, "b": [None, None, None], "c": 1.5}


def test_content_lines_and_plain_json_serialize_as_plain_json():
    line = Line("Caf\u00e9 \u2014 \"quoted\"\n", "key", {"n": 1})
    value = {"speech": line, "document": PlainJson({"type": "APL", "items": [PlainJson(text=line)], "n": 2.5}),
             "tuple": (line, 1)}
    assert strict_json(value) == stdlib_json(value).encode("utf-8")


class RecordingTransport:
    """The door and runtime the web service runs, keeping each reply as built beside the bytes sent."""

    def __init__(self, runtime: SkillRuntime) -> None:
        self._runtime = runtime
        self.replies: list[tuple[dict, bytes]] = []

    def send(self, envelope: dict) -> dict:
        reply, sent = self._runtime.answer(door.admit(json.dumps(envelope).encode()))
        self.replies.append((reply, sent))
        return json.loads(sent)


def kinds(value: object) -> set[type]:
    found = {type(value)}
    children = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for child in children:
        found |= kinds(child)
    return found


@pytest.fixture(scope="module")
def conversation_replies(tmp_path_factory) -> list[tuple[dict, bytes]]:
    settings = Settings(skill_id=DEV_SKILL_ID, dev_mode=True, db_path=tmp_path_factory.mktemp("db") / "p.sqlite3")
    transport = RecordingTransport(SkillRuntime.from_settings(settings))
    for path in CONVERSATIONS:
        device, turns = load_conversation(path)
        for locale in locales.SERVED:
            for screen in (device.screen, True):  # a screen gets APL documents (PlainJson)
                simulator = Simulator(resolver_for(locale), transport,
                                      dataclasses.replace(device, locale=locale, screen=screen))
                for turn in turns:
                    simulator.say(turn["say"])
    return transport.replies


def test_every_conversation_reply_is_the_json_the_stdlib_wrote(conversation_replies):
    assert len(conversation_replies) > 200
    assert {Line, PlainJson} <= set().union(*(kinds(reply) for reply, _ in conversation_replies))
    for reply, sent in conversation_replies:
        assert strict_loads(sent) == strict_loads(stdlib_json(reply))


# ---------------------------------------------------------------- the log line


def test_the_log_line_is_a_real_record_on_its_logger(caplog):
    caplog.set_level(logging.INFO, logger="hip_helper.requests")
    RequestLog(b"key").rejected(None, 400, "malformed JSON", 0.0)
    [record] = [r for r in caplog.records if r.name == "hip_helper.requests"]
    assert record.levelno == logging.INFO and record.funcName == "_write" and record.filename == "request_log.py"
    assert record.module == "request_log" and record.exc_info is None and isinstance(record.msg, str)
    line = json.loads(record.getMessage())
    assert set(line) == {"status", "latency_ms", "reason"} and line["reason"] == "malformed JSON"


def test_the_log_line_honours_the_loggers_level_filters_and_disabling(caplog):
    logger = logging.getLogger("hip_helper.requests")
    caplog.set_level(logging.INFO, logger="hip_helper.requests")

    def lines() -> int:
        RequestLog(b"key").rejected(None, 400, "malformed JSON", 0.0)
        return len([r for r in caplog.records if r.name == "hip_helper.requests"])

    assert lines() == 1
    logger.addFilter(drop := (lambda record: False))
    try:
        assert lines() == 1
    finally:
        logger.removeFilter(drop)
    logger.disabled = True
    try:
        assert lines() == 1
    finally:
        logger.disabled = False
    caplog.set_level(logging.WARNING, logger="hip_helper.requests")
    assert lines() == 1
