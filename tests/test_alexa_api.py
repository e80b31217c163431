"""The SDK-facing Alexa API layer against a real local HTTPS server (tests/alexa_api_server.py).

Nothing here is mocked: ask-sdk-core's service clients, our TimeoutApiClient, requests, TLS and
HTTP all run; assertions are on what reached the server and what came back.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope
from ask_sdk_model.services import ApiConfiguration, ServiceClientFactory

from skill.alexa_api import (
    REMINDERS_PERMISSION,
    AlexaApiError,
    ApiUnavailable,
    ConsentOutcome,
    PermissionRequired,
    RequestRejected,
    TimeoutApiClient,
    create_reminder,
    delete_reminder,
    device_time_zone,
    list_reminders,
    parse_permission_answer,
    reminder_permission_card,
    reminder_permission_directive,
    require_consent_token,
)
from skill.domain.reminders import ReminderPlan, ReminderWords, is_stretch_reminder, plan_reminder, to_request_body
from skill.settings import PROJECT_ROOT, Settings
from skill.simulator.alexa_api_stub import TIME_FORMAT_ERROR, AlexaApiServer, reminder_body_problem

SERIALIZER = DefaultSerializer()
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.timezone.utc)
TEXT = "Time for your hip stretches."
DEVICE_ID = "amzn1.ask.device.AEXAMPLE"
ZONE_SUFFIX = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})")
USE_SERVER_CA = object()


def factory_for(server: AlexaApiServer, *, timeout: float = 2.0, ca_bundle: Any = USE_SERVER_CA,
                token: str | None = None) -> ServiceClientFactory:
    """What CustomSkill.invoke builds from a request's apiEndpoint and apiAccessToken."""
    client = TimeoutApiClient(timeout=timeout, ca_bundle=server.ca_path if ca_bundle is USE_SERVER_CA else ca_bundle)
    configuration = ApiConfiguration(serializer=SERIALIZER, api_client=client,
                                     authorization_value=server.token if token is None else token,
                                     api_endpoint=server.base_url)
    return ServiceClientFactory(api_configuration=configuration)


def reminder_body(text: str = TEXT, frequency_slot: str | None = "DAILY") -> dict[str, Any]:
    plan = plan_reminder(time_slot="07:00", date_slot=None, frequency_slot=frequency_slot,
                         words=ReminderWords.load(PROJECT_ROOT / "content" / "reminders.yaml"),
                         time_zone="America/New_York", now=NOW)
    assert isinstance(plan, ReminderPlan)
    return to_request_body(plan, text, "en-US", NOW)


@pytest.fixture
def factory(alexa_api_server: AlexaApiServer) -> ServiceClientFactory:
    return factory_for(alexa_api_server)


# --- round trip ----------------------------------------------------------------------------------

def test_create_puts_our_body_on_the_wire(alexa_api_server: AlexaApiServer, factory: ServiceClientFactory) -> None:
    body = reminder_body()
    token = create_reminder(factory, body)

    assert list(alexa_api_server.reminders) == [token]
    [sent] = alexa_api_server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/alerts/reminders")
    assert sent.header("Authorization") == f"Bearer {alexa_api_server.token}"
    assert sent.header("Content-Type") == "application/json"
    assert sent.body == body
    assert not ZONE_SUFFIX.search(sent.raw_body.decode())


def test_create_list_delete_round_trip(alexa_api_server: AlexaApiServer, factory: ServiceClientFactory) -> None:
    ours = create_reminder(factory, reminder_body(TEXT))
    other = create_reminder(factory, reminder_body("Take your vitamin D.", frequency_slot=None))

    listed = list_reminders(factory)
    assert {alert["alertToken"] for alert in listed} == {ours, other}
    assert [alert["alertToken"] for alert in listed if is_stretch_reminder(alert, TEXT)] == [ours]

    assert delete_reminder(factory, ours) is True
    assert [alert["alertToken"] for alert in list_reminders(factory)] == [other]
    methods_and_paths = [(r.method, r.path) for r in alexa_api_server.requests]
    assert methods_and_paths[2:] == [("GET", "/v1/alerts/reminders"), ("DELETE", f"/v1/alerts/reminders/{ours}"),
                                     ("GET", "/v1/alerts/reminders")]
    assert all(r.header("Authorization") == f"Bearer {alexa_api_server.token}" for r in alexa_api_server.requests)


def test_listed_reminders_keep_their_trigger_and_text(factory: ServiceClientFactory) -> None:
    body = reminder_body()
    create_reminder(factory, body)
    [alert] = list_reminders(factory)
    assert alert["trigger"] == body["trigger"]
    assert alert["alertInfo"] == body["alertInfo"]
    assert alert["status"] == "ON"


