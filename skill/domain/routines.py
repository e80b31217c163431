"""Guided stretch routines: content/stretches.yaml turned into steps the skill speaks one at a time.

Pure: no SDK, no Flask. A routine is a list of stretches; each step is the stretch's instruction,
a short pause to get into position, the hold cue and a silent hold (a `Pause`, which the composer
turns into <break> tags of at most 10 s), then, for stretches done on both sides, the switch cue
and a second hold, and finally the release cue.

Steps are numbered from 1 ("step 1 of 4"). `step()` returns None past the last step, which is
the skill's signal to speak `closing()` and end the routine. Stretches that pull the leg across
the body are left out when the user reported outer-hip pain, so the numbering depends on that
flag: keep it with any stored position.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.domain.content import KNOWN_PLACEHOLDERS, ContentError, FromContentFile, Item, Line, validate_item
from skill.domain.speech import Part, Pause

# Time to get into position (or change sides) before a hold starts.
SETTLE_SECONDS = 5
# Mayo's advice is about 30 seconds (S6): the bounds keep every hold near that, and silence past 60 s drags.
MIN_HOLD_SECONDS = 20
MAX_HOLD_SECONDS = 60
MAX_TITLE_CHARS = 40
MAX_SCREEN_TEXT_CHARS = 90

CUE_KEYS = ("hold", "switch_sides", "release")
PROMPT_KEYS = ("how_it_works", "next_question", "paused_question", "resumed", "step_label", "not_advised",
               "outer_hip_note")
# These end responses that keep the session open, so they must be questions.
QUESTION_PROMPTS = ("next_question", "paused_question")
# The composer fills {emergency_number} in whole responses; prompts are filled here, so only these.
PROMPT_PLACEHOLDERS = frozenset({"step", "total", "routine"})
CUE_PLACEHOLDERS = frozenset({"seconds"})

STRETCH_FIELDS = frozenset({"title", "screen_text", "hold_seconds", "both_sides", "crosses_midline", "instruction"})
ROUTINE_FIELDS = frozenset({"name", "intro", "steps", "closing"})
FILE_FIELDS = frozenset({"safety", "default_routine", "slots", "routines", "stretches", "cues", "prompts"})

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
KEY_PREFIX = "stretches."   # what this file's texts are keyed by, so "repeat" can say them again


@dataclass(frozen=True)
class Step:
    """One stretch of a routine, ready to speak and show."""
    routine: str
    index: int          # 1-based
    total: int
    title: str
    parts: tuple[Part, ...]
    screen_text: str

    @property
    def last(self) -> bool:
        return self.index == self.total


@dataclass(frozen=True)
class Stretch:
    key: str            # e.g. "hip_flexor", as in stretches.yaml
    title: str
    screen_text: str
    hold_seconds: int
    both_sides: bool
    crosses_midline: bool


@dataclass(frozen=True)
class Routine:
    name: str           # spoken, as in "your cool-down"
    intro: str
    stretches: tuple[Stretch, ...]


class Routines(FromContentFile):
    """Every routine of stretches.yaml, plus the cues and navigation prompts spoken around them."""

    def __init__(self, safety: str, routines: dict[str, Routine], slots: dict[str, str], default_routine: str,
                 prompts: dict[str, str], items: list[Item]):
        self.safety = safety
        self._routines = routines
        self._slots = slots
        self._default_routine = default_routine
        self._prompts = prompts
        self._items = items
        self._texts = {KEY_PREFIX + item.key: item.say for item in items}
        for routine in routines:    # a routine's intro is said with the safety line and how it works
            self._texts[self._intro_key(routine)] = " ".join(
                (safety, routines[routine].intro, prompts["how_it_works"]))

    @classmethod
    def parse(cls, path: Path, data: Any) -> "Routines":
        """Validate the file's data; ContentError names the file and the broken key."""
        return _Loader(path).load(data)

    @property
    def routine_ids(self) -> tuple[str, ...]:
        return tuple(self._routines)

    def items(self) -> list[Item]:
        """Every spoken item of the file, validated, with its source."""
        return list(self._items)

    def name(self, routine: str) -> str:
        return self._routine(routine).name

    def intro(self, routine: str) -> Line:
        """The safety line first, then what the routine is and how the guiding works."""
        self._routine(routine)
        return self.say(self._intro_key(routine))

    @staticmethod
    def _intro_key(routine: str) -> str:
        return f"{KEY_PREFIX}routines.{routine}.intro"

    def say(self, key: str, **values: str | int) -> Line:
        """The text of `key` (e.g. "stretches.cues.hold") with its placeholders filled, as a Line."""
        try:
            text = self._texts[key]
        except KeyError:
            raise KeyError(f"no stretch text {key!r}") from None
        return Line(_fill(text, values), key, values)

    def keys(self) -> frozenset[str]:
        return frozenset(self._texts)

    def steps(self, routine: str, *, outer_hip_pain: bool) -> list[Step]:
        stretches = [stretch for stretch in self._routine(routine).stretches
                     if not (outer_hip_pain and stretch.crosses_midline)]
        return [self._step(routine, stretch, index, len(stretches))
                for index, stretch in enumerate(stretches, start=1)]

    def step(self, routine: str, index: int, *, outer_hip_pain: bool) -> Step | None:
        """Step `index` (1-based), or None once the routine is over."""
        if index < 1:
            raise ValueError(f"steps are numbered from 1, not {index}")
        steps = self.steps(routine, outer_hip_pain=outer_hip_pain)
        return steps[index - 1] if index <= len(steps) else None

    def closing(self, routine: str) -> Line:
        self._routine(routine)
        return self.say(f"{KEY_PREFIX}routines.{routine}.closing")

    def leaves_out_for_outer_hip(self, routine: str) -> bool:
        """Whether outer-hip pain changes this routine, i.e. whether the outer-hip note applies."""
        return any(stretch.crosses_midline for stretch in self._routine(routine).stretches)

    def routine_for(self, slot_id: str | None) -> str:
        """The routine for a StretchRoutine slot id; no or an unknown id gets the default (the hip stretches)."""
        return self._slots.get((slot_id or "").strip().upper(), self._default_routine)

    def prompt(self, key: str, **values: str | int) -> Line:
        """A navigation prompt with its {step}, {total} or {routine} filled in."""
        return self.say(f"{KEY_PREFIX}prompts.{key}", **values)

    def step_label(self, step: Step) -> Line:
        return self.prompt("step_label", step=step.index, total=step.total)

    def _routine(self, routine: str) -> Routine:
        try:
            return self._routines[routine]
        except KeyError:
            raise KeyError(f"no routine {routine!r}; known: {sorted(self._routines)}") from None

    def _step(self, routine: str, stretch: Stretch, index: int, total: int) -> Step:
        return Step(routine=routine, index=index, total=total, title=stretch.title,
                    parts=self._spoken_parts(stretch), screen_text=stretch.screen_text)

    def _spoken_parts(self, stretch: Stretch) -> tuple[Part, ...]:
        hold = [self.say(f"{KEY_PREFIX}cues.hold", seconds=stretch.hold_seconds), Pause(stretch.hold_seconds)]
        instruction = self.say(f"{KEY_PREFIX}stretches.{stretch.key}.instruction")
        parts: list[Part] = [instruction, Pause(SETTLE_SECONDS), *hold]
        if stretch.both_sides:
            parts += [self.say(f"{KEY_PREFIX}cues.switch_sides"), Pause(SETTLE_SECONDS), *hold]
        parts.append(self.say(f"{KEY_PREFIX}cues.release"))
        return tuple(parts)


