"""Stretch reminders end to end: the skill over HTTP, Alexa's Reminders API as a real local HTTPS server.

Nothing is mocked: the skill's API client talks TLS to the server, and the tests assert on
what the user hears and on the requests that reached the server.
"""
import copy
import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest

from alexa_requests import AlexaSession
from conftest import SKILL_ID, production_app_with
from skill.settings import PROJECT_ROOT
from skill.simulator.builtin_slots import builtin_converter
from skill.simulator.model import load_model
from skill.simulator.nlu import UtteranceResolver
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


def elicited_answer(directive, time_value):
    """Alexa's next request after Dialog.ElicitSlot: the updated intent, with the answer in the slot."""
    intent = copy.deepcopy(directive["updatedIntent"])
    intent["slots"][directive["slotToElicit"]]["value"] = time_value
    return {"type": "IntentRequest", "dialogState": "IN_PROGRESS", "intent": intent}


@pytest.mark.parametrize("frequency, date, answer, confirmation", [
    (("every day", "DAILY"), None, "at eight in the morning", "every day at 8 am"),
    (("every weekday", "WEEKDAYS"), None, "half past six in the evening", "every weekday at 6:30 pm"),
    ((None, None), "tomorrow", "seven pm", "tomorrow at 7 pm"),
    (("tomorrow", None), None, "seven", "tomorrow at 7 am"),      # the day the frequency slot took is kept
])
def test_a_missing_time_is_elicited_and_the_answer_completes_the_reminder(device, alexa_api_server, frequency,
                                                                          date, answer, confirmation):
    words, frequency_id = frequency
    today = dt.datetime.now(ZoneInfo(alexa_api_server.time_zone)).date()
    frequency_slot = (device.slot("frequency", words, slot_type="ReminderFrequency", resolved_id=frequency_id)
                      if frequency_id else device.slot("frequency", words, slot_type="ReminderFrequency",
                                                       no_match=True) if words else device.slot("frequency"))
    date_slot = device.slot("date", date and builtin_converter("AMAZON.DATE", today)(date))
    reply = device.intent("SetReminderIntent", device.slot("time"), date_slot, frequency_slot)
    assert heard(reply).endswith("At what time should I remind you to stretch?") and session_open(reply)
    [directive] = [d for d in reply["response"]["directives"] if d["type"] == "Dialog.ElicitSlot"]
    assert directive["slotToElicit"] == "time" and directive["updatedIntent"]["name"] == "SetReminderIntent"
    assert directive["updatedIntent"]["slots"]["frequency"] == frequency_slot
    assert creates(alexa_api_server) == []
    follow_up = elicited_answer(directive, builtin_converter("AMAZON.TIME", today)(answer))
    confirm = device.send(follow_up)
    assert heard(confirm).endswith(f"Shall I remind you to stretch {confirmation}?"), heard(confirm)
    assert "Dialog.ElicitSlot" not in [d["type"] for d in confirm["response"].get("directives", [])]
    assert "reminder_draft" not in confirm["sessionAttributes"]
    assert "Done. I'll remind you to stretch " + confirmation in heard(device.intent("AMAZON.YesIntent"))
    assert len(creates(alexa_api_server)) == 1


@pytest.mark.parametrize("frequency, confirmation", [
    ({"resolved_id": "DAILY", "value": "every day"}, "every day at 7:30 am"),
    ({"no_match": True, "value": "tomorrow"}, "tomorrow at 7:30 am"),
])
def test_a_plain_follow_up_with_only_the_time_keeps_the_rest_of_the_request(device, alexa_api_server, frequency,
                                                                            confirmation):
    device.intent("SetReminderIntent", device.slot("time"),
                  device.slot("frequency", slot_type="ReminderFrequency", **frequency))
    confirm = device.intent("SetReminderIntent", device.slot("time", "07:30"))   # "at seven thirty"
    assert heard(confirm).endswith(f"Shall I remind you to stretch {confirmation}?")
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


# --- what is said back is what is created ---------------------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
CONFIRMATION = re.compile(r"Shall I remind you to stretch (?P<when>.+) at (?P<time>\d{1,2}(?::\d\d)? [ap]m)\?$")
MO, TU, WE, TH, FR, SA, SU = range(7)