def test_deleting_a_reminder_alexa_no_longer_has_is_not_an_error(factory: ServiceClientFactory) -> None:
    assert delete_reminder(factory, "already-gone") is False


# --- failures become typed errors ----------------------------------------------------------------

OPERATIONS: dict[str, Callable[[ServiceClientFactory], object]] = {
    "create": lambda factory: create_reminder(factory, reminder_body()),
    "list": list_reminders,
    "delete": lambda factory: delete_reminder(factory, "some-token"),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(("status", "error_type"), [
    (401, PermissionRequired), (403, PermissionRequired),
    (429, ApiUnavailable), (500, ApiUnavailable), (503, ApiUnavailable), (504, ApiUnavailable),
])
def test_failure_status_maps_to_a_typed_error(alexa_api_server: AlexaApiServer, factory: ServiceClientFactory,
                                              operation: str, status: int, error_type: type[AlexaApiError]) -> None:
    alexa_api_server.fail_next(status)
    with pytest.raises(error_type) as raised:
        OPERATIONS[operation](factory)
    assert raised.value.status == status
    assert len(alexa_api_server.requests) == 1


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_wrong_access_token_means_permission_is_needed(alexa_api_server: AlexaApiServer, operation: str) -> None:
    with pytest.raises(PermissionRequired) as raised:
        OPERATIONS[operation](factory_for(alexa_api_server, token="someone-elses-token"))
    assert raised.value.status == 401
    assert alexa_api_server.reminders == {}


def test_a_time_with_an_offset_is_rejected_by_alexa(alexa_api_server: AlexaApiServer,
                                                    factory: ServiceClientFactory) -> None:
    body = reminder_body()
    body["trigger"]["scheduledTime"] += "Z"
    with pytest.raises(RequestRejected) as raised:
        create_reminder(factory, body)
    assert (raised.value.status, raised.value.detail) == (400, TIME_FORMAT_ERROR)
    assert "+00:00" in alexa_api_server.requests[0].body["trigger"]["scheduledTime"]


@pytest.mark.parametrize(("operation", "status"), [
    ("create", None), ("list", None),
    ("create", 500), ("list", 500), ("delete", 500),  # a delete's success body is never read
])
def test_unreadable_json_is_unavailable(alexa_api_server: AlexaApiServer, factory: ServiceClientFactory,
                                        operation: str, status: int | None) -> None:
    alexa_api_server.malformed_next(status=status)
    with pytest.raises(ApiUnavailable):
        OPERATIONS[operation](factory)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_reply_slower_than_the_timeout_is_unavailable(alexa_api_server: AlexaApiServer, operation: str) -> None:
    # Were the timeout ignored, the call would wait out the delay and succeed.
    alexa_api_server.delay_next(60)
    with pytest.raises(ApiUnavailable) as raised:
        OPERATIONS[operation](factory_for(alexa_api_server, timeout=0.3))
    assert raised.value.status is None
    assert "timed out" in raised.value.detail
    assert len(alexa_api_server.requests) == 1  # it reached the server


def test_plain_http_endpoints_are_refused(tmp_path: Path) -> None:
    with AlexaApiServer(tmp_path, tls=False) as plain_server:
        assert plain_server.base_url.startswith("http://")
        with pytest.raises(ApiUnavailable) as raised:
            list_reminders(factory_for(plain_server, ca_bundle=None))
        assert "non-HTTPS" in raised.value.detail
        assert plain_server.requests == []


def test_a_server_outside_the_trusted_cas_is_unavailable(alexa_api_server: AlexaApiServer) -> None:
    with pytest.raises(ApiUnavailable) as raised:
        list_reminders(factory_for(alexa_api_server, ca_bundle=None))
    assert "CERTIFICATE_VERIFY_FAILED" in raised.value.detail
    assert alexa_api_server.requests == []


def test_a_closed_port_is_unavailable(tmp_path: Path) -> None:
    with AlexaApiServer(tmp_path) as server:
        factory = factory_for(server)
    with pytest.raises(ApiUnavailable) as raised:
        list_reminders(factory)
    assert raised.value.status is None


def test_no_api_client_is_unavailable() -> None:
    with pytest.raises(ApiUnavailable):
        create_reminder(None, reminder_body())


def test_no_access_token_is_unavailable_without_a_call(alexa_api_server: AlexaApiServer) -> None:
    with pytest.raises(ApiUnavailable):
        list_reminders(factory_for(alexa_api_server, token=""))
    assert alexa_api_server.requests == []


def test_a_body_that_is_no_reminder_request_is_rejected_before_sending(alexa_api_server: AlexaApiServer,
                                                                       factory: ServiceClientFactory) -> None:
    body = reminder_body()
    body["requestTime"] = "half past seven"
    with pytest.raises(RequestRejected):
        create_reminder(factory, body)
    assert alexa_api_server.requests == []


def test_timeout_comes_from_settings() -> None:
    assert TimeoutApiClient.from_settings(Settings(api_timeout=0.7)).timeout == 0.7


# --- device time zone ----------------------------------------------------------------------------

def test_device_time_zone(alexa_api_server: AlexaApiServer, factory: ServiceClientFactory) -> None:
    alexa_api_server.time_zone = "America/Los_Angeles"
    assert device_time_zone(factory, DEVICE_ID) == "America/Los_Angeles"
    [sent] = alexa_api_server.requests
    assert (sent.method, sent.path) == ("GET", f"/v2/devices/{DEVICE_ID}/settings/System.timeZone")
    assert sent.header("Authorization") == f"Bearer {alexa_api_server.token}"


@pytest.mark.parametrize("break_it", [
    lambda server: setattr(server, "time_zone", None),                 # 204: no setting
    lambda server: setattr(server, "time_zone", "Mars/Olympus_Mons"),  # a name no tz database has
    lambda server: server.fail_next(401),
    lambda server: server.fail_next(403),
    lambda server: server.fail_next(429),
    lambda server: server.fail_next(500),
    lambda server: server.malformed_next(),
    lambda server: server.delay_next(60),
], ids=["no-content", "unknown-zone", "401", "403", "429", "500", "malformed", "timeout"])
def test_device_time_zone_falls_back_to_none(alexa_api_server: AlexaApiServer,
                                             break_it: Callable[[AlexaApiServer], None]) -> None:
    break_it(alexa_api_server)
    assert device_time_zone(factory_for(alexa_api_server, timeout=0.3), DEVICE_ID) is None
    assert len(alexa_api_server.requests) == 1


def test_device_time_zone_without_a_client_is_none() -> None:
    assert device_time_zone(None, DEVICE_ID) is None


# --- permission ----------------------------------------------------------------------------------

def test_voice_permission_directive() -> None:
    assert SERIALIZER.serialize(reminder_permission_directive("pending-reminder")) == {
        "type": "Connections.SendRequest",
        "name": "AskFor",
        "payload": {"@type": "AskForPermissionsConsentRequest", "@version": "1",
                    "permissionScope": "alexa::alerts:reminders:skill:readwrite"},
        "token": "pending-reminder",
    }


def test_permission_card() -> None:
    assert SERIALIZER.serialize(reminder_permission_card()) == {
        "type": "AskForPermissionsConsent", "permissions": [REMINDERS_PERMISSION]}


def envelope(request: dict[str, Any], *, consent_token: str | None = None) -> RequestEnvelope:
    user: dict[str, Any] = {"userId": "amzn1.ask.account.TEST"}
    if consent_token is not None:
        user["permissions"] = {"consentToken": consent_token}
    raw = {
        "version": "1.0",
        "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.TEST"}, "user": user,
                               "device": {"deviceId": DEVICE_ID}, "apiEndpoint": "https://api.amazonalexa.com",
                               "apiAccessToken": "token"}},
        "request": {"requestId": "amzn1.echo-api.request.TEST", "timestamp": "2026-11-25T15:00:00Z",
                    "locale": "en-US", **request},
    }
    return SERIALIZER.deserialize(json.dumps(raw), RequestEnvelope)


