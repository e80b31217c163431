"""The request the benchmark sends: a realistic ~2 KB IntentRequest from an Echo Show, stamped with a given time."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from skill.settings import DEV_SKILL_ID as SKILL_ID

USER_ID = "amzn1.ask.account.AGF7VLXQ2N4KJH3PZRT5WY6EMB8CD9S1XUQAOI0LVNE7KRTYH3PZW2MQ4JD5F6BC"
DEVICE_ID = "amzn1.ask.device.AEK3NZ7Q4WJ2PX5VRT6YH8MLC9BD1FSGUOA0IXE2KNZQ7W4JPVR5TY6H8MLC9BD"
# A JWT-shaped apiAccessToken; real ones are longer, this one keeps the whole body near 2 KB.
API_ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ." + "QmVuY2hUb2tlbg" * 5 + ".c2lnbmF0dXJl"


def iso_timestamp(moment: datetime) -> str:
    """Alexa's format: UTC, whole seconds, Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition_slot() -> dict:
    resolutions = {"resolutionsPerAuthority": [{
        "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.HipCondition",
        "status": {"code": "ER_SUCCESS_MATCH"},
        "values": [{"value": {"name": "trochanteric bursitis", "id": "TROCHANTERIC_BURSITIS"}}],
    }]}
    return {"name": "condition", "value": "trochanteric bursitis", "confirmationStatus": "NONE",
            "resolutions": resolutions,
            "slotValue": {"type": "Simple", "value": "trochanteric bursitis", "resolutions": resolutions}}


def intent_envelope(now: datetime) -> dict:
    """"What is trochanteric bursitis?" in the middle of a session, stamped `now`."""
    application = {"applicationId": SKILL_ID}
    user = {"userId": USER_ID}
    return {
        "version": "1.0",
        "session": {"new": False, "sessionId": f"amzn1.echo-api.session.{uuid.uuid4()}",
                    "application": application, "attributes": {}, "user": user},
        "context": {
            "System": {
                "application": application, "user": user,
                "device": {"deviceId": DEVICE_ID, "supportedInterfaces": {
                    "Alexa.Presentation.APL": {"runtime": {"maxVersion": "2024.2"}}}},
                "apiEndpoint": "https://api.amazonalexa.com", "apiAccessToken": API_ACCESS_TOKEN,
            },
            "Viewport": {"mode": "HUB", "shape": "RECTANGLE", "pixelWidth": 1280, "pixelHeight": 800, "dpi": 160,
                         "currentPixelWidth": 1280, "currentPixelHeight": 800, "touch": ["SINGLE"]},
        },
        "request": {
            "type": "IntentRequest", "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": iso_timestamp(now), "locale": "en-US", "dialogState": "COMPLETED",
            "intent": {"name": "ConditionIntent", "confirmationStatus": "NONE",
                       "slots": {"condition": _condition_slot()}},
        },
    }


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8")
