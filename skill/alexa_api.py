"""The skill's side of Alexa's service APIs: reminders, the device time zone, reminder permission.

Handlers stay thin: they pass `handler_input.service_client_factory` to these functions and
catch `AlexaApiError` (one of `PermissionRequired`, `ApiUnavailable`, `RequestRejected`);
no SDK exception gets past this module. Alexa gives the whole skill response about 8 seconds,
so each request gets one `Deadline` (`request_factory`), and every call made for it must be
done, connect to last body byte, by then and within the per-call timeout (`TimeoutApiClient`).
"""
from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ask_sdk_core.exceptions import ApiClientException, SerializationException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import RequestEnvelope
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.services import (ApiClient, ApiClientRequest, ApiClientResponse, ApiConfiguration,
                                    ServiceClientFactory, ServiceException)
from ask_sdk_model.services.reminder_management import spoken_info
from ask_sdk_model.ui import AskForPermissionsConsentCard

from skill import deadline as request_deadlines
from skill.deadline import Deadline
from skill.settings import Settings

log = logging.getLogger("hip_helper.alexa_api")

REMINDERS_PERMISSION = "alexa::alerts:reminders:skill:readwrite"
DEFAULT_TIMEOUT: float = Settings.api_timeout  # the dataclass defaults, one source of truth
DEFAULT_BUDGET: float = Settings.request_budget_seconds
_REQUEST_DEADLINE = "alexa_api_deadline"  # request attributes: this request's Deadline
_REQUEST_FACTORY = "alexa_api_factory"    # and its service client factory bound to it
_REMINDER_REQUEST_TYPE = "ask_sdk_model.services.reminder_management.reminder_request.ReminderRequest"
_MISSING_SPOKEN_INFO_MODULE = "ask_sdk_model.services.reminder_management.alert_info_spoken_info"

T = TypeVar("T")


def _alias_missing_spoken_info_module() -> None:
    """ask-sdk-model 1.82's AlertInfo names its SpokenInfo type after a module that was never generated,
    so every reminder with alertInfo (our create body, each alert Alexa lists) fails to deserialize.
    Point that name at the module that does hold SpokenInfo, unless a fixed SDK provides it."""
    try:
        importlib.import_module(_MISSING_SPOKEN_INFO_MODULE)
    except ModuleNotFoundError:
        sys.modules[_MISSING_SPOKEN_INFO_MODULE] = spoken_info


_alias_missing_spoken_info_module()


class AlexaApiError(Exception):
    """An Alexa API call failed. `status` is the HTTP status, None when no usable reply came back."""

    def __init__(self, operation: str, status: int | None, detail: str):
        self.operation, self.status, self.detail = operation, status, detail
        super().__init__(f"{operation} failed ({status if status is not None else 'no reply'}): {detail}")


class PermissionRequired(AlexaApiError):
    """The user has not granted the reminders permission (401/403, or no consent token): ask for it."""


class ApiUnavailable(AlexaApiError):
    """Alexa is throttling, failing, slow or unreachable, or replied with unreadable JSON: apologise, try later."""


class RequestRejected(AlexaApiError):
    """Alexa refused the request itself (400, 404, 409 …): a fault on our side, so apologise and log it."""


class OutOfTime(ApiUnavailable):
    """The call's deadline passed before its whole reply came: Alexa may still have acted on it."""


class DeadlinePassed(ApiClientException):
    """The transport ran out of the call's time (before sending, or while waiting for the reply)."""


