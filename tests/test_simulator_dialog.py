"""The simulator's Dialog.ElicitSlot and dialogState emulation, against a scripted stand-in skill.

The stand-in is a real Flask app behind the in-process transport, so each test sees exactly the
envelope the simulator puts on the wire after the skill asked for one slot.
"""
from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask, request

from skill.simulator.chat import ChatOptions, ChatSession, format_turn
from skill.simulator.engine import Simulator
from skill.simulator.model import parse_model
from skill.simulator.nlu import UtteranceResolver
from skill.simulator.transport import InProcessTransport

SKILL_ID = "amzn1.ask.skill.dialog-tests"
MODEL = {"interactionModel": {
    "languageModel": {
        "invocationName": "hip helper",
        "intents": [
            {"name": "AMAZON.FallbackIntent"}, {"name": "AMAZON.StopIntent"},
            {"name": "StartTriageIntent", "samples": ["check my hip"]},
            {"name": "CausesIntent", "samples": ["why does my hip hurt"]},
            {"name": "RedFlagInjuryIntent", "samples": ["i fell and can not walk", "i can barely walk"]},
            {"name": "DescribePainIntent",
             "slots": [{"name": "location", "type": "PainLocation",
                        "samples": ["{location}", "it's in my {location}", "my {location} {timing}"]},
                       {"name": "timing", "type": "PainTiming", "samples": ["{timing}", "only when {timing}"]}],
             "samples": ["my {location} hurts", "the pain is in my {location}"]},
            {"name": "SetReminderIntent",
             "slots": [{"name": "time", "type": "AMAZON.TIME", "samples": ["{time}", "at {time}"]}],
             "samples": ["remind me to stretch", "remind me to stretch at {time}"]},
        ],
        "types": [
            {"name": "PainLocation", "values": [{"id": "GROIN", "name": {"value": "groin"}},
                                                {"id": "OUTER_HIP", "name": {"value": "outer hip",
                                                                             "synonyms": ["side"]}}]},
            {"name": "PainTiming", "values": [{"id": "AFTER_RUN", "name": {"value": "after running"}},
                                              {"id": "LYING_ON_SIDE", "name": {"value": "lying on my side",
                                                                               "synonyms": ["i lie in bed"]}}]},
        ],
    },
    "dialog": {"delegationStrategy": "SKILL_RESPONSE", "intents": [
        {"name": "DescribePainIntent", "slots": [
            {"name": "location", "type": "PainLocation", "elicitationRequired": True,
             "prompts": {"elicitation": "Elicit.Slot.location"}},
            {"name": "timing", "type": "PainTiming", "elicitationRequired": True,
             "prompts": {"elicitation": "Elicit.Slot.timing"}}]},
        {"name": "SetReminderIntent", "slots": [
            {"name": "time", "type": "AMAZON.TIME", "elicitationRequired": True,
             "prompts": {"elicitation": "Elicit.Slot.time"}}]},
    ]},
    "prompts": [{"id": f"Elicit.Slot.{slot}", "variations": [{"type": "PlainText", "value": "Which?"}]}
                for slot in ("location", "timing", "time")],
}}


def _speech(text: str) -> dict:
    return {"type": "PlainText", "text": text}


def elicit(slot: str, intent: str | None = "DescribePainIntent", *, slots: dict | None = None,
           speech: str | None = "Where does it hurt?", end: bool | None = False) -> dict:
    """A response asking for one slot, as Turn.say(..., elicit=...) sends it."""
    directive: dict = {"type": "Dialog.ElicitSlot", "slotToElicit": slot}
    if intent is not None:
        directive["updatedIntent"] = {"name": intent, "confirmationStatus": "NONE", "slots": slots or {}}
    response: dict = {"directives": [directive], "reprompt": {"outputSpeech": _speech("Where exactly?")}}
    if speech is not None:
        response["outputSpeech"] = _speech(speech)
    if end is not None:
        response["shouldEndSession"] = end
    return response


ANSWER = {"outputSpeech": _speech("Thanks."), "reprompt": {"outputSpeech": _speech("Anything else?")},
          "shouldEndSession": False}


class ScriptedSkill:
    """Answers each request with `respond(request)`; keeps every envelope it received."""

    def __init__(self, respond: Callable[[dict], dict]) -> None:
        self.received: list[dict] = []
        self._respond = respond
        self.app = Flask("scripted_skill")
        self.app.add_url_rule("/alexa", view_func=self._alexa, methods=["POST"])

    def _alexa(self) -> dict:
        envelope = request.get_json()
        self.received.append(envelope)
        return {"version": "1.0", "response": self._respond(envelope["request"])}

    @property
    def last(self) -> dict:
        return self.received[-1]["request"]


