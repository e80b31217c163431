"""The pure reminder domain: slot values + time zone + now -> plan, spoken fields, API body."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
import yaml

from skill.domain.content import ContentError
from skill.domain.reminders import (
    Frequency,
    PlanIssue,
    ReminderPlan,
    ReminderWords,
    is_stretch_reminder,
    plan_reminder,
    time_said,
    to_request_body,
)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
WORDS = ReminderWords.load(CONTENT_DIR / "reminders.yaml")
NEW_YORK = "America/New_York"
# Wednesday 25 November 2026, 10:00 in New York.
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo(NEW_YORK))
ZONE_SUFFIX = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})")


def plan(time_slot: str | None = "07:00", date_slot: str | None = None, frequency_slot: str | None = None,
         frequency_words: str | None = None, part_slot: str | None = None, time_zone: str = NEW_YORK,
         now: dt.datetime = NOW) -> ReminderPlan | PlanIssue:
    return plan_reminder(time_slot=time_slot, date_slot=date_slot, frequency_slot=frequency_slot,
                         frequency_words=frequency_words, part_slot=part_slot, words=WORDS, time_zone=time_zone,
                         now=now)


def a_plan(**arguments: Any) -> ReminderPlan:
    result = plan(**arguments)
    assert isinstance(result, ReminderPlan), result
    return result


# --- one-off reminders ---------------------------------------------------------------------------

def test_a_time_already_past_today_is_for_tomorrow() -> None:
    reminder = a_plan(time_slot="07:00")
    assert reminder.scheduled == dt.datetime(2026, 11, 26, 7, 0)
    assert (reminder.spoken_when, reminder.spoken_time) == ("tomorrow", "7 am")
    assert reminder.frequency is Frequency.ONCE
    assert reminder.recurrence_rule is None


def test_a_time_still_ahead_today_is_today() -> None:
    reminder = a_plan(time_slot="18:30")
    assert reminder.scheduled == dt.datetime(2026, 11, 25, 18, 30)
    assert (reminder.spoken_when, reminder.spoken_time) == ("today", "6:30 pm")


def test_the_current_minute_counts_as_past() -> None:
    assert a_plan(time_slot="10:00").scheduled == dt.datetime(2026, 11, 26, 10, 0)


@pytest.mark.parametrize(("date_slot", "scheduled", "spoken_when"), [
    ("2026-11-25", dt.datetime(2026, 11, 25, 18, 30), "today"),
    ("2026-11-26", dt.datetime(2026, 11, 26, 18, 30), "tomorrow"),
    ("2026-11-27", dt.datetime(2026, 11, 27, 18, 30), "on Friday, November 27"),
    ("2027-01-08", dt.datetime(2027, 1, 8, 18, 30), "on Friday, January 8, 2027"),
])
def test_a_one_off_on_a_given_day(date_slot: str, scheduled: dt.datetime, spoken_when: str) -> None:
    reminder = a_plan(time_slot="18:30", date_slot=date_slot)
    assert (reminder.scheduled, reminder.spoken_when, reminder.spoken_start) == (scheduled, spoken_when, None)


@pytest.mark.parametrize("date_slot", ["2026-11-25", "2026-11-20"])
def test_a_one_off_whose_day_and_time_have_gone_is_refused(date_slot: str) -> None:
    assert plan(time_slot="07:00", date_slot=date_slot) is PlanIssue.IN_PAST


# --- the time slot -------------------------------------------------------------------------------

@pytest.mark.parametrize("time_slot", [None, "", "  ", "?", "25:00", "07:60", "7pm", "T07:00", "XX"])
def test_no_usable_time_needs_the_time(time_slot: str | None) -> None:
    assert plan(time_slot=time_slot) is PlanIssue.NEEDS_TIME


@pytest.mark.parametrize(("time_slot", "scheduled", "spoken_time", "part_of_day"), [
    ("MO", dt.datetime(2026, 11, 26, 8, 0), "8 am", "morning"),
    ("AF", dt.datetime(2026, 11, 25, 14, 0), "2 pm", "afternoon"),
    ("EV", dt.datetime(2026, 11, 25, 19, 0), "7 pm", "evening"),
    ("NI", dt.datetime(2026, 11, 25, 21, 0), "9 pm", "night"),
    ("ev", dt.datetime(2026, 11, 25, 19, 0), "7 pm", "evening"),
])
def test_a_part_of_the_day_becomes_a_clock_time_and_says_so(
        time_slot: str, scheduled: dt.datetime, spoken_time: str, part_of_day: str) -> None:
    reminder = a_plan(time_slot=time_slot)
    assert (reminder.scheduled, reminder.spoken_time, reminder.part_of_day) == (scheduled, spoken_time, part_of_day)


def test_an_exact_time_names_no_part_of_the_day() -> None:
    assert a_plan(time_slot="19:00").part_of_day is None


@pytest.mark.parametrize(("time_slot", "spoken_time"), [
    ("00:00", "12 am"), ("00:15", "12:15 am"), ("9:05", "9:05 am"), ("12:00", "12 pm"),
    ("12:30", "12:30 pm"), ("13:05", "1:05 pm"), ("23:59", "11:59 pm"),
])
def test_the_time_is_spoken_on_a_twelve_hour_clock(time_slot: str, spoken_time: str) -> None:
    assert a_plan(time_slot=time_slot).spoken_time == spoken_time


# --- the date slot -------------------------------------------------------------------------------

@pytest.mark.parametrize("date_slot", ["2026-W48", "2026-W48-WE", "2026-11", "2026", "201X", "PRESENT_REF",
                                       "2026-02-30", "next week"])
def test_a_date_that_is_not_one_day_needs_the_day(date_slot: str) -> None:
    assert plan(date_slot=date_slot) is PlanIssue.NEEDS_DATE


def test_the_time_is_asked_before_the_date() -> None:
    assert plan(time_slot=None, date_slot="2026-W48") is PlanIssue.NEEDS_TIME


# --- recurring reminders -------------------------------------------------------------------------

def test_daily_starts_at_the_next_occurrence() -> None:
    reminder = a_plan(time_slot="07:00", frequency_slot="DAILY")
    assert reminder.scheduled == dt.datetime(2026, 11, 26, 7, 0)
    assert reminder.recurrence_rule == "FREQ=DAILY;BYHOUR=7;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    assert (reminder.spoken_when, reminder.spoken_start) == ("every day", None)


def test_weekdays_skip_the_weekend() -> None:
    friday_evening = dt.datetime(2026, 11, 27, 20, 0, tzinfo=ZoneInfo(NEW_YORK))
    reminder = a_plan(time_slot="18:45", frequency_slot="WEEKDAYS", now=friday_evening)
    assert reminder.scheduled == dt.datetime(2026, 11, 30, 18, 45)  # Monday
    assert reminder.recurrence_rule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=18;BYMINUTE=45;BYSECOND=0;INTERVAL=1"
    assert (reminder.spoken_when, reminder.spoken_start) == ("every weekday", None)


def test_weekly_without_a_date_repeats_on_the_first_day() -> None:
    reminder = a_plan(time_slot="07:00", frequency_slot="WEEKLY")
    assert reminder.scheduled == dt.datetime(2026, 11, 26, 7, 0)
    assert reminder.recurrence_rule == "FREQ=WEEKLY;BYDAY=TH;BYHOUR=7;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    assert reminder.spoken_when == "every week on Thursday"


def test_weekly_on_a_given_date_repeats_on_that_weekday() -> None:
    reminder = a_plan(time_slot="17:00", date_slot="2026-11-27", frequency_slot="WEEKLY")
    assert reminder.scheduled == dt.datetime(2026, 11, 27, 17, 0)
    assert reminder.recurrence_rule == "FREQ=WEEKLY;BYDAY=FR;BYHOUR=17;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    assert (reminder.spoken_when, reminder.spoken_start) == ("every week on Friday", None)


def test_weekly_on_today_whose_time_has_gone_starts_next_week() -> None:
    reminder = a_plan(time_slot="07:00", date_slot="2026-11-25", frequency_slot="WEEKLY")
    assert reminder.scheduled == dt.datetime(2026, 12, 2, 7, 0)
    assert reminder.spoken_when == "every week on Wednesday"
    assert reminder.spoken_start is None  # next Wednesday is its natural first occurrence


@pytest.mark.parametrize(("frequency_slot", "date_slot", "scheduled", "spoken_start"), [
    ("WEEKLY", "2026-12-03", dt.datetime(2026, 12, 3, 7, 0), "Thursday, December 3"),
    ("DAILY", "2026-12-01", dt.datetime(2026, 12, 1, 7, 0), "Tuesday, December 1"),
    ("WEEKDAYS", "2026-11-28", dt.datetime(2026, 11, 30, 7, 0), "Monday, November 30"),
    ("DAILY", "2027-01-04", dt.datetime(2027, 1, 4, 7, 0), "Monday, January 4, 2027"),
])
def test_a_recurring_reminder_that_starts_later_says_when(
        frequency_slot: str, date_slot: str, scheduled: dt.datetime, spoken_start: str) -> None:
    reminder = a_plan(time_slot="07:00", date_slot=date_slot, frequency_slot=frequency_slot)
    assert (reminder.scheduled, reminder.spoken_start) == (scheduled, spoken_start)


def test_a_recurring_reminder_from_a_past_date_starts_at_the_next_occurrence() -> None:
    reminder = a_plan(time_slot="07:00", date_slot="2026-11-02", frequency_slot="DAILY")
    assert (reminder.scheduled, reminder.spoken_start) == (dt.datetime(2026, 11, 26, 7, 0), None)


@pytest.mark.parametrize(("frequency_slot", "frequency"), [
    (None, Frequency.ONCE), ("", Frequency.ONCE), ("ONCE", Frequency.ONCE), ("daily", Frequency.DAILY),
    (" WEEKDAYS ", Frequency.WEEKDAYS), ("FORTNIGHTLY", Frequency.ONCE),
])
def test_frequency_slot_ids(frequency_slot: str | None, frequency: Frequency) -> None:
    assert a_plan(frequency_slot=frequency_slot).frequency is frequency


# --- time zones and DST --------------------------------------------------------------------------

@pytest.mark.parametrize(("time_zone", "scheduled", "spoken_when"), [
    # The same instant, 15:00 UTC on 25 November, is a different local day and hour in each zone.
    ("America/New_York", dt.datetime(2026, 11, 26, 7, 0), "tomorrow"),       # 10:00
    ("America/Los_Angeles", dt.datetime(2026, 11, 26, 7, 0), "tomorrow"),    # 07:00 exactly: gone
    ("Europe/London", dt.datetime(2026, 11, 26, 7, 0), "tomorrow"),          # 15:00
    ("Asia/Tokyo", dt.datetime(2026, 11, 26, 7, 0), "today"),                # 00:00 on the 26th
    ("Pacific/Kiritimati", dt.datetime(2026, 11, 26, 7, 0), "today"),        # 05:00 on the 26th
    ("Pacific/Pago_Pago", dt.datetime(2026, 11, 25, 7, 0), "today"),         # 04:00 on the 25th
])
def test_today_and_tomorrow_are_the_devices(time_zone: str, scheduled: dt.datetime, spoken_when: str) -> None:
    instant = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.timezone.utc)
    reminder = a_plan(time_slot="07:00", time_zone=time_zone, now=instant)
    assert (reminder.scheduled, reminder.spoken_when, reminder.time_zone) == (scheduled, spoken_when, time_zone)


@pytest.mark.parametrize(("utc_now", "time_slot", "scheduled"), [
    # New York springs forward at 02:00 EST on 8 March 2026, straight to 03:00 EDT.
    (dt.datetime(2026, 3, 8, 6, 50), "03:15", dt.datetime(2026, 3, 8, 3, 15)),  # 01:50 EST: still ahead
    (dt.datetime(2026, 3, 8, 7, 30), "03:15", dt.datetime(2026, 3, 9, 3, 15)),  # 03:30 EDT: gone
    (dt.datetime(2026, 3, 8, 6, 50), "02:30", dt.datetime(2026, 3, 8, 2, 30)),  # 01:50 EST: not jumped yet
    (dt.datetime(2026, 3, 8, 7, 10), "02:30", dt.datetime(2026, 3, 9, 2, 30)),  # 03:10 EDT: 02:30 was skipped
])
def test_past_or_future_across_spring_forward(utc_now: dt.datetime, time_slot: str, scheduled: dt.datetime) -> None:
    reminder = a_plan(time_slot=time_slot, now=utc_now.replace(tzinfo=dt.timezone.utc))
    assert reminder.scheduled == scheduled


@pytest.mark.parametrize(("utc_now", "scheduled"), [
    # London falls back at 02:00 BST on 25 October 2026 to 01:00 GMT; the clock shows 01:xx twice.
    (dt.datetime(2026, 10, 24, 23, 50), dt.datetime(2026, 10, 25, 1, 30)),  # 00:50 BST
    (dt.datetime(2026, 10, 25, 1, 10), dt.datetime(2026, 10, 25, 1, 30)),   # 01:10 GMT, the second pass
    (dt.datetime(2026, 10, 25, 1, 40), dt.datetime(2026, 10, 26, 1, 30)),   # 01:40 GMT
])
def test_past_or_future_across_fall_back(utc_now: dt.datetime, scheduled: dt.datetime) -> None:
    reminder = a_plan(time_slot="01:30", time_zone="Europe/London", now=utc_now.replace(tzinfo=dt.timezone.utc))
    assert reminder.scheduled == scheduled


def test_a_recurring_reminder_across_a_dst_change_stays_on_the_wall_clock() -> None:
    # Alexa applies the rule in timeZoneId, so 7 am stays 7 am on both sides of the change.
    noon_before_the_change = dt.datetime(2026, 3, 7, 17, 0, tzinfo=dt.timezone.utc)
    reminder = a_plan(time_slot="07:00", frequency_slot="DAILY", now=noon_before_the_change)
    assert to_request_body(reminder, "stretch", "en-US", noon_before_the_change)["trigger"] == {
        "type": "SCHEDULED_ABSOLUTE",
        "scheduledTime": "2026-03-08T07:00:00",
        "timeZoneId": NEW_YORK,
        "recurrence": {"startDateTime": "2026-03-08T07:00:00",
                       "recurrenceRules": ["FREQ=DAILY;BYHOUR=7;BYMINUTE=0;BYSECOND=0;INTERVAL=1"]},
    }


def test_unknown_time_zone_is_the_callers_error() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        plan(time_zone="Mars/Olympus_Mons")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        plan(now=dt.datetime(2026, 11, 25, 10, 0))


# --- the Reminders API body ----------------------------------------------------------------------

def test_one_off_body() -> None:
    reminder = a_plan(time_slot="18:30", date_slot="2026-11-27")
    body = to_request_body(reminder, "Time for your hip stretches.", "en-US", NOW)
    assert body == {
        "requestTime": "2026-11-25T10:00:00",
        "trigger": {"type": "SCHEDULED_ABSOLUTE", "scheduledTime": "2026-11-27T18:30:00", "timeZoneId": NEW_YORK},
        "alertInfo": {"spokenInfo": {"content": [{"locale": "en-US", "text": "Time for your hip stretches."}]}},
        "pushNotification": {"status": "ENABLED"},
    }


def test_recurring_body_carries_start_and_rule() -> None:
    reminder = a_plan(time_slot="07:00", frequency_slot="WEEKDAYS")
    body = to_request_body(reminder, "Stretch time.", "en-GB", NOW)
    weekdays_at_seven = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    assert body["trigger"] == {
        "type": "SCHEDULED_ABSOLUTE",
        "scheduledTime": "2026-11-26T07:00:00",
        "timeZoneId": NEW_YORK,
        "recurrence": {"startDateTime": "2026-11-26T07:00:00", "recurrenceRules": [weekdays_at_seven]},
    }
    assert body["alertInfo"]["spokenInfo"]["content"] == [{"locale": "en-GB", "text": "Stretch time."}]


@pytest.mark.parametrize("request_time", [
    dt.datetime(2026, 3, 8, 7, 30, 12, 345678, tzinfo=dt.timezone.utc),
    dt.datetime(2026, 3, 8, 3, 30, 12, tzinfo=ZoneInfo(NEW_YORK)),
    dt.datetime(2026, 3, 8, 16, 30, 12, tzinfo=ZoneInfo("Asia/Tokyo")),
])
def test_request_time_is_the_users_wall_clock_without_zone(request_time: dt.datetime) -> None:
    reminder = a_plan(time_slot="09:00", frequency_slot="DAILY", now=request_time)
    body = to_request_body(reminder, "stretch", "en-US", request_time)
    assert body["requestTime"] == "2026-03-08T03:30:12"  # EDT, the offset in force at that instant
    assert not ZONE_SUFFIX.search(json.dumps(body))


def test_request_time_must_be_aware() -> None:
    with pytest.raises(ValueError):
        to_request_body(a_plan(), "stretch", "en-US", dt.datetime(2026, 11, 25, 10, 0))


# --- recognising our reminders in a list ---------------------------------------------------------

TEXT = "Time for your hip stretches."


def alert_saying(*texts: str) -> dict[str, Any]:
    content = [{"locale": "en-US", "text": text} for text in texts]
    return {"alertToken": "t", "alertInfo": {"spokenInfo": {"content": content}}}


@pytest.mark.parametrize(("alert", "ours"), [
    (alert_saying(TEXT), True),
    (alert_saying("time for your  HIP stretches. "), True),
    (alert_saying("Take your vitamin D.", TEXT), True),
    (alert_saying("Take your vitamin D."), False),
    (alert_saying("Time for your hip stretches and a walk."), False),
    ({}, False),
    ({"alertInfo": None}, False),
    ({"alertInfo": {"spokenInfo": {"content": "Time for your hip stretches."}}}, False),
    ({"alertInfo": {"spokenInfo": {"content": [None, 3, {"text": None}, {"locale": "en-US"}]}}}, False),
])
def test_is_stretch_reminder(alert: dict, ours: bool) -> None:
    assert is_stretch_reminder(alert, TEXT) is ours


def test_is_stretch_reminder_matches_the_body_we_send() -> None:
    body = to_request_body(a_plan(), TEXT, "en-US", NOW)
    assert is_stretch_reminder({"alertToken": "t", **body}, TEXT)


# --- words in the frequency slot -------------------------------------------------------------------
# NOW is Wednesday 25 November 2026, 10:00.

@pytest.mark.parametrize(("frequency_words", "scheduled", "spoken_when"), [
    ("tomorrow", dt.datetime(2026, 11, 26, 7, 0), "tomorrow"),
    ("Tomorrow.", dt.datetime(2026, 11, 26, 7, 0), "tomorrow"),
    ("on friday", dt.datetime(2026, 11, 27, 7, 0), "on Friday, November 27"),
    ("this friday", dt.datetime(2026, 11, 27, 7, 0), "on Friday, November 27"),
    ("next monday", dt.datetime(2026, 11, 30, 7, 0), "on Monday, November 30"),
    ("coming wednesday", dt.datetime(2026, 12, 2, 7, 0), "on Wednesday, December 2"),   # today's 7 am has gone
])
def test_a_marked_day_in_the_frequency_slot_is_the_day_not_a_repeat(frequency_words, scheduled, spoken_when) -> None:
    reminder = a_plan(time_slot="07:00", frequency_words=frequency_words)
    assert (reminder.scheduled, reminder.spoken_when, reminder.frequency) == (scheduled, spoken_when, Frequency.ONCE)
    assert reminder.recurrence_rule is None


def test_a_day_word_wins_over_a_frequency_alexa_matched_to_it() -> None:
    reminder = a_plan(time_slot="07:00", frequency_slot="DAILY", frequency_words="tomorrow")
    assert (reminder.frequency, reminder.spoken_when) == (Frequency.ONCE, "tomorrow")


def test_today_in_the_frequency_slot_whose_time_has_gone_is_refused() -> None:
    assert plan(time_slot="07:00", frequency_words="today") is PlanIssue.IN_PAST


def test_the_date_slot_wins_over_a_day_in_the_frequency_slot() -> None:
    assert a_plan(time_slot="07:00", date_slot="2026-11-27", frequency_words="tomorrow").spoken_when == \
        "on Friday, November 27"


@pytest.mark.parametrize(("frequency_slot", "frequency_words", "rule_day", "scheduled"), [
    (None, "every monday", "MO", dt.datetime(2026, 11, 30, 7, 0)),
    # The model puts {frequency} after "every" or "each": the slot holds the weekday alone.
    (None, "monday", "MO", dt.datetime(2026, 11, 30, 7, 0)),
    (None, "Friday", "FR", dt.datetime(2026, 11, 27, 7, 0)),
    ("WEEKLY", "every monday", "MO", dt.datetime(2026, 11, 30, 7, 0)),
    (None, "each Friday", "FR", dt.datetime(2026, 11, 27, 7, 0)),
    ("DAILY", "every wednesday", "WE", dt.datetime(2026, 12, 2, 7, 0)),
])
def test_every_weekday_name_repeats_weekly_on_it(frequency_slot, frequency_words, rule_day, scheduled) -> None:
    reminder = a_plan(time_slot="07:00", frequency_slot=frequency_slot, frequency_words=frequency_words)
    assert reminder.frequency is Frequency.WEEKLY and reminder.scheduled == scheduled
    assert f"BYDAY={rule_day};" in reminder.recurrence_rule
    assert reminder.spoken_when == f"every week on {scheduled:%A}"


@pytest.mark.parametrize(("time_slot", "frequency_slot", "frequency_words", "scheduled", "spoken_time"), [
    ("07:00", None, "tonight", dt.datetime(2026, 11, 25, 19, 0), "7 pm"),
    ("07:00", "DAILY", "every evening", dt.datetime(2026, 11, 25, 19, 0), "7 pm"),
    ("10:00", "DAILY", "every night", dt.datetime(2026, 11, 25, 22, 0), "10 pm"),
    ("02:30", None, "this afternoon", dt.datetime(2026, 11, 25, 14, 30), "2:30 pm"),
    ("07:00", "DAILY", "every morning", dt.datetime(2026, 11, 26, 7, 0), "7 am"),
    ("19:00", "DAILY", "every evening", dt.datetime(2026, 11, 25, 19, 0), "7 pm"),   # already pm
    ("12:00", None, "tonight", dt.datetime(2026, 11, 25, 12, 0), "12 pm"),           # noon stays noon
])
def test_a_part_of_the_day_said_puts_a_bare_hour_in_it(time_slot, frequency_slot, frequency_words,
                                                       scheduled, spoken_time) -> None:
    reminder = a_plan(time_slot=time_slot, frequency_slot=frequency_slot, frequency_words=frequency_words)
    assert (reminder.scheduled, reminder.spoken_time, reminder.part_of_day) == (scheduled, spoken_time, None)


@pytest.mark.parametrize(("frequency_slot", "frequency_words", "scheduled", "part"), [
    ("DAILY", "every evening", dt.datetime(2026, 11, 25, 19, 0), "evening"),
    (None, "tomorrow morning", dt.datetime(2026, 11, 26, 8, 0), "morning"),
    (None, "tonight", dt.datetime(2026, 11, 25, 21, 0), "night"),
    (None, "every friday evening", dt.datetime(2026, 11, 27, 19, 0), "evening"),
])
def test_a_part_of_the_day_without_a_time_chooses_the_time_and_says_so(frequency_slot, frequency_words,
                                                                       scheduled, part) -> None:
    reminder = a_plan(time_slot=None, frequency_slot=frequency_slot, frequency_words=frequency_words)
    assert (reminder.scheduled, reminder.part_of_day) == (scheduled, part)


# --- the part_of_day slot ----------------------------------------------------------------------------

@pytest.mark.parametrize(("time_slot", "date_slot", "frequency_slot", "frequency_words", "part", "scheduled",
                          "spoken_when"), [
    ("07:00", None, None, None, "EV", dt.datetime(2026, 11, 25, 19, 0), "today"),            # "tonight at seven"
    ("06:30", None, None, None, "EV", dt.datetime(2026, 11, 25, 18, 30), "today"),           # "this evening at half six"
    ("07:00", "2026-11-26", None, None, "NI", dt.datetime(2026, 11, 26, 19, 0), "tomorrow"),  # "tomorrow night at seven"
    ("09:00", None, None, None, "MO", dt.datetime(2026, 11, 26, 9, 0), "tomorrow"),          # this morning's 9 has gone
    ("07:00", None, None, "friday", "EV", dt.datetime(2026, 11, 27, 19, 0), "every week on Friday"),
    ("03:00", None, "DAILY", "day", "AF", dt.datetime(2026, 11, 25, 15, 0), "every day"),
])
def test_the_part_of_day_slot_puts_a_bare_hour_in_that_half_of_the_day(time_slot, date_slot, frequency_slot,
                                                                       frequency_words, part, scheduled,
                                                                       spoken_when) -> None:
    reminder = a_plan(time_slot=time_slot, date_slot=date_slot, frequency_slot=frequency_slot,
                      frequency_words=frequency_words, part_slot=part)
    assert (reminder.scheduled, reminder.spoken_when, reminder.part_of_day) == (scheduled, spoken_when, None)


@pytest.mark.parametrize(("date_slot", "part", "scheduled", "said"), [
    (None, "NI", dt.datetime(2026, 11, 25, 21, 0), "night"),                # "tonight"
    ("2026-11-26", "MO", dt.datetime(2026, 11, 26, 8, 0), "morning"),       # "tomorrow morning"
    (None, "MO", dt.datetime(2026, 11, 26, 8, 0), "morning"),               # this morning's 8 am has gone
])
def test_the_part_of_day_slot_alone_chooses_the_time_and_says_so(date_slot, part, scheduled, said) -> None:
    assert time_said(None, None, WORDS, part)
    reminder = a_plan(time_slot=None, date_slot=date_slot, part_slot=part)
    assert (reminder.scheduled, reminder.part_of_day) == (scheduled, said)


def test_an_unknown_part_of_day_id_is_no_time() -> None:
    assert plan(time_slot=None, part_slot="LATE") is PlanIssue.NEEDS_TIME


@pytest.mark.parametrize("frequency_words", [None, "", "every day", "fortnightly", "tomorrow", "every monday"])
def test_without_a_time_or_a_part_of_the_day_the_time_is_asked(frequency_words) -> None:
    assert plan(time_slot=None, frequency_words=frequency_words) is PlanIssue.NEEDS_TIME


# --- the words come from content ---------------------------------------------------------------------

def test_every_word_said_back_comes_from_content(tmp_path) -> None:
    data = yaml.safe_load((CONTENT_DIR / "reminders.yaml").read_text(encoding="utf-8"))
    words = data["words"]
    words["weekdays"] = "lundi mardi mercredi jeudi vendredi samedi dimanche".split()
    words["months"] = ("janvier février mars avril mai juin juillet août septembre octobre novembre "
                       "décembre").split()
    words.update(tomorrow="the next day", pm="in the evening", every_week_on="each {weekday}",
                 on_day="come {day}", day="{weekday} the {date} of {month}")
    (tmp_path / "reminders.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    relabelled = ReminderWords.load(tmp_path / "reminders.yaml")
    said = plan_reminder(time_slot="19:00", date_slot="2026-11-27", frequency_slot=None, words=relabelled,
                         time_zone=NEW_YORK, now=NOW)
    assert (said.spoken_when, said.spoken_time) == ("come vendredi the 27 of novembre", "7 in the evening")
    weekly = plan_reminder(time_slot="07:00", date_slot=None, frequency_slot=None, frequency_words="every Mardi",
                           words=relabelled, time_zone=NEW_YORK, now=NOW)
    assert weekly.spoken_when == "each mardi"
    assert plan_reminder(time_slot="07:00", date_slot=None, frequency_slot=None, frequency_words="tomorrow",
                         words=relabelled, time_zone=NEW_YORK, now=NOW).spoken_when == "the next day"


@pytest.mark.parametrize(("mutate", "key"), [
    (lambda words: words.pop("source"), "words"),
    (lambda words: words["weekdays"].pop(), "words.weekdays"),
    (lambda words: words.update(every_week_on="every {day_name}"), "words.every_week_on"),
    (lambda words: words.pop("tomorrow"), "words.tomorrow"),
    (lambda words: words["parts_of_day"]["EV"].update(at="7 pm"), "words.parts_of_day.EV"),
    (lambda words: words["heard"].pop("one_off"), "words.heard.one_off"),
])
def test_broken_reminder_words_stop_start_up_naming_the_key(tmp_path, mutate, key) -> None:
    data = yaml.safe_load((CONTENT_DIR / "reminders.yaml").read_text(encoding="utf-8"))
    mutate(data["words"])
    (tmp_path / "reminders.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        ReminderWords.load(tmp_path / "reminders.yaml")
    assert raised.value.key == key


@pytest.mark.parametrize(("time_slot", "frequency_words", "said"), [
    ("07:00", None, True), ("EV", None, True), (None, "every evening", True), (None, "tonight", True),
    (None, "every day", False), (None, "tomorrow", False), ("whenever", None, False), (None, None, False),
])
def test_whether_a_time_was_said_is_known_before_the_time_zone_is_fetched(time_slot, frequency_words, said) -> None:
    assert time_said(time_slot, frequency_words, WORDS) is said
    assert (plan(time_slot=time_slot, frequency_words=frequency_words) is PlanIssue.NEEDS_TIME) is not said
