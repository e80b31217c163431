"""A skill response reduced to what a person would hear and see: plain speech, reprompt, card."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Mapping

_BREAK_WITH_TIME = re.compile(r"""<break\b[^>]*?\btime\s*=\s*["']([^"']+)["'][^>]*>""")
_SUB_ALIAS = re.compile(r"""<sub\b[^>]*?\balias\s*=\s*["']([^"']*)["'][^>]*>.*?</sub>""", re.DOTALL)
_AUDIO = re.compile(r"""<audio\b[^>]*?\bsrc\s*=\s*["']([^"']*)["'][^>]*>""")
# Tags that change how words sound, not where they break: they vanish without a space ("call
# <say-as>911</say-as>." is "call 911.").
_INLINE_TAG = re.compile(r"</?(?:say-as|emphasis|prosody|lang|phoneme|w|amazon:[\w-]+)\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")


def ssml_to_text(ssml: str) -> str:
    """ "<speak>Hi <break time="3s"/> there &amp; bye</speak>" -> "Hi [pause 3s] there & bye"."""
    text = _BREAK_WITH_TIME.sub(lambda found: f" [pause {found.group(1)}] ", ssml)
    text = _SUB_ALIAS.sub(lambda found: found.group(1), text)  # Alexa says the alias, not the text
    text = _AUDIO.sub(lambda found: f" [audio {found.group(1)}] ", text)
    text = _TAG.sub(" ", _INLINE_TAG.sub("", text))
    return " ".join(html.unescape(text).split())


def speech_text(output_speech: Mapping[str, Any] | None) -> str:
    if not output_speech:
        return ""
    if output_speech.get("type") == "PlainText":
        return " ".join(str(output_speech.get("text", "")).split())
    return ssml_to_text(str(output_speech.get("ssml", "")))


@dataclass(frozen=True)
class Card:
    type: str
    title: str
    text: str

    def describe(self) -> str:
        """The card on one line: its line breaks only matter in the Alexa app."""
        return " ".join((f"{self.title}: {self.text}" if self.title else self.text).split())


def _card(raw: Mapping[str, Any] | None) -> Card | None:
    if not raw:
        return None
    card_type = str(raw.get("type", ""))
    if card_type == "AskForPermissionsConsent":
        text = "asks for permission: " + ", ".join(raw.get("permissions", ()))
    else:
        text = str(raw.get("content") or raw.get("text") or "")  # Simple cards say content, Standard say text
    return Card(card_type, str(raw.get("title", "")), text)


@dataclass(frozen=True)
class Reply:
    """The parts of a response envelope that a user notices."""

    speech: str
    reprompt: str
    card: Card | None
    directives: tuple[Mapping[str, Any], ...]
    should_end_session: bool | None

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> "Reply":
        response = envelope.get("response") or {}
        return cls(
            speech=speech_text(response.get("outputSpeech")),
            reprompt=speech_text((response.get("reprompt") or {}).get("outputSpeech")),
            card=_card(response.get("card")),
            directives=tuple(response.get("directives") or ()),
            should_end_session=response.get("shouldEndSession"),
        )

    def directive(self, directive_type: str, name: str | None = None) -> Mapping[str, Any] | None:
        for directive in self.directives:
            if directive.get("type") == directive_type and name in (None, directive.get("name")):
                return directive
        return None
