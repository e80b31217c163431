"""Repeat says again exactly what was said, from keys alone, and session attributes stay small."""
import json

import pytest

from test_conversations import CONVERSATIONS, load_conversation, resolver, transport  # noqa: F401 (fixtures)
from skill.simulator.engine import Simulator

# Measured over every conversation: with triage and stretch texts stored whole a turn carried up to
# 1,036 bytes; keyed, at most 527 (a stretch step after the routine's intro and the outer-hip note).
MAX_SESSION_ATTRIBUTE_BYTES = 600


def _bytes(turn) -> int:
    attributes = (turn.response or {}).get("sessionAttributes") or {}
    return len(json.dumps(attributes, separators=(",", ":"), ensure_ascii=False).encode())


@pytest.mark.parametrize("path", CONVERSATIONS, ids=lambda path: path.stem)
def test_no_turn_carries_big_session_attributes(path, resolver, transport):  # noqa: F811
    device, turns = load_conversation(path)
    simulator = Simulator(resolver, transport, device)
    sizes = [_bytes(simulator.say(turn["say"])) for turn in turns]
    assert max(sizes) <= MAX_SESSION_ATTRIBUTE_BYTES, sizes


def _repeated(resolver, transport, says):  # noqa: F811
    simulator = Simulator(resolver, transport)
    for said in says:
        before = simulator.say(said)
    again = simulator.say("repeat")
    assert again.request_name == "AMAZON.RepeatIntent"
    return before, again


@pytest.mark.parametrize("says", [
    ["open hip helper", "help me figure out my hip pain"],                     # the intro and a question
    ["open hip helper", "help me figure out my hip pain", "no", "no"],        # the where question
], ids=["first-question", "where-question"])
def test_repeat_during_a_triage_question_says_it_again(resolver, transport, says):  # noqa: F811
    before, again = _repeated(resolver, transport, says)
    assert again.speech == before.speech and again.reply.reprompt == before.reply.reprompt
    assert again.reply.directives == before.reply.directives        # the slot is still elicited


def test_repeat_after_an_outcome_says_it_again(resolver, transport):  # noqa: F811
    before, again = _repeated(resolver, transport, [
        "open hip helper", "help me figure out my hip pain", "no", "no",
        "it hurts on the outside of my hip when I run", "for a few days"])
    assert "outer hip pain" in before.speech.lower() and again.speech == before.speech


def test_repeat_during_a_stretch_step_says_it_again(resolver, transport):  # noqa: F811
    before, again = _repeated(resolver, transport, ["ask hip helper to start my cool down"])
    # The first answer had the full guidance, the repeat the short one: the step itself is the same.
    assert "[pause" in before.speech and again.speech.split("In an emergency")[0] == \
        before.speech.split("I'm not a doctor")[0]
    before, again = _repeated(resolver, transport, ["ask hip helper to start my cool down", "next"])
    assert again.speech == before.speech


def test_repeat_reads_a_long_list_slowly_and_again_the_same(resolver, transport):  # noqa: F811
    from skill.domain.triage import TriageEngine
    from skill.settings import PROJECT_ROOT

    slowly = TriageEngine.load(PROJECT_ROOT / "content" / "triage.yaml").say(
        "triage.questions.Q2_WARNING_SIGNS.repeat_slowly")
    before, again = _repeated(resolver, transport, ["open hip helper", "help me figure out my hip pain", "no"])
    assert " ".join(slowly.split()[:6]) not in before.speech and again.speech.endswith(slowly)
    twice = Simulator(resolver, transport)
    for said in ["open hip helper", "help me figure out my hip pain", "no", "repeat"]:
        first = twice.say(said)
    assert twice.say("repeat").speech == first.speech