def _fill(text: str, values: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for {{{name}}} in {text!r}")
        return str(values[name])
    return _PLACEHOLDER.sub(value, text)


class _Loader:
    """Validates stretches.yaml section by section, collecting every spoken item it checks."""

    def __init__(self, path: Path):
        self.path = path
        self.items: list[Item] = []

    def load(self, raw: Any) -> Routines:
        data = self._mapping(raw, "(file)", FILE_FIELDS)
        safety = self._item("safety", data.get("safety"))
        stretches = {key: self._stretch(key, raw) for key, raw in self._section(data, "stretches").items()}
        routines = {key: self._routine(key, raw, stretches) for key, raw in self._section(data, "routines").items()}
        self._texts(data, "cues", CUE_KEYS, CUE_PLACEHOLDERS)     # checked here, said by key
        return Routines(safety, routines, self._slots(data, routines), self._default_routine(data, routines),
                        prompts=self._prompts(data), items=self.items)

    def _item(self, key: str, raw: Any, placeholders: frozenset[str] = KNOWN_PLACEHOLDERS) -> str:
        item = validate_item(self.path, key, raw, placeholders=placeholders)
        self.items.append(item)
        return item.say

    def _mapping(self, raw: Any, key: str, allowed: frozenset[str] | None = None) -> dict:
        if not isinstance(raw, dict) or not raw:
            raise ContentError(self.path, key, "must be a non-empty mapping")
        unknown = set(raw) - allowed if allowed is not None else set()
        if unknown:
            raise ContentError(self.path, key, f"unknown fields {sorted(unknown)}; allowed: {sorted(allowed)}")
        return raw

    def _section(self, data: dict, key: str, allowed: frozenset[str] | None = None) -> dict:
        return self._mapping(data.get(key), key, allowed)

    def _stretch(self, key: str, raw: Any) -> Stretch:
        where = f"stretches.{key}"
        raw = self._mapping(raw, where, STRETCH_FIELDS)
        hold = raw.get("hold_seconds")
        if isinstance(hold, bool) or not isinstance(hold, int) or not MIN_HOLD_SECONDS <= hold <= MAX_HOLD_SECONDS:
            raise ContentError(self.path, f"{where}.hold_seconds",
                               f"a hold is {MIN_HOLD_SECONDS} to {MAX_HOLD_SECONDS} whole seconds, not {hold!r}")
        self._item(f"{where}.instruction", raw.get("instruction"))     # said by key
        return Stretch(
            key=key,
            title=self._line(raw, where, "title", MAX_TITLE_CHARS),
            screen_text=self._line(raw, where, "screen_text", MAX_SCREEN_TEXT_CHARS),
            hold_seconds=hold,
            both_sides=self._flag(raw, where, "both_sides"),
            crosses_midline=self._flag(raw, where, "crosses_midline"),
        )

    def _line(self, raw: dict, where: str, field: str, limit: int) -> str:
        text = raw.get(field)
        if not isinstance(text, str) or not text.strip() or len(text) > limit or "\n" in text:
            raise ContentError(self.path, f"{where}.{field}", f"needs one line of at most {limit} characters")
        return text.strip()

    def _flag(self, raw: dict, where: str, field: str) -> bool:
        if not isinstance(raw.get(field), bool):
            raise ContentError(self.path, f"{where}.{field}", "must be true or false")
        return raw[field]

    def _routine(self, key: str, raw: Any, stretches: dict[str, Stretch]) -> Routine:
        where = f"routines.{key}"
        raw = self._mapping(raw, where, ROUTINE_FIELDS)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ContentError(self.path, f"{where}.name", "needs the routine's spoken name")
        self._item(f"{where}.closing", raw.get("closing"))     # said by key
        return Routine(name=name.strip(), intro=self._item(f"{where}.intro", raw.get("intro")),
                       stretches=self._steps(f"{where}.steps", raw.get("steps"), stretches))

    def _steps(self, where: str, steps: Any, stretches: dict[str, Stretch]) -> tuple[Stretch, ...]:
        if not isinstance(steps, list) or not steps:
            raise ContentError(self.path, where, "needs a list of stretch keys")
        for position, step in enumerate(steps):
            if step not in stretches:
                raise ContentError(self.path, f"{where}[{position}]", f"{step!r} is not a stretch")
        chosen = tuple(stretches[step] for step in steps)
        if all(stretch.crosses_midline for stretch in chosen):
            raise ContentError(self.path, where, "would be empty for someone with outer-hip pain")
        return chosen

    def _slots(self, data: dict, routines: dict[str, Routine]) -> dict[str, str]:
        slots = self._section(data, "slots")
        for slot_id, routine in slots.items():
            if routine not in routines:
                raise ContentError(self.path, f"slots.{slot_id}", f"{routine!r} is not a routine")
        return {str(slot_id).upper(): routine for slot_id, routine in slots.items()}

    def _default_routine(self, data: dict, routines: dict[str, Routine]) -> str:
        default_routine = data.get("default_routine")
        if default_routine not in routines:
            raise ContentError(self.path, "default_routine", f"{default_routine!r} is not a routine")
        return default_routine

    def _prompts(self, data: dict) -> dict[str, str]:
        prompts = self._texts(data, "prompts", PROMPT_KEYS, PROMPT_PLACEHOLDERS)
        for key in QUESTION_PROMPTS:
            if not prompts[key].endswith("?"):
                raise ContentError(self.path, f"prompts.{key}", "keeps the session open, so must end with '?'")
        return prompts

    def _texts(self, data: dict, section: str, required: tuple[str, ...],
               placeholders: frozenset[str]) -> dict[str, str]:
        raw = self._section(data, section, frozenset(required))
        missing = [key for key in required if key not in raw]
        if missing:
            raise ContentError(self.path, f"{section}.{missing[0]}", "missing")
        return {key: self._item(f"{section}.{key}", raw[key], placeholders) for key in required}
