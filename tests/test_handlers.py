"""Handlers through real HTTP requests, signed and verified as in production.

Assertions are on what the user hears, the reprompt, whether the session stays open,
the card, and the session attributes that travel back to Alexa.
"""
import pytest

from skill.domain.content import Content
from skill.domain.triage import TriageEngine
from skill.settings import PROJECT_ROOT
from speech_text import heard, reprompt, session_open

CONTENT = Content.load(PROJECT_ROOT / "content")
FULL_GUIDANCE = "not medical advice"
EMERGENCY = "call 911"


def guidance(*, full: bool) -> str:
    """Both guidance lines, emergency and see-a-doctor, as this locale hears them."""
    return CONTENT.say("guidance.full" if full else "guidance.short").replace("{emergency_number}", "911")


def assert_guidance(reply, *, full: bool = False):
    """The exact guidance: full on a session's first response, short after."""
    text = heard(reply)
    assert EMERGENCY in text and guidance(full=full) in text, text


def test_launch_welcomes_with_full_guidance_and_offers_the_triage(alexa):
    reply = alexa.launch()
    text = heard(reply)
    assert text.startswith("Welcome to Hip Helper.")
    assert FULL_GUIDANCE in text
    assert_guidance(reply, full=True)
    assert text.endswith("?") and session_open(reply)
    assert reprompt(reply).endswith("?")
    card = reply["response"]["card"]
    assert card["type"] == "Standard" and card["title"] == "Hip Helper"
    assert guidance(full=True) in card["text"]
    assert reply["sessionAttributes"]["pending_offer"] == "start_triage"


def test_later_answers_use_the_short_guidance(alexa):
    alexa.launch()
    reply = alexa.intent("PreventionIntent")
    text = heard(reply)
    assert "treadmill" in text and FULL_GUIDANCE not in text
    assert_guidance(reply)


def test_one_shot_question_gets_full_guidance(alexa):
    reply = alexa.intent("CausesIntent")
    assert "impact" in heard(reply) and FULL_GUIDANCE in heard(reply)
    assert session_open(reply) and heard(reply).endswith("?")


@pytest.mark.parametrize("treatment, expected", [
    ("ICE", "towel"), ("CORTISONE", "last resort"), ("REST", "swimming"), (None, "ice it"),
])
def test_self_care_answer_follows_the_treatment_slot(alexa, treatment, expected):
    slots = [alexa.slot("treatment", treatment.lower(), slot_type="Treatment", resolved_id=treatment)] if treatment else []
    assert expected in heard(alexa.intent("SelfCareIntent", *slots))


def test_an_unknown_condition_hears_the_ones_the_skill_knows(alexa):
    reply = alexa.intent("ConditionIntent", alexa.slot("condition", "gout", slot_type="HipCondition", no_match=True))
    assert "I can tell you about hip bursitis, trochanteric bursitis, snapping hip or tendinitis." in heard(reply)
    assert_guidance(reply, full=True)


def test_bursitis_is_described_as_inflamed(alexa):
    reply = alexa.intent("ConditionIntent",
                         alexa.slot("condition", "bursitis", slot_type="HipCondition", resolved_id="BURSITIS"))
    assert "inflamed" in heard(reply) and "burst" not in heard(reply)


def test_describing_a_red_swollen_hip_warns_about_infection_first(alexa):
    reply = alexa.intent("DescribePainIntent",
                         alexa.slot("location", "outer hip", slot_type="PainLocation", resolved_id="OUTER_HIP"),
                         alexa.slot("feeling", "red", slot_type="PainFeeling", resolved_id="REDNESS"))
    assert "joint infection" in heard(reply)
    assert reply["sessionAttributes"]["known_answers"] == {"location": "OUTER_HIP", "feeling": "REDNESS"}


@pytest.mark.parametrize("intent", ["AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent"])
def test_stop_cancel_and_home_end_the_session_with_guidance(alexa, intent):
    alexa.launch()
    reply = alexa.intent(intent)
    assert reply["response"]["shouldEndSession"] is True
    assert "Goodbye" in heard(reply) and not heard(reply).endswith("?")
    assert "reprompt" not in reply["response"]
    assert_guidance(reply)


def test_help_explains_and_keeps_the_session_open(alexa):
    reply = alexa.intent("AMAZON.HelpIntent")
    assert CONTENT.say("prompts.help") in heard(reply) and session_open(reply)
    assert_guidance(reply, full=True)


def test_fallback_says_what_the_skill_can_do(alexa):
    alexa.launch()
    reply = alexa.intent("AMAZON.FallbackIntent")
    assert "didn't catch that" in heard(reply) and session_open(reply)
    assert_guidance(reply)


def test_yes_without_an_offer_is_not_taken_as_consent(alexa):
    reply = alexa.intent("AMAZON.YesIntent")     # "ask hip helper yes": nothing was offered
    assert "didn't catch that" in heard(reply)
    assert "triage" not in reply["sessionAttributes"]


