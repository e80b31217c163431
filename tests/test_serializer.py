"""FastSerializer gives the SDK's results on a corpus of real request shapes, and is lenient where the SDK 500s."""
from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import pytest
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.response_helper import ResponseFactory
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import (Intent, IntentConfirmationStatus, RequestEnvelope, ResponseEnvelope, SessionEndedRequest,
                           Slot, SlotConfirmationStatus)
from ask_sdk_model.dialog import DelegateDirective, ElicitSlotDirective
from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.services.reminder_management import ReminderResponse
from ask_sdk_model.session_ended_error_type import SessionEndedErrorType
from ask_sdk_model.ui import Image, SimpleCard, StandardCard

from skill.serializer import FastSerializer, UnknownRequest

FIXTURES = Path(__file__).parent / "fixtures" / "requests"
CORPUS = sorted(FIXTURES.glob("*.json"))
ENVELOPE_TYPE = "ask_sdk_model.request_envelope.RequestEnvelope"
reference = DefaultSerializer()


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def fast_envelope(payload: dict) -> RequestEnvelope:
    return FastSerializer().deserialize_envelope(copy.deepcopy(payload))


def assert_same_json_with_timestamps(produced: object, original: object) -> None:
    """Equal JSON trees, where timestamps only need to be the same instant ("Z" comes back as "+00:00")."""
    if isinstance(original, dict):
        assert isinstance(produced, dict) and produced.keys() == original.keys()
        for key in original:
            assert_same_json_with_timestamps(produced[key], original[key])
    elif isinstance(original, list):
        assert isinstance(produced, list) and len(produced) == len(original)
        for produced_item, original_item in zip(produced, original):
            assert_same_json_with_timestamps(produced_item, original_item)
    elif isinstance(original, str) and produced != original:
        assert datetime.fromisoformat(produced) == datetime.fromisoformat(original)
    else:
        assert produced == original


def test_corpus_has_every_required_shape():
    assert len(CORPUS) >= 12
    request_types = {json.loads(path.read_text())["request"]["type"] for path in CORPUS}
    assert {"LaunchRequest", "IntentRequest", "SessionEndedRequest", "Connections.Response",
            "AlexaSkillEvent.SkillEnabled", "CanFulfillIntentRequest"} <= request_types


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.stem)
def test_fast_and_default_serializers_build_the_same_envelope(path: Path):
    text = path.read_text()
    expected = reference.deserialize(text, ENVELOPE_TYPE)
    actual = FastSerializer().deserialize_envelope(json.loads(text))

    assert isinstance(actual.request, type(expected.request))
    assert reference.serialize(actual) == reference.serialize(expected)
    assert actual.to_dict() == expected.to_dict()
    assert actual == expected  # model __eq__ compares every attribute, private ones included


def assert_reads_the_same(actual: object, expected: object, path: str) -> None:
    """Read every attribute a handler can read, one at a time as a handler would, on both."""
    if hasattr(expected, "deserialized_types"):
        assert isinstance(actual, type(expected)), path
        for attribute in expected.deserialized_types:
            assert_reads_the_same(getattr(actual, attribute), getattr(expected, attribute), f"{path}.{attribute}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (item, expected_item) in enumerate(zip(actual, expected)):
            assert_reads_the_same(item, expected_item, f"{path}[{index}]")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), path
        for key in expected:
            assert_reads_the_same(actual[key], expected[key], f"{path}[{key!r}]")
    else:
        assert actual == expected and type(actual) is type(expected), path


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.stem)
def test_every_attribute_a_handler_can_read_is_what_the_sdk_builds(path: Path):
    text = path.read_text()
    assert_reads_the_same(FastSerializer().deserialize_envelope(json.loads(text)),
                          reference.deserialize(text, ENVELOPE_TYPE), "envelope")


def test_a_request_builds_only_the_models_it_reads():
    envelope = fast_envelope(load("apl_device_with_viewport"))
    assert envelope.request.intent.name  # what dispatch reads
    context = envelope.context.__dict__
    assert "viewport" not in context and "_deferred_json" in context  # never read, so never built
    assert envelope.context.viewport.pixel_width > 0
    assert "viewport" in envelope.context.__dict__


def test_garbage_below_the_top_of_the_envelope_raises_when_it_is_read():
    envelope = fast_envelope(_set(("context", "System", "device"), "a device"))
    assert envelope.request.request_id
    with pytest.raises(SerializationException):
        envelope.context.system.device


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.stem)
def test_fixture_round_trips_so_no_field_is_silently_dropped(path: Path):
    """A fixture key the model doesn't know would make the comparison above vacuous for that key."""
    original = json.loads(path.read_text())
    serializer = FastSerializer()
    assert_same_json_with_timestamps(serializer.serialize(serializer.deserialize_envelope(original)), original)


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.stem)
def test_serialize_matches_default_for_request_envelopes(path: Path):
    envelope = reference.deserialize(path.read_text(), ENVELOPE_TYPE)
    assert FastSerializer().serialize(envelope) == reference.serialize(envelope)


