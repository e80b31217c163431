"""The locales the skill serves, and what each must and must never say, from content alone.

A served locale is one with an interaction model in interaction_model/. Every conversation test and
the triage walk run in each of them (tests/test_conversations.py, tests/test_triage_paths_spoken.py).
"""
from __future__ import annotations

import functools
import re

from skill.domain.speech import speak
from skill.handlers.turn import Services
from skill.runtime import load_services
from skill.settings import PROJECT_ROOT, Settings
from skill.simulator.render import ssml_to_text

SERVED = tuple(sorted(path.stem for path in (PROJECT_ROOT / "interaction_model").glob("*.json")))


@functools.cache
def _all_services():
    return load_services(Settings(dev_mode=True))


def services(locale: str | None) -> Services:
    return _all_services().for_locale(locale)


def spoken(text: str, locale: str) -> str:
    """Content text as the listener hears it in `locale`: "call triple zero", "call 999"."""
    return ssml_to_text(speak([services(locale).composer.spoken(text, locale)]))


def guidance_heard(locale: str, *, full: bool, urgency: str) -> str:
    return spoken(services(locale).composer.guidance_line(full=full, urgency=urgency), locale)


def number_heard(locale: str) -> str:
    return spoken("{emergency_number}", locale)


def marks(locale: str) -> set[str]:
    """What names a place: its emergency number as written and as said, and its urgent-care service."""
    places = services(locale).content.places
    emergency = places.emergency(locale)
    return {mark for mark in (emergency.number, emergency.said, places.urgent_care.get(locale)) if mark}


def foreign_marks(locale: str) -> list[re.Pattern[str]]:
    """Every other served locale's numbers and services that `locale` doesn't share: never heard here."""
    others = set().union(*(marks(other) for other in SERVED if other != locale)) - marks(locale)
    return [re.compile(rf"(?<![\w]){re.escape(mark)}(?![\w])", re.I) for mark in sorted(others)]


def foreign_marks_in(text: str, locale: str) -> list[str]:
    return [pattern.pattern for pattern in foreign_marks(locale) if pattern.search(text)]
