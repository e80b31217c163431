"""The spoken triage through real requests: red flags first, no diagnosis, guidance on every turn."""
import pytest

from skill.domain.content import Content, read_yaml
from skill.settings import PROJECT_ROOT
from speech_text import heard, reprompt, session_open

CONTENT = Content.load(PROJECT_ROOT / "content")
QUESTIONS = {name: " ".join(question["say"].split())
             for name, question in read_yaml(PROJECT_ROOT / "content" / "triage.yaml")["questions"].items()}


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


REASK = CONTENT.say("red_flags.reask").replace("{emergency_number}", "911")


def test_help_and_fallback_mid_triage_return_to_the_question(alexa):
    alexa.intent("StartTriageIntent")
    helped = alexa.intent("AMAZON.HelpIntent")
    assert "say repeat" in heard(helped) and "stand" in heard(helped)
    missed = alexa.intent("AMAZON.FallbackIntent")
    assert heard(missed).startswith(REASK) and "stand" in heard(missed)
    assert "Sorry" not in heard(missed)


def _at_location(alexa):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    return alexa.intent("AMAZON.NoIntent")


@pytest.mark.parametrize("answer", [
    # the engine's not-understood step: an answer to another question
    lambda alexa: ("DurationIntent", duration(alexa, "FEW_DAYS")),
    # words the model did not resolve
    lambda alexa: ("DescribePainIntent", alexa.slot("location", "sort of all over", slot_type="PainLocation",
                                                    no_match=True)),
    # an id this table doesn't know (a newer model, a forged request)
    lambda alexa: ("DescribePainIntent", location(alexa, "KNEE")),
    # Alexa placed nothing
    lambda alexa: ("AMAZON.FallbackIntent",),
], ids=["other-question", "no-match", "unknown-id", "fallback"])
def test_an_answer_that_is_not_understood_is_asked_again_with_the_red_flag_line(alexa, answer):
    asked = _at_location(alexa)
    name, *slots = answer(alexa)
    reply = alexa.intent(name, *slots)
    text = heard(reply)
    assert text.startswith(REASK) and text.endswith(QUESTIONS["LOCATION"]), text
    assert "Sorry" not in text and "Thanks" not in text
    assert reply["sessionAttributes"]["triage"]["at"] == asked["sessionAttributes"]["triage"]["at"] == "LOCATION"
    assert reply["response"]["directives"][0]["slotToElicit"] == "location"


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


def _elicited(reply):
    """The Dialog.ElicitSlot directive of a response, as (intent, slot), or None."""
    directives = [d for d in reply["response"].get("directives", []) if d["type"] == "Dialog.ElicitSlot"]
    assert len(directives) <= 1
    if not directives:
        return None
    directive = directives[0]
    assert directive["updatedIntent"]["confirmationStatus"] == "NONE"
    assert directive["slotToElicit"] in directive["updatedIntent"]["slots"]
    return directive["updatedIntent"]["name"], directive["slotToElicit"]


def _in_progress(alexa, name, *slots):
    intent = {"name": name, "confirmationStatus": "NONE", "slots": {s["name"]: s for s in slots}}
    return alexa.send({"type": "IntentRequest", "dialogState": "IN_PROGRESS", "intent": intent})


def test_free_answers_are_elicited_as_their_slots_and_answered_in_progress(alexa):
    assert _elicited(alexa.intent("StartTriageIntent")) is None                 # yes/no questions
    assert _elicited(alexa.intent("AMAZON.NoIntent")) is None
    where = alexa.intent("AMAZON.NoIntent")
    assert _elicited(where) == ("DescribePainIntent", "location") and session_open(where)
    when = _in_progress(alexa, "DescribePainIntent", location(alexa, "OUTER_HIP"))
    assert _elicited(when) == ("DescribePainIntent", "timing") and heard(when).endswith(QUESTIONS["PATTERN"])
    assert when["sessionAttributes"]["triage"]["at"] == "PATTERN"
    how_long = _in_progress(alexa, "DescribePainIntent", timing(alexa, "DURING_RUN"))
    assert how_long["sessionAttributes"]["triage"]["at"] == "DURATION"
    assert _elicited(how_long) == ("DurationIntent", "duration") and heard(how_long).endswith(QUESTIONS["DURATION"])
    outcome = _in_progress(alexa, "DurationIntent", duration(alexa, "MORE_THAN_TWO_WEEKS"))
    assert _elicited(outcome) is None and "triage" not in outcome["sessionAttributes"]


@pytest.mark.parametrize("again", ["AMAZON.RepeatIntent", "AMAZON.HelpIntent", "AMAZON.FallbackIntent"])
def test_asking_the_where_question_again_elicits_it_again(alexa, again):
    _at_location(alexa)
    assert _elicited(alexa.intent(again)) == ("DescribePainIntent", "location")


def test_the_elicited_intent_keeps_what_was_already_said(alexa):
    _at_location(alexa)
    # A feeling alone does not answer "where": the re-ask elicits location and keeps the feeling.
    reply = alexa.intent("DescribePainIntent", alexa.slot("feeling", "stiff", slot_type="PainFeeling",
                                                         resolved_id="STIFFNESS"))
    directive = reply["response"]["directives"][0]
    assert directive["slotToElicit"] == "location"
    assert directive["updatedIntent"]["slots"]["feeling"]["value"] == "stiff"