def test_no_to_anything_else_ends_the_session_politely(alexa):
    alexa.launch()
    alexa.intent("AMAZON.NoIntent")              # no to the questions
    reply = alexa.intent("AMAZON.NoIntent")      # no to "what would you like to know?"
    assert "Goodbye" in heard(reply) and reply["response"]["shouldEndSession"] is True


def test_repeat_says_the_last_answer_again(alexa):
    alexa.launch()
    first = alexa.intent("SeeDoctorIntent")
    again = alexa.intent("AMAZON.RepeatIntent")
    assert heard(again) == heard(first)
    assert session_open(again)


def test_unknown_intent_gets_a_graceful_answer(alexa):
    reply = alexa.intent("SomeIntentThisSkillNeverDeclared")
    assert "didn't catch that" in heard(reply) and session_open(reply)
    assert_guidance(reply, full=True)


def test_unknown_request_type_gets_a_graceful_answer(alexa):
    reply = alexa.send({"type": "Some.FutureRequestType"})
    assert "didn't catch that" in heard(reply)
    assert_guidance(reply, full=True)


@pytest.mark.parametrize("reason, error", [
    ("USER_INITIATED", None), ("EXCEEDED_MAX_REPROMPTS", None),
    ("ERROR", {"type": "INVALID_RESPONSE", "message": "bad"}),
    ("ERROR", {"type": "ENDPOINT_TIMEOUT", "message": "slow"}),
    ("SOMETHING_NEW", {"type": "BRAND_NEW_ERROR"}),
])
def test_session_ended_is_silent_whatever_the_reason(alexa, reason, error):
    reply = alexa.session_ended(reason, error)
    assert "outputSpeech" not in reply["response"] and "reprompt" not in reply["response"]


def test_extra_unknown_fields_are_ignored(alexa):
    envelope = alexa.envelope({"type": "LaunchRequest", "brandNewField": {"x": 1}})
    envelope["context"]["SomethingNew"] = [1, 2, 3]
    reply = alexa.post(envelope)
    assert heard(reply).startswith("Welcome")


def test_skill_event_out_of_session_is_answered_silently(alexa):
    envelope = alexa.envelope({"type": "AlexaSkillEvent.SkillEnabled", "eventCreationTime": "2026-11-25T10:00:00Z"})
    del envelope["session"]
    reply = alexa.post(envelope)
    assert "outputSpeech" not in reply["response"]


def test_tell_me_more_says_the_rest_of_the_last_answer(alexa):
    alexa.launch()
    answer = alexa.intent("CausesIntent")
    assert heard(answer).endswith(CONTENT.say("prompts.questions.more_on_that"))
    assert CONTENT.more("answers.causes") not in heard(answer)
    more = alexa.intent("MoreInfoIntent")
    assert CONTENT.more("answers.causes") in heard(more) and CONTENT.say("answers.causes") not in heard(more)
    assert session_open(more)
    assert_guidance(more)


def test_yes_to_more_on_that_says_the_rest(alexa):
    alexa.launch()
    alexa.intent("PreventionIntent")
    more = alexa.intent("AMAZON.YesIntent")
    assert CONTENT.more("answers.prevention") in heard(more)
    assert_guidance(more)


def test_tell_me_more_with_nothing_more_says_so(alexa):
    alexa.launch()
    reply = alexa.intent("MoreInfoIntent")
    assert CONTENT.say("prompts.no_more") in heard(reply) and session_open(reply)
    assert_guidance(reply)


def test_thanks_gets_a_short_reply_and_keeps_the_session_open(alexa):
    alexa.launch()
    reply = alexa.intent("ThanksIntent")
    assert heard(reply).startswith(CONTENT.say("prompts.thanks")) and session_open(reply)
    assert_guidance(reply)


def test_thanks_mid_triage_goes_back_to_the_question(alexa):
    question = alexa.intent("StartTriageIntent")
    reply = alexa.intent("ThanksIntent")
    first_question = TriageEngine.load(PROJECT_ROOT / "content" / "triage.yaml").start().question.prompt
    assert heard(reply).startswith(CONTENT.say("prompts.thanks"))
    assert heard(reply).endswith(first_question) and CONTENT.say("prompts.triage_intro") not in heard(reply)
    assert reply["sessionAttributes"]["triage"] == question["sessionAttributes"]["triage"]


def test_asking_when_hip_pain_is_an_emergency_speaks_the_emergency_signs(alexa):
    reply = alexa.intent("EmergencySignsIntent")
    assert CONTENT.say("answers.emergency_signs") in heard(reply)
    assert session_open(reply)
    assert_guidance(reply, full=True)


def test_a_matched_slot_without_a_value_is_not_understood_rather_than_failing(alexa, caplog):
    forged = alexa.slot("location", "outer hip", slot_type="PainLocation", resolved_id="OUTER_HIP")
    forged["resolutions"]["resolutionsPerAuthority"][0]["values"] = [{}]
    reply = alexa.intent("DescribePainIntent", forged)
    assert session_open(reply) and "location" not in reply["sessionAttributes"].get("known_answers", {})
    assert_guidance(reply, full=True)
    assert not [record for record in caplog.records if record.levelname == "ERROR"]   # no handler failed
