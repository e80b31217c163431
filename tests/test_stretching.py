"""Guided stretching through real requests: steps, pauses, next/pause/resume, remembered progress."""
import re

from conftest import SKILL_ID, production_app_with
from alexa_requests import AlexaSession
from skill.domain.content import Content
from skill.settings import PROJECT_ROOT
from speech_text import heard, session_open

CONTENT = Content.load(PROJECT_ROOT / "content")

SAFETY_LINE = "stop straight away if a stretch hurts"
CROSS_BODY_STRETCH = "Seated buttock stretch"


def routine_slot(alexa, routine_id):
    return alexa.slot("routine", routine_id.lower(), slot_type="StretchRoutine", resolved_id=routine_id)


def start(alexa, routine_id="COOL_DOWN"):
    return alexa.intent("StartRoutineIntent", routine_slot(alexa, routine_id))


def step_titles_heard(reply):
    return reply["sessionAttributes"]["routine"]


def test_a_routine_starts_with_the_safety_line_and_the_first_step(alexa):
    reply = start(alexa)
    text = heard(reply)
    assert SAFETY_LINE in text
    assert "thirty seconds" in text.lower() or "30 seconds" in text
    ssml = reply["response"]["outputSpeech"]["ssml"]
    pauses = [int(seconds) for seconds in re.findall(r'<break time="(\d+)s"/>', ssml)]
    assert pauses and max(pauses) <= 10 and sum(pauses) >= 30   # a 30 s hold, as breaks of at most 10 s
    assert text.endswith("Ready for the next one?") and session_open(reply)
    assert "call 911" in text  # the guidance, as in every answer
    assert reply["sessionAttributes"]["routine"] == {"id": "cool_down", "step": 1}


def test_next_yes_pause_and_resume_move_through_the_routine(alexa):
    start(alexa)
    assert alexa.intent("AMAZON.NextIntent")["sessionAttributes"]["routine"]["step"] == 2
    assert alexa.intent("AMAZON.YesIntent")["sessionAttributes"]["routine"]["step"] == 3
    paused = alexa.intent("AMAZON.PauseIntent")
    assert "Paused" in heard(paused) and session_open(paused)
    resumed = alexa.intent("AMAZON.ResumeIntent")
    assert "carry on" in heard(resumed) and resumed["sessionAttributes"]["routine"]["step"] == 3
    assert alexa.intent("AMAZON.StartOverIntent")["sessionAttributes"]["routine"]["step"] == 1


def test_the_last_step_closes_the_routine_with_the_guidance(alexa):
    reply = start(alexa, "WARM_UP")
    while reply["response"].get("shouldEndSession") is False:
        reply = alexa.intent("AMAZON.NextIntent")
    text = heard(reply)
    assert "warm-up" in text.lower() and "call 911" in text and "See a doctor" in text
    assert not text.endswith("?")
    again = alexa.intent("ResumeRoutineIntent")  # a new session: nothing left to resume
    assert "don't have a stretch routine in progress" in heard(again)


def test_continue_in_a_later_session_resumes_where_the_user_stopped(alexa):
    start(alexa)
    alexa.intent("AMAZON.NextIntent")
    alexa.intent("AMAZON.StopIntent")          # session ends; progress stays remembered
    reply = alexa.intent("ResumeRoutineIntent")
    assert reply["sessionAttributes"]["routine"] == {"id": "cool_down", "step": 2}
    assert "carry on" in heard(reply)


def test_outer_hip_pain_leaves_out_stretches_across_the_body(alexa):
    alexa.intent("DescribePainIntent",
                 alexa.slot("location", "outer hip", slot_type="PainLocation", resolved_id="OUTER_HIP"))
    reply = start(alexa, "HIPS")
    assert "pull your leg across your body" in heard(reply)
    spoken = [heard(reply)]
    while reply["response"].get("shouldEndSession") is False:
        reply = alexa.intent("AMAZON.NextIntent")
        spoken.append(heard(reply))
    assert not any("Cross your" in text or "twist" in text.lower() for text in spoken)


def test_without_outer_hip_pain_the_cross_body_stretch_is_included(alexa):
    reply = start(alexa, "HIPS")
    titles = []
    while reply["response"].get("shouldEndSession") is False:
        titles.append(reply["response"]["card"]["text"])
        reply = alexa.intent("AMAZON.NextIntent")
    assert any("twist" in text.lower() or "cross" in text.lower() for text in titles)


def test_no_routine_after_an_outcome_that_rules_stretching_out(alexa):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    alexa.intent("AMAZON.NoIntent")
    alexa.intent("DescribePainIntent",
                 alexa.slot("location", "outer hip", slot_type="PainLocation", resolved_id="OUTER_HIP"))
    outcome = alexa.intent("DescribePainIntent",
                           alexa.slot("timing", "at night", slot_type="PainTiming", resolved_id="REST_OR_NIGHT"))
    assert "doctor" in heard(outcome) and "stretch" not in heard(outcome).lower().split("see a doctor")[-1]
    reply = start(alexa)
    assert "won't guide you through stretches" in heard(reply)
    assert "routine" not in reply["sessionAttributes"]


