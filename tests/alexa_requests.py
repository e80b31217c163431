"""Hand-built Alexa request envelopes for handler tests, and a signed HTTP client for them.

Conversation tests speak words through the simulator; these tests need exact control over
slots, resolution statuses and odd values, so they build the JSON directly.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from pki import AlexaSigner, iso

USER_ID = "amzn1.ask.account.HANDLER-TEST-USER"
DEVICE_ID = "amzn1.ask.device.HANDLER-TEST"


def slot(name: str, value: str | None = None, *, slot_type: str = "", resolved_id: str | None = None,
         skill_id: str = "", no_match: bool = False) -> dict:
    """A slot as Alexa sends it: resolved (ER_SUCCESS_MATCH), unresolved (NO_MATCH) or empty."""
    data: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if value is not None:
        data["value"] = value
    if resolved_id or no_match:
        authority = {"authority": f"amzn1.er-authority.echo-sdk.{skill_id}.{slot_type}",
                     "status": {"code": "ER_SUCCESS_NO_MATCH" if no_match else "ER_SUCCESS_MATCH"}}
        if resolved_id:
            authority["values"] = [{"value": {"name": value, "id": resolved_id}}]
        data["resolutions"] = {"resolutionsPerAuthority": [authority]}
    return data


class AlexaSession:
    """One simulated device session: carries session attributes from each response to the next."""

    def __init__(self, client, signer: AlexaSigner, skill_id: str, *, locale: str = "en-US",
                 user_id: str = USER_ID, screen: bool = False, api_endpoint: str = "https://api.amazonalexa.com",
                 api_token: str = "test-token", consent_token: str | None = None):
        self.client, self.signer, self.skill_id, self.locale = client, signer, skill_id, locale
        self.user_id, self.screen, self.consent_token = user_id, screen, consent_token
        self.api_endpoint, self.api_token = api_endpoint, api_token
        self.new_session()

    def new_session(self) -> None:
        """The next request starts a new session, as after "stop" or a closed session."""
        self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
        self.attributes: dict | None = None  # None until the first response: the session is new

    def launch(self) -> dict:
        return self.send({"type": "LaunchRequest"})

    def intent(self, name: str, *slots: dict) -> dict:
        intent = {"name": name, "confirmationStatus": "NONE", "slots": {s["name"]: s for s in slots}}
        return self.send({"type": "IntentRequest", "dialogState": "STARTED", "intent": intent})

    def slot(self, name: str, value: str | None = None, **kwargs) -> dict:
        return slot(name, value, skill_id=self.skill_id, **kwargs)

    def session_ended(self, reason: str = "USER_INITIATED", error: dict | None = None) -> dict:
        request = {"type": "SessionEndedRequest", "reason": reason}
        if error:
            request["error"] = error
        return self.send(request)

    def envelope(self, request: dict) -> dict:
        application = {"applicationId": self.skill_id}
        user: dict[str, Any] = {"userId": self.user_id}
        if self.consent_token:
            user["permissions"] = {"consentToken": self.consent_token}
        interfaces = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.3"}}} if self.screen else {}
        return {
            "version": "1.0",
            "session": {"new": self.attributes is None, "sessionId": self.session_id,
                        "application": application, "attributes": self.attributes or {}, "user": user},
            "context": {"System": {"application": application, "user": user,
                                   "device": {"deviceId": DEVICE_ID, "supportedInterfaces": interfaces},
                                   "apiEndpoint": self.api_endpoint, "apiAccessToken": self.api_token}},
            "request": {"requestId": f"amzn1.echo-api.request.{uuid.uuid4()}", "locale": self.locale,
                        "timestamp": iso(datetime.now(timezone.utc)), **request},
        }

    def send(self, request: dict) -> dict:
        reply = self.post(self.envelope(request))
        self.attributes = reply.get("sessionAttributes") or {}
        if reply["response"].get("shouldEndSession"):
            self.new_session()
        return reply

    def post(self, envelope: dict) -> dict:
        body = json.dumps(envelope).encode("utf-8")
        response = self.client.post("/alexa", data=body, headers=self.signer.sign(body),
                                    content_type="application/json")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()