def test_fractional_seconds_are_kept():
    request = fast_envelope(load("fractional_timestamps")).request
    assert request.timestamp.microsecond == 42_000
    assert request.event_creation_time.microsecond == 500_000
    assert request.event_publishing_time.isoformat() == "2026-11-25T10:00:00.123456+00:00"


@pytest.mark.parametrize("text", [
    "2026-11-25T10:00:00Z", "2026-11-25T10:00:00.5Z", "2026-11-25T10:00:00.1234567Z",
    "2026-11-25T10:00:00+01:00", "2026-11-25T10:00:00.250-0330", "2026-11-25",
    "2026-11-25 10:00:00", "20261125T100000Z", "2026-11-25T10:00:00z", "Wed, 25 Nov 2026 10:00:00 GMT",
])
def test_timestamps_parse_like_the_sdk(text: str):
    payload = json.dumps(text)
    expected = reference.deserialize(payload, "datetime")
    actual = FastSerializer().deserialize(payload, "datetime")
    assert actual == expected
    assert actual.isoformat() == expected.isoformat()
    assert FastSerializer().deserialize(payload, "date") == reference.deserialize(payload, "date")


@pytest.mark.parametrize("text", ["not a timestamp", "2026-11-25T24:00:00Z"])
def test_timestamps_the_sdk_rejects_are_rejected(text: str):
    with pytest.raises(SerializationException):
        FastSerializer().deserialize(json.dumps(text), "datetime")


def test_unknown_request_type_becomes_unknown_request_with_common_fields_kept():
    payload = load("launch_request")
    payload["request"].update({"type": "Some.NewRequestType", "newField": {"nested": [1, 2]}})

    with pytest.raises(SerializationException):  # why the leniency exists: the SDK gives up
        reference.deserialize(json.dumps(payload), ENVELOPE_TYPE)
    request = fast_envelope(payload).request

    assert isinstance(request, UnknownRequest)
    assert request.object_type == "Some.NewRequestType"
    assert request.request_id == payload["request"]["requestId"]
    assert request.timestamp == datetime.fromisoformat("2026-11-25T10:00:00+00:00")
    assert request.locale == "en-US"
    assert reference.serialize(request) == {"type": "Some.NewRequestType", "requestId": request.request_id,
                                            "timestamp": "2026-11-25T10:00:00+00:00", "locale": "en-US"}


class _LaunchHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput):
        return handler_input.response_builder.speak("Welcome.").response


class _CatchAllHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput):
        return handler_input.response_builder.speak("Caught it.").response


def test_unknown_request_type_reaches_the_catch_all_handler():
    builder = SkillBuilder()
    builder.add_request_handler(_LaunchHandler())
    builder.add_request_handler(_CatchAllHandler())
    payload = load("launch_request")
    payload["request"]["type"] = "Some.NewRequestType"

    reply = builder.create().invoke(request_envelope=fast_envelope(payload), context=None)

    assert FastSerializer().serialize(reply)["response"]["outputSpeech"]["ssml"] == "<speak>Caught it.</speak>"


def test_unknown_enum_values_become_none():
    payload = load("session_ended_error_endpoint_timeout")
    payload["request"]["reason"] = "SKILL_RETIRED"
    payload["request"]["error"]["type"] = "QUOTA_EXCEEDED"

    with pytest.raises(SerializationException):
        reference.deserialize(json.dumps(payload), ENVELOPE_TYPE)
    request = fast_envelope(payload).request

    assert isinstance(request, SessionEndedRequest)
    assert request.reason is None
    assert request.error.object_type is None
    assert request.error.message == "The skill endpoint did not respond in time."


def test_endpoint_timeout_error_type_is_known():
    request = fast_envelope(load("session_ended_error_endpoint_timeout")).request
    assert request.error.object_type is SessionEndedErrorType.ENDPOINT_TIMEOUT


def test_unknown_nested_object_kind_becomes_none():
    payload = load("intent_er_success_match")
    payload["request"]["intent"]["slots"]["condition"]["slotValue"] = {"type": "Hologram", "value": "x"}
    slot = fast_envelope(payload).request.intent.slots["condition"]
    assert slot.slot_value is None
    assert slot.value == "hip bursitis"


