"""Conversation tests: each tests/conversations/*.yaml is a scripted talk with the real skill.

A file is a list of turns, or a mapping {device: {screen: true, ...}, turns: [...]} where `device`
takes the fields of skill.simulator.envelopes.DeviceProfile. A turn:

    - say: ask hip helper why does my hip hurt after running   # "" or ".silence" says nothing
      intent: CausesIntent        # the intent reached, or the request type (LaunchRequest, ...)
      slots: {location: OUTER_HIP}  # resolved ids of custom slots, values of built-in ones
      hears: [fragment, ...]      # case-insensitive pieces of the plain-text speech
      not_hears: [fragment, ...]
      reprompt: [fragment, ...]
      card: [fragment, ...]       # of "title: text"
      session_open: true
      locales:                    # where a locale's words differ: its own hears/not_hears/...
        en-GB: {hears: [fragment, ...]}

Every key but `say` is optional. Each file runs in every served locale (tests/locales.py), on that
locale's model; "{emergency_number}" in a fragment is the locale's number as heard ("999", "triple
zero"), and no locale may hear another's number or urgent-care service. Every turn that speaks must also give the exact guidance, from
content, and keep to the word budgets: that is checked without being written down. The guidance
is the full form on a session's first response and the short one after; when the response's own
advice is more urgent (a triage outcome, an answer item with an `urgency`), that urgency's form.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import locales
import speech_budget
from alexa_requests import AlexaSession
from skill.domain.speech import ROUTINE_URGENCY, most_urgent
from skill.domain.triage import RED_FLAG_KINDS, slot_of
from skill.persistence import ALLOWED_ATTRIBUTES
from skill.settings import DEV_SKILL_ID, PROJECT_ROOT, Settings
from skill.simulator.engine import Simulator, Turn
from skill.simulator.envelopes import DeviceProfile
from skill.simulator.model import load_model
from skill.simulator.nlu import EntityResolution, IntentMatch, SlotFill, Understanding, UtteranceResolver
from skill.simulator.render import Reply
from skill.simulator.transport import InProcessTransport

CONVERSATIONS = sorted((Path(__file__).parent / "conversations").glob("*.yaml"))
RUNS = [(path, locale) for path in CONVERSATIONS for locale in locales.SERVED]
RUN_IDS = [f"{path.stem}-{locale}" for path, locale in RUNS]


def _triage_outcomes(locale: str) -> Iterator:
    engine = locales.services(locale).triage
    for path in engine.paths():
        step = engine.start()
        for _, answer in path:
            step = engine.answer(step.state, {slot_of(answer): answer})
        yield step.outcome
    for kind in RED_FLAG_KINDS:
        yield engine.red_flag(kind).outcome


@functools.cache
def urgent_texts(locale: str) -> list[tuple[str, str]]:
    """Text that carries its own urgency, as heard in `locale`: triage outcomes and answer items marked with one."""
    items = locales.services(locale).content.items()
    return [(locales.spoken(outcome.text, locale), outcome.urgency) for outcome in _triage_outcomes(locale)] + \
           [(locales.spoken(item.say, locale), item.urgency) for item in items if item.urgency]


EXPECTATIONS = frozenset({"intent", "slots", "hears", "not_hears", "reprompt", "card", "session_open"})
TURN_KEYS = EXPECTATIONS | {"say", "locales"}
DEVICE_KEYS = frozenset(field.name for field in dataclasses.fields(DeviceProfile))




class ConversationFileError(ValueError):
    """The YAML file itself is wrong (not the skill): a typo'd key, a non-string `say`..."""


def _check_turn(number: int, turn: Any) -> dict[str, Any]:
    if not isinstance(turn, dict) or "say" not in turn:
        raise ConversationFileError(f"turn {number} needs a `say`")
    if unknown := set(turn) - TURN_KEYS:
        raise ConversationFileError(f"turn {number} has unknown keys {sorted(unknown)}; known: {sorted(TURN_KEYS)}")
    if not isinstance(turn["say"], str):
        # YAML reads a bare yes/no/on/off as a boolean.
        raise ConversationFileError(f'turn {number}: `say` must be text; quote it, e.g. say: "no"')
    for locale, overrides in (turn.get("locales") or {}).items():
        if locale not in locales.SERVED or not isinstance(overrides, dict) or set(overrides) - EXPECTATIONS:
            raise ConversationFileError(f"turn {number}: `locales` maps a served locale {list(locales.SERVED)} "
                                        f"to expectations {sorted(EXPECTATIONS)}")
    return turn


