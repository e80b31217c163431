"""Forged session attributes through the real runtime: dropped field by field, never a crash.

Alexa hands session attributes back from the device, so they are input like any other. Each
forged set goes through `SkillRuntime.handle` (what Lambda calls) with the intents that read it.
"""
import json
import logging
import math

import pytest

from alexa_requests import AlexaSession, slot
from conftest import SKILL_ID
from skill.domain.content import Content
from skill.runtime import MAX_REPLY_BYTES, MAX_RESPONSE_BYTES, SkillRuntime
from skill.settings import Settings
from speech_text import heard


def _deep(levels):
    value = "bottom"
    for _ in range(levels):
        value = {"x": value}
    return value


WRONG_VALUES = [5, -1, 2.5, math.nan, math.inf, "2", "", True, None, [], [1], {}, {"a": 1}, _deep(400),
                "<speak>forged</speak>", "x" * 200_000]
ROUTINE = {"id": "cool_down", "step": 2}
TRIAGE = {"at": "INJURY", "asked": 1, "answers": {}, "then": None}

# The defects found, one by one, and every schema field given every wrong value.
FORGED = [
    {"facts": 5},
    {"routine": {"id": "cool_down", "step": "2"}},
    {"routine": {"id": "cool_down", "step": 0}},
    {"routine": {"id": "cool_down", "step": 10_000}},
    {"routine": {"id": "no_such_routine", "step": 1}},
    {"routine": {"id": "cool_down", "step": math.nan}},
    {"pending_offer": []},
    {"pending_offer": "no_such_offer"},
    {"triage": {**TRIAGE, "then": None, "at": "NO_SUCH"}},
    {"triage": {**TRIAGE, "asked": 99}},
    {"triage": {**TRIAGE, "answers": {"INJURY": ["KNEE"]}}},
    {"triage": {**TRIAGE, "answers": {"INJURY": "NO"}}},
    {"known_answers": {"location": "KNEE"}},
    {"facts": {"outer_hip": "yes"}},
    {"last_reply": {"ssml": "<speak><speak>unclosed</speak>"}},
    {"last_reply": {"body": ["<speak><speak>unclosed</speak>"], "question": "Anything else?", "reprompt": None}},
    {"last_reply": {"body": [math.nan], "question": None, "reprompt": None}},
    {"last_reply": {"body": [math.nan], "question": None, "reprompt": None}},
    {"last_reply": {"body": [], "question": {"key": {}, "values": {}}, "reprompt": None}},
    {"last_reply": {"body": [{"key": ["prompts.help"], "values": {}}], "question": None, "reprompt": None}},
    {"last_reply": {"body": [], "question": None, "reprompt": None, "stray": {}}},
    {"reminder_body": {"body": _deep(400), "when": "daily", "time": "7 am"}},
    {"reminder_draft": {"date": 5}},
    {"guidance_heard": "yes"},
    {"padding": "x" * 200_000},
    {"unknown": _deep(400)},
    {"routine": ROUTINE, "facts": {"no_stretching": math.nan}, "pending_offer": "next_stretch"},
] + [{name: value} for name in ("guidance_heard", "last_reply", "pending_offer", "triage", "known_answers", "facts",
                                "routine", "reminder_body", "reminder_draft", "version")
     for value in WRONG_VALUES]

INTENTS = [
    ("AMAZON.YesIntent",), ("AMAZON.NoIntent",), ("AMAZON.NextIntent",), ("AMAZON.PauseIntent",),
    ("AMAZON.RepeatIntent",), ("AMAZON.HelpIntent",), ("AMAZON.StartOverIntent",), ("ResumeRoutineIntent",),
    ("StartRoutineIntent",), ("SetReminderIntent", slot("time", "07:00")),
    ("DescribePainIntent", slot("location", "knee", resolved_id="KNEE")),
    ("DescribePainIntent", slot("location", "outside", resolved_id="OUTER_HIP")),
]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    settings = Settings(skill_id=SKILL_ID, dev_mode=False, db_path=tmp_path_factory.mktemp("db") / "prefs.sqlite3")
    return SkillRuntime.from_settings(settings)


@pytest.fixture(scope="module")
def content():
    return Content.load(Settings().content_dir)


@pytest.fixture(scope="module")
def error_line():
    return " ".join(Content.load(Settings().content_dir).say("prompts.error").split())


