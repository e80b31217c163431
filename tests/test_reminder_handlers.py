"""Stretch reminders end to end: the skill over HTTP, Alexa's Reminders API as a real local HTTPS server.

Nothing is mocked: the skill's API client talks TLS to the server, and the tests assert on
what the user hears and on the requests that reached the server.
"""
import copy
import time

import pytest

from alexa_requests import AlexaSession
from conftest import SKILL_ID, production_app_with
from speech_text import heard, session_open

CONSENT = "consent-token-from-alexa"
REMINDER_PATH = "/v1/alerts/reminders"


@pytest.fixture
def device(alexa_api_server, signer, tmp_path):
    """An Echo whose user granted the reminders permission, talking to a skill that trusts the test CA."""
    app = production_app_with(signer, db_path=tmp_path / "prefs.sqlite3", api_timeout=1.5,
                              api_ca_bundle=str(alexa_api_server.ca_path))
    return AlexaSession(app.test_client(), signer, SKILL_ID, api_endpoint=alexa_api_server.base_url,
                        api_token=alexa_api_server.token, consent_token=CONSENT)


def ask_for_daily_reminder(device, time="07:00"):
    return device.intent("SetReminderIntent",
                         device.slot("time", time),
                         device.slot("frequency", "every day", slot_type="ReminderFrequency", resolved_id="DAILY"))


def creates(server):
    return [r for r in server.requests if r.method == "POST" and r.path == REMINDER_PATH]


