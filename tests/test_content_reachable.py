"""Every content item is reachable from some request.

A corpus of requests (every conversation script, the full triage walk, and requests for what
those miss) drives the real skill, while the content keys it says are recorded by wrapping
Content.say. Every key must be said, except items that declare in content (`shown: card` or
`shown: screen`) that they are not spoken. Triage questions, outcomes and advice, and every
stretch step of every routine, are not keyed content: they must be heard in the speech itself.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo

import pytest

from alexa_requests import AlexaSession
from conftest import SKILL_ID, production_app_with
from skill.domain.content import Content, read_yaml
from skill.domain.routines import Routines
from skill.settings import DEV_SKILL_ID, PROJECT_ROOT, Settings
from skill.simulator.engine import Simulator
from skill.simulator.transport import InProcessTransport
from speech_text import heard, reprompt
from test_conversations import CONVERSATIONS, load_conversation, resolver_for
from test_reminder_handlers import permission_answer, wait_until
from test_triage_paths_spoken import PATHS, say_answer

CONTENT_DIR = PROJECT_ROOT / "content"
CONTENT = Content.load(CONTENT_DIR)
CONDITIONS = ("BURSITIS", "TROCHANTERIC_BURSITIS", "SNAPPING_HIP", "TENDINITIS")
TREATMENTS = ("ICE", "REST", "CORTISONE", "STRETCHING")
ROUTINES = ("WARM_UP", "COOL_DOWN", "HIPS")
DESCRIBED = [("location", "PainLocation", slot_id) for slot_id in ("OUTER_HIP", "GROIN_FRONT", "BUTTOCK_BACK", "THIGH")] + [
    ("timing", "PainTiming", "REST_OR_NIGHT"), ("feeling", "PainFeeling", "SNAPPING"),
    ("feeling", "PainFeeling", "REDNESS"), ("feeling", "PainFeeling", "STIFFNESS"), (None, None, None)]
# Reached by no request, and why; the test fails when one is reached after all, so the list stays true.
UNREACHABLE = {
    "guidance.urgency.doctor_within_week.full":
        "only a triage outcome advises a doctor within a week, and the triage is never a session's first response; "
        "the composer requires every urgency in both forms",
}
PLACEHOLDER = re.compile(r"\\\{\w+\\\}")


def spoken_texts() -> dict[str, str]:
    """Triage and stretch texts, by where they live in their file, with their {placeholders}."""
    triage = read_yaml(CONTENT_DIR / "triage.yaml")
    texts = {}
    for question_id, question in triage["questions"].items():
        for field in ("say", "reprompt", "repeat_slowly"):
            if field in question:
                texts[f"triage.questions.{question_id}.{field}"] = question[field]
    for section in ("outcomes", "advice"):
        texts.update({f"triage.{section}.{key}": item["say"] for key, item in triage[section].items()})
    texts.update({f"stretches.{item.key}": item.say for item in Routines.load(CONTENT_DIR / "stretches.yaml").items()
                  if not item.shown})
    return texts


def pattern(text: str) -> re.Pattern[str]:
    """The text as heard: spaces collapsed, each {placeholder} any words."""
    return re.compile(PLACEHOLDER.sub(".+?", re.escape(" ".join(text.split()))))


class Heard:
    """What the corpus made the skill say: the texts Content.say gave, by key, and the plain speech."""

    def __init__(self):
        self.said: dict[str, set[str]] = {}
        self.speech: list[str] = []

    def reply(self, reply: dict) -> dict:
        self.speech += [heard(reply), reprompt(reply)]
        return reply

    def ask(self, device: AlexaSession, intent: str, *slots: dict) -> dict:
        return self.reply(device.intent(intent, *slots))

    def spoken_keys(self) -> set[str]:
        """Keys whose text, as filled in, reached the speech (not only a card or a screen)."""
        speech = "\n".join(self.speech)
        return {key for key, texts in self.said.items() if any(pattern(text).search(speech) for text in texts)}


@pytest.fixture
def recorded(monkeypatch) -> Heard:
    record = Heard()
    say = Content.say

    def recording_say(self, key, **values):
        line = say(self, key, **values)
        record.said.setdefault(key, set()).add(str(line))
        return line
    monkeypatch.setattr(Content, "say", recording_say)
    return record


def run_conversations(record: Heard, transport: InProcessTransport) -> None:
    resolver = resolver_for("en-US")
    for path in CONVERSATIONS:
        device, turns = load_conversation(path)
        simulator = Simulator(resolver, transport, device)
        for expected in turns:
            turn = simulator.say(expected["say"])
            if turn.response is not None:
                record.reply(turn.response)


def run_triage_walk(record: Heard, alexa: AlexaSession) -> None:
    for path in PATHS:
        alexa.new_session()
        record.ask(alexa, "StartTriageIntent")
        for _, answer in path:
            record.reply(say_answer(alexa, answer))


def ask_about_everything(record: Heard, alexa: AlexaSession) -> None:
    """Every answer, its `more`, and the small talk around them, as directly built requests."""
    say = functools.partial(record.ask, alexa)

    def answered_with_more(name, *slots):
        say(name, *slots)
        say("MoreInfoIntent")

    for intent, slot, type_, ids in (("ConditionIntent", "condition", "HipCondition", CONDITIONS),
                                     ("SelfCareIntent", "treatment", "Treatment", TREATMENTS)):
        answered_with_more(intent)
        for slot_id in ids:
            answered_with_more(intent, alexa.slot(slot, slot_id.lower(), slot_type=type_, resolved_id=slot_id))
    say("ConditionIntent", alexa.slot("condition", "knee cartilage", slot_type="HipCondition", no_match=True))
    for intent in ("CausesIntent", "SymptomsIntent", "ReferredPainIntent", "PreventionIntent", "SeeDoctorIntent",
                   "EmergencySignsIntent"):
        answered_with_more(intent)
    for slot, type_, slot_id in DESCRIBED:
        answered_with_more("DescribePainIntent",
                           *([alexa.slot(slot, slot_id.lower(), slot_type=type_, resolved_id=slot_id)] if slot else []))
    for slot, type_, slot_id in (("timing", "PainTiming", "REST_OR_NIGHT"), ("feeling", "PainFeeling", "REDNESS")):
        alexa.new_session()             # an answer with its own urgency, as a session's first response
        say("DescribePainIntent", alexa.slot(slot, slot_id.lower(), slot_type=type_, resolved_id=slot_id))
    alexa.new_session()
    for intent in ("AMAZON.RepeatIntent", "MoreInfoIntent", "ThanksIntent", "AMAZON.StartOverIntent",
                   "PainDuringStretchIntent", "ResumeRoutineIntent"):
        say(intent)
    say("StartTriageIntent")
    say("DescribePainIntent")          # an answer that fits no question: asked again, with the signs
    say("AMAZON.HelpIntent")
    say("CausesIntent")                # a question mid-triage, then no to carrying on
    say("AMAZON.NoIntent")
    say("ForgetMeIntent")
    say("AMAZON.NoIntent")


def walk_every_routine(record: Heard, alexa: AlexaSession) -> None:
    """Each routine to its end, with and without outer-hip pain, paused, resumed and interrupted."""
    say = functools.partial(record.ask, alexa)

    for outer_hip in (False, True):
        for routine in ROUTINES:
            alexa.new_session()
            if outer_hip:
                say("DescribePainIntent", alexa.slot("location", "outer hip", slot_type="PainLocation",
                                                     resolved_id="OUTER_HIP"))
            say("StartRoutineIntent", alexa.slot("routine", routine, slot_type="StretchRoutine", resolved_id=routine))
            say("AMAZON.PauseIntent")
            say("AMAZON.ResumeIntent")
            while "routine" in (alexa.attributes or {}):
                say("AMAZON.NextIntent")
    say("StartRoutineIntent")
    say("PainDuringStretchIntent")


def set_reminders(record: Heard, device: AlexaSession, server) -> None:
    """Reminders against the local Alexa API stand-in: created, listed, cancelled, and each way that fails."""
    say = functools.partial(record.ask, device)

    def remind(time="07:00", frequency="DAILY", date=None):
        slots = [device.slot("time", time), device.slot("date", date)]
        if frequency:
            slots.append(device.slot("frequency", frequency.lower(), slot_type="ReminderFrequency",
                                     resolved_id=frequency))
        return say("SetReminderIntent", *slots)

    today = dt.datetime.now(ZoneInfo(server.time_zone)).date()
    say("ListRemindersIntent")
    say("CancelRemindersIntent")
    remind()
    say("AMAZON.NoIntent")
    remind("EV")                                          # "in the evening": the time chosen is said
    say("AMAZON.YesIntent")
    say("ListRemindersIntent")
    remind("08:00", None, (today + dt.timedelta(days=3)).isoformat())   # a one-off, a few days on
    say("AMAZON.YesIntent")
    say("ListRemindersIntent")
    remind("07:00", None, (today - dt.timedelta(days=1)).isoformat())   # a one-off whose day is gone
    remind("07:00", None, today.strftime("%G-W%V"))      # a week, not a day
    remind()
    server.delay_next(2)                                  # longer than the call timeout; it is created anyway
    say("AMAZON.YesIntent")
    wait_until(lambda: len(server.reminders) == 3)
    remind()
    say("AMAZON.YesIntent")
    server.delay_next(2)
    say("ListRemindersIntent")
    remind("07:00", "DAILY", (today + dt.timedelta(days=3)).isoformat())   # every day, from a later day
    say("AMAZON.NoIntent")
    remind("09:00")
    server.fail_next(503)
    say("AMAZON.YesIntent")
    server.delay_next(0, times=2)                         # the list and one delete answer; the next fails
    server.fail_next(503)
    say("CancelRemindersIntent")
    say("CancelRemindersIntent")
    device.consent_token = None
    remind()
    say("AMAZON.YesIntent")
    record.reply(device.send(permission_answer("DENIED")))
    server.time_zone = None
    remind()
    # What Alexa says when a reminder goes off is what the skill sent it.
    record.speech += [content["text"] for request in server.requests if request.method == "POST"
                      for content in request.body["alertInfo"]["spokenInfo"]["content"]]


@pytest.fixture
def reminder_device(alexa_api_server, signer, tmp_path) -> AlexaSession:
    """An Echo whose user granted the reminders permission, talking to a skill that trusts the stand-in's CA."""
    app = production_app_with(signer, db_path=tmp_path / "reminders.sqlite3", api_timeout=1.5,
                              api_ca_bundle=str(alexa_api_server.ca_path))
    return AlexaSession(app.test_client(), signer, SKILL_ID, api_endpoint=alexa_api_server.base_url,
                        api_token=alexa_api_server.token, consent_token="consent-token-from-alexa")


