"""Stretch reminders: from Alexa's slot values to a schedule, its spoken description and the API body.

Pure: no SDK, no Flask. Inputs are the slot values exactly as Alexa sends them
(AMAZON.TIME "07:00" or a part of the day "MO"/"AF"/"EV"/"NI", AMAZON.DATE "2026-11-26",
the part_of_day slot's id "MO"/"AF"/"EV"/"NI", a frequency slot id and the frequency slot's raw
words), the device's IANA time zone and the current instant. Every word said back comes from
content/reminders.yaml (`ReminderWords`).

The model places {frequency} only after "every"/"each" or in "a {frequency} reminder", so a
weekday alone there ("every monday" sends "monday") repeats weekly on it; words that mark one day
("on friday", "next monday") and relative days ("tomorrow") make a one-off on that day. Alexa
sends "07:00" for both "seven" and "seven am", so an hour without a part of the day is taken as
said (7 am) and the confirmation says "7 am"; only a later part of the day, from the part_of_day
slot ("tonight at seven") or the frequency words ("every evening"), moves it to the afternoon.

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
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skill.domain.content import PLACEHOLDER, ContentError, FromContentFile

RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PART_CODES = ("MO", "AF", "EV", "NI")
# Parts of the day after noon: an hour from 1 to 11 said with one of these is pm.
_AFTERNOON_PARTS = frozenset({"AF", "EV", "NI"})

# Each phrase of content/reminders.yaml `words` and the placeholders it may hold.
PHRASES: dict[str, frozenset[str]] = {
    "today": frozenset(), "tomorrow": frozenset(), "am": frozenset(), "pm": frozenset(),
    "every_day": frozenset(), "every_weekday": frozenset(), "every_week_on": frozenset({"weekday"}),
    "on_day": frozenset({"day"}), "day": frozenset({"weekday", "month", "date"}),
    "day_in_year": frozenset({"weekday", "month", "date", "year"}),
    # {hour} is on the 12-hour clock, {hour24} on the 24-hour one ("19"): each locale says which.
    "clock": frozenset({"hour", "hour24", "minute", "meridiem"}),
    "clock_minutes": frozenset({"hour", "hour24", "minute", "meridiem"}),
}
HEARD_DAYS = ("today", "tomorrow")

_CLOCK_SLOT = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_SLOT = re.compile(r"\d{4}-\d{2}-\d{2}")
_WORD = re.compile(r"[^\W\d_]+")
# A recurring start is always found within a week, plus today when today's time has passed.
_SEARCH_DAYS = 8


@dataclass(frozen=True)
class ReminderWords(FromContentFile):
    """content/reminders.yaml `words`: what dates and times are said with, and the day words heard."""

    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    phrases: dict[str, str]
    parts_of_day: dict[str, tuple[str, dt.time]]   # code -> (word said back, clock time chosen)
    heard: dict[str, frozenset[str]]               # "today", "tomorrow", "one_off" -> lower-case words
    heard_parts: dict[str, str]                    # lower-case word -> part-of-day code
    time_zone: str | None                          # used when the device's is unknown: one-zone countries only

    @classmethod
    def parse(cls, path: Path, data: Any) -> ReminderWords:
        raw = data.get("words") if isinstance(data, dict) else None
        if not isinstance(raw, dict) or not raw.get("source"):
            raise ContentError(path, "words", "needs the words reminders are said with, and their source")
        return cls(
            weekdays=_word_list(path, raw, "weekdays", 7), months=_word_list(path, raw, "months", 12),
            phrases={name: _phrase(path, raw, name, allowed) for name, allowed in PHRASES.items()},
            parts_of_day=_parts_of_day(path, raw.get("parts_of_day")), time_zone=_time_zone(path, raw),
            **_heard(path, raw.get("heard")))

    def say(self, phrase: str, **values: object) -> str:
        return self.phrases[phrase].format_map(values)

    def weekday(self, day: dt.date) -> str:
        return self.weekdays[day.weekday()]


def _time_zone(path: Path, raw: dict) -> str | None:
    """The default time zone: given in every layer, null where the country has more than one."""
    name = raw.get("time_zone")
    if name is None and "time_zone" in raw:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ContentError(path, "words.time_zone", "is an IANA time zone (Europe/London) or null") from None
    return name


def _word_list(path: Path, raw: dict, key: str, count: int) -> tuple[str, ...]:
    words = raw.get(key)
    if not isinstance(words, list) or len(words) != count or not all(isinstance(w, str) and w.strip() for w in words):
        raise ContentError(path, f"words.{key}", f"needs {count} words")
    return tuple(words)


def _phrase(path: Path, raw: dict, name: str, allowed: frozenset[str]) -> str:
    text = raw.get(name)
    if not isinstance(text, str) or not text.strip():
        raise ContentError(path, f"words.{name}", "needs a phrase")
    unknown = set(PLACEHOLDER.findall(text)) - allowed
    if unknown:
        raise ContentError(path, f"words.{name}", f"unknown placeholders {sorted(unknown)}; allowed: {sorted(allowed)}")
    return text


def _parts_of_day(path: Path, raw: Any) -> dict[str, tuple[str, dt.time]]:
    if not isinstance(raw, dict) or set(raw) != set(PART_CODES):
        raise ContentError(path, "words.parts_of_day", f"needs exactly {list(PART_CODES)}")
    parts = {}
    for code, entry in raw.items():
        at = _parse_clock(str(entry.get("at", ""))) if isinstance(entry, dict) else None
        if at is None or not isinstance(entry.get("word"), str):
            raise ContentError(path, f"words.parts_of_day.{code}", "needs a word and a clock time 'at' like 19:00")
        parts[code] = (entry["word"], at)
    return parts


def _heard(path: Path, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ContentError(path, "words.heard", "needs the day words heard in slots")
    heard = {}
    for key in (*HEARD_DAYS, "one_off"):
        words = raw.get(key)
        if not isinstance(words, list) or not words:
            raise ContentError(path, f"words.heard.{key}", "needs a list of words")
        heard[key] = frozenset(str(word).casefold() for word in words)
    parts = raw.get("parts_of_day")
    if not isinstance(parts, dict) or not set(parts) <= set(PART_CODES):
        raise ContentError(path, "words.heard.parts_of_day", f"maps {list(PART_CODES)} to words")
    return {"heard": heard,
            "heard_parts": {str(word).casefold(): code for code, words in parts.items() for word in words}}


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


@dataclass(frozen=True)
class _Heard:
    """What the frequency slot's raw words say: a day offset or weekday, a one-off marker, a part of the day."""

    day_offset: int | None = None
    weekday: int | None = None
    one_off: bool = False
    part: str | None = None

    @property
    def names_a_day(self) -> bool:
        return self.day_offset is not None or self.weekday is not None