def test_screen_devices_get_the_step_on_screen_and_others_get_no_apl(production_app, signer):
    on_show = AlexaSession(production_app.test_client(), signer, SKILL_ID, user_id="amzn1.ask.account.SHOW",
                           screen=True)
    reply = start(on_show)
    directives = reply["response"]["directives"]
    assert [d["type"] for d in directives] == ["Alexa.Presentation.APL.RenderDocument"]
    payload = directives[0]["datasources"]["payload"]
    assert payload["stepLabel"].startswith("Step 1 of") and payload["title"]
    assert "911" in payload["safety"]
    answer = on_show.intent("PreventionIntent")["response"]["directives"][0]
    assert "treadmill" in answer["datasources"]["payload"]["text"]
    voice_only = AlexaSession(production_app.test_client(), signer, SKILL_ID, user_id="amzn1.ask.account.DOT")
    assert "directives" not in start(voice_only)["response"]


def test_an_unavailable_store_only_affects_the_preference_features(signer, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the database folder should be")
    app = production_app_with(signer, db_path=blocked / "prefs.sqlite3")
    alexa = AlexaSession(app.test_client(), signer, SKILL_ID)
    assert "impact" in heard(alexa.intent("CausesIntent"))
    assert heard(alexa.launch()).startswith("Welcome to Hip Helper")
    reply = start(alexa)
    assert "can't reach my memory" in heard(reply) and SAFETY_LINE in heard(reply)
    assert "can't reach my memory" in heard(alexa.intent("ResumeRoutineIntent"))


def test_progress_survives_sessions_on_dynamodb_too(signer, moto_endpoint, aws_environment):
    """The same skill with HIP_HELPER_STORE=dynamodb, against a DynamoDB-compatible server."""
    app = production_app_with(signer, store="dynamodb", dynamodb_endpoint=moto_endpoint,
                              dynamodb_table="hip-helper-stretching-test")
    alexa = AlexaSession(app.test_client(), signer, SKILL_ID)
    assert heard(alexa.launch()).startswith("Welcome to Hip Helper")
    start(alexa)
    alexa.intent("AMAZON.NextIntent")
    alexa.intent("AMAZON.StopIntent")
    reply = alexa.intent("ResumeRoutineIntent")
    assert reply["sessionAttributes"]["routine"] == {"id": "cool_down", "step": 2}
    alexa.intent("AMAZON.StopIntent")
    assert heard(alexa.launch()).startswith("Welcome back")


STOP_STRETCHING = "Stop stretching now, and rest."
SAFETY_QUESTION = "Shall I ask a few quick safety questions?"


def test_pain_mid_stretch_stops_the_routine_at_once_and_offers_the_safety_questions(alexa):
    start(alexa)
    alexa.intent("AMAZON.NextIntent")
    reply = alexa.intent("PainDuringStretchIntent")
    text = heard(reply)
    assert text.startswith(STOP_STRETCHING) and text.endswith(SAFETY_QUESTION), text
    assert "next one" not in text and "hold" not in text.lower() and session_open(reply)
    assert "routine" not in reply["sessionAttributes"]
    assert "call 911" in text and "See a doctor" in text
    # A yes starts the triage at its red-flag questions; the routine does not come back.
    triage = alexa.intent("AMAZON.YesIntent")
    assert heard(triage).startswith(CONTENT.say("prompts.triage_intro")) and "stand" in heard(triage)
    assert triage["sessionAttributes"]["triage"]["at"] == "Q1_INJURY"
    assert "routine" not in triage["sessionAttributes"]


def test_no_to_the_safety_questions_after_pain_mid_stretch_does_not_resume_the_routine(alexa):
    start(alexa)
    alexa.intent("PainDuringStretchIntent")
    declined = alexa.intent("AMAZON.NoIntent")
    assert "routine" not in declined["sessionAttributes"] and session_open(declined)
    assert "Ready for the next one?" not in heard(declined)
    nothing_next = alexa.intent("AMAZON.NextIntent")
    assert "routine" not in nothing_next["sessionAttributes"]


def test_pain_outside_a_routine_says_stop_what_hurts_and_offers_the_safety_questions(alexa):
    reply = alexa.intent("PainDuringStretchIntent")
    text = heard(reply)
    assert text.startswith("Stop what makes it hurt") and text.endswith(SAFETY_QUESTION), text
    assert "stretching" not in text.split(".")[0]
    assert alexa.intent("AMAZON.YesIntent")["sessionAttributes"]["triage"]["at"] == "Q1_INJURY"


def test_a_red_flag_in_a_slot_mid_stretch_is_the_emergency_not_the_next_step(alexa):
    start(alexa)
    reply = alexa.intent("DescribePainIntent", alexa.slot("feeling", "my leg just gave way and I can't stand",
                                                         slot_type="PainFeeling", no_match=True))
    assert "call 911 now" in heard(reply) and reply["response"]["shouldEndSession"] is True
    assert "Ready for the next one?" not in heard(reply)


def test_plain_stop_mid_stretch_still_ends_the_session(alexa):
    start(alexa)
    reply = alexa.intent("AMAZON.StopIntent")
    assert reply["response"]["shouldEndSession"] is True and "Goodbye" in heard(reply)
    assert STOP_STRETCHING not in heard(reply)


def test_the_screen_safety_line_follows_an_emergency_outcome(production_app, signer):
    """After "call 911 now", the screen must not show the routine "see a doctor if it's not easing"."""
    on_show = AlexaSession(production_app.test_client(), signer, SKILL_ID, user_id="amzn1.ask.account.SHOW2",
                           screen=True)
    on_show.launch()
    reply = on_show.intent("RedFlagInjuryIntent")
    safety = reply["response"]["directives"][0]["datasources"]["payload"]["safety"]
    urgent = CONTENT.say("guidance.urgency.emergency_now.short").replace("{emergency_number}", "911")
    assert safety == urgent and safety != CONTENT.say("guidance.short").replace("{emergency_number}", "911")