def without_storage(record: Heard, signer, tmp_path) -> None:
    """Preferences that cannot be kept: the SQLite file is a directory."""
    (tmp_path / "not-a-file.sqlite3").mkdir()
    device = AlexaSession(production_app_with(signer, db_path=tmp_path / "not-a-file.sqlite3").test_client(),
                          signer, SKILL_ID)
    record.ask(device, "ResumeRoutineIntent")
    record.ask(device, "StartRoutineIntent")


def a_handler_fails(record: Heard, alexa: AlexaSession, monkeypatch) -> None:
    """A bug in a handler: the catch-all still answers, with the guidance."""
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    with monkeypatch.context() as patch:
        patch.setattr(Routines, "intro", broken)
        record.ask(alexa, "StartRoutineIntent")


def test_every_content_item_is_reached_by_some_request(recorded, alexa, reminder_device, alexa_api_server, signer,
                                                       monkeypatch, tmp_path):
    from skill.app import create_app

    transport = InProcessTransport(create_app(Settings(skill_id=DEV_SKILL_ID, dev_mode=True,
                                                       db_path=tmp_path / "preferences.sqlite3")))
    recorded.said.clear()   # start-up checks every guidance variant: that is no request
    run_conversations(recorded, transport)
    run_triage_walk(recorded, alexa)
    ask_about_everything(recorded, alexa)
    walk_every_routine(recorded, alexa)
    set_reminders(recorded, reminder_device, alexa_api_server)
    without_storage(recorded, signer, tmp_path)
    a_handler_fails(recorded, alexa, monkeypatch)
    shown = {key for key in CONTENT.keys() if CONTENT.item(key).shown}
    spoken = recorded.spoken_keys()
    assert spoken.isdisjoint(UNREACHABLE), "reached after all; take it out of UNREACHABLE"
    unspoken = sorted(CONTENT.keys() - shown - set(UNREACHABLE) - spoken)
    unshown = sorted(shown - set(recorded.said))          # a card or screen item is still reached by a request
    speech = "\n".join(recorded.speech)
    unheard = sorted(key for key, text in spoken_texts().items() if not pattern(text).search(speech))
    assert not unspoken and not unshown and not unheard, (
        "no request in the corpus reaches these items; add one, or mark an item that is only shown `shown: card` "
        "or `shown: screen` in content:\n  " + "\n  ".join(unspoken + unshown + unheard))
