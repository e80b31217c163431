"""Every content item is reachable from some request.

A corpus of requests (every conversation script, the full triage walk, and requests for what
those miss) drives the real skill, while the content keys it says are recorded by wrapping
Content.say. Every key must be said, except items that declare in content (`shown: card` or
`shown: screen`) that they are not spoken. Triage questions, outcomes and advice, and every
stretch step of every routine, are not keyed content: they must be heard in the speech itself.
"""
from __future__ import annotations

import re

import pytest

from alexa_requests import AlexaSession
from skill.domain.content import Content, read_yaml
from skill.domain.routines import Routines
from skill.settings import DEV_SKILL_ID, PROJECT_ROOT, Settings
from skill.simulator.engine import Simulator
from skill.simulator.model import load_model
from skill.simulator.nlu import UtteranceResolver
from skill.simulator.transport import InProcessTransport
from speech_text import heard, reprompt
from test_conversations import CONVERSATIONS, REAL_MODEL, load_conversation
from test_triage_paths_spoken import PATHS, say_answer

CONTENT_DIR = PROJECT_ROOT / "content"
CONTENT = Content.load(CONTENT_DIR)
CONDITIONS = ("BURSITIS", "TROCHANTERIC_BURSITIS", "SNAPPING_HIP", "TENDINITIS")
TREATMENTS = ("ICE", "REST", "CORTISONE", "STRETCHING")
ROUTINES = ("WARM_UP", "COOL_DOWN", "HIPS")
DESCRIBED = [("location", "PainLocation", slot_id) for slot_id in ("OUTER_HIP", "GROIN_FRONT", "BUTTOCK_BACK", "THIGH")] + [
    ("timing", "PainTiming", "REST_OR_NIGHT"), ("feeling", "PainFeeling", "SNAPPING"),
    ("feeling", "PainFeeling", "REDNESS"), ("feeling", "PainFeeling", "STIFFNESS"), (None, None, None)]
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
    texts.update({f"stretches.{item.key}": item.say for item in Routines.load(CONTENT_DIR / "stretches.yaml").items()})
    return texts


def pattern(text: str) -> re.Pattern[str]:
    """The text as heard: spaces collapsed, each {placeholder} any words."""
    return re.compile(PLACEHOLDER.sub(".+?", re.escape(" ".join(text.split()))))


class Heard:
    """What the corpus made the skill say: content keys passed to Content.say, and the plain speech."""

    def __init__(self):
        self.keys: set[str] = set()
        self.speech: list[str] = []

    def reply(self, reply: dict) -> dict:
        self.speech += [heard(reply), reprompt(reply)]
        return reply


@pytest.fixture
def recorded(monkeypatch) -> Heard:
    record = Heard()
    say = Content.say

    def recording_say(self, key, **values):
        record.keys.add(key)
        return say(self, key, **values)
    monkeypatch.setattr(Content, "say", recording_say)
    return record


def run_conversations(record: Heard, transport: InProcessTransport) -> None:
    resolver = UtteranceResolver(load_model(REAL_MODEL), DEV_SKILL_ID)
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
        record.reply(alexa.intent("StartTriageIntent"))
        for _, answer in path:
            record.reply(say_answer(alexa, answer))


def ask_about_everything(record: Heard, alexa: AlexaSession) -> None:
    """Every answer, its `more`, and the small talk around them, as directly built requests."""
    def say(name, *slots):
        return record.reply(alexa.intent(name, *slots))

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
    alexa.new_session()
    for intent in ("AMAZON.RepeatIntent", "MoreInfoIntent", "ThanksIntent", "AMAZON.StartOverIntent",
                   "PainDuringStretchIntent", "ResumeRoutineIntent"):
        say(intent)
    say("StartTriageIntent")
    say("DescribePainIntent")          # an answer that fits no question: asked again, with the signs
    say("AMAZON.HelpIntent")
    say("AMAZON.CancelIntent")
    say("ForgetMeIntent")
    say("AMAZON.NoIntent")


def walk_every_routine(record: Heard, alexa: AlexaSession) -> None:
    """Each routine to its end, with and without outer-hip pain, paused, resumed and interrupted."""
    def say(name, *slots):
        return record.reply(alexa.intent(name, *slots))

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
    say("AMAZON.StopIntent")
    alexa.new_session()
    record.reply(alexa.launch())        # a routine left half-done is offered again
    say("PainDuringStretchIntent")


def test_every_content_item_is_reached_by_some_request(recorded, alexa, tmp_path):
    from skill.app import create_app

    transport = InProcessTransport(create_app(Settings(skill_id=DEV_SKILL_ID, dev_mode=True,
                                                       db_path=tmp_path / "preferences.sqlite3")))
    recorded.keys.clear()   # start-up checks every guidance variant: that is no request
    run_conversations(recorded, transport)
    run_triage_walk(recorded, alexa)
    ask_about_everything(recorded, alexa)
    walk_every_routine(recorded, alexa)
    unspoken = sorted(key for key in CONTENT.keys() - recorded.keys)
    speech = "\n".join(recorded.speech)
    unheard = sorted(key for key, text in spoken_texts().items() if not pattern(text).search(speech))
    assert not unspoken and not unheard, (
        "no request in the corpus reaches these items; add one, or mark a card- or screen-only item `shown:` "
        "in content:\n  " + "\n  ".join(unspoken + unheard))