@pytest.fixture(scope="module")
def resolver() -> UtteranceResolver:
    return UtteranceResolver(parse_model(MODEL), SKILL_ID)


def talk(resolver: UtteranceResolver, launch_response: dict) -> tuple[Simulator, ScriptedSkill]:
    """A simulator whose skill answered the launch with `launch_response`, then plainly after that."""
    skill = ScriptedSkill(lambda req: launch_response if req["type"] == "LaunchRequest" else ANSWER)
    simulator = Simulator(resolver, InProcessTransport(skill.app))
    simulator.say("open hip helper")
    return simulator, skill


def slots_sent(skill: ScriptedSkill) -> dict:
    return skill.last["intent"]["slots"]


# ---------------------------------------------------------------- the elicited slot's samples come first


def test_an_answer_is_matched_against_the_elicited_slots_samples(resolver):
    simulator, skill = talk(resolver, elicit("location"))
    turn = simulator.say("it's in my groin")
    assert skill.last["intent"]["name"] == "DescribePainIntent"
    assert skill.last["dialogState"] == "IN_PROGRESS"
    location = slots_sent(skill)["location"]
    assert location["value"] == "groin"
    assert location["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]["id"] == "GROIN"
    assert 'taken as the answer for the "location" slot of DescribePainIntent' in turn.notes


def test_a_bare_value_answers_an_elicited_slot_but_nothing_else(resolver):
    simulator, skill = talk(resolver, elicit("location"))
    simulator.say("the side")  # not a sample: "{location}" takes only the value itself
    assert skill.last["intent"]["name"] == "AMAZON.FallbackIntent"
    simulator, skill = talk(resolver, elicit("location"))
    simulator.say("side")
    assert (skill.last["intent"]["name"], skill.last["dialogState"]) == ("DescribePainIntent", "IN_PROGRESS")
    assert slots_sent(skill)["location"]["value"] == "side"


def test_updated_intent_slots_are_kept_and_the_answer_fills_the_elicited_one(resolver):
    already = {"timing": {"name": "timing", "value": "after running", "confirmationStatus": "NONE",
                          "resolutions": {"resolutionsPerAuthority": [{
                              "authority": "amzn1.er-authority.echo-sdk.x.PainTiming",
                              "status": {"code": "ER_SUCCESS_MATCH"},
                              "values": [{"value": {"name": "after running", "id": "AFTER_RUN"}}]}]}},
               "location": {"name": "location", "confirmationStatus": "NONE"}}
    simulator, skill = talk(resolver, elicit("location", slots=already))
    simulator.say("groin")
    slots = slots_sent(skill)
    assert slots["timing"] == already["timing"]
    assert slots["location"]["value"] == "groin"


def test_a_sample_with_literal_words_takes_an_unknown_value_as_no_match(resolver):
    simulator, skill = talk(resolver, elicit("timing"))
    simulator.say("only when I sit at my desk")
    assert (skill.last["intent"]["name"], skill.last["dialogState"]) == ("DescribePainIntent", "IN_PROGRESS")
    timing = slots_sent(skill)["timing"]
    assert timing["value"] == "i sit at my desk"
    assert timing["resolutions"]["resolutionsPerAuthority"][0]["status"]["code"] == "ER_SUCCESS_NO_MATCH"


def test_a_slot_sample_may_fill_other_slots_of_the_intent_too(resolver):
    simulator, skill = talk(resolver, elicit("location"))
    simulator.say("my groin after running")
    slots = slots_sent(skill)
    assert (slots["location"]["value"], slots["timing"]["value"]) == ("groin", "after running")


def test_the_elicited_intent_said_in_full_continues_the_same_dialog(resolver):
    already = {"timing": {"name": "timing", "value": "after running", "confirmationStatus": "NONE"}}
    simulator, skill = talk(resolver, elicit("location", slots=already))
    simulator.say("the pain is in my groin")  # an intent sample, not a slot sample
    assert (skill.last["intent"]["name"], skill.last["dialogState"]) == ("DescribePainIntent", "IN_PROGRESS")
    assert {name: slot.get("value") for name, slot in slots_sent(skill).items()} == {
        "location": "groin", "timing": "after running"}


def test_a_built_in_slot_answer_is_converted(resolver):
    simulator, skill = talk(resolver, elicit("time", "SetReminderIntent", speech="At what time?"))
    simulator.say("at eight in the morning")
    assert (skill.last["intent"]["name"], skill.last["dialogState"]) == ("SetReminderIntent", "IN_PROGRESS")
    assert slots_sent(skill)["time"]["value"] == "08:00"


@pytest.mark.parametrize("said, intent", [
    ("I fell and can't walk", "RedFlagInjuryIntent"),  # other intents still win: red flags reach their intent
    ("i can barely walk", "RedFlagInjuryIntent"),
    ("why does my hip hurt", "CausesIntent"),
    ("stop", "AMAZON.StopIntent"),
    ("tell me a joke", "AMAZON.FallbackIntent"),
])
def test_what_is_not_an_answer_to_the_slot_goes_to_the_whole_model(resolver, said, intent):
    simulator, skill = talk(resolver, elicit("location"))
    simulator.say(said)
    assert skill.last["intent"]["name"] == intent
    assert "dialogState" not in skill.last  # these intents have no dialog model


def test_an_unconverted_built_in_answer_falls_through(resolver):
    simulator, skill = talk(resolver, elicit("time", "SetReminderIntent", speech="At what time?"))
    simulator.say("tell me a joke")
    assert skill.last["intent"]["name"] == "AMAZON.FallbackIntent"


# ---------------------------------------------------------------- dialogState and how long an elicitation lasts


def test_an_intent_with_a_dialog_model_starts_its_dialog_when_not_eliciting(resolver):
    simulator, skill = talk(resolver, ANSWER)
    simulator.say("my groin hurts")
    assert (skill.last["intent"]["name"], skill.last["dialogState"]) == ("DescribePainIntent", "STARTED")
    simulator.say("why does my hip hurt")
    assert "dialogState" not in skill.last


def test_only_the_next_utterance_is_tried_as_the_slot(resolver):
    simulator, skill = talk(resolver, elicit("location"))
    simulator.say("why does my hip hurt")
    simulator.say("groin")  # the skill did not elicit again
    assert skill.last["intent"]["name"] == "AMAZON.FallbackIntent"
    assert simulator.eliciting is None


def test_a_silence_replays_the_reprompt_and_keeps_eliciting(resolver):
    simulator, skill = talk(resolver, elicit("location"))
    silence = simulator.say("")
    assert silence.speech == "Where exactly?" and len(skill.received) == 1
    assert any('eliciting the "location" slot' in note for note in silence.notes)
    simulator.say("groin")
    assert skill.last["dialogState"] == "IN_PROGRESS"


def test_without_updated_intent_the_request_intent_is_elicited(resolver):
    skill = ScriptedSkill(lambda req: elicit("location", intent=None) if req.get("intent") else ANSWER)
    simulator = Simulator(resolver, InProcessTransport(skill.app))
    simulator.say("ask hip helper my groin hurts")
    assert simulator.eliciting is not None and simulator.eliciting.intent == "DescribePainIntent"


def test_the_transcript_shows_the_slot_being_elicited(resolver):
    skill = ScriptedSkill(lambda req: elicit("location"))
    simulator = Simulator(resolver, InProcessTransport(skill.app))
    lines = format_turn(simulator.say("open hip helper"), verbose=False)
    assert ('  (eliciting the "location" slot of DescribePainIntent: '
            "the next answer is tried against its slot samples first)") in lines
    verbose = format_turn(simulator.say("groin"), verbose=True)
    assert verbose[0] == ('  request: IntentRequest (IN_PROGRESS)  DescribePainIntent  '
                          'location="groin" -> GROIN (ER_SUCCESS_MATCH)')


# ---------------------------------------------------------------- responses the real Alexa would reject


@pytest.mark.parametrize("response, problem", [
    (elicit("location", "NoSuchIntent"), "names intent 'NoSuchIntent', which the interaction model does not have"),
    (elicit("side", "DescribePainIntent"), "names slot 'side', which DescribePainIntent does not have"),
    (elicit("location", speech=None), "needs outputSpeech: the question that asks for the slot"),
    (elicit("location", end=True), "needs the session to stay open (shouldEndSession is not false)"),
])
def test_an_elicit_slot_alexa_would_reject_is_an_error_note_not_a_crash(resolver, response, problem):
    skill = ScriptedSkill(lambda req: response)
    simulator = Simulator(resolver, InProcessTransport(skill.app))
    turn = simulator.say("open hip helper")
    assert f"error: Alexa would reject this response: Dialog.ElicitSlot {problem}" in turn.notes
    assert simulator.eliciting is None


def test_a_chat_replay_through_an_elicitation_prints_each_step(resolver):
    skill = ScriptedSkill(lambda req: elicit("location") if req["type"] == "LaunchRequest" else ANSWER)
    out = io.StringIO()
    session = ChatSession(Simulator(resolver, InProcessTransport(skill.app)), ChatOptions(), out)
    session.run(iter([("open hip helper", True), ("it's in my side", True)]))
    transcript = out.getvalue()
    assert "(eliciting the \"location\" slot of DescribePainIntent" in transcript
    assert '(taken as the answer for the "location" slot of DescribePainIntent)' in transcript
