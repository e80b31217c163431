"""The simulator's envelopes, session handling, transports and `hip-helper chat`.

Most tests talk to a small Flask stand-in skill (a real HTTP layer, in-process or on a loopback
socket) so they show exactly what the simulator puts on the wire. The replays at the end run
against the real skill.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, request
from werkzeug.serving import make_server

from skill.settings import DEV_SKILL_ID, Settings
from skill.simulator import cli
from skill.simulator.chat import ChatOptions, ReplayScript, run_chat
from skill.simulator.engine import Simulator
from skill.simulator.envelopes import DeviceProfile
from skill.simulator.model import load_model
from skill.simulator.nlu import UtteranceResolver
from skill.simulator.render import ssml_to_text
from skill.simulator.transport import HttpTransport, InProcessTransport, TransportError

MODEL_PATH = Path(__file__).parent / "fixtures" / "models" / "en-US.json"
REPLAYS = sorted((Path(__file__).parent / "replays").glob("*.json"))
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"




# ---------------------------------------------------------------- a stand-in skill


def _speech(text: str, *, reprompt: str | None = None, end: bool | None = False, **extra) -> dict:
    response: dict = {"outputSpeech": {"type": "SSML", "ssml": f"<speak>{text}</speak>"}, **extra}
    if reprompt:
        response["reprompt"] = {"outputSpeech": {"type": "SSML", "ssml": f"<speak>{reprompt}</speak>"}}
    if end is not None:
        response["shouldEndSession"] = end
    return response


def _answer(alexa_request: dict) -> dict:
    """What the stand-in says: each branch exercises one piece of the simulator's session rules."""
    kind = alexa_request["type"]
    intent = alexa_request.get("intent", {}).get("name")
    if kind == "LaunchRequest":
        return _speech('Welcome. <break time="1s"/> Where does it hurt?', reprompt="Where does it hurt?")
    if kind == "SessionEndedRequest":
        return {}
    if kind == "Connections.Response":
        return _speech(f"Permission {alexa_request['payload']['status']}. Anything else?", reprompt="Anything else?")
    if intent == "AMAZON.StopIntent":
        return _speech("Goodbye.", end=True)
    if intent == "ReminderIntent":
        directive = {"type": "Connections.SendRequest", "name": "AskFor", "token": "reminder-token",
                     "payload": {"@type": "AskForPermissionsConsentRequest", "@version": "1",
                                 "permissionScope": REMINDERS_SCOPE}}
        return {"directives": [directive]}
    if intent == "AMAZON.YesIntent":  # no shouldEndSession at all
        return _speech("Noted &amp; done.", end=None, card={"type": "Simple", "title": "Hip", "content": "Ice it."})
    return _speech(f"You said {intent}. Anything else?", reprompt="Anything else?")


