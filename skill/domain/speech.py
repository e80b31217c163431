"""The one speech composer: every spoken response is built here.

It owns the rules that must hold for every answer: the emergency and see-a-doctor guidance
(full on a session's first response, short after, and never softer than the answer's own
urgency), SSML escaping, Alexa's length limits, pauses of at most 10 s, and the end-of-session rule
(a response that keeps the session open ends with a question and carries a reprompt; a
closing one ends with a statement).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence, Union

from skill.domain.content import Content, ContentError
from skill.domain.triage import URGENCIES

MAX_SSML_CHARS = 8000          # Alexa's limit for outputSpeech and reprompt
MAX_CARD_CHARS = 8000          # title + text of a card
MAX_BREAK_SECONDS = 10         # the longest <break> Alexa accepts
GUIDANCE_GAP = '<break time="300ms"/>'
EMERGENCY_NUMBER = "{emergency_number}"
ROUTINE_URGENCY = URGENCIES[-1]   # self care: the routine guidance fits


@dataclass(frozen=True)
class Pause:
    """Silence inside an answer, e.g. while a stretch is held."""
    seconds: float


Part = Union[str, Pause]


@dataclass(frozen=True)
class Reply:
    """A composed response, independent of the SDK."""
    ssml: str
    reprompt_ssml: str | None
    card_title: str
    card_text: str
    body_text: str              # the answer alone, as plain text, for screens
    end_session: bool


def escape(text: str) -> str:
    """SSML is XML: content must not open tags or entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def breaks(seconds: float) -> str:
    """A pause as <break> tags of at most 10 s each (Alexa rejects longer ones)."""
    remaining = round(seconds * 1000)
    tags = []
    while remaining > 0:
        chunk = min(remaining, MAX_BREAK_SECONDS * 1000)
        tags.append(f'<break time="{chunk}ms"/>' if chunk % 1000 else f'<break time="{chunk // 1000}s"/>')
        remaining -= chunk
    return "".join(tags)


def speak(fragments: Sequence[str]) -> str:
    return "<speak>" + " ".join(fragment for fragment in fragments if fragment) + "</speak>"


def most_urgent(urgencies: Sequence[str | None]) -> str:
    """The most urgent of `urgencies` (None: no advice of its own), self care when there is none."""
    return min((u for u in urgencies if u is not None), key=URGENCIES.index, default=ROUTINE_URGENCY)


class SpeechComposer:
    def __init__(self, content: Content):
        self._content = content
        for item in content.items():
            if item.urgency is not None and item.urgency not in URGENCIES:
                raise ContentError("content", f"{item.key}.urgency", f"{item.urgency!r} is not one of {URGENCIES}")
        for urgency in URGENCIES:
            for full in (True, False):
                content.say(self._guidance_key(urgency, full))   # every variant exists, or start-up stops
        # Per composer, so bounded by the request locales it meets (a forged one included).
        self._said_number = functools.lru_cache(maxsize=64)(self._number_as_said)

    def fill(self, text: str, locale: str | None) -> str:
        """Text for a card or a screen; content validation guarantees {emergency_number} is the only
        placeholder left."""
        return text.replace(EMERGENCY_NUMBER, self._content.emergency_number(locale))

    def spoken(self, text: str, locale: str | None) -> str:
        """Text as SSML: escaped, and the emergency number said so it can't be misheard: its spoken
        name where it has one ("triple zero"), else digit by digit ("nine nine nine", never "nine
        hundred and ninety-nine")."""
        return escape(text).replace(EMERGENCY_NUMBER, self._said_number(locale))

    def _number_as_said(self, locale: str | None) -> str:
        emergency = self._content.places.emergency(locale)
        if emergency.said:
            return escape(emergency.said)
        if emergency.number.isdigit():
            return f'<say-as interpret-as="digits">{emergency.number}</say-as>'
        return escape(emergency.number)

    @staticmethod
    def _guidance_key(urgency: str, full: bool) -> str:
        form = "full" if full else "short"
        return f"guidance.{form}" if urgency == ROUTINE_URGENCY else f"guidance.urgency.{urgency}.{form}"

    def guidance_line(self, *, full: bool, urgency: str = ROUTINE_URGENCY) -> str:
        """Both lines, emergency and see-a-doctor, at the answer's urgency; the number not yet filled."""
        return self._content.say(self._guidance_key(urgency, full))

    def guidance(self, locale: str | None, *, full: bool, urgency: str = ROUTINE_URGENCY) -> str:
        """The guidance as a card or a screen shows it."""
        return self.fill(self.guidance_line(full=full, urgency=urgency), locale)

    def compose(self, body: Sequence[Part], *, locale: str | None, full_guidance: bool,
                question: str | None, card_title: str, reprompt: str | None = None,
                urgency: str = ROUTINE_URGENCY) -> Reply:
        """Body, then the guidance at `urgency`, then the question that keeps the session open (if any).

        No question means the session closes and the response ends with the guidance, a statement.
        """
        if question is not None and not question.rstrip().endswith("?"):
            raise ValueError(f"a response that keeps the session open must end with a question: {question!r}")
        parts = [self._render(part, locale) for part in body]
        tail = [GUIDANCE_GAP, self.spoken(self.guidance_line(full=full_guidance, urgency=urgency), locale)]
        if question is not None:
            tail.append(self.spoken(question, locale))
        ssml = self._fit(parts, tail)
        reprompt_text = reprompt or question
        reprompt_ssml = speak([self.spoken(reprompt_text, locale)]) if reprompt_text else None
        body_text = " ".join(self.fill(part, locale) for part in body if isinstance(part, str))
        return Reply(
            ssml=ssml,
            reprompt_ssml=reprompt_ssml,
            card_title=card_title,
            card_text=self._card_text(body_text, locale, urgency),
            body_text=body_text,
            end_session=question is None,
        )

    def _render(self, part: Part, locale: str | None) -> str:
        if isinstance(part, Pause):
            return breaks(part.seconds)
        return self.spoken(part, locale)

    @staticmethod
    def _fit(parts: list[str], tail: list[str]) -> str:
        """Drop trailing body parts until the speech fits; the guidance and question always stay."""
        while True:
            ssml = speak(parts + tail)
            if len(ssml) <= MAX_SSML_CHARS or not parts:
                break
            parts = parts[:-1]
        if len(ssml) > MAX_SSML_CHARS:
            raise ValueError("guidance and question alone exceed Alexa's speech limit")
        return ssml

    def _card_text(self, text: str, locale: str | None, urgency: str) -> str:
        """The card repeats the answer and always the full guidance, for reading in the Alexa app."""
        guidance = self.guidance(locale, full=True, urgency=urgency)
        card = f"{text}\n\n{self._content.say('guidance.card_heading')}: {guidance}".strip()
        return card[:MAX_CARD_CHARS]
