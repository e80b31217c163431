"""Spoken forms of Alexa's built-in slot types, converted to the canonical values Alexa sends.

Only the common forms are covered ("seven thirty pm", "tomorrow", "twenty one", "ten minutes");
anything else is passed through unchanged, as Alexa passes free text it cannot convert.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

_SMALL_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUES = {word: value for value, word in enumerate(_SMALL_NUMBERS)} | {
    word: 20 + 10 * index for index, word in enumerate(_TENS)
}
_SCALES = {"thousand": 1000, "million": 1_000_000}

_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
_ORDINAL_VALUES = {word: value for value, word in enumerate(_ORDINALS, start=1)} | {
    "thirtieth": 30} | {f"{tens} {word}": base + value for tens, base in (("twenty", 20), ("thirty", 30))
                        for value, word in enumerate(_ORDINALS[:9], start=1)}

_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_MONTHS = "january february march april may june july august september october november december".split()
_RELATIVE_DAYS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1, "day after tomorrow": 2}
# A day said with a part of it ("tomorrow morning", "this evening") is that day to AMAZON.DATE.
_DAY_PART_WORDS = frozenset({"morning", "afternoon", "evening", "night"})
_DAY_PARTS = {"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI", "tonight": "NI"}
_NAMED_TIMES = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}
# Phrases that say which half of the day an hour is in, longest first so "in the morning" wins over "morning".
# "at night" is pm from five to eleven and am for twelve to four ("two at night" is 2 am).
_MERIDIEM_PHRASES = (
    ("in the morning", "am"), ("in the afternoon", "pm"), ("in the evening", "pm"),
    ("at night", "night"), ("am", "am"), ("pm", "pm"),
)
# "half past six", "quarter to seven", "ten past eight": minutes before or after the hour.
_RELATIVE_CLOCK = re.compile(r"(?P<minutes>.+?)(?: minutes?)? (?P<direction>past|after|to|before) (?P<hour>.+)")
_NAMED_MINUTES = {"half": 30, "quarter": 15, "a quarter": 15}
# ISO 8601 duration designators; the bool says whether the unit belongs after the "T".
_DURATION_UNITS = {
    "second": ("S", True), "minute": ("M", True), "hour": ("H", True),
    "day": ("D", False), "week": ("W", False), "month": ("M", False), "year": ("Y", False),
}


def words_to_number(text: str) -> int | None:
    """ "twenty one" -> 21, "one hundred and five" -> 105, "42" -> 42; None if it is not a number."""
    tokens = [token for token in text.replace("-", " ").split() if token != "and"]
    if len(tokens) == 1 and tokens[0].isdigit():
        return int(tokens[0])
    if not tokens:
        return None
    total = current = 0
    for token in tokens:
        if token in _WORD_VALUES:
            current += _WORD_VALUES[token]
        elif token == "hundred":
            current = max(current, 1) * 100
        elif token in _SCALES:
            total += max(current, 1) * _SCALES[token]
            current = 0
        else:
            return None
    return total + current


def number_to_words(number: int) -> str:
    """21 -> "twenty one"; numbers of a million or more stay as digits."""
    if number >= 1_000_000:
        return str(number)
    if number < 20:
        return _SMALL_NUMBERS[number]
    if number < 100:
        tens, rest = divmod(number, 10)
        return _TENS[tens - 2] + (f" {_SMALL_NUMBERS[rest]}" if rest else "")
    scale_value, scale_name = (1000, "thousand") if number >= 1000 else (100, "hundred")
    head, rest = divmod(number, scale_value)
    return f"{number_to_words(head)} {scale_name}" + (f" {number_to_words(rest)}" if rest else "")


def spell_out_digits(text: str) -> str:
    """Sample utterances spell numbers out, so "5 miles" must become "five miles" to match them."""
    return re.sub(r"\d+", lambda digits: number_to_words(int(digits.group())), text)


def canonical_number(text: str) -> str | None:
    number = words_to_number(text)
    return None if number is None else str(number)


def _split_meridiem(text: str) -> tuple[str, str | None]:
    for phrase, meridiem in _MERIDIEM_PHRASES:
        if text.endswith(" " + phrase):
            return text[: -len(phrase) - 1], meridiem
    return text, None


def _hour_and_minute(clock: str) -> tuple[int, int] | None:
    """ "seven thirty" / "7 30" / "seven oh five" / "seven o'clock" / "half past six" -> (hour, minute)."""
    # British "half six" is half past six, not half of six.
    clock = re.sub(r"^half (?!past )(?=\S+$)", "half past ", clock)
    relative = _RELATIVE_CLOCK.fullmatch(clock)
    if relative is not None:
        return _relative_hour_and_minute(relative)
    words = clock.replace("o'clock", "").split()
    if not words:
        return None
    hour = words_to_number(words[0])
    minute_words = words[1:]
    if minute_words[:1] == ["oh"]:
        minute_words = minute_words[1:]
    minute = words_to_number(" ".join(minute_words)) if minute_words else 0
    if hour is None or minute is None or not 0 <= minute < 60:
        return None
    return hour, minute


def _relative_hour_and_minute(match: re.Match[str]) -> tuple[int, int] | None:
    minutes = _NAMED_MINUTES.get(match["minutes"]) or words_to_number(match["minutes"])
    hour = words_to_number(match["hour"])
    if minutes is None or hour is None or not 0 < minutes < 60 or not 0 <= hour < 24:
        return None
    if match["direction"] in ("past", "after"):
        return hour, minutes
    return (hour - 1) % 24 if hour else 23, 60 - minutes


def canonical_time(text: str) -> str | None:
    """ "seven am" -> "07:00", "six thirty pm" -> "18:30", "noon" -> "12:00", "evening" -> "EV".

    A bare hour ("seven") is sent as that hour of the morning ("07:00"), as Alexa sends it: the
    value carries no am or pm, so the skill cannot tell "seven" from "seven am".
    """
    text = text.removeprefix("at ")
    if text in _NAMED_TIMES:
        return _NAMED_TIMES[text]
    day_part = text.removeprefix("in the ").removeprefix("this ")
    if day_part in _DAY_PARTS:
        return _DAY_PARTS[day_part]
    clock, meridiem = _split_meridiem(text)
    parsed = _hour_and_minute(clock)
    if parsed is None:
        return None
    hour, minute = parsed
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        if meridiem == "night":
            meridiem = "pm" if 5 <= hour <= 11 else "am"
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if not 0 <= hour < 24:
        return None
    return f"{hour:02d}:{minute:02d}"


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def canonical_date(text: str, today: date) -> str | None:
    """ "tomorrow" -> "2024-05-02"; a weekday -> its next date (today if it is that day);
    "december fourth" -> its next date; "december" -> "2024-12";
    "this week"/"next week" -> "2024-W18"; "this weekend" -> "2024-W18-WE"."""
    phrase = text.removeprefix("on ").removeprefix("the ")
    day, _, part = phrase.rpartition(" ")
    if day and part in _DAY_PART_WORDS:
        phrase = "today" if day == "this" else day
    if phrase in _RELATIVE_DAYS:
        return (today + timedelta(days=_RELATIVE_DAYS[phrase])).isoformat()
    weekday = phrase.removeprefix("this ").removeprefix("next ")
    if weekday in _WEEKDAYS:
        days_ahead = (_WEEKDAYS.index(weekday) - today.weekday()) % 7
        return (today + timedelta(days=days_ahead)).isoformat()
    weeks = {"this week": 0, "next week": 1, "this weekend": 0, "next weekend": 1}
    if phrase in weeks:
        week = _iso_week(today + timedelta(weeks=weeks[phrase]))
        return week + ("-WE" if phrase.endswith("weekend") else "")
    return _calendar_date(phrase, today)


def _calendar_date(phrase: str, today: date) -> str | None:
    """ "december fourth", "december the fourth", "the fourth of december", "december four":
    the next such day on or after today; a month alone is that month ("2024-12")."""
    words = phrase.replace(" of ", " ").replace(" the ", " ").split()
    months = [word for word in words if word in _MONTHS]
    if len(months) != 1:
        return None
    month = _MONTHS.index(months[0]) + 1
    day_words = " ".join(word for word in words if word != months[0])
    year = today.year if month >= today.month else today.year + 1
    if not day_words:
        return f"{year}-{month:02d}"
    day = _ORDINAL_VALUES.get(day_words) or words_to_number(day_words)
    try:
        found = date(today.year, month, day or 0)
        if found < today:
            found = found.replace(year=today.year + 1)
    except ValueError:  # "february thirtieth"
        return None
    return found.isoformat()


def canonical_duration(text: str) -> str | None:
    """ "ten minutes" -> "PT10M", "an hour" -> "PT1H", "two weeks" -> "P2W"."""
    if text == "half an hour":
        return "PT30M"
    date_part, time_part, amount_words = "", "", []
    for token in text.split():
        unit = _DURATION_UNITS.get(token.removesuffix("s"))
        if unit is None:
            if token != "and":
                amount_words.append(token)
            continue
        amount = 1 if amount_words in (["a"], ["an"]) else words_to_number(" ".join(amount_words))
        if amount is None:
            return None
        designator, is_time = unit
        if is_time:
            time_part += f"{amount}{designator}"
        else:
            date_part += f"{amount}{designator}"
        amount_words = []
    if amount_words or not (date_part or time_part):
        return None
    return "P" + date_part + (f"T{time_part}" if time_part else "")


def builtin_converter(slot_type: str, today: date) -> Callable[[str], str | None] | None:
    """The converter for an AMAZON.* slot type, or None when its values are free text."""
    converters: dict[str, Callable[[str], str | None]] = {
        "AMAZON.NUMBER": canonical_number,
        "AMAZON.TIME": canonical_time,
        "AMAZON.DATE": lambda text: canonical_date(text, today),
        "AMAZON.DURATION": canonical_duration,
    }
    return converters.get(slot_type)