class StandInSkill:
    """A Flask app answering POST /alexa like a skill; it keeps every envelope it received."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.app = Flask("stand_in_skill")
        self.app.add_url_rule("/alexa", view_func=self._alexa, methods=["POST"])

    def _alexa(self) -> dict:
        envelope = request.get_json()
        self.received.append(envelope)
        attributes = dict(envelope.get("session", {}).get("attributes") or {})
        attributes["turns"] = attributes.get("turns", 0) + 1
        return {"version": "1.0", "sessionAttributes": attributes, "response": _answer(envelope["request"])}


@pytest.fixture
def skill() -> StandInSkill:
    return StandInSkill()


@pytest.fixture(scope="module")
def resolver() -> UtteranceResolver:
    return UtteranceResolver(load_model(MODEL_PATH), DEV_SKILL_ID)


def simulator_for(skill: StandInSkill, resolver: UtteranceResolver, **device) -> Simulator:
    return Simulator(resolver, InProcessTransport(skill.app), DeviceProfile(**device))


@pytest.fixture
def alexa(skill, resolver) -> Simulator:
    return simulator_for(skill, resolver)


@pytest.fixture
def served(skill) -> Iterator[str]:
    """The stand-in on a real loopback socket, for the HTTP transport."""
    server = make_server("127.0.0.1", 0, skill.app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alexa"
    server.shutdown()
    thread.join()


# ---------------------------------------------------------------- envelopes


def test_a_launch_envelope_has_what_alexa_sends(alexa, skill):
    alexa.say("open hip helper")
    envelope = skill.received[0]
    system = envelope["context"]["System"]
    assert envelope["version"] == "1.0"
    assert envelope["session"]["new"] is True
    assert re.fullmatch(r"amzn1\.echo-api\.session\.[0-9a-f-]{36}", envelope["session"]["sessionId"])
    assert envelope["session"]["application"] == {"applicationId": DEV_SKILL_ID}
    assert envelope["session"]["attributes"] == {}
    assert system["application"] == {"applicationId": DEV_SKILL_ID}
    assert system["user"]["userId"] == envelope["session"]["user"]["userId"]
    assert system["device"]["supportedInterfaces"] == {}
    assert system["apiEndpoint"] == "https://api.amazonalexa.com" and system["apiAccessToken"]
    request_ = envelope["request"]
    assert request_["type"] == "LaunchRequest" and request_["locale"] == "en-US"
    assert re.fullmatch(r"amzn1\.echo-api\.request\.[0-9a-f-]{36}", request_["requestId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", request_["timestamp"])


def test_an_intent_envelope_carries_every_slot_and_the_session(alexa, skill):
    alexa.say("open hip helper")
    alexa.say("my groin hurts")
    first, second = skill.received
    assert second["session"]["new"] is False
    assert second["session"]["sessionId"] == first["session"]["sessionId"]
    assert second["session"]["attributes"] == {"turns": 1}
    assert second["request"]["dialogState"] == "STARTED"
    assert second["request"]["intent"]["name"] == "DescribePainIntent"
    assert second["request"]["intent"]["confirmationStatus"] == "NONE"
    assert second["request"]["intent"]["slots"]["timing"] == {"name": "timing", "confirmationStatus": "NONE"}
    assert second["request"]["intent"]["slots"]["location"]["value"] == "groin"


def test_a_screen_device_declares_apl_and_a_viewport(skill, resolver):
    simulator_for(skill, resolver, screen=True, locale="en-GB", api_endpoint="https://127.0.0.1:8443").say(
        "open hip helper")
    envelope = skill.received[0]
    assert envelope["context"]["System"]["device"]["supportedInterfaces"] == {
        "Alexa.Presentation.APL": {"runtime": {"maxVersion": "2024.3"}}}
    assert envelope["context"]["Viewport"]["pixelWidth"] > 0
    assert envelope["context"]["System"]["apiEndpoint"] == "https://127.0.0.1:8443"
    assert envelope["request"]["locale"] == "en-GB"


# ---------------------------------------------------------------- sessions


def test_should_end_session_true_ends_it_and_the_next_utterance_starts_afresh(alexa, skill):
    alexa.say("open hip helper")
    stop = alexa.say("stop")
    assert not stop.session_open and stop.speech == "Goodbye."
    turn = alexa.say("why does my hip hurt")
    old, new = skill.received[0]["session"], skill.received[2]["session"]
    assert new["new"] is True and new["sessionId"] != old["sessionId"] and new["attributes"] == {}
    assert turn.session_open and turn.request_name == "CausesIntent"


def test_naming_the_skill_mid_session_starts_a_new_session(alexa, skill):
    alexa.say("open hip helper")
    alexa.say("ask hip helper what causes hip pain")
    assert skill.received[1]["session"]["new"] is True
    assert skill.received[1]["session"]["sessionId"] != skill.received[0]["session"]["sessionId"]


def test_without_should_end_session_a_voice_only_device_closes_and_a_screen_device_stays(skill, resolver):
    voice = simulator_for(skill, resolver)
    voice.say("open hip helper")
    assert not voice.say("yes").session_open
    screen = simulator_for(skill, resolver, screen=True)
    screen.say("open hip helper")
    assert screen.say("yes").session_open


def test_silence_replays_the_reprompt_then_ends_the_session(alexa, skill):
    alexa.say("open hip helper")
    first = alexa.say("")
    assert first.speech == "Where does it hurt?" and first.session_open
    assert len(skill.received) == 1  # the device replays the reprompt by itself
    second = alexa.say(".silence")
    assert skill.received[-1]["request"]["type"] == "SessionEndedRequest"
    assert skill.received[-1]["request"]["reason"] == "EXCEEDED_MAX_REPROMPTS"
    assert not second.session_open and not alexa.session_open


def test_silence_without_a_session_sends_nothing(alexa, skill):
    turn = alexa.say("")
    assert skill.received == [] and not turn.session_open


def test_a_permission_request_is_answered_like_alexa(alexa, skill):
    alexa.say("open hip helper")
    asked = alexa.say("remind me to stretch at 7 am")
    assert asked.session_open
    assert any(REMINDERS_SCOPE in note for note in asked.notes)
    answered = alexa.say("yes please")
    connection = skill.received[-1]["request"]
    assert connection["type"] == "Connections.Response" and connection["name"] == "AskFor"
    assert connection["status"]["code"] == "200" and connection["token"] == "reminder-token"
    assert connection["payload"] == {"permissionScope": REMINDERS_SCOPE, "status": "ACCEPTED"}
    assert answered.speech == "Permission ACCEPTED. Anything else?"
    alexa.say("why does my hip hurt")
    assert skill.received[-1]["context"]["System"]["user"]["permissions"]["consentToken"]


def test_a_denied_permission_sends_no_consent_token(alexa, skill):
    alexa.say("open hip helper")
    alexa.say("remind me to stretch")
    alexa.say("no")
    assert skill.received[-1]["request"]["payload"]["status"] == "DENIED"
    alexa.say("why does my hip hurt")
    assert "permissions" not in skill.received[-1]["context"]["System"]["user"]


# ---------------------------------------------------------------- rendering and transports


@pytest.mark.parametrize("ssml, text", [
    ('<speak>Rest first. <break time="3s"/> Then ice.</speak>', "Rest first. [pause 3s] Then ice."),
    ("<speak><p>Ice &amp; rest</p><s>don&apos;t run</s></speak>", "Ice & rest don't run"),
    ('<speak>Call <say-as interpret-as="digits">911</say-as>.</speak>', "Call 911."),
    ('<speak><sub alias="greater trochanteric pain syndrome">GTPS</sub></speak>', "greater trochanteric pain syndrome"),
    ('<speak>Hi<break strength="strong"/>there</speak>', "Hi there"),
])
def test_ssml_is_shown_as_plain_text(ssml, text):
    assert ssml_to_text(ssml) == text


def test_the_http_transport_posts_json(served, skill, resolver):
    Simulator(resolver, HttpTransport(served)).say("open hip helper")
    assert skill.received[0]["request"]["type"] == "LaunchRequest"


def test_the_http_transport_explains_a_server_that_is_down(served):
    down = served.replace("/alexa", "/nowhere").rsplit(":", 1)[0] + ":9/alexa"  # port 9 (discard) is closed
    with pytest.raises(TransportError, match=r"cannot reach http://127\.0\.0\.1:9/alexa"):
        HttpTransport(down, timeout=2).send({})


def test_the_http_transport_shows_status_and_body_of_a_refusal(served):
    with pytest.raises(TransportError, match=r"answered HTTP 404: .*Not Found"):
        HttpTransport(served.replace("/alexa", "/elsewhere")).send({})


def test_the_in_process_transport_shows_status_and_body_of_a_refusal():
    app = Flask("refusing")
    app.add_url_rule("/alexa", view_func=lambda: ({"error": "bad skill id"}, 400), methods=["POST"])
    with pytest.raises(TransportError, match=r'the skill answered HTTP 400: \{"error":\s?"bad skill id"\}'):
        InProcessTransport(app).send({})


# ---------------------------------------------------------------- the chat command


def chat(options: ChatOptions, stdin: str = "", transport=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_chat(options, transport=transport, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_piped_input_is_a_transcript_without_prompts(skill):
    status, out, err = chat(ChatOptions(model=MODEL_PATH), "open hip helper\nyes\n", InProcessTransport(skill.app))
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "You: open hip helper",
        "Alexa: Welcome. [pause 1s] Where does it hurt?",
        "  reprompt: Where does it hurt?",
        "  [session open]",
        "You: yes",
        "Alexa: Noted & done.",
        "  card (Simple): Hip: Ice it.",
        "  [session closed]",
    ]


def test_verbose_shows_intent_slots_and_raw_json(skill):
    status, out, _ = chat(ChatOptions(model=MODEL_PATH, verbose=True), "tell hip helper my side hurts\n",
                          InProcessTransport(skill.app))
    assert status == 0
    assert ('  request: IntentRequest (STARTED)  DescribePainIntent  location="side" -> OUTER_HIP (ER_SUCCESS_MATCH)'
            in out)
    assert '"requestId": "amzn1.echo-api.request.' in out and '"sessionAttributes": {' in out


def test_a_replay_runs_then_stops_when_stdin_is_not_a_terminal(skill, tmp_path):
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"skillId": DEV_SKILL_ID, "locale": "en-US", "type": "text",
                                  "userInput": ["open hip helper", "why does my hip hurt"]}))
    status, out, _ = chat(ChatOptions(model=MODEL_PATH, replay=replay), "stop\n", InProcessTransport(skill.app))
    assert status == 0
    assert [envelope["request"].get("intent", {}).get("name") for envelope in skill.received] == [None, "CausesIntent"]
    assert "You: stop" not in out


def test_quit_in_a_replay_ends_the_chat(skill, tmp_path):
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"skillId": DEV_SKILL_ID, "locale": "en-US", "userInput": ["open hip helper",
                                                                                           ".quit", "stop"]}))
    assert chat(ChatOptions(model=MODEL_PATH, replay=replay), "", InProcessTransport(skill.app))[0] == 0
    assert len(skill.received) == 1


@pytest.mark.parametrize("content, message", [
    ('{"locale": "en-US", "userInput": []}', 'needs a non-empty "skillId"'),
    ('{"skillId": "x", "locale": "", "userInput": []}', 'needs a non-empty "locale"'),
    ('{"skillId": "x", "locale": "en-US", "userInput": ["open hip helper", ""]}', "may not hold empty strings"),
    ('{"skillId": "x", "locale": "en-US", "userInput": "open hip helper"}', '"userInput": a list of strings'),
    ('{"skillId": "x", "locale": "en-US", "type": "voice", "userInput": []}', 'only "type": "text"'),
    ("[1, 2]", "must hold a JSON object"),
    ("{oops", "is not valid JSON"),
])
def test_a_bad_replay_file_exits_2_with_a_reason(tmp_path, content, message):
    replay = tmp_path / "bad.json"
    replay.write_text(content)
    status, out, err = chat(ChatOptions(model=MODEL_PATH, replay=replay), transport=InProcessTransport(Flask("x")))
    assert status == 2 and out == ""
    assert err.startswith("error: replay file") and message in err


def test_record_writes_a_replay_file_of_everything_typed(skill, tmp_path):
    record = tmp_path / "recorded.json"
    status, _, _ = chat(ChatOptions(model=MODEL_PATH, record=record, locale="en-US"),
                        "open hip helper\n\nstop\n.quit\n", InProcessTransport(skill.app))
    assert status == 0
    assert json.loads(record.read_text()) == {"skillId": DEV_SKILL_ID, "locale": "en-US", "type": "text",
                                              "userInput": ["open hip helper", ".silence", "stop", ".quit"]}
    assert ReplayScript.load(record).user_input[0] == "open hip helper"


def test_an_endpoint_failure_exits_1_without_a_traceback(served):
    down = ChatOptions(model=MODEL_PATH, url=served.replace("/alexa", "/gone"))
    status, out, err = chat(down, "open hip helper\nstop\n")
    assert status == 1
    assert err.startswith("error: http://127.0.0.1:") and "answered HTTP 404" in err
    assert "Traceback" not in err + out


def test_a_missing_model_exits_2(tmp_path):
    status, _, err = chat(ChatOptions(model=tmp_path / "none.json"), transport=InProcessTransport(Flask("x")))
    assert status == 2 and "cannot read the interaction model" in err


def test_speak_without_espeak_says_how_to_install_it_once(skill, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no espeak-ng on it
    status, out, _ = chat(ChatOptions(model=MODEL_PATH, speak=True), "open hip helper\nstop\n",
                          InProcessTransport(skill.app))
    assert status == 0
    assert out.count("sudo apt-get install espeak-ng") == 1


def test_the_chat_command_is_registered(served, monkeypatch, capsys):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["chat", "--url", served, "--model", str(MODEL_PATH), "--skill-id", "amzn1.ask.skill.x"])
    monkeypatch.setattr("sys.stdin", io.StringIO("open hip helper\n"))
    assert args.run(args) == 0
    assert "Alexa: Welcome." in capsys.readouterr().out


# ---------------------------------------------------------------- the real skill


@pytest.fixture
def real_skill(tmp_path) -> InProcessTransport:
    from skill.app import create_app

    return InProcessTransport(create_app(Settings(skill_id=DEV_SKILL_ID, dev_mode=True, db_path=tmp_path / "p.db")))


def test_chat_talks_to_the_real_skill_in_process(real_skill):
    status, out, err = chat(ChatOptions(), "open hip helper\nstop\n", real_skill)
    assert (status, err) == (0, "")
    assert out.count("Alexa: ") == 2 and "[session closed]" in out


@pytest.mark.parametrize("replay", REPLAYS, ids=lambda path: path.stem)
def test_replays_complete_and_every_answer_carries_emergency_guidance(real_skill, replay):
    status, out, err = chat(ChatOptions(replay=replay), transport=real_skill)
    assert (status, err) == (0, ""), out
    answers = [line for line in out.splitlines() if line.startswith("Alexa: ")]
    assert len(answers) == len(ReplayScript.load(replay).user_input)
    for answer in answers:
        assert "emergency" in answer.lower(), f"no emergency guidance in: {answer}"


# A phrasing only that locale's layer adds (interaction_model/source/locales/), and its intent.
LOCALE_WORDS = {
    "en-US": ("should i see a physical therapist", "SeeDoctorIntent"),
    "en-CA": ("should i call eight one one", "SeeDoctorIntent"),
    "en-GB": ("should i call nhs one one one", "SeeDoctorIntent"),
    "en-AU": ("should i call healthdirect", "SeeDoctorIntent"),
    "en-IN": ("why is my hip paining", "CausesIntent"),
}


@pytest.mark.parametrize("locale", sorted(LOCALE_WORDS))
def test_chat_with_a_locale_uses_that_locales_model_and_request_locale(locale, skill):
    utterance, intent = LOCALE_WORDS[locale]
    status, out, _ = chat(ChatOptions(locale=locale, verbose=True), f"ask hip helper {utterance}\n",
                          InProcessTransport(skill.app))
    assert status == 0 and f"request: IntentRequest  {intent}\n" in out  # a sample, not generalised
    assert {envelope["request"]["locale"] for envelope in skill.received} == {locale}
    # Another locale's words are no sample of this model (the generaliser may still guess them).
    other = "en-GB" if locale == "en-US" else "en-US"
    _, out, _ = chat(ChatOptions(locale=locale, verbose=True), f"ask hip helper {LOCALE_WORDS[other][0]}\n",
                     InProcessTransport(skill.app))
    assert f"request: IntentRequest  {LOCALE_WORDS[other][1]}\n" not in out
