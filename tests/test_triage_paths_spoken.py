"""Every path of the triage table, spoken through the real skill over signed HTTP.

Each path ends in an outcome within five questions, and every response on the way
carries the emergency and the see-a-doctor guidance.
"""
import pytest

from skill.domain.triage import MAX_QUESTIONS, TriageEngine, slot_of
from skill.settings import PROJECT_ROOT
from speech_text import heard

ENGINE = TriageEngine.load(PROJECT_ROOT / "content" / "triage.yaml")
PATHS = list(ENGINE.paths())
YES_NO_INTENTS = {"YES": "AMAZON.YesIntent", "NO": "AMAZON.NoIntent", "UNSURE": "UnsureIntent"}
SLOT_TYPES = {"location": "PainLocation", "timing": "PainTiming", "feeling": "PainFeeling", "duration": "PainDuration"}


def say_answer(alexa, answer):
    """The request Alexa sends when the user gives this answer."""
    slot = slot_of(answer)
    if slot == "yes_no":
        return alexa.intent(YES_NO_INTENTS[answer])
    intent = "DurationIntent" if slot == "duration" else "DescribePainIntent"
    return alexa.intent(intent, alexa.slot(slot, answer.lower().replace("_", " "), slot_type=SLOT_TYPES[slot],
                                           resolved_id=answer))


def assert_guidance(reply):
    text = heard(reply)
    assert "call 911" in text.lower() and "doctor" in text, text


@pytest.mark.parametrize("path", PATHS, ids=["/".join(answer for _, answer in path) for path in PATHS])
def test_every_triage_path_ends_in_an_outcome_with_guidance_on_every_turn(alexa, path):
    assert len(path) <= MAX_QUESTIONS
    reply = alexa.intent("StartTriageIntent")
    assert_guidance(reply)
    for _, answer in path:
        assert "triage" in reply["sessionAttributes"], "the triage ended before the path did"
        reply = say_answer(alexa, answer)
        assert_guidance(reply)
    assert "triage" not in reply.get("sessionAttributes", {}), "no outcome at the end of the path"
    outcome = expected_outcome(path)
    assert " ".join(outcome.text.replace("{emergency_number}", "911").split()) in heard(reply)
    if outcome.is_emergency:
        assert reply["response"]["shouldEndSession"] is True


def expected_outcome(path):
    """The engine's own outcome for the path, to check the skill says exactly that."""
    step = ENGINE.start()
    for question, answer in path:
        assert step.question.id == question
        step = ENGINE.answer(step.state, {slot_of(answer): answer})
    return step.outcome
