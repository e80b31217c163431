"""Alexa's APIs answering slowly: one deadline per request, a spoken answer inside it, and a
truthful account of what a multi-call operation did.

The APIs are the local HTTPS server (alexa_api_server), trickling its answer a byte a
second, so no single socket read ever times out; only an overall deadline ends the call.
"""
from __future__ import annotations

import copy
import time

import pytest

from skill.simulator.alexa_api_stub import Fault
from alexa_requests import AlexaSession
from conftest import SKILL_ID, production_app_with
from speech_text import heard, session_open
from test_reminder_handlers import CONSENT, ask_for_daily_reminder

MARGIN = 1.0  # seconds on top of the budget for signing, dispatch and a loaded machine


def device_for(alexa_api_server, signer, tmp_path, **settings) -> AlexaSession:
    app = production_app_with(signer, db_path=tmp_path / "prefs.sqlite3",
                              api_ca_bundle=str(alexa_api_server.ca_path), **settings)
    return AlexaSession(app.test_client(), signer, SKILL_ID, api_endpoint=alexa_api_server.base_url,
                        api_token=alexa_api_server.token, consent_token=CONSENT)


def timed(action):
    started = time.monotonic()
    reply = action()
    return reply, time.monotonic() - started


@pytest.mark.parametrize("budget, api_timeout", [(4.5, 2.0), (1.0, 30.0)], ids=["defaults", "budget under the call timeout"])
def test_a_trickling_time_zone_answer_ends_in_a_spoken_apology_within_the_budget(
        alexa_api_server, signer, tmp_path, budget, api_timeout):
    device = device_for(alexa_api_server, signer, tmp_path, request_budget_seconds=budget, api_timeout=api_timeout)
    alexa_api_server.trickle_next(1.0)
    reply, took = timed(lambda: ask_for_daily_reminder(device))
    assert took < min(budget, api_timeout) + MARGIN
    assert "couldn't get your device's time zone" in heard(reply) and session_open(reply)


def test_a_trickling_create_says_it_may_have_been_set_and_the_retry_makes_no_duplicate(
        alexa_api_server, signer, tmp_path):
    device = device_for(alexa_api_server, signer, tmp_path)
    ask_for_daily_reminder(device)
    alexa_api_server.trickle_next(1.0)
    reply, took = timed(lambda: device.intent("AMAZON.YesIntent"))
    assert took < 4.5 + MARGIN
    assert "can't tell whether your reminder was set" in heard(reply)
    assert len(alexa_api_server.reminders) == 1  # the server did create it before trickling the answer
    ask_for_daily_reminder(device)
    assert "already set" in heard(device.intent("AMAZON.YesIntent"))
    assert len(alexa_api_server.reminders) == 1


def test_cancelling_five_slow_deletes_says_truthfully_how_many_went(alexa_api_server, signer, tmp_path):
    device = device_for(alexa_api_server, signer, tmp_path)
    ask_for_daily_reminder(device)
    device.intent("AMAZON.YesIntent")
    [ours] = alexa_api_server.reminders.values()
    for number in range(4):
        alexa_api_server.reminders[f"copy-{number}"] = {**copy.deepcopy(ours), "alertToken": f"copy-{number}"}
    alexa_api_server._program(Fault(), 1)       # the list answers at once
    alexa_api_server.delay_next(1.9, times=5)   # each delete takes 1.9 s
    reply, took = timed(lambda: device.intent("CancelRemindersIntent"))
    assert took < 4.5 + MARGIN
    left = len(alexa_api_server.reminders)
    assert 0 < left < 5
    assert f"I cancelled {5 - left} of your stretch reminders" in heard(reply)
    assert f"{left} may still be set" in heard(reply)
    assert f"You have {left} stretch reminder" in heard(device.intent("ListRemindersIntent"))