def _hear(words_said: str | None, words: ReminderWords) -> _Heard:
    tokens = _WORD.findall((words_said or "").casefold())
    weekdays = [name.casefold() for name in words.weekdays]
    offset = next((HEARD_DAYS.index(day) for token in tokens for day in HEARD_DAYS
                   if token in words.heard[day]), None)
    weekday = next((weekdays.index(token) for token in tokens if token in weekdays), None)
    return _Heard(day_offset=offset, weekday=weekday,
                  one_off=any(token in words.heard["one_off"] for token in tokens),
                  part=next((words.heard_parts[token] for token in tokens if token in words.heard_parts), None))


def _part_said(part_slot: str | None, heard: _Heard) -> str | None:
    """The part_of_day slot's id, else a part of the day among the frequency words."""
    part = (part_slot or "").strip().upper()
    return part if part in PART_CODES else heard.part


def time_said(time_slot: str | None, frequency_words: str | None, words: ReminderWords,
              part_slot: str | None = None) -> bool:
    """Whether the slots give a time (or a part of the day) to plan with; if not, ask for it first."""
    return _clock_time(time_slot, _part_said(part_slot, _hear(frequency_words, words)), words) is not None


def plan_reminder(*, time_slot: str | None, date_slot: str | None, frequency_slot: str | None,
                  frequency_words: str | None = None, part_slot: str | None = None, words: ReminderWords,
                  time_zone: str, now: dt.datetime) -> ReminderPlan | PlanIssue:
    """The reminder the slots describe, or the question still to ask.

    `frequency_slot` is the resolved id (None when Alexa matched none), `frequency_words` the slot's
    raw words: a relative day or a marked weekday among them ("tomorrow", "on friday") makes a
    one-off on that day, a weekday alone ("monday" from "every monday") a weekly reminder on it.
    `part_slot` is the part_of_day slot's id; it, or a part of the day among the frequency words
    ("every evening"), sets the half of the day, or the time when none was said. A part of the day
    that names today ("tonight") needs no date: without one, a one-off is at the next such time.
    `now` must be timezone-aware; `time_zone` must be a known IANA name (ZoneInfo raises otherwise).
    Without a date, a one-off whose time has passed today is for tomorrow, and a recurring
    reminder starts at its next occurrence.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    heard = _hear(frequency_words, words)
    clock = _clock_time(time_slot, _part_said(part_slot, heard), words)
    if clock is None:
        return PlanIssue.NEEDS_TIME
    # Compared on the user's wall clock, as reminders are set: a time a DST jump skipped today counts as gone.
    wall_now = now.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    today = wall_now.date()
    day = None
    if date_slot:
        day = _parse_day(date_slot)
        if day is None:
            return PlanIssue.NEEDS_DATE
    elif heard.day_offset is not None:
        day = today + dt.timedelta(days=heard.day_offset)
    frequency = _frequency(frequency_slot, heard)
    if frequency is Frequency.ONCE and day is not None:
        first = dt.datetime.combine(day, clock.at)
        if first <= wall_now:
            return PlanIssue.IN_PAST
        return _plan(first, frequency, clock, time_zone, wall_now, words, spoken_start=None)
    return _recurring_or_next(frequency, clock, day, heard.weekday, time_zone, wall_now, words)


def _frequency(slot_id: str | None, heard: _Heard) -> Frequency:
    """A day word is the date, never a repeat; a weekday without a one-off marker repeats on it."""
    if heard.weekday is not None and not heard.one_off and heard.day_offset is None:
        return Frequency.WEEKLY
    if heard.names_a_day:
        return Frequency.ONCE
    return Frequency.from_slot(slot_id)


def _clock_time(value: str | None, heard_part: str | None, words: ReminderWords) -> _ClockTime | None:
    value = (value or "").strip().upper() or (heard_part or "")
    if value in words.parts_of_day:
        word, at = words.parts_of_day[value]
        return _ClockTime(at, word)
    at = _parse_clock(value)
    if at is None:
        return None
    if heard_part in _AFTERNOON_PARTS and 1 <= at.hour <= 11:
        at = at.replace(hour=at.hour + 12)
    return _ClockTime(at, None)


def _parse_clock(value: str) -> dt.time | None:
    match = _CLOCK_SLOT.fullmatch(value)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def _parse_day(value: str) -> dt.date | None:
    """A single calendar day; AMAZON.DATE's weeks, months, weekends and decades are not one."""
    value = value.strip()
    if not _DAY_SLOT.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:  # e.g. 2026-02-30
        return None


