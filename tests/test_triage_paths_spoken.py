"""Every path of the triage table, spoken through the real skill over signed HTTP, in every served locale.

Each path ends in an outcome within five questions, every response on the way carries the
emergency and the see-a-doctor guidance in the locale's words, and no locale hears another's
number or service.
"""
import pytest

import locales
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


def assert_guidance(reply, locale):
    text = heard(reply)
    card = reply["response"]["card"]["text"]
    assert f"call {locales.number_heard(locale)}" in text.lower(), text
    # The see-a-doctor line: a doctor, a GP, or the locale's urgent-care service.
    doctor_line = {"doctor", "GP"} | locales.marks(locale)
    assert any(words in text for words in doctor_line), text
    assert locales.foreign_marks_in(f"{text} {card}", locale) == []


RUNS = [(path, locale) for path in PATHS for locale in locales.SERVED]


@pytest.mark.parametrize("path, locale", RUNS,
                         ids=["/".join(answer for _, answer in path) + f"-{locale}" for path, locale in RUNS])
def test_every_triage_path_ends_in_an_outcome_with_guidance_on_every_turn(alexa, path, locale):
    assert len(path) <= MAX_QUESTIONS
    alexa.locale = locale
    reply = alexa.intent("StartTriageIntent")
    assert_guidance(reply, locale)
    for _, answer in path:
        assert "triage" in reply["sessionAttributes"], "the triage ended before the path did"
        reply = say_answer(alexa, answer)
        assert_guidance(reply, locale)
    assert "triage" not in reply.get("sessionAttributes", {}), "no outcome at the end of the path"
    outcome = expected_outcome(path, locales.services(locale).triage)
    assert locales.spoken(outcome.text, locale) in heard(reply)
    if outcome.is_emergency:
        assert reply["response"]["shouldEndSession"] is True


def expected_outcome(path, engine=ENGINE):
    """The engine's own outcome for the path, to check the skill says exactly that."""
    step = engine.start()
    for question, answer in path:
        assert step.question.id == question
        step = engine.answer(step.state, {slot_of(answer): answer})
    return step.outcome