class TimeoutApiClient(ApiClient):
    """An ApiClient whose every call finishes, connect to last body byte, by its deadline.

    The deadline is `timeout` from the start of the call, or the request's deadline if sooner
    (`bound`); skill.alexa_http is the transport that keeps to it.
    Non-HTTPS URLs are refused; transport failures raise ApiClientException, which the service
    clients raise as ServiceException. Messages name the failure, never the URL (it holds ids).
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, ca_bundle: str | Path | None = None,
                 budget: float = DEFAULT_BUDGET, deadline: Deadline | None = None):
        self.timeout, self.budget, self.deadline = timeout, budget, deadline
        # requests' `verify`: True trusts the default store; a path trusts only that bundle (a test CA),
        # without touching process-wide settings such as REQUESTS_CA_BUNDLE.
        self.verify: bool | str = str(ca_bundle) if ca_bundle else True

    @classmethod
    def from_settings(cls, settings: Settings) -> TimeoutApiClient:
        return cls(timeout=settings.api_timeout, ca_bundle=settings.api_ca_bundle or None,
                   budget=settings.request_budget_seconds)

    def bound(self, deadline: Deadline) -> TimeoutApiClient:
        """A client for one request: its calls also end by `deadline`."""
        client = TimeoutApiClient(self.timeout, budget=self.budget, deadline=deadline)
        client.verify = self.verify
        return client

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        deadline = self.deadline.within(self.timeout) if self.deadline else Deadline.after(self.timeout)
        if urlsplit(request.url or "").scheme != "https":
            raise ApiClientException("Requests against non-HTTPS endpoints are not allowed.")
        # Imported on the first call: requests is about 100 ms of a cold start that most requests never use.
        from skill import alexa_http
        return alexa_http.send(request, deadline, self.verify)


def request_deadline(handler_input: HandlerInput) -> Deadline:
    """This request's deadline: the one its entry point started when it arrived, else (a caller
    without one, such as a test driving the SDK directly) the budget from the first ask."""
    cache = handler_input.attributes_manager.request_attributes
    if _REQUEST_DEADLINE not in cache and (started := request_deadlines.current()) is not None:
        cache[_REQUEST_DEADLINE] = started
    if _REQUEST_DEADLINE not in cache:
        client = getattr(getattr(handler_input.service_client_factory, "api_configuration", None), "api_client", None)
        cache[_REQUEST_DEADLINE] = Deadline.after(getattr(client, "budget", DEFAULT_BUDGET))
    return cache[_REQUEST_DEADLINE]


def request_factory(handler_input: HandlerInput) -> ServiceClientFactory | None:
    """The request's service client factory, its calls bound to `request_deadline`."""
    cache = handler_input.attributes_manager.request_attributes
    if _REQUEST_FACTORY not in cache:
        deadline = request_deadline(handler_input)
        factory = handler_input.service_client_factory
        configuration = getattr(factory, "api_configuration", None)
        if isinstance(getattr(configuration, "api_client", None), TimeoutApiClient):
            factory = ServiceClientFactory(ApiConfiguration(
                serializer=configuration.serializer, api_client=configuration.api_client.bound(deadline),
                authorization_value=configuration.authorization_value, api_endpoint=configuration.api_endpoint))
        cache[_REQUEST_FACTORY] = factory
    return cache[_REQUEST_FACTORY]


# --- Reminders and settings -------------------------------------------------------------------

def create_reminder(factory: ServiceClientFactory | None, body: dict[str, Any]) -> str:
    """Create the reminder `body` describes (see domain.reminders.to_request_body); returns its alertToken."""
    operation = "create reminder"
    ready = _ready(factory, operation)
    request = _reminder_request(ready, body, operation)
    client = ready.get_reminder_management_service()
    response = _call(operation, lambda: client.create_reminder(reminder_request=request))
    token = getattr(response, "alert_token", None)
    if not token:
        raise ApiUnavailable(operation, None, "reply has no alertToken")
    return token


def list_reminders(factory: ServiceClientFactory | None) -> list[dict[str, Any]]:
    """Every reminder this skill has for the user, as Reminders API JSON objects."""
    operation = "list reminders"
    ready = _ready(factory, operation)
    response = _call(operation, ready.get_reminder_management_service().get_reminders)
    serializer = ready.api_configuration.serializer
    return [cast(dict[str, Any], serializer.serialize(alert)) for alert in getattr(response, "alerts", None) or []]


def delete_reminder(factory: ServiceClientFactory | None, alert_token: str) -> bool:
    """Delete one reminder. False when Alexa no longer had it (404): either way it is gone."""
    operation = "delete reminder"
    client = _ready(factory, operation).get_reminder_management_service()
    try:
        _call(operation, lambda: client.delete_reminder(alert_token=alert_token))
    except RequestRejected as error:
        if error.status == 404:
            return False
        raise
    return True


def device_time_zone(factory: ServiceClientFactory | None, device_id: str) -> str | None:
    """The device's IANA time zone name, or None when it cannot be had.

    None covers every failure: no setting (204), any API error, a name this machine does not
    know. It is logged here and never raised, because the caller has a choice to make
    (ask the user, or assume a default) rather than an error to report.
    """
    operation = "get device time zone"
    try:
        client = _ready(factory, operation).get_ups_service()
        zone = _call(operation, lambda: client.get_system_time_zone(device_id=device_id))
    except AlexaApiError as error:
        # Only the operation and the failure's kind: the detail may hold the URL, and so the device id.
        log.warning("%s failed: %s", operation, type(error).__name__)
        return None
    if not isinstance(zone, str) or not _is_known_time_zone(zone):
        log.warning("%s: unusable time zone", operation)
        return None
    return zone


