"""Stretch reminders: from Alexa's slot values to a schedule, its spoken description and the API body.

Pure: no SDK, no Flask. Inputs are the slot values exactly as Alexa sends them
(AMAZON.TIME "07:00" or a part of the day "MO"/"AF"/"EV"/"NI", AMAZON.DATE "2026-11-26",
a frequency slot id), the device's IANA time zone and the current instant.

All times are the user's wall clock: Alexa schedules in `timeZoneId` itself and rejects
timestamps that carry "Z" or an offset, so the API body holds naive local times only.
The spoken fields are data for the speech templates in content/, never whole sentences.
"""
from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July",
               "August", "September", "October", "November", "December")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# AMAZON.TIME's parts of the day, the word we say for each and the clock time we pick for it.
PARTS_OF_DAY: dict[str, tuple[str, dt.time]] = {
    "MO": ("morning", dt.time(8)),
    "AF": ("afternoon", dt.time(14)),
    "EV": ("evening", dt.time(19)),
    "NI": ("night", dt.time(21)),
}

_CLOCK_SLOT = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_SLOT = re.compile(r"\d{4}-\d{2}-\d{2}")
# A recurring start is always found within a week, plus today when today's time has passed.
_SEARCH_DAYS = 8


class Frequency(enum.Enum):
    """The frequency slot's value ids."""

    ONCE = "ONCE"
    DAILY = "DAILY"
    WEEKDAYS = "WEEKDAYS"
    WEEKLY = "WEEKLY"

    @classmethod
    def from_slot(cls, slot_id: str | None) -> Frequency:
        """Absent or unknown ids mean a one-off; the user hears and confirms that before anything is created."""
        try:
            return cls((slot_id or cls.ONCE.value).strip().upper())
        except ValueError:
            return cls.ONCE

    @property
    def recurring(self) -> bool:
        return self is not Frequency.ONCE


class PlanIssue(enum.Enum):
    """Why no plan could be made; each asks the user one more question."""

    NEEDS_TIME = "needs_time"  # no usable time: "At what time?"
    NEEDS_DATE = "needs_date"  # a date that is not one day (a week, a month, a weekend): ask which day
    IN_PAST = "in_past"        # a one-off on a given day whose time has already gone


@dataclass(frozen=True)
class ReminderPlan:
    """One reminder, ready to confirm with the user and then create.

    The spoken_* fields fill the confirmation template, e.g. "{spoken_when} at {spoken_time}":
    spoken_when is "every day", "every weekday", "every week on Thursday", "today", "tomorrow"
    or "on Friday, November 27"; spoken_start ("Thursday, December 3") is set only when a
    recurring reminder starts later than its next natural occurrence.
    """

    scheduled: dt.datetime       # first alert, local wall clock (naive)
    time_zone: str               # IANA name, sent as timeZoneId
    frequency: Frequency
    recurrence_rule: str | None  # RFC 5545 RRULE for recurring reminders
    spoken_time: str             # "7 am", "6:30 pm"
    spoken_when: str
    spoken_start: str | None
    part_of_day: str | None      # "evening" when the user named a part of the day and we chose the clock time


@dataclass(frozen=True)
class _ClockTime:
    at: dt.time
    part_of_day: str | None