def test_the_user_confirms_before_a_reminder_is_created(device, alexa_api_server):
    reply = ask_for_daily_reminder(device)
    assert heard(reply).endswith("Shall I remind you to stretch every day at 7 am?") and session_open(reply)
    assert creates(alexa_api_server) == []                       # nothing created before the yes
    done = device.intent("AMAZON.YesIntent")
    assert "Done. I'll remind you to stretch every day at 7 am." in heard(done)
    [create] = creates(alexa_api_server)
    assert create.header("Authorization") == f"Bearer {alexa_api_server.token}"
    trigger = create.body["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE" and trigger["timeZoneId"] == "Europe/London"
    assert "FREQ=DAILY" in trigger["recurrence"]["recurrenceRules"][0]
    assert not trigger["scheduledTime"].endswith("Z") and "+" not in trigger["scheduledTime"]
    assert "hip stretches" in create.body["alertInfo"]["spokenInfo"]["content"][0]["text"]


def test_no_means_no_reminder(device, alexa_api_server):
    ask_for_daily_reminder(device)
    reply = device.intent("AMAZON.NoIntent")
    assert "haven't set a reminder" in heard(reply)
    assert creates(alexa_api_server) == []


def test_a_missing_time_is_asked_for_and_the_rest_of_the_request_is_kept(device, alexa_api_server):
    reply = device.intent("SetReminderIntent", device.slot("time"),
                          device.slot("frequency", "every day", slot_type="ReminderFrequency", resolved_id="DAILY"))
    assert heard(reply).endswith("At what time should I remind you to stretch?") and session_open(reply)
    assert creates(alexa_api_server) == []
    confirm = device.intent("SetReminderIntent", device.slot("time", "07:30"))   # "at seven thirty"
    assert heard(confirm).endswith("Shall I remind you to stretch every day at 7:30 am?")
    assert "reminder_draft" not in confirm["sessionAttributes"]


def test_a_time_alexa_could_not_read_is_asked_for_again(device, alexa_api_server):
    reply = device.intent("SetReminderIntent", device.slot("time", "whenever"))
    assert heard(reply).endswith("At what time should I remind you to stretch?")
    assert creates(alexa_api_server) == []


def test_without_permission_alexa_asks_by_voice_then_the_reminder_is_created(device, alexa_api_server):
    device.consent_token = None
    ask_for_daily_reminder(device)
    reply = device.intent("AMAZON.YesIntent")
    [directive] = reply["response"]["directives"]
    assert directive["type"] == "Connections.SendRequest" and directive["name"] == "AskFor"
    assert directive["payload"]["permissionScope"] == "alexa::alerts:reminders:skill:readwrite"
    assert "outputSpeech" not in reply["response"]             # no false "done"
    assert creates(alexa_api_server) == []
    device.consent_token = CONSENT                              # the user said yes to Alexa
    done = device.send(permission_answer("ACCEPTED"))
    assert "Done. I'll remind you to stretch every day at 7 am." in heard(done)
    assert len(creates(alexa_api_server)) == 1


@pytest.mark.parametrize("status", ["DENIED", "NOT_ANSWERED"])
def test_a_refused_permission_gets_a_card_and_no_reminder(device, alexa_api_server, status):
    device.consent_token = None
    ask_for_daily_reminder(device)
    device.intent("AMAZON.YesIntent")
    reply = device.send(permission_answer(status))
    assert reply["response"]["card"] == {"type": "AskForPermissionsConsent",
                                         "permissions": ["alexa::alerts:reminders:skill:readwrite"]}
    assert "haven't set a reminder" in heard(reply) and "Done" not in heard(reply)
    assert creates(alexa_api_server) == []


@pytest.mark.parametrize("status", [401, 403])
def test_the_api_refusing_permission_leads_to_the_voice_request(device, alexa_api_server, status):
    ask_for_daily_reminder(device)
    alexa_api_server.fail_next(status)
    reply = device.intent("AMAZON.YesIntent")
    assert reply["response"]["directives"][0]["type"] == "Connections.SendRequest"
    assert "outputSpeech" not in reply["response"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_api_errors_get_a_short_apology_and_the_session_goes_on(device, alexa_api_server, status):
    ask_for_daily_reminder(device)
    alexa_api_server.fail_next(status)
    reply = device.intent("AMAZON.YesIntent")
    assert "couldn't reach Alexa's reminders" in heard(reply) and "Done" not in heard(reply)
    assert session_open(reply) and "call 911" in heard(reply)


def test_a_slow_create_says_it_may_have_been_set(device, alexa_api_server):
    ask_for_daily_reminder(device)
    alexa_api_server.delay_next(5)
    reply = device.intent("AMAZON.YesIntent")
    assert "can't tell whether your reminder was set" in heard(reply) and "Done" not in heard(reply)
    assert session_open(reply)


def test_a_retry_after_a_timed_out_create_makes_exactly_one_reminder(device, alexa_api_server):
    ask_for_daily_reminder(device)
    alexa_api_server.delay_next(2)          # longer than the 1.5 s call timeout; the server still creates it
    device.intent("AMAZON.YesIntent")
    wait_until(lambda: alexa_api_server.reminders)   # the server finishes the create after the skill gave up
    ask_for_daily_reminder(device)
    reply = device.intent("AMAZON.YesIntent")
    assert "That reminder is already set: every day at 7 am." in heard(reply)
    assert len(alexa_api_server.reminders) == 1 and len(creates(alexa_api_server)) == 1


def test_an_unknown_time_zone_is_said_plainly(device, alexa_api_server):
    alexa_api_server.time_zone = None
    reply = ask_for_daily_reminder(device)
    assert "couldn't get your device's time zone" in heard(reply)
    assert creates(alexa_api_server) == []


def test_listing_and_cancelling_touch_only_stretch_reminders(device, alexa_api_server):
    for time in ("07:00", "18:30"):
        ask_for_daily_reminder(device, time)
        device.intent("AMAZON.YesIntent")
    ours = next(iter(alexa_api_server.reminders.values()))
    someone_elses = copy.deepcopy(ours)
    someone_elses["alertToken"] = "not-ours"
    someone_elses["alertInfo"]["spokenInfo"]["content"][0]["text"] = "Take the bins out"
    alexa_api_server.reminders["not-ours"] = someone_elses
    assert "You have 2 stretch reminders" in heard(device.intent("ListRemindersIntent"))
    reply = device.intent("CancelRemindersIntent")
    assert "cancelled your stretch reminders: 2 in all" in heard(reply)
    assert list(alexa_api_server.reminders) == ["not-ours"]
    assert "no stretch reminders" in heard(device.intent("ListRemindersIntent"))


def wait_until(condition, seconds=5.0):
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "condition never held"
        time.sleep(0.02)


def permission_answer(status):
    return {"type": "Connections.Response", "name": "AskFor", "status": {"code": "200", "message": "OK"},
            "payload": {"permissionScope": "alexa::alerts:reminders:skill:readwrite", "status": status},
            "token": "stretch-reminder"}