def test_unknown_fields_are_ignored_at_every_level():
    plain = load("intent_er_success_match")
    extended = copy.deepcopy(plain)
    extended["futureEnvelopeField"] = True
    extended["session"]["futureSessionField"] = {"a": 1}
    extended["context"]["System"]["futureSystemField"] = "x"
    extended["context"]["FutureInterface"] = {"state": "ON"}
    extended["request"]["intent"]["slots"]["condition"]["source"] = "USER"
    extended["request"]["intent"]["slots"]["condition"]["resolutions"]["resolutionsPerAuthority"][0]["extra"] = []

    assert fast_envelope(extended) == fast_envelope(plain)


def _set(path: tuple[str, ...], value: object) -> dict:
    payload = load("intent_er_success_match")
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


def _without_request() -> dict:
    payload = load("launch_request")
    del payload["request"]
    return payload


@pytest.mark.parametrize("payload", [
    pytest.param(_set(("request",), 5), id="request-number"),
    pytest.param(_set(("request",), "LaunchRequest"), id="request-string"),
    pytest.param(_set(("request",), []), id="request-array"),
    pytest.param(_without_request(), id="request-missing"),
    pytest.param(_set(("session",), "x"), id="session-string"),
    pytest.param(_set(("session",), 5), id="session-number"),
    pytest.param(_set(("context",), []), id="context-array"),
    pytest.param(_set(("context", "System"), "system"), id="system-string"),
    pytest.param(_set(("request", "type"), {"nested": "type"}), id="type-object"),
    pytest.param(_set(("request", "type"), None), id="type-null"),
    pytest.param(_set(("request", "timestamp"), 5), id="timestamp-number"),
    pytest.param(_set(("request", "timestamp"), "yesterday-ish"), id="timestamp-words"),
    pytest.param(_set(("request", "intent", "slots"), ["condition"]), id="slots-array"),
    pytest.param(_set(("request", "intent", "slots", "condition"), 7), id="slot-number"),
    pytest.param(_set(("request", "intent", "slots", "condition", "resolutions", "resolutionsPerAuthority"), {"a": 1}),
                 id="resolutions-object"),
    pytest.param(_set(("session", "attributes"), "attributes"), id="attributes-string"),
    pytest.param(_set(("session", "new"), {"really": True}), id="bool-object"),
    pytest.param(_set(("request", "requestId"), ["amzn1.echo-api.request.1"]), id="string-array"),
])
def test_structural_garbage_raises_serialization_exception_once_read(payload: dict):
    serializer = FastSerializer()
    with pytest.raises(SerializationException):
        serializer.serialize(serializer.deserialize_envelope(payload))  # reads every attribute


@pytest.mark.parametrize("path", [("request", "intent", "slots", "condition"),
                                  ("request", "intent", "slots", "condition", "resolutions", "resolutionsPerAuthority"),
                                  ("context", "System", "device", "supportedInterfaces")])
def test_garbage_the_door_lets_in_is_answered_400_when_a_handler_reads_it(alexa, path):
    """The door checks only the fields the service reads itself; the rest is found as the SDK builds it."""
    alexa.screen = True
    envelope = alexa.envelope({"type": "IntentRequest", "intent": {"name": "ConditionIntent", "slots": {
        "condition": alexa.slot("condition", "trochanteric bursitis", slot_type="HipCondition", resolved_id="TROCHANTERIC_BURSITIS")}}})
    target = envelope
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = 7
    body = json.dumps(envelope).encode("utf-8")
    response = alexa.client.post("/alexa", data=body, headers=alexa.signer.sign(body), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "request body is not an Alexa request envelope"}


def test_garbage_a_reply_carries_back_unread_is_answered_400(alexa):
    """A dialog directive sends the intent back with its slots: garbage no handler read is found
    as the reply is serialized (the fuzzer's seed 994680841), and is still a 400, not a 500."""
    stray = alexa.slot("condition", "snapping hip", slot_type="HipCondition", resolved_id="SNAPPING_HIP")
    stray["resolutions"]["resolutionsPerAuthority"] = "&<>"  # a slot the reminder intent does not have
    envelope = alexa.envelope({"type": "IntentRequest",
                               "intent": {"name": "SetReminderIntent", "slots": {"condition": stray}}})
    body = json.dumps(envelope).encode("utf-8")
    response = alexa.client.post("/alexa", data=body, headers=alexa.signer.sign(body), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "request body is not an Alexa request envelope"}


@pytest.mark.parametrize("payload", [5, "x", [], None])
def test_an_envelope_that_is_not_an_object_raises_serialization_exception(payload: object):
    with pytest.raises(SerializationException):
        FastSerializer().deserialize_envelope(payload)  # type: ignore[arg-type]