def plan_reminder(*, time_slot: str | None, date_slot: str | None, frequency_slot: str | None,
                  time_zone: str, now: dt.datetime) -> ReminderPlan | PlanIssue:
    """The reminder the slots describe, or the question still to ask.

    `now` must be timezone-aware; `time_zone` must be a known IANA name (ZoneInfo raises otherwise).
    Without a date, a one-off whose time has passed today is for tomorrow, and a recurring
    reminder starts at its next occurrence.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    clock = _parse_clock(time_slot)
    if clock is None:
        return PlanIssue.NEEDS_TIME
    day = None
    if date_slot:
        day = _parse_day(date_slot)
        if day is None:
            return PlanIssue.NEEDS_DATE
    # Compared on the user's wall clock, as reminders are set: a time a DST jump skipped today counts as gone.
    wall_now = now.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    frequency = Frequency.from_slot(frequency_slot)
    if frequency is Frequency.ONCE and day is not None:
        first = dt.datetime.combine(day, clock.at)
        if first <= wall_now:
            return PlanIssue.IN_PAST
        return _plan(first, frequency, clock, time_zone, wall_now, spoken_start=None)
    return _recurring_or_next(frequency, clock, day, time_zone, wall_now)


def _recurring_or_next(frequency: Frequency, clock: _ClockTime, day: dt.date | None,
                       time_zone: str, wall_now: dt.datetime) -> ReminderPlan:
    """A recurring reminder (from `day` if given), or a one-off at the next time the clock shows `clock`."""
    today = wall_now.date()
    allowed = _allowed_days(frequency, day)
    first = _first_alert(max(day or today, today), clock.at, allowed, wall_now)
    natural_first = _first_alert(today, clock.at, allowed, wall_now)
    later_start = frequency.recurring and first.date() > natural_first.date()
    spoken_start = _spoken_date(first.date(), today) if later_start else None
    return _plan(first, frequency, clock, time_zone, wall_now, spoken_start=spoken_start)


def _plan(first: dt.datetime, frequency: Frequency, clock: _ClockTime, time_zone: str,
          wall_now: dt.datetime, *, spoken_start: str | None) -> ReminderPlan:
    return ReminderPlan(
        scheduled=first,
        time_zone=time_zone,
        frequency=frequency,
        recurrence_rule=_recurrence_rule(frequency, first),
        spoken_time=_spoken_clock_time(first.time()),
        spoken_when=_spoken_when(frequency, first.date(), wall_now.date()),
        spoken_start=spoken_start,
        part_of_day=clock.part_of_day,
    )


def _parse_clock(value: str | None) -> _ClockTime | None:
    value = (value or "").strip().upper()
    if value in PARTS_OF_DAY:
        word, at = PARTS_OF_DAY[value]
        return _ClockTime(at, word)
    match = _CLOCK_SLOT.fullmatch(value)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return _ClockTime(dt.time(hour, minute), None)


def _parse_day(value: str) -> dt.date | None:
    """A single calendar day; AMAZON.DATE's weeks, months, weekends and decades are not one."""
    value = value.strip()
    if not _DAY_SLOT.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:  # e.g. 2026-02-30
        return None


def _allowed_days(frequency: Frequency, day: dt.date | None) -> Callable[[dt.date], bool]:
    if frequency is Frequency.WEEKDAYS:
        return lambda candidate: candidate.weekday() < 5
    if frequency is Frequency.WEEKLY and day is not None:
        weekday = day.weekday()
        return lambda candidate: candidate.weekday() == weekday
    return lambda candidate: True


def _first_alert(earliest: dt.date, at: dt.time, allowed: Callable[[dt.date], bool],
                 wall_now: dt.datetime) -> dt.datetime:
    return next(candidate for candidate in _daily_from(earliest, at)
                if allowed(candidate.date()) and candidate > wall_now)


def _daily_from(earliest: dt.date, at: dt.time) -> Iterator[dt.datetime]:
    for offset in range(_SEARCH_DAYS):
        yield dt.datetime.combine(earliest + dt.timedelta(days=offset), at)


def _recurrence_rule(frequency: Frequency, first: dt.datetime) -> str | None:
    if frequency is Frequency.ONCE:
        return None
    by_day = {
        Frequency.DAILY: None,
        Frequency.WEEKDAYS: ",".join(RRULE_DAYS[:5]),
        Frequency.WEEKLY: RRULE_DAYS[first.weekday()],
    }[frequency]
    parts = ["FREQ=DAILY" if frequency is Frequency.DAILY else "FREQ=WEEKLY"]
    if by_day:
        parts.append(f"BYDAY={by_day}")
    parts += [f"BYHOUR={first.hour}", f"BYMINUTE={first.minute}", "BYSECOND=0", "INTERVAL=1"]
    return ";".join(parts)


