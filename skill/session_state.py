"""The session attributes' one schema: what Alexa hands back is checked, never trusted.

Alexa round-trips session attributes through the device, so anything can come back: wrong
types, NaN, huge or deeply nested values, ids the content does not know. `SessionSchema.load`
keeps each known field only if it fits the schema and drops it otherwise, logging the field's
name (never its value: it may hold what the user said). It never recurses into a value deeper
than the schema allows, so it is safe before the SDK deep-copies the attributes.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Mapping

log = logging.getLogger("hip_helper.session")

SCHEMA_VERSION = 1
VERSION = "version"

# Session attribute names. Session attributes live only for the session (Alexa round-trips
# them); nothing here is ever written to the persistent store.
GUIDANCE_HEARD = "guidance_heard"   # the full guidance was spoken this session
LAST_REPLY = "last_reply"           # for "repeat": the answer's content keys, composed again when repeated
PENDING_OFFER = "pending_offer"     # a yes/no offer awaiting an answer
TRIAGE = "triage"                   # the triage engine's state while a triage runs
KNOWN_ANSWERS = "known_answers"     # what the user described before the triage started
FACTS = "facts"                     # session facts from the triage, e.g. outer-hip pain reported
ROUTINE = "routine"                 # the stretch routine under way: {"id", "step", "paused"}
REMINDER_BODY = "reminder_body"     # a reminder awaiting the user's yes, or the permission
REMINDER_DRAFT = "reminder_draft"   # a reminder request that lacked only its time
REMINDER_UNCONFIRMED = "reminder_unconfirmed"  # a create timed out: check the list before a retry
MAX_ID = 64
MAX_KEY = 200                   # a stored reply's text key, e.g. triage.outcomes.OUTCOME+ADVICE
MAX_PARTS = 40
MAX_PAUSE_SECONDS = 600
MAX_QUESTIONS = 20             # answers kept in a triage state; the table asks at most 5
MAX_REMINDER_BYTES = 4096
MAX_REMINDER_DEPTH = 6


class Invalid(ValueError):
    """A field that does not fit the schema."""


def _text(value: Any, limit: int = MAX_ID) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid
    return value


def _optional_text(value: Any, limit: int = MAX_ID) -> str | None:
    return None if value is None else _text(value, limit)


def _mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        raise Invalid
    return value


def _int(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:   # bool is an int; it is not a step
        raise Invalid
    return value


def _bounded_json(value: Any, depth: int) -> None:
    """Plain, finite JSON no deeper than `depth`: checked without unbounded recursion."""
    if depth < 0:
        raise Invalid
    if isinstance(value, dict):
        for key, item in value.items():
            _text(key)
            _bounded_json(item, depth - 1)
    elif isinstance(value, list):
        for item in value:
            _bounded_json(item, depth - 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise Invalid
    elif not isinstance(value, (str, int, float, bool, type(None))):
        raise Invalid


def _said(raw: Any, content_keys: Collection[str]) -> str | dict:
    """One thing said: a key of content, a triage text or a stretch text, bare or with its values."""
    if isinstance(raw, str):
        if _text(raw, MAX_KEY) not in content_keys:
            raise Invalid
        return raw
    raw = _mapping(raw)
    values = _mapping(raw.get("values"))
    # The key is checked as text before the lookup: a forged list or mapping can't be looked up.
    if set(raw) != {"key", "values"} or _text(raw["key"], MAX_KEY) not in content_keys or len(values) > 5 or not all(
            isinstance(value, (str, int)) and not isinstance(value, bool) for value in values.values()):
        raise Invalid
    return {"key": raw["key"], "values": {_text(name): _text(value, 200) if isinstance(value, str) else value
                                          for name, value in values.items()}}


def last_reply(raw: Any, content_keys: Collection[str]) -> dict:
    """What "repeat" says again: content keys and values (numbers are pauses in seconds).

    Kept as keys, never text, so Repeat composes it again, a forged key is dropped, and the
    attributes Alexa sends back with every request stay small.
    """
    raw = _mapping(raw)
    body = raw.get("body")
    if set(raw) != {"body", "question", "reprompt"} or not isinstance(body, list) or len(body) > MAX_PARTS:
        raise Invalid
    parts: list[Any] = []
    for part in body:
        if type(part) in (int, float):
            if not 0 <= part <= MAX_PAUSE_SECONDS:   # NaN fails both bounds
                raise Invalid
            parts.append(part)
        else:
            parts.append(_said(part, content_keys))
    question, reprompt = (None if raw[name] is None else _said(raw[name], content_keys) for name in ("question", "reprompt"))
    return {"body": parts, "question": question, "reprompt": reprompt}


@dataclass(frozen=True)
class SessionSchema:
    """Version 1 of the session attributes, and the ids the loaded content knows."""
    offers: Collection[str]
    routine_steps: Mapping[str, int]           # routine id -> number of steps
    slot_ids: Mapping[str, Collection[str]]    # interaction-model slot -> its answer ids
    content_keys: Collection[str] = ()         # what a stored reply may name
    fields: dict[str, Callable[[Any], Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", {
            GUIDANCE_HEARD: self._flag,
            LAST_REPLY: lambda raw: last_reply(raw, self.content_keys),
            PENDING_OFFER: self._offer,
            TRIAGE: self._triage,
            KNOWN_ANSWERS: self._known_answers,
            FACTS: self._facts,
            ROUTINE: self._routine,
            REMINDER_BODY: self._reminder_body,
            REMINDER_DRAFT: self._reminder_draft,
            REMINDER_UNCONFIRMED: self._flag,
        })

    def load(self, raw: Any) -> dict:
        """The attributes that fit the schema, field by field; the rest is dropped and its name logged."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            log.warning("session attributes dropped: not an object")
            return {}
        clean: dict[str, Any] = {}
        unknown = 0
        for name, value in raw.items():
            check = self.fields.get(name)
            if check is None:
                unknown += name != VERSION
                continue
            try:
                clean[name] = check(value)
            except Invalid:
                log.warning("session attribute %s dropped: does not fit schema version %d", name, SCHEMA_VERSION)
        if unknown:
            log.warning("%d unknown session attributes dropped", unknown)
        if clean:
            clean[VERSION] = SCHEMA_VERSION
        return clean

    @staticmethod
    def _flag(raw: Any) -> bool:
        if not isinstance(raw, bool):
            raise Invalid
        return raw

    def _offer(self, raw: Any) -> str:
        if not isinstance(raw, str) or raw not in self.offers:
            raise Invalid
        return raw

    def _answer_id(self, raw: Any) -> str:
        if not any(isinstance(raw, str) and raw in ids for ids in self.slot_ids.values()):
            raise Invalid
        return raw

    def _triage(self, raw: Any) -> dict:
        """The triage engine checks the state against its table; here only its shape and ids."""
        raw = _mapping(raw)
        if set(raw) != {"at", "asked", "answers", "then"}:
            raise Invalid
        answers = _mapping(raw["answers"])
        if len(answers) > MAX_QUESTIONS or not all(
                isinstance(given, list) and len(given) <= 10 for given in answers.values()):
            raise Invalid
        return {"at": _text(raw["at"]), "asked": _int(raw["asked"], 0, 10),
                "answers": {_text(question): [self._answer_id(answer) for answer in given]
                            for question, given in answers.items()},
                "then": _optional_text(raw["then"])}

    def _known_answers(self, raw: Any) -> dict:
        raw = _mapping(raw)
        if not all(slot in self.slot_ids and isinstance(value, str) and value in self.slot_ids[slot]
                   for slot, value in raw.items()):
            raise Invalid
        return dict(raw)

    @staticmethod
    def _facts(raw: Any) -> dict:
        raw = _mapping(raw)
        if len(raw) > 10 or not all(isinstance(value, bool) for value in raw.values()):
            raise Invalid
        return {_text(name): value for name, value in raw.items()}

    def _routine(self, raw: Any) -> dict:
        raw = _mapping(raw)
        routine = raw.get("id")
        if set(raw) != {"id", "step"} or not isinstance(routine, str) or routine not in self.routine_steps:
            raise Invalid
        return {"id": routine, "step": _int(raw["step"], 1, self.routine_steps[routine])}

    @staticmethod
    def _reminder_body(raw: Any) -> dict:
        raw = _mapping(raw)
        if set(raw) != {"body", "when", "time"}:
            raise Invalid
        _bounded_json(_mapping(raw["body"]), MAX_REMINDER_DEPTH)
        if len(json.dumps(raw["body"])) > MAX_REMINDER_BYTES:
            raise Invalid
        return {"body": raw["body"], "when": _text(raw["when"], 200), "time": _text(raw["time"], 200)}

    @staticmethod
    def _reminder_draft(raw: Any) -> dict:
        raw = _mapping(raw)
        if not set(raw) <= {"date", "frequency", "frequency_words", "part_of_day"}:
            raise Invalid
        return {name: _text(value) for name, value in raw.items()}