def in_locale(turn: dict[str, Any], locale: str) -> dict[str, Any]:
    """The turn's expectations in `locale`: its own where given, the number as that locale hears it."""
    expected = {**turn, **(turn.get("locales") or {}).get(locale, {})}
    number = locales.number_heard(locale)
    for key in ("hears", "not_hears", "reprompt", "card"):
        if key in expected:
            expected[key] = [fragment.replace("{emergency_number}", number) for fragment in _as_list(expected[key])]
    return expected


def load_conversation(path: Path) -> tuple[DeviceProfile, list[dict[str, Any]]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(document, list):
        document = {"turns": document}
    if not isinstance(document, dict) or not isinstance(document.get("turns"), list):
        raise ConversationFileError("expected a list of turns, or a mapping with `turns` (and `device`)")
    device = document.get("device") or {}
    if unknown := set(device) - DEVICE_KEYS:
        raise ConversationFileError(f"device has unknown keys {sorted(unknown)}; known: {sorted(DEVICE_KEYS)}")
    turns = [_check_turn(number, turn) for number, turn in enumerate(document["turns"], 1)]
    return DeviceProfile(**device), turns


def _as_list(fragments: str | list[str] | None) -> list[str]:
    return [fragments] if isinstance(fragments, str) else list(fragments or ())


def _missing(label: str, text: str, fragments: str | list[str] | None) -> Iterator[str]:
    for fragment in _as_list(fragments):
        if fragment.lower() not in text.lower():
            yield f'{label} lacks "{fragment}"'


def _slot_answer(turn: Turn, name: str) -> str | None:
    slot = turn.intent.slots.get(name) if turn.intent else None
    if slot is None:
        return None
    return slot.resolved_id if slot.resolution is not None else slot.value


def turn_problems(turn: Turn, expected: dict[str, Any], locale: str = "en-US") -> Iterator[str]:
    """Everything about `turn` that differs from what the conversation file expects in `locale`."""
    if "intent" in expected and turn.request_name != expected["intent"]:
        yield f"reached {turn.request_name}, expected {expected['intent']}"
    for name, wanted in (expected.get("slots") or {}).items():
        if (got := _slot_answer(turn, name)) != str(wanted):
            yield f"slot {name} is {got!r}, expected {wanted!r}"
    reply = turn.reply
    yield from _missing("speech", turn.speech, expected.get("hears"))
    for fragment in _as_list(expected.get("not_hears")):
        if fragment.lower() in turn.speech.lower():
            yield f'speech has "{fragment}", which it must not'
    yield from _missing("reprompt", reply.reprompt if reply else "", expected.get("reprompt"))
    yield from _missing("card", reply.card.describe() if reply and reply.card else "", expected.get("card"))
    if "session_open" in expected and turn.session_open != expected["session_open"]:
        yield f"session is {'open' if turn.session_open else 'closed'}, expected the opposite"
    if reply is not None and reply.speech:
        yield from guidance_problems(reply.speech, locale,
                                     first=bool(((turn.request or {}).get("session") or {}).get("new")))
        everything = " ".join((reply.speech, reply.reprompt or "", reply.card.describe() if reply.card else ""))
        for mark in locales.foreign_marks_in(everything, locale):
            yield f"{locale} hears another locale's number or service: {mark}"


def expected_guidance(speech: str, locale: str, *, first: bool) -> str:
    """The guidance this speech must carry, from content: by session position and the advice's urgency."""
    urgency = most_urgent([urgency for text, urgency in urgent_texts(locale) if text in speech])
    return locales.guidance_heard(locale, full=first, urgency=urgency)


def guidance_problems(speech: str, locale: str = "en-US", *, first: bool) -> Iterator[str]:
    wanted = expected_guidance(speech, locale, first=first)
    if wanted not in speech:
        yield f'the speech lacks the guidance "{wanted}"'
    elif speech.count(wanted) > 1:
        yield "the guidance is said twice"


def budget_kind(turn: Turn) -> str:
    """Launch, a stretch step (read whole, excepted from the budgets) or any other answer."""
    request = (turn.request or {}).get("request") or {}
    if request.get("type") == "LaunchRequest":
        return speech_budget.LAUNCH
    if "routine" in ((turn.response or {}).get("sessionAttributes") or {}):
        return speech_budget.STRETCH
    return speech_budget.ANSWER


def failure_report(path: Path, number: int, turn: Turn, problems: list[str], locale: str) -> str:
    lines = [f'{path.name} in {locale}, turn {number}: the user said "{turn.said}"']
    lines += [f"  - {problem}" for problem in problems]
    lines += [f"  speech: {turn.speech}"]
    if turn.reply is not None:
        lines += [f"  reprompt: {turn.reply.reprompt}", f"  session open: {turn.session_open}"]
    lines += [f"  ({note})" for note in turn.notes]
    return "\n".join(lines)


@functools.cache
def resolver_for(locale: str) -> UtteranceResolver:
    return UtteranceResolver(load_model(PROJECT_ROOT / "interaction_model" / f"{locale}.json"), DEV_SKILL_ID)


@pytest.fixture(scope="module")
def resolver() -> UtteranceResolver:
    return resolver_for("en-US")


@pytest.fixture
def transport(tmp_path) -> InProcessTransport:
    from skill.app import create_app

    settings = Settings(skill_id=DEV_SKILL_ID, dev_mode=True, db_path=tmp_path / "preferences.sqlite3")
    return InProcessTransport(create_app(settings))


@pytest.mark.parametrize("path, locale", RUNS, ids=RUN_IDS)
def test_conversation(path, locale, transport, caplog):
    caplog.set_level(logging.WARNING, logger="hip_helper.session")
    try:
        device, turns = load_conversation(path)
    except (ConversationFileError, yaml.YAMLError) as error:
        pytest.fail(f"{path.name}: {error}", pytrace=False)
    simulator = Simulator(resolver_for(locale), transport, dataclasses.replace(device, locale=locale))
    for number, expected in enumerate(turns, 1):
        turn = simulator.say(expected["say"])
        problems = list(turn_problems(turn, in_locale(expected, locale), locale))
        if turn.reply is not None and turn.reply.speech:
            problems += speech_budget.response_problems(speech_budget.heard(turn.reply.speech, budget_kind(turn),
                                                                            "this turn"))
        assert not problems, failure_report(path, number, turn, problems, locale)
    # What the skill itself writes must fit its own session schema, or the next turn loses it.
    assert [r.getMessage() for r in caplog.records if r.name == "hip_helper.session"] == []


def test_every_conversation_leaves_nothing_about_the_body_in_the_store(resolver, tmp_path):
    """Run every conversation against one SQLite store, then read the store itself."""
    from skill.app import create_app

    db = tmp_path / "preferences.sqlite3"
    transport = InProcessTransport(create_app(Settings(skill_id=DEV_SKILL_ID, dev_mode=True, db_path=db)))
    for number, path in enumerate(CONVERSATIONS):
        device, turns = load_conversation(path)
        user = dataclasses.replace(device, user_id=f"amzn1.ask.account.CONVERSATION-{number}")
        simulator = Simulator(resolver, transport, user)
        for expected in turns:
            simulator.say(expected["say"])
    with sqlite3.connect(db) as connection:
        rows = connection.execute("select user_key, name, value from preferences").fetchall()
    assert rows, "the conversations should have stored some preferences"
    assert {name for _, name, _ in rows} <= ALLOWED_ATTRIBUTES
    stored = " ".join(f"{key} {name} {value}" for key, name, value in rows).lower()
    body_words = ["pain", "hurt", "fever", "numb", "triage", "outer", "groin", "location", "timing", "feeling",
                  "duration", "days", "answers", "facts", "conversation"]
    assert [word for word in body_words if word in stored] == []


# ---------------------------------------------------------------- the runner itself


def _answered_turn(speech: str) -> Turn:
    location = SlotFill("location", "elbow", EntityResolution("authority", ()))
    understanding = Understanding(invoked=False, intent=IntentMatch("DescribePainIntent", {"location": location}))
    reply = Reply(speech=speech, reprompt="Where?", card=None, directives=(), should_end_session=False)
    request = {"request": {"type": "IntentRequest", "intent": {"name": "DescribePainIntent"}}}
    return Turn("my elbow hurts", speech, reply, understanding, request, {}, [], session_open=True)


def test_the_runner_reports_every_difference():
    expected = {"say": "my elbow hurts", "intent": "CausesIntent", "slots": {"location": "OUTER_HIP"},
                "hears": "outer hip", "not_hears": ["elbow"], "reprompt": ["where"], "session_open": False}
    guidance = locales.guidance_heard("en-US", full=False, urgency=ROUTINE_URGENCY)
    assert list(turn_problems(_answered_turn(f"Your elbow? {guidance}"), expected)) == [
        "reached DescribePainIntent, expected CausesIntent",
        "slot location is None, expected 'OUTER_HIP'",
        'speech lacks "outer hip"',
        'speech has "elbow", which it must not',
        "session is open, expected the opposite",
    ]


def test_the_runner_requires_the_exact_guidance_in_every_answer():
    short = locales.guidance_heard("en-US", full=False, urgency=ROUTINE_URGENCY)
    assert list(turn_problems(_answered_turn("Your elbow? In an emergency, call 911."), {"say": "my elbow hurts"})) == [
        f'the speech lacks the guidance "{short}"']


def test_the_runner_wants_the_urgent_guidance_after_urgent_advice():
    outcome, urgency = next((text, urgency) for text, urgency in urgent_texts("en-US") if urgency == "emergency_now")
    softened = f"{outcome} {locales.guidance_heard('en-US', full=False, urgency=ROUTINE_URGENCY)}"
    assert list(guidance_problems(softened, first=False)) == [
        f'the speech lacks the guidance "{locales.guidance_heard("en-US", full=False, urgency=urgency)}"']


def test_the_runner_catches_another_locales_number():
    guidance = locales.guidance_heard("en-GB", full=False, urgency=ROUTINE_URGENCY).replace("NHS 111", "911")
    assert "en-GB hears another locale's number or service" in " ".join(
        turn_problems(_answered_turn(f"Your elbow? {guidance}"), {"say": "my elbow hurts"}, "en-GB"))


@pytest.mark.parametrize("content, message", [
    ('- say: no\n', "quote it"),
    ('- say: "no"\n  heard: ["x"]\n', "unknown keys ['heard']"),
    ('device: {screen: true, colour: red}\nturns: []\n', "device has unknown keys ['colour']"),
    ('say: hi\n', "expected a list of turns"),
])
def test_a_malformed_conversation_file_is_explained(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConversationFileError, match=re.escape(message)):
        load_conversation(path)


def test_word_budgets_over_every_conversation_and_the_triage_walk(transport, alexa: AlexaSession):
    """In every locale: launch <= 45 words, median <= 45, p95 <= 75, none over 90; `make test` prints the figures."""
    from speech_text import heard as heard_in
    from test_triage_paths_spoken import PATHS, say_answer

    measured: dict[str, list] = {}
    for locale in locales.SERVED:
        measured[locale] = []
        for path in CONVERSATIONS:
            device, turns = load_conversation(path)
            simulator = Simulator(resolver_for(locale), transport, dataclasses.replace(device, locale=locale))
            for number, expected in enumerate(turns, 1):
                turn = simulator.say(expected["say"])
                if turn.reply is not None and turn.reply.speech:
                    measured[locale].append(speech_budget.heard(turn.reply.speech, budget_kind(turn),
                                                                f"{locale} {path.name} turn {number}"))
        alexa.locale = locale
        for path in PATHS:
            alexa.new_session()
            replies = [alexa.intent("StartTriageIntent")] + [say_answer(alexa, answer) for _, answer in path]
            measured[locale] += [speech_budget.heard(heard_in(reply), speech_budget.ANSWER, f"{locale} triage {path}")
                                 for reply in replies]
    speech_budget.HEARD[:] = [heard for by_locale in measured.values() for heard in by_locale]
    assert {locale: speech_budget.problems(heard) for locale, heard in measured.items()} == \
        {locale: [] for locale in locales.SERVED}