def _spoken_clock_time(at: dt.time) -> str:
    """12-hour clock as it is said: "7 am", "6:30 pm", "12 pm" for noon, "12:15 am" after midnight."""
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes} {suffix}"


def _spoken_when(frequency: Frequency, first_day: dt.date, today: dt.date) -> str:
    if frequency is Frequency.DAILY:
        return "every day"
    if frequency is Frequency.WEEKDAYS:
        return "every weekday"
    if frequency is Frequency.WEEKLY:
        return f"every week on {WEEKDAY_NAMES[first_day.weekday()]}"
    if first_day == today:
        return "today"
    if first_day == today + dt.timedelta(days=1):
        return "tomorrow"
    return f"on {_spoken_date(first_day, today)}"


def _spoken_date(day: dt.date, today: dt.date) -> str:
    """Like "Friday, November 27"; the year only when it is not this year."""
    spoken = f"{WEEKDAY_NAMES[day.weekday()]}, {MONTH_NAMES[day.month - 1]} {day.day}"
    return spoken if day.year == today.year else f"{spoken}, {day.year}"


def to_request_body(plan: ReminderPlan, text: str, locale: str, request_time: dt.datetime) -> dict[str, Any]:
    """The Reminders API create body (SCHEDULED_ABSOLUTE) for `plan`, saying `text` when it rings.

    `request_time` (aware, e.g. the request's timestamp) is sent as the user's wall clock too.
    """
    if request_time.tzinfo is None:
        raise ValueError("request_time must be timezone-aware")
    scheduled = _wall_clock(plan.scheduled)
    trigger: dict[str, Any] = {"type": "SCHEDULED_ABSOLUTE", "scheduledTime": scheduled, "timeZoneId": plan.time_zone}
    if plan.recurrence_rule:
        trigger["recurrence"] = {"startDateTime": scheduled, "recurrenceRules": [plan.recurrence_rule]}
    return {
        "requestTime": _wall_clock(request_time.astimezone(ZoneInfo(plan.time_zone))),
        "trigger": trigger,
        "alertInfo": {"spokenInfo": {"content": [{"locale": locale, "text": text}]}},
        "pushNotification": {"status": "ENABLED"},
    }


def _wall_clock(moment: dt.datetime) -> str:
    """ISO 8601 without "Z" or offset: the only form Alexa accepts for reminder times."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def is_stretch_reminder(alert: dict[str, Any], text: str) -> bool:
    """Whether a listed reminder is one of ours: it says our reminder `text` (case and spacing aside).

    Tolerates any shape, because the list holds every reminder the skill ever created.
    """
    wanted = _normalised(text)
    return any(_normalised(spoken) == wanted for spoken in _spoken_texts(alert))


def _spoken_texts(alert: Any) -> list[str]:
    spoken_info = _mapping(_mapping(alert).get("alertInfo")).get("spokenInfo")
    content = _mapping(spoken_info).get("content")
    if not isinstance(content, list):
        return []
    return [item["text"] for item in content if isinstance(item, dict) and isinstance(item.get("text"), str)]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def same_reminder(alert: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether a listed reminder is the one create `body` describes: same words, zone, repeat and time.

    A repeating reminder planned again later may start a day on, so only its time of day counts.
    """
    texts = _spoken_texts(body)
    if not texts or not is_stretch_reminder(alert, texts[0]):
        return False
    listed, wanted = _mapping(_mapping(alert).get("trigger")), _mapping(body.get("trigger"))
    rules = _mapping(wanted.get("recurrence")).get("recurrenceRules")
    listed_time, wanted_time = str(listed.get("scheduledTime") or ""), str(wanted.get("scheduledTime") or "")
    return (listed.get("timeZoneId") == wanted.get("timeZoneId")
            and _mapping(listed.get("recurrence")).get("recurrenceRules") == rules
            and (listed_time[11:16] == wanted_time[11:16] if rules else listed_time[:16] == wanted_time[:16]))