def test_sdk_signature_still_works_for_service_client_responses():
    body = json.dumps({
        "alertToken": "a1b2c3d4-reminder", "createdTime": "2026-11-25T10:00:05.123Z",
        "updatedTime": "2026-11-25T10:00:05.123Z", "status": "ON", "version": "1",
        "href": "https://api.amazonalexa.com/v1/alerts/reminders/a1b2c3d4-reminder",
    })
    class_path = "ask_sdk_model.services.reminder_management.reminder_response.ReminderResponse"

    actual = FastSerializer().deserialize(body, class_path)

    assert isinstance(actual, ReminderResponse)
    assert actual == reference.deserialize(body, class_path)
    assert FastSerializer().deserialize(json.dumps("America/Los_Angeles"), "str") == "America/Los_Angeles"
    assert FastSerializer().deserialize(json.dumps([1.5, 2]), "list[float]") == [1.5, 2.0]
    assert FastSerializer().deserialize(None, class_path) is None


def test_sdk_signature_rejects_bad_json_and_unknown_classes():
    with pytest.raises(SerializationException):
        FastSerializer().deserialize("{not json", ENVELOPE_TYPE)
    with pytest.raises(SerializationException):
        FastSerializer().deserialize("{}", "ask_sdk_model.no_such_module.NoSuchClass")


def _envelope(response, session_attributes: dict | None = None) -> ResponseEnvelope:
    return ResponseEnvelope(version="1.0", session_attributes=session_attributes,
                            user_agent="ask-python/1.19.0 Python/3.11", response=response)


def _speech_and_reprompt() -> ResponseEnvelope:
    builder = ResponseFactory().speak("Hip bursitis means an inflamed cushion.").ask("What else would you like to know?")
    return _envelope(builder.set_should_end_session(False).response,
                     {"triage": {"step": 2, "answers": {"fever": False}}, "turns": 3})


def _cards() -> list[ResponseEnvelope]:
    simple = ResponseFactory().speak("Goodbye.").set_card(SimpleCard(title="Safety", content="See a doctor."))
    standard = ResponseFactory().speak("Here is a picture.").set_card(StandardCard(
        title="Hip stretch", text="Hold for 30 seconds.",
        image=Image(small_image_url="https://example.com/s.png", large_image_url="https://example.com/l.png")))
    return [_envelope(simple.set_should_end_session(True).response), _envelope(standard.response)]


def _directives() -> ResponseEnvelope:
    intent = Intent(name="PainCheckIntent", confirmation_status=IntentConfirmationStatus.NONE, slots={
        "painLevel": Slot(name="painLevel", value="6", confirmation_status=SlotConfirmationStatus.NONE)})
    builder = (ResponseFactory().speak("On a scale of one to ten?")
               .add_directive(ElicitSlotDirective(slot_to_elicit="painLevel", updated_intent=intent))
               .add_directive(RenderDocumentDirective(token="answer", document={"type": "APL", "version": "2024.2"},
                                                      datasources={"text": {"body": "Rest the hip."}})))
    return _envelope(builder.response, {"pending": None, "list": [1, "two", {"three": 3}]})


def _permission_request() -> ResponseEnvelope:
    directive = SendRequestDirective(name="AskFor", token="reminder-consent", payload={
        "@type": "AskForPermissionsConsentRequest", "@version": "1",
        "permissionScope": "alexa::alerts:reminders:skill:readwrite"})
    return _envelope(ResponseFactory().add_directive(directive).response)


def _delegate() -> ResponseEnvelope:
    return _envelope(ResponseFactory().add_directive(DelegateDirective()).response, {})


@pytest.mark.parametrize("envelope", [_speech_and_reprompt(), *_cards(), _directives(), _permission_request(), _delegate()],
                         ids=["speech_reprompt", "simple_card", "standard_card", "directives", "ask_for", "delegate"])
def test_serialize_matches_default_for_response_envelopes(envelope: ResponseEnvelope):
    expected = reference.serialize(envelope)
    assert FastSerializer().serialize(envelope) == expected
    assert json.dumps(FastSerializer().serialize(envelope)) == json.dumps(expected)  # same key order on the wire


def test_serialize_keeps_plain_values_and_containers_like_the_sdk():
    value = {"when": datetime(2026, 11, 25, 10, 0), "tuple": (1, "a"), "nested": [{"x": None}], "enum": SessionEndedErrorType.ENDPOINT_TIMEOUT}
    assert FastSerializer().serialize(value) == reference.serialize(value)