def connections_response(status: str, code: str = "200", name: str = "AskFor") -> dict[str, Any]:
    return {"type": "Connections.Response", "name": name, "status": {"code": code, "message": "OK"},
            "payload": {"permissionScope": REMINDERS_PERMISSION, "status": status}, "token": "pending-reminder"}


@pytest.mark.parametrize("status", ["ACCEPTED", "DENIED", "NOT_ANSWERED"])
def test_permission_answer_from_alexa(status: str) -> None:
    answer = parse_permission_answer(envelope(connections_response(status)).request)
    assert (answer.outcome, answer.status_code, answer.token) == (ConsentOutcome[status], "200", "pending-reminder")
    assert answer.accepted is (status == "ACCEPTED")


@pytest.mark.parametrize("request_object", [
    None, 42, "AskFor", [], {},
    {"name": "AskFor"},
    {"name": "AskFor", "payload": None},
    {"name": "AskFor", "payload": ["ACCEPTED"]},
    {"name": "AskFor", "payload": {"status": "MAYBE"}},
    {"name": "AskFor", "payload": {"status": 1}},
    {"name": "AskFor", "payload": {"status": ""}, "status": {"code": ""}},
    connections_response("ACCEPTED", name="Buy"),
    connections_response("ACCEPTED", code="500"),
    connections_response("ACCEPTED", code="400"),
], ids=repr)
def test_odd_permission_answers_are_unknown(request_object: object) -> None:
    answer = parse_permission_answer(request_object)
    assert answer.outcome is ConsentOutcome.UNKNOWN
    assert not answer.accepted