# (what the user said, slot words as Alexa split them, and what must be created)
# slots: time words, date words, frequency id (None: Alexa matched none), frequency words.
# created: clock time; day ("next" occurrence, "today", "tomorrow", "+2" or a weekday number); repeat.
PHRASINGS = [
    ("at seven", ("seven", None, None, None), ("07:00", "next", None)),
    ("at seven pm", ("seven pm", None, None, None), ("19:00", "next", None)),
    ("at eight in the morning", ("eight in the morning", None, None, None), ("08:00", "next", None)),
    ("at half past six in the evening", ("half past six in the evening", None, None, None), ("18:30", "next", None)),
    ("at noon", ("noon", None, None, None), ("12:00", "next", None)),
    ("at quarter to seven", ("quarter to seven", None, None, None), ("06:45", "next", None)),
    ("at two in the afternoon", ("two in the afternoon", None, None, None), ("14:00", "next", None)),
    ("at eleven at night", ("eleven at night", None, None, None), ("23:00", "next", None)),
    ("tomorrow at seven, tomorrow in the frequency slot", ("seven", None, None, "tomorrow"), ("07:00", "tomorrow", None)),
    ("tomorrow at seven", ("seven", "tomorrow", None, None), ("07:00", "tomorrow", None)),
    ("tomorrow at quarter past seven, frequency slot", ("quarter past seven", None, None, "tomorrow"),
     ("07:15", "tomorrow", None)),
    ("tonight at seven, frequency slot", ("seven", None, None, "tonight"), ("19:00", "today", None)),
    ("tonight, frequency slot", (None, None, None, "tonight"), ("21:00", "today", None)),
    ("tomorrow morning", ("morning", "tomorrow", None, None), ("08:00", "tomorrow", None)),
    ("tomorrow morning, frequency slot", (None, None, None, "tomorrow morning"), ("08:00", "tomorrow", None)),
    ("this evening", ("this evening", None, None, None), ("19:00", "today", None)),
    ("in the evening", ("in the evening", None, None, None), ("19:00", "today", None)),
    ("this afternoon", ("this afternoon", None, None, None), ("14:00", "today", None)),
    ("the day after tomorrow at noon", ("noon", "the day after tomorrow", None, None), ("12:00", "+2", None)),
    ("once tomorrow at seven", ("seven", "tomorrow", "ONCE", "once"), ("07:00", "tomorrow", None)),
    ("on friday at seven", ("seven", "on friday", None, None), ("07:00", FR, None)),
    # {frequency} follows "every"/"each" in the model, so a weekday alone there repeats on it.
    ("every friday at seven, frequency slot", ("seven", None, None, "friday"), ("07:00", FR, "WEEKLY")),
    ("next monday at eight am", ("eight am", "next monday", None, None), ("08:00", MO, None)),
    ("on monday at six pm, frequency slot", ("six pm", None, None, "on monday"), ("18:00", MO, None)),
    ("every day at seven", ("seven", None, "DAILY", "every day"), ("07:00", "next", "DAILY")),
    ("daily at seven thirty pm", ("seven thirty pm", None, "DAILY", "daily"), ("19:30", "next", "DAILY")),
    ("every morning at seven", ("seven", None, "DAILY", "every morning"), ("07:00", "next", "DAILY")),
    ("every evening at seven", ("seven", None, "DAILY", "every evening"), ("19:00", "next", "DAILY")),
    ("every evening", (None, None, "DAILY", "every evening"), ("19:00", "next", "DAILY")),
    ("every night at ten", ("ten", None, "DAILY", "every night"), ("22:00", "next", "DAILY")),
    ("every weekday at seven", ("seven", None, "WEEKDAYS", "every weekday"), ("07:00", "next", "WEEKDAYS")),
    ("on weekdays at half past six in the morning", ("half past six in the morning", None, "WEEKDAYS", "on weekdays"),
     ("06:30", "next", "WEEKDAYS")),
    ("every monday at seven", ("seven", None, None, "every monday"), ("07:00", MO, "WEEKLY")),
    ("every monday at seven, matched as weekly", ("seven", None, "WEEKLY", "every monday"), ("07:00", MO, "WEEKLY")),
    ("every friday evening", (None, None, None, "every friday evening"), ("19:00", FR, "WEEKLY")),
    ("every week on thursday at six pm", ("six pm", "thursday", "WEEKLY", "every week"), ("18:00", TH, "WEEKLY")),
    ("every sunday at noon", ("noon", None, None, "every sunday"), ("12:00", SU, "WEEKLY")),
]


def three_am_zone() -> str:
    """A real IANA zone where it is now between 3 and 4 in the morning: every phrasing's day is then
    certain (nothing said for today has passed, no midnight on the way)."""
    offset = (3 - dt.datetime.now(dt.timezone.utc).hour + 12) % 24 - 12   # -12 .. 11 hours from UTC
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")   # POSIX sign: Etc/GMT-3 is UTC+3


def reminder_slots(device, today, time_words, date_words, frequency_id, frequency_words):
    frequency = (device.slot("frequency", frequency_words, slot_type="ReminderFrequency", resolved_id=frequency_id)
                 if frequency_id else
                 device.slot("frequency", frequency_words, slot_type="ReminderFrequency", no_match=True)
                 if frequency_words else device.slot("frequency"))
    return (device.slot("time", time_words and builtin_converter("AMAZON.TIME", today)(time_words)),
            device.slot("date", date_words and builtin_converter("AMAZON.DATE", today)(date_words)),
            frequency)