def _recurring_or_next(frequency: Frequency, clock: _ClockTime, day: dt.date | None, weekday: int | None,
                       time_zone: str, wall_now: dt.datetime, words: ReminderWords) -> ReminderPlan:
    """A recurring reminder (from `day` if given), or a one-off at the next time the clock shows `clock`
    (on `weekday` if one was said)."""
    today = wall_now.date()
    allowed = _allowed_days(frequency, day, weekday)
    first = _first_alert(max(day or today, today), clock.at, allowed, wall_now)
    natural_first = _first_alert(today, clock.at, allowed, wall_now)
    later_start = frequency.recurring and first.date() > natural_first.date()
    spoken_start = _spoken_date(first.date(), today, words) if later_start else None
    return _plan(first, frequency, clock, time_zone, wall_now, words, spoken_start=spoken_start)


def _plan(first: dt.datetime, frequency: Frequency, clock: _ClockTime, time_zone: str,
          wall_now: dt.datetime, words: ReminderWords, *, spoken_start: str | None) -> ReminderPlan:
    return ReminderPlan(
        scheduled=first,
        time_zone=time_zone,
        frequency=frequency,
        recurrence_rule=_recurrence_rule(frequency, first),
        spoken_time=spoken_clock_time(first.time(), words),
        spoken_when=_spoken_when(frequency, first.date(), wall_now.date(), words),
        spoken_start=spoken_start,
        part_of_day=clock.part_of_day,
    )


def _allowed_days(frequency: Frequency, day: dt.date | None, weekday: int | None) -> Callable[[dt.date], bool]:
    if frequency is Frequency.WEEKDAYS:
        return lambda candidate: candidate.weekday() < 5
    if weekday is None and frequency is Frequency.WEEKLY and day is not None:
        weekday = day.weekday()
    if weekday is not None and frequency in (Frequency.WEEKLY, Frequency.ONCE):
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


def spoken_clock_time(at: dt.time, words: ReminderWords) -> str:
    """The time as the locale says it: "7 am", "6:30 pm", "12 pm" for noon on the 12-hour clock;
    "19:00" on the 24-hour one."""
    values = {"hour": at.hour % 12 or 12, "hour24": f"{at.hour:02d}", "minute": f"{at.minute:02d}",
              "meridiem": words.say("am" if at.hour < 12 else "pm")}
    return words.say("clock_minutes" if at.minute else "clock", **values)


def _spoken_when(frequency: Frequency, first_day: dt.date, today: dt.date, words: ReminderWords) -> str:
    if frequency is Frequency.DAILY:
        return words.say("every_day")
    if frequency is Frequency.WEEKDAYS:
        return words.say("every_weekday")
    if frequency is Frequency.WEEKLY:
        return words.say("every_week_on", weekday=words.weekday(first_day))
    if first_day == today:
        return words.say("today")
    if first_day == today + dt.timedelta(days=1):
        return words.say("tomorrow")
    return words.say("on_day", day=_spoken_date(first_day, today, words))


def _spoken_date(day: dt.date, today: dt.date, words: ReminderWords) -> str:
    """Like "Friday, November 27"; the year only when it is not this year."""
    values = {"weekday": words.weekday(day), "month": words.months[day.month - 1], "date": day.day}
    if day.year == today.year:
        return words.say("day", **values)
    return words.say("day_in_year", **values, year=day.year)


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