def _ready(factory: ServiceClientFactory | None, operation: str) -> ServiceClientFactory:
    """The factory, if it can make calls: the skill needs an API client and the request an access token."""
    if factory is None or not factory.api_configuration.authorization_value:
        raise ApiUnavailable(operation, None, "no API client or no apiAccessToken for this request")
    return factory


def _reminder_request(factory: ServiceClientFactory, body: dict[str, Any], operation: str) -> Any:
    # Through the skill's own serializer, so the SDK model is what goes on the wire.
    try:
        return factory.api_configuration.serializer.deserialize(json.dumps(body), _REMINDER_REQUEST_TYPE)
    except (SerializationException, TypeError, ValueError) as error:
        raise RequestRejected(operation, None, f"body is not a ReminderRequest: {error}") from error


def _call(operation: str, send: Callable[[], T]) -> T:
    try:
        return send()
    except ServiceException as error:
        raise _classified(operation, error) from error
    except SerializationException as error:
        raise ApiUnavailable(operation, None, "reply is not the JSON the API documents") from error


def _classified(operation: str, error: ServiceException) -> AlexaApiError:
    if isinstance(error.__context__, DeadlinePassed):
        return OutOfTime(operation, None, str(error.__context__))
    if isinstance(error.__context__, ApiClientException):
        # The service client reports transport failures (refused connection, TLS,
        # a non-HTTPS endpoint) as status 500, though no reply ever came.
        return ApiUnavailable(operation, None, str(error.__context__))
    status = error.status_code
    detail = getattr(error.body, "code", None) or str(error)
    if status in (401, 403):
        return PermissionRequired(operation, status, detail)
    if status == 429 or status >= 500:
        return ApiUnavailable(operation, status, detail)
    return RequestRejected(operation, status, detail)


def _is_known_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- Permission ---------------------------------------------------------------------------------

def require_consent_token(envelope: RequestEnvelope) -> None:
    """Raise PermissionRequired when the user has granted this skill no permission at all.

    A present token does not prove the reminders permission; the API call remains the ground truth.
    """
    user = getattr(getattr(envelope.context, "system", None), "user", None)
    if not getattr(getattr(user, "permissions", None), "consent_token", None):
        raise PermissionRequired("check consent", None, "request carries no consentToken")


def reminder_permission_directive(token: str) -> SendRequestDirective:
    """Ask for the reminders permission by voice; Alexa answers with a Connections.Response carrying `token`."""
    return SendRequestDirective(
        name="AskFor",
        payload={"@type": "AskForPermissionsConsentRequest", "@version": "1",
                 "permissionScope": REMINDERS_PERMISSION},
        token=token,
    )


def reminder_permission_card() -> AskForPermissionsConsentCard:
    """The Alexa app card through which the user grants the reminders permission."""
    return AskForPermissionsConsentCard(permissions=[REMINDERS_PERMISSION])


class ConsentOutcome(Enum):
    ACCEPTED = "ACCEPTED"
    DENIED = "DENIED"
    NOT_ANSWERED = "NOT_ANSWERED"
    UNKNOWN = "UNKNOWN"  # not an AskFor answer, a failed connection, or a status we do not know


@dataclass(frozen=True)
class PermissionAnswer:
    outcome: ConsentOutcome
    status_code: str | None  # the Connections status code, for logs
    token: str | None        # the token sent with reminder_permission_directive

    @property
    def accepted(self) -> bool:
        return self.outcome is ConsentOutcome.ACCEPTED


def parse_permission_answer(request: object) -> PermissionAnswer:
    """Read a Connections.Response (the SDK object, or its JSON as a dict). Never raises.

    Only an AskFor answer with a 2xx (or no) status code and a known payload status counts;
    anything else is UNKNOWN, which handlers treat like a refusal.
    """
    status_code = _text(_field(_field(request, "status"), "code"))
    payload_status = (_text(_field(_field(request, "payload"), "status")) or "").upper()
    connection_ok = status_code is None or status_code.startswith("2")
    outcome = ConsentOutcome.UNKNOWN
    if _field(request, "name") == "AskFor" and connection_ok and payload_status in ConsentOutcome.__members__:
        outcome = ConsentOutcome[payload_status]
    return PermissionAnswer(outcome, status_code, _text(_field(request, "token")))


def _field(source: object, name: str) -> object:
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip() or None