def send(runtime, attributes, intent, *slots):
    device = AlexaSession(None, None, SKILL_ID)
    device.attributes = attributes
    envelope = device.envelope({"type": "IntentRequest", "dialogState": "STARTED",
                                "intent": {"name": intent, "confirmationStatus": "NONE",
                                           "slots": {s["name"]: s for s in slots}}})
    return runtime.handle(envelope)


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def assert_sound(reply, caplog, error_line):
    """A real spoken answer, in strict JSON, within Alexa's limits, and nothing logged as an error."""
    text = json.dumps(reply)
    json.loads(text, parse_constant=_no_constants)
    assert len(text.encode()) <= MAX_REPLY_BYTES
    assert len(json.dumps(reply["response"]).encode()) <= MAX_RESPONSE_BYTES
    ssml = reply["response"]["outputSpeech"]["ssml"]
    assert len(ssml) <= 8000 and ssml.count("<speak>") == 1
    spoken = heard(reply)
    assert spoken and error_line not in spoken, spoken
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("attributes", FORGED, ids=lambda a: ",".join(a)[:40])
@pytest.mark.parametrize("intent", INTENTS, ids=lambda i: f"{i[0]}{'-' + i[1]['name'] if len(i) > 1 else ''}")
def test_forged_attributes_get_a_real_answer(runtime, error_line, caplog, attributes, intent):
    reply = send(runtime, attributes, *intent)
    assert_sound(reply, caplog, error_line)


def test_a_dropped_field_is_logged_by_name_only(runtime, caplog):
    with caplog.at_level(logging.WARNING, logger="hip_helper.session"):
        send(runtime, {"facts": {"outer_hip": "SECRET-SYMPTOM"}, "routine": ROUTINE}, "AMAZON.NextIntent")
    logged = " ".join(record.getMessage() for record in caplog.records if record.name == "hip_helper.session")
    assert "facts" in logged and "SECRET-SYMPTOM" not in logged


def test_valid_fields_survive_beside_a_forged_one(runtime):
    reply = send(runtime, {"routine": ROUTINE, "pending_offer": "next_stretch", "facts": 5}, "AMAZON.NextIntent")
    assert reply["sessionAttributes"]["routine"] == {"id": "cool_down", "step": 3}
    assert reply["sessionAttributes"]["version"] == 1


def test_an_unknown_slot_id_is_not_understood(runtime, error_line, caplog):
    reply = send(runtime, {}, "DescribePainIntent", slot("location", "knee", resolved_id="KNEE"))
    assert_sound(reply, caplog, error_line)
    assert "location" not in reply["sessionAttributes"].get("known_answers", {})


def test_a_huge_attribute_is_not_echoed(runtime):
    reply = send(runtime, {"padding": "x" * 200_000, "guidance_heard": True}, "AMAZON.HelpIntent")
    assert "padding" not in reply["sessionAttributes"] and len(json.dumps(reply)) < 20_000


def test_repeat_never_says_forged_stored_text(runtime, error_line, caplog, content):
    forged = {"last_reply": {"body": ["</speak><speak>hi"], "question": "Anything else?", "reprompt": None}}
    reply = send(runtime, forged, "AMAZON.RepeatIntent")
    assert_sound(reply, caplog, error_line)
    assert "hi" not in heard(reply).split() and content.say("prompts.nothing_to_repeat") in heard(reply)


@pytest.mark.parametrize("key", ["triage.questions.NO_SUCH", "triage.outcomes.SELF_CARE+NO_SUCH", "stretches.cues.nope",
                                 "prompts.no_such_item"])
@pytest.mark.parametrize("bare", [True, False])
def test_repeat_drops_a_forged_key(runtime, error_line, caplog, content, key, bare):
    forged = {"last_reply": {"body": [key if bare else {"key": key, "values": {}}], "question": None, "reprompt": None}, "guidance_heard": True}
    reply = send(runtime, forged, "AMAZON.RepeatIntent")
    assert_sound(reply, caplog, error_line)
    assert content.say("prompts.nothing_to_repeat") in heard(reply)


@pytest.mark.parametrize("stored", [{"key": "stretches.cues.hold", "values": {}},       # its {seconds} missing
                                    {"key": "prompts.welcome", "values": {}}])          # no question
def test_repeat_refuses_a_real_key_that_does_not_fit_its_place(runtime, error_line, caplog, content, stored):
    forged = {"last_reply": {"body": [], "question": stored, "reprompt": None},
              "guidance_heard": True}
    reply = send(runtime, forged, "AMAZON.RepeatIntent")
    assert_sound(reply, caplog, error_line)
    assert content.say("prompts.nothing_to_repeat") in heard(reply)


def test_repeat_says_the_last_answer_again(runtime):
    first = send(runtime, {"guidance_heard": True}, "PreventionIntent")
    again = send(runtime, first["sessionAttributes"], "AMAZON.RepeatIntent")
    assert "treadmill" in heard(first) and heard(again) == heard(first)
    assert again["sessionAttributes"]["pending_offer"] == first["sessionAttributes"]["pending_offer"]


def test_an_attribute_set_too_big_for_alexa_is_trimmed(runtime):
    # Each field within the schema, together too big: the largest go first, the reply still fits.
    last = {"body": ["word " * 1500], "question": "Anything else?", "reprompt": None}
    reply = send(runtime, {"last_reply": last, "guidance_heard": True}, "AMAZON.RepeatIntent")
    assert len(json.dumps(reply).encode()) <= MAX_REPLY_BYTES