def spoken_as_created(body):
    """The day, time and repeat words the created reminder means, worked out from the payload alone."""
    trigger = body["trigger"]
    at = dt.datetime.fromisoformat(trigger["scheduledTime"])
    today = dt.datetime.fromisoformat(body["requestTime"]).date()
    hour = at.hour % 12 or 12
    time = f"{hour}{f':{at.minute:02d}' if at.minute else ''} {'am' if at.hour < 12 else 'pm'}"
    rules = trigger.get("recurrence", {}).get("recurrenceRules", [])
    if rules:
        assert trigger["recurrence"]["startDateTime"] == trigger["scheduledTime"]
        rule = dict(part.split("=") for part in rules[0].split(";"))
        assert (int(rule["BYHOUR"]), int(rule["BYMINUTE"])) == (at.hour, at.minute)
        when = {("DAILY", None): "every day", ("WEEKLY", "MO,TU,WE,TH,FR"): "every weekday"}.get(
            (rule["FREQ"], rule.get("BYDAY")), f"every week on {WEEKDAYS[at.weekday()]}")
        if rule["FREQ"] == "WEEKLY" and rule["BYDAY"] != "MO,TU,WE,TH,FR":
            assert rule["BYDAY"] == ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[at.weekday()]
    elif at.date() == today:
        when = "today"
    elif at.date() == today + dt.timedelta(days=1):
        when = "tomorrow"
    else:
        when = f"on {WEEKDAYS[at.weekday()]}, {MONTHS[at.month - 1]} {at.day}"
        when += "" if at.year == today.year else f", {at.year}"
    return when, time


def expected_day(day, today, clock, now):
    if day == "next":
        return today if clock > now.time() else today + dt.timedelta(days=1)
    if day in ("today", "tomorrow", "+2"):
        return today + dt.timedelta(days={"today": 0, "tomorrow": 1, "+2": 2}[day])
    return today + dt.timedelta(days=(day - today.weekday()) % 7)


@pytest.mark.parametrize("said, slots, created", PHRASINGS, ids=[case[0] for case in PHRASINGS])
def test_the_confirmation_says_exactly_what_is_created(device, alexa_api_server, said, slots, created):
    alexa_api_server.time_zone = three_am_zone()
    now = dt.datetime.now(ZoneInfo(alexa_api_server.time_zone))
    reply = device.intent("SetReminderIntent", *reminder_slots(device, now.date(), *slots))
    confirm_and_check_created(device, alexa_api_server, reply, created, now)


# Whole sentences through the simulator's reading of the interaction model, as Alexa would split them.
SENTENCES = [
    ("remind me to stretch tomorrow at seven", ("07:00", "tomorrow", None)),
    ("remind me to stretch tonight at seven", ("19:00", "today", None)),
    ("remind me to stretch in the evening", ("19:00", "today", None)),
    ("remind me to stretch on friday at half past six in the evening", ("18:30", FR, None)),
    ("set a stretch reminder for tomorrow at eight in the morning", ("08:00", "tomorrow", None)),
    ("remind me to stretch every day at seven", ("07:00", "next", "DAILY")),
    ("remind me to stretch every weekday at seven", ("07:00", "next", "WEEKDAYS")),
    ("remind me to stretch every monday at seven", ("07:00", MO, "WEEKLY")),
    ("remind me to stretch tomorrow morning", ("08:00", "tomorrow", None)),
    ("remind me to stretch this evening at half six", ("18:30", "today", None)),
    ("remind me to stretch every friday in the evening", ("19:00", FR, "WEEKLY")),
    ("set a reminder for seven tonight", ("19:00", "today", None)),
]


@pytest.mark.parametrize("sentence, created", SENTENCES, ids=[case[0] for case in SENTENCES])
def test_sentences_are_confirmed_and_created_as_said(device, alexa_api_server, sentence, created):
    alexa_api_server.time_zone = three_am_zone()
    now = dt.datetime.now(ZoneInfo(alexa_api_server.time_zone))
    resolver = UtteranceResolver(load_model(PROJECT_ROOT / "interaction_model" / "en-US.json"), SKILL_ID,
                                 today=now.date())
    match = resolver.match_intent(sentence)
    assert match.name == "SetReminderIntent"
    reply = device.send({"type": "IntentRequest", "dialogState": "STARTED", "intent": match.to_json()})
    confirm_and_check_created(device, alexa_api_server, reply, created, now)


def confirm_and_check_created(device, alexa_api_server, reply, created, now):
    confirmation = CONFIRMATION.search(heard(reply))
    assert confirmation, heard(reply)
    device.intent("AMAZON.YesIntent")
    [create] = creates(alexa_api_server)
    assert (confirmation["when"], confirmation["time"]) == spoken_as_created(create.body)
    # ...and it is what the user asked for.
    clock, day, repeat = created
    scheduled = dt.datetime.fromisoformat(create.body["trigger"]["scheduledTime"])
    assert scheduled.strftime("%H:%M") == clock
    if repeat in (None, "WEEKLY"):
        assert scheduled.date() == expected_day(day, now.date(), dt.time.fromisoformat(clock), now)
    rules = create.body["trigger"].get("recurrence", {}).get("recurrenceRules", [])
    repeats = {part.split("=")[0]: part.split("=")[1] for part in rules[0].split(";")} if rules else {}
    assert (repeats.get("FREQ"), repeats.get("BYDAY")) == {
        None: (None, None), "DAILY": ("DAILY", None), "WEEKDAYS": ("WEEKLY", "MO,TU,WE,TH,FR"),
        "WEEKLY": ("WEEKLY", ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[scheduled.weekday()])}[repeat]
