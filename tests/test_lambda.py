"""The AWS Lambda entry point: same runtime, timestamp and skill id checked, no HTTP signature."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from pki import iso
from bench import cold
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


def _with_user_id(user_id):
    hostile = event()
    hostile["context"]["System"]["user"] = {"userId": user_id}
    return hostile


@pytest.mark.parametrize("bad_event", [_with_user_id(5), _with_user_id("\ud800"), [],
                                       {**event(), "session": json.loads('{"a":' * 100 + "1" + "}" * 100)}],
                         ids=["numeric user id", "lone surrogate", "not an object", "deep nesting"])
def test_lambda_refuses_hostile_events_with_a_reason_not_a_crash(handler, bad_event):
    from skill.door import Refused

    with pytest.raises(Refused) as refused:
        handler(bad_event, None)
    assert refused.value.reason


class _Context:
    """Lambda's context object, reduced to the one method the handler reads."""

    def get_remaining_time_in_millis(self):
        return 2000


def test_lambda_bounds_the_request_budget_by_the_time_lambda_has_left(handler, monkeypatch):
    from skill import deadline

    seen = []
    real = deadline.request_budget
    monkeypatch.setattr(lambda_handler, "request_budget", lambda seconds: seen.append(seconds) or real(seconds))
    handler(event(), _Context())
    assert seen == [1.5]


@pytest.mark.parametrize("app", ["skill", "topic"])
def test_a_cold_lambda_request_loads_neither_requests_nor_cryptography_nor_flask(moto_endpoint, app):
    """A fresh interpreter, as a cold Lambda container: import, one IntentRequest on the DynamoDB store
    (the "skill" request reads preferences). With Lambda's credentials in the environment the store
    needs no botocore either."""
    cold.create_table(moto_endpoint)

    result = cold.invoke_cold(cold.apps(moto_endpoint)[app])

    modules = set(result["modules"])
    assert {"skill.lambda_handler", "orjson"} <= modules  # orjson: the door's parse and the reply's encoding
    assert "botocore" not in modules
    assert modules.isdisjoint(cold.OFF_THE_LAMBDA_PATH), modules & set(cold.OFF_THE_LAMBDA_PATH)
