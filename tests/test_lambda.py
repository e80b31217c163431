"""The AWS Lambda entry point: same runtime, timestamp and skill id checked, no HTTP signature."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from pki import iso
from skill import lambda_handler
from skill.verification import VerificationError
from speech_text import heard

SKILL_ID = "amzn1.ask.skill.lambda-test"


@pytest.fixture
def handler(monkeypatch, tmp_path):
    # Lambda reads its settings from the environment, like the real function.
    monkeypatch.setenv("HIP_HELPER_SKILL_ID", SKILL_ID)
    monkeypatch.setenv("HIP_HELPER_DB_PATH", str(tmp_path / "prefs.sqlite3"))
    lambda_handler._service.cache_clear()
    yield lambda_handler.handler
    lambda_handler._service.cache_clear()


def event(skill_id=SKILL_ID, age=timedelta(0)):
    application = {"applicationId": skill_id}
    user = {"userId": "amzn1.ask.account.LAMBDA"}
    return {
        "version": "1.0",
        "session": {"new": True, "sessionId": "amzn1.echo-api.session.lambda", "application": application,
                    "attributes": {}, "user": user},
        "context": {"System": {"application": application, "user": user,
                               "device": {"deviceId": "amzn1.ask.device.lambda", "supportedInterfaces": {}}}},
        "request": {"type": "IntentRequest", "requestId": "amzn1.echo-api.request.lambda", "locale": "en-GB",
                    "timestamp": iso(datetime.now(timezone.utc) - age),
                    "intent": {"name": "PreventionIntent", "confirmationStatus": "NONE"}},
    }


def test_lambda_answers_with_the_guidance(handler):
    reply = handler(event(), None)
    json.dumps(reply)  # what Lambda returns to Alexa must be plain JSON
    assert "treadmill" in heard(reply) and "call 999" in heard(reply)


@pytest.mark.parametrize("bad_event", [event(skill_id="amzn1.ask.skill.someone-else"),
                                       event(age=timedelta(minutes=5))])
def test_lambda_refuses_other_skills_and_stale_requests(handler, bad_event):
    with pytest.raises(VerificationError):
        handler(bad_event, None)