@pytest.mark.parametrize(("request_object", "outcome"), [
    ({"name": "AskFor", "payload": {"status": "accepted"}}, ConsentOutcome.ACCEPTED),
    ({"name": "AskFor", "status": {"code": 200}, "payload": {"status": "DENIED"}}, ConsentOutcome.DENIED),
])
def test_permission_answers_as_plain_json(request_object: dict[str, Any], outcome: ConsentOutcome) -> None:
    assert parse_permission_answer(request_object).outcome is outcome


def test_consent_token_present_passes() -> None:
    require_consent_token(envelope({"type": "LaunchRequest"}, consent_token="consent"))


def test_no_consent_token_requires_permission() -> None:
    with pytest.raises(PermissionRequired):
        require_consent_token(envelope({"type": "LaunchRequest"}))


# --- the server's own contract -------------------------------------------------------------------

def test_server_answers_like_alexa(alexa_api_server: AlexaApiServer) -> None:
    url, auth = alexa_api_server.base_url, {"Authorization": f"Bearer {alexa_api_server.token}"}
    ca = str(alexa_api_server.ca_path)
    created = requests.post(f"{url}/v1/alerts/reminders", json=reminder_body(), headers=auth, verify=ca, timeout=5)
    assert created.status_code == 201
    reply = created.json()
    assert set(reply) == {"alertToken", "createdTime", "updatedTime", "status", "version", "href"}
    assert reply["href"] == f"/v1/alerts/reminders/{reply['alertToken']}"
    listed = requests.get(f"{url}/v1/alerts/reminders", headers=auth, verify=ca, timeout=5)
    assert listed.json()["totalCount"] == "1"
    zone = requests.get(f"{url}/v2/devices/{DEVICE_ID}/settings/System.timeZone", headers=auth, verify=ca, timeout=5)
    assert zone.json() == "Europe/London"
    unauthorised = requests.get(f"{url}/v1/alerts/reminders", verify=ca, timeout=5)
    assert unauthorised.status_code == 401


def _broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = reminder_body()
    change(body)
    return body


@pytest.mark.parametrize(("body", "code"), [
    (_broken(lambda b: b.update(requestTime="2026-11-25T10:00:00Z")), TIME_FORMAT_ERROR),
    (_broken(lambda b: b["trigger"].update(scheduledTime="2026-11-26T07:00:00-05:00")), TIME_FORMAT_ERROR),
    (_broken(lambda b: b["trigger"]["recurrence"].update(startDateTime="2026-11-26T07:00:00+0000")), TIME_FORMAT_ERROR),
    (_broken(lambda b: b["trigger"].update(type="SCHEDULED_SOMETIME")), "INVALID_TRIGGER_TYPE"),
    (_broken(lambda b: b["trigger"].pop("timeZoneId")), "INVALID_TIME_ZONE_ID"),
    (_broken(lambda b: b["trigger"].update(recurrence=[])), "INVALID_RECURRENCE"),
    (_broken(lambda b: b["trigger"]["recurrence"].update(recurrenceRules=["DAILY"])), "INVALID_RECURRENCE_RULE"),
    (_broken(lambda b: b["alertInfo"]["spokenInfo"].update(content=[])), "INVALID_ALERT_INFO"),
    (_broken(lambda b: b.update(pushNotification={"status": "LOUD"})), "INVALID_PUSH_NOTIFICATION_STATUS"),
    ({"trigger": {"type": "SCHEDULED_RELATIVE", "offsetInSeconds": 0}}, TIME_FORMAT_ERROR),
    ([], "INVALID_REQUEST"),
])
def test_server_rejects_bodies_alexa_would(body: Any, code: str) -> None:
    problem = reminder_body_problem(body)
    assert problem is not None and problem[0] == code


def test_server_accepts_a_relative_trigger() -> None:
    body = _broken(lambda b: b.update(trigger={"type": "SCHEDULED_RELATIVE", "offsetInSeconds": 3600}))
    assert reminder_body_problem(body) is None


def test_a_failed_time_zone_call_logs_no_device_id_or_url(alexa_api_server: AlexaApiServer, caplog) -> None:
    alexa_api_server.delay_next(60)
    with caplog.at_level("DEBUG"):
        assert device_time_zone(factory_for(alexa_api_server, timeout=0.3), DEVICE_ID) is None
    assert "get device time zone failed: OutOfTime" in caplog.text
    assert DEVICE_ID not in caplog.text and "/v2/devices" not in caplog.text
