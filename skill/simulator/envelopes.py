"""Request envelopes built the way Alexa builds them, and the session they carry."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from skill.settings import DEV_SKILL_ID
from skill.simulator.nlu import IntentMatch

APL_MAX_VERSION = "2024.3"
# An Echo Show 8 sized screen; only sent when the simulated device has one.
_VIEWPORT = {
    "experiences": [{"arcMinuteWidth": 346, "arcMinuteHeight": 216, "canRotate": False, "canResize": False}],
    "mode": "HUB", "shape": "RECTANGLE", "pixelWidth": 1280, "pixelHeight": 800, "dpi": 160,
    "currentPixelWidth": 1280, "currentPixelHeight": 800, "touch": ["SINGLE"],
}


@dataclass(frozen=True)
class DeviceProfile:
    """Who is talking to the skill, on what device, and where Alexa's APIs are."""

    locale: str = "en-US"
    skill_id: str = DEV_SKILL_ID
    user_id: str = "amzn1.ask.account.SIMULATED-USER"
    device_id: str = "amzn1.ask.device.SIMULATED-DEVICE"
    screen: bool = False
    api_endpoint: str = "https://api.amazonalexa.com"
    api_access_token: str = "simulated-api-access-token"


@dataclass
class Session:
    """One skill session: its id, the attributes the skill last returned, and whether it is new."""

    session_id: str = field(default_factory=lambda: f"amzn1.echo-api.session.{uuid.uuid4()}")
    attributes: dict[str, Any] = field(default_factory=dict)
    new: bool = True


def _timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class EnvelopeFactory:
    """Builds request envelopes for one simulated device and user."""

    def __init__(self, device: DeviceProfile) -> None:
        self.device = device
        # Set once the user grants a permission; Alexa then sends it with every later request.
        self.consent_token: str | None = None

    def launch(self, session: Session) -> dict[str, Any]:
        return self._envelope(session, self._request("LaunchRequest"))

    def intent(self, session: Session, intent: IntentMatch, dialog_state: str | None = None) -> dict[str, Any]:
        # Alexa sends dialogState only for intents that have a dialog model.
        state = {"dialogState": dialog_state} if dialog_state else {}
        request = self._request("IntentRequest", **state, intent=intent.to_json())
        return self._envelope(session, request)

    def session_ended(self, session: Session, reason: str) -> dict[str, Any]:
        return self._envelope(session, self._request("SessionEndedRequest", reason=reason))

    def connections_response(self, session: Session, name: str, payload: dict[str, Any],
                             token: str) -> dict[str, Any]:
        request = self._request("Connections.Response", name=name, status={"code": "200", "message": "OK"},
                                payload=payload, token=token)
        return self._envelope(session, request)

    def _request(self, request_type: str, **fields: Any) -> dict[str, Any]:
        return {"type": request_type, "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
                "timestamp": _timestamp(), "locale": self.device.locale, **fields}

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"userId": self.device.user_id}
        if self.consent_token:
            user["permissions"] = {"consentToken": self.consent_token}
        return user

    def _system(self) -> dict[str, Any]:
        apl = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": APL_MAX_VERSION}}}
        interfaces = apl if self.device.screen else {}
        return {
            "application": {"applicationId": self.device.skill_id},
            "user": self._user(),
            "device": {"deviceId": self.device.device_id, "supportedInterfaces": interfaces},
            "apiEndpoint": self.device.api_endpoint,
            "apiAccessToken": self.device.api_access_token,
        }

    def _envelope(self, session: Session, request: dict[str, Any]) -> dict[str, Any]:
        context: dict[str, Any] = {"System": self._system()}
        if self.device.screen:
            context["Viewport"] = _VIEWPORT
        return {
            "version": "1.0",
            "session": {
                "new": session.new,
                "sessionId": session.session_id,
                "application": {"applicationId": self.device.skill_id},
                "attributes": session.attributes,
                "user": self._user(),
            },
            "context": context,
            "request": request,
        }
