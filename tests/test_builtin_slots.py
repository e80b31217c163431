"""The simulator's AMAZON.TIME and AMAZON.DATE values: the forms Alexa sends for what runners say.

Alexa sends times as "07:00", parts of the day as MO/AF/EV/NI, single days as ISO dates, weeks
as "2026-W49", weekends as "2026-W49-WE" and months as "2026-12". A bare hour ("seven") carries
no am or pm, so it arrives as that hour of the morning.
"""
from datetime import date

import pytest

from skill.simulator.builtin_slots import builtin_converter, canonical_date, canonical_time

# Thursday 3 December 2026.
TODAY = date(2026, 12, 3)


@pytest.mark.parametrize("spoken, sent", [
    ("seven", "07:00"), ("seven o'clock", "07:00"), ("seven pm", "19:00"), ("seven am", "07:00"),
    ("eight in the morning", "08:00"), ("seven in the evening", "19:00"),
    ("seven o'clock in the evening", "19:00"), ("three in the afternoon", "15:00"),
    ("half past six in the evening", "18:30"), ("half past six", "06:30"), ("quarter past seven", "07:15"),
    ("half six", "06:30"), ("half seven pm", "19:30"),
    ("quarter to seven", "06:45"), ("quarter to seven pm", "18:45"), ("ten past eight pm", "20:10"),
    ("twenty to eight in the morning", "07:40"), ("twenty five minutes past six pm", "18:25"),
    ("eleven at night", "23:00"), ("two at night", "02:00"), ("twelve at night", "00:00"),
    ("noon", "12:00"), ("at noon", "12:00"), ("midnight", "00:00"), ("six thirty", "06:30"),
    ("morning", "MO"), ("in the morning", "MO"), ("this afternoon", "AF"), ("in the evening", "EV"),
    ("this evening", "EV"), ("tonight", "NI"), ("at night", "NI"),
])
def test_times_are_sent_as_alexa_sends_them(spoken, sent):
    assert canonical_time(spoken) == sent


@pytest.mark.parametrize("spoken", ["whenever", "half past", "half", "quarter to", "thirteen pm", "sixty past six"])
def test_what_is_not_a_time_is_left_as_free_text(spoken):
    assert canonical_time(spoken) is None


@pytest.mark.parametrize("spoken, sent", [
    ("today", "2026-12-03"), ("tonight", "2026-12-03"), ("this evening", "2026-12-03"),
    ("this morning", "2026-12-03"), ("tomorrow", "2026-12-04"), ("tomorrow morning", "2026-12-04"),
    ("tomorrow night", "2026-12-04"), ("the day after tomorrow", "2026-12-05"),
    ("thursday", "2026-12-03"), ("on friday", "2026-12-04"), ("friday evening", "2026-12-04"),
    ("next monday", "2026-12-07"), ("this sunday", "2026-12-06"),
    ("december fourth", "2026-12-04"), ("the fourth of december", "2026-12-04"),
    ("december the twenty first", "2026-12-21"), ("december twenty one", "2026-12-21"),
    ("november fifth", "2027-11-05"),                      # gone this year: next year's
    ("december", "2026-12"), ("january", "2027-01"),
    ("this week", "2026-W49"), ("next week", "2026-W50"), ("this weekend", "2026-W49-WE"),
])
def test_dates_are_sent_as_alexa_sends_them(spoken, sent):
    assert canonical_date(spoken, TODAY) == sent


@pytest.mark.parametrize("spoken", ["february thirtieth", "the evening", "someday", "may june"])
def test_what_is_not_a_date_is_left_as_free_text(spoken):
    assert canonical_date(spoken, TODAY) is None


def test_the_converters_are_found_by_slot_type():
    assert builtin_converter("AMAZON.TIME", TODAY)("seven pm") == "19:00"
    assert builtin_converter("AMAZON.DATE", TODAY)("tomorrow") == "2026-12-04"
    assert builtin_converter("ReminderFrequency", TODAY) is None
