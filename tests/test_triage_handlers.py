"""The spoken triage through real requests: red flags first, no diagnosis, guidance on every turn."""
import pytest

from skill.domain.content import Content
from skill.settings import PROJECT_ROOT
from speech_text import heard, reprompt, session_open

CONTENT = Content.load(PROJECT_ROOT / "content")


def location(alexa, slot_id):
    return alexa.slot("location", slot_id.lower(), slot_type="PainLocation", resolved_id=slot_id)


def timing(alexa, slot_id):
    return alexa.slot("timing", slot_id.lower(), slot_type="PainTiming", resolved_id=slot_id)


def duration(alexa, slot_id):
    return alexa.slot("duration", slot_id.lower(), slot_type="PainDuration", resolved_id=slot_id)


def assert_guidance(reply):
    assert "call 911" in heard(reply) and "See a doctor" in heard(reply), heard(reply)


def test_the_triage_asks_the_red_flag_questions_first(alexa):
    first = alexa.intent("StartTriageIntent")
    assert "can't diagnose" in heard(first)
    assert "stand" in heard(first) and heard(first).endswith("not sure?") and session_open(first)
    assert reprompt(first).endswith("?")
    second = alexa.intent("AMAZON.NoIntent")
    assert "fever" in heard(second) and "bladder" in heard(second)
    assert_guidance(first)
    assert_guidance(second)


def test_outer_hip_pain_while_running_ends_in_self_care_advice_and_a_stretch_offer(alexa):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    alexa.intent("AMAZON.NoIntent")
    # One sentence answers both "where" and "when": the engine does not ask again.
    asked = alexa.intent("DescribePainIntent", location(alexa, "OUTER_HIP"), timing(alexa, "DURING_RUN"))
    assert "How long" in heard(asked) or "how long" in heard(asked)
    outcome = alexa.intent("DurationIntent", duration(alexa, "FEW_DAYS"))
    text = heard(outcome)
    assert "can be associated with" in text and "you have" not in text.lower()
    assert text.endswith(CONTENT.say("prompts.questions.start_stretches"))
    assert "triage" not in outcome["sessionAttributes"]
    assert outcome["sessionAttributes"]["facts"]["outer_hip"] is True
    assert_guidance(outcome)


@pytest.mark.parametrize("answer", ["AMAZON.YesIntent", "UnsureIntent"])
def test_yes_or_not_sure_to_the_first_red_flag_question_is_an_emergency(alexa, answer):
    alexa.intent("StartTriageIntent")
    reply = alexa.intent(answer)
    text = heard(reply)
    assert "call 911 now" in text and "I can't call for help for you" in text
    assert reply["response"]["shouldEndSession"] is True and not text.endswith("?")


@pytest.mark.parametrize("red_flag, words", [
    ("RedFlagInjuryIntent", "emergency department"),
    ("RedFlagInfectionIntent", "infection"),
    ("RedFlagNerveIntent", "nerves"),
])
def test_a_red_flag_mid_question_jumps_to_emergency_guidance(alexa, red_flag, words):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    reply = alexa.intent(red_flag)
    assert words in heard(reply) and "911" in heard(reply)
    assert reply["response"]["shouldEndSession"] is True


def test_a_red_flag_as_the_opening_one_shot_is_an_emergency(alexa):
    reply = alexa.intent("RedFlagInjuryIntent")
    assert "call 911" in heard(reply) and "not medical advice" in heard(reply)


def test_an_unrelated_question_mid_triage_is_answered_then_the_triage_is_offered_again(alexa):
    alexa.intent("StartTriageIntent")
    aside = alexa.intent("PreventionIntent")
    assert "treadmill" in heard(aside) and heard(aside).endswith(CONTENT.say("prompts.questions.resume_triage"))
    back = alexa.intent("AMAZON.YesIntent")
    assert "stand" in heard(back)                       # the same question again
    alexa.intent("PreventionIntent")
    stopped = alexa.intent("AMAZON.NoIntent")
    assert "stopped the questions" in heard(stopped) and "triage" not in stopped["sessionAttributes"]


def test_repeat_reads_the_long_question_one_item_at_a_time(alexa):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    reply = alexa.intent("AMAZON.RepeatIntent")
    assert "one at a time" in heard(reply) and "First" in heard(reply)


def test_help_and_fallback_mid_triage_return_to_the_question(alexa):
    alexa.intent("StartTriageIntent")
    helped = alexa.intent("AMAZON.HelpIntent")
    assert "say repeat" in heard(helped) and "stand" in heard(helped)
    missed = alexa.intent("AMAZON.FallbackIntent")
    assert "didn't catch that" in heard(missed) and "stand" in heard(missed)


def test_an_answer_that_does_not_fit_repeats_the_question(alexa):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    alexa.intent("AMAZON.NoIntent")
    reply = alexa.intent("DurationIntent", duration(alexa, "FEW_DAYS"))
    assert "didn't get that answer" in heard(reply)


def test_start_over_restarts_the_triage_at_the_safety_questions(alexa):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    reply = alexa.intent("AMAZON.StartOverIntent")
    assert "stand" in heard(reply)


def test_a_triage_state_from_another_table_starts_again_safely(alexa):
    alexa.intent("StartTriageIntent")
    alexa.attributes["triage"] = {"at": "NO_SUCH_QUESTION", "asked": 1, "answers": {}, "then": None}
    reply = alexa.intent("AMAZON.NoIntent")
    assert "stand" in heard(reply) and "triage" in reply["sessionAttributes"]


def test_stop_mid_triage_ends_with_the_guidance(alexa):
    alexa.intent("StartTriageIntent")
    reply = alexa.intent("AMAZON.StopIntent")
    assert reply["response"]["shouldEndSession"] is True
    assert_guidance(reply)
