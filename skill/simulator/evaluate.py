"""`hip-helper evaluate-nlu`: how well the interaction model understands an annotation set.

Annotation sets use the format of Amazon's (deprecated) NLU Evaluation tool: a CSV with the
columns utterance, referenceTimestamp, intent and one slot[<name>] column per slot, or the JSON
body of its "update annotations" call ({"data": [{"inputs": {...}, "expected": [{"intent": ...}]}]}).
An annotation passes when the intent and every slot match: custom slots by resolved value id
(the annotation may give the id or any spoken form of the value), built-in slots by value.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol, TextIO

from skill.settings import DEV_SKILL_ID, Settings, SettingsError
from skill.simulator.model import InteractionModel, ModelError, load_model
from skill.simulator.nlu import FALLBACK_INTENT, SEARCH_QUERY, UtteranceResolver, normalize

LAUNCH = "LaunchRequest"  # what "open hip helper" is expected as: no intent at all
_SLOT_COLUMN = re.compile(r"^slot\[(?P<name>[^\]]+)\]$")


class AnnotationError(ValueError):
    """The annotation file cannot be read; the message is one line for the developer."""


@dataclass(frozen=True)
class Annotation:
    utterance: str
    intent: str
    slots: Mapping[str, str] = field(default_factory=dict)
    reference: date | None = None  # the day relative dates ("tomorrow") are resolved against


@dataclass(frozen=True)
class Heard:
    """What a matcher made of an utterance; `slots` is None when the matcher fills no slots."""

    intent: str
    slots: Mapping[str, str] | None


class Matcher(Protocol):
    label: str

    def hear(self, annotation: Annotation) -> Heard: ...

    def expected_slots(self, annotation: Annotation) -> Mapping[str, str]: ...


def _reference_day(raw: str, where: str) -> date | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        raise AnnotationError(f"{where}: referenceTimestamp {raw!r} is not an ISO 8601 timestamp") from None


def _from_csv(path: Path, text: str) -> list[Annotation]:
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or not {"utterance", "intent"} <= set(rows.fieldnames):
        raise AnnotationError(f"{path}: the header needs at least the columns utterance and intent")
    slot_columns = {column: found["name"] for column in rows.fieldnames if (found := _SLOT_COLUMN.match(column))}
    annotations = []
    for row in rows:
        where = f"{path}:{rows.line_num}"
        if not row.get("utterance") or not row.get("intent"):
            raise AnnotationError(f"{where}: an annotation needs an utterance and an intent")
        slots = {name: row[column] for column, name in slot_columns.items() if row.get(column)}
        annotations.append(Annotation(row["utterance"], row["intent"], slots,
                                      _reference_day(row.get("referenceTimestamp") or "", where)))
    return annotations


def _from_json(path: Path, text: str) -> list[Annotation]:
    try:
        entries = json.loads(text)["data"]
        annotations = []
        for number, entry in enumerate(entries):
            intent = entry["expected"][0]["intent"]
            slots = {name: slot["value"] for name, slot in (intent.get("slots") or {}).items()}
            reference = _reference_day(entry["inputs"].get("referenceTimestamp", ""), f"{path} data[{number}]")
            annotations.append(Annotation(entry["inputs"]["utterance"], intent["name"], slots, reference))
        return annotations
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise AnnotationError(f"{path}: not an NLU annotation set ({error.__class__.__name__}: {error})") from None


def load_annotations(path: Path) -> list[Annotation]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AnnotationError(f"cannot read {path}: {error.strerror}") from None
    return _from_json(path, text) if path.suffix == ".json" else _from_csv(path, text)


class ExactMatcher:
    """The simulator's own matcher, with launch phrases and one-shot carriers ("ask hip helper about X")."""

    label = "exact (the simulator's sample matcher)"
    generalise = False

    def __init__(self, model: InteractionModel, skill_id: str) -> None:
        self._model = model
        self._skill_id = skill_id
        self._resolvers: dict[date | None, UtteranceResolver] = {}
        self._ids = {name: {value.id for value in slot_type.values} for name, slot_type in model.slot_types.items()}
        self._slot_types = {(intent.name, slot.name): slot.type for intent in model.intents for slot in intent.slots}
        # An intent made only of a carrier and a free-form slot is how a model hands the skill the
        # words of speech nothing else matched: as understanding goes, that is the fallback.
        self._unmatched = {intent.name for intent in model.intents if intent.samples and all(
            any(slot.type == SEARCH_QUERY and "{" + slot.name + "}" in sample for slot in intent.slots)
            for sample in intent.samples)}

    def _resolver(self, day: date | None) -> UtteranceResolver:
        if day not in self._resolvers:
            self._resolvers[day] = UtteranceResolver(self._model, self._skill_id, today=day,
                                                       generalise=self.generalise)
        return self._resolvers[day]

    def hear(self, annotation: Annotation) -> Heard:
        understood = self._resolver(annotation.reference).resolve(annotation.utterance)
        if understood.intent is None:
            return Heard(LAUNCH, {})
        if understood.intent.name in self._unmatched:
            return Heard(FALLBACK_INTENT, {})
        slots = {}
        for name, fill in understood.intent.slots.items():
            if fill.value is None:
                continue
            custom = fill.resolution is not None
            # An unresolved custom value (ER_SUCCESS_NO_MATCH) shows as the words heard, in quotes.
            slots[name] = (fill.resolved_id or f'"{fill.value}"') if custom else fill.value
        return Heard(understood.intent.name, slots)

    def expected_slots(self, annotation: Annotation) -> dict[str, str]:
        """The annotation's slots as this matcher reports them: custom values by id."""
        return {name: self._value_id(annotation.intent, name, value) for name, value in annotation.slots.items()}

    def _value_id(self, intent_name: str, slot_name: str, value: str) -> str:
        slot_type = self._model.slot_types.get(self._slot_types.get((intent_name, slot_name), ""))
        if slot_type is None or value in self._ids[slot_type.name]:
            return value
        spoken = normalize(value)
        for candidate in slot_type.values:
            if spoken in {normalize(form) for form in candidate.spoken_forms}:
                return candidate.id
        return value


class SimulatorMatcher(ExactMatcher):
    """What `hip-helper chat` hears: the samples first, then the generalisation stage."""

    label = "simulator (samples, then generalisation: an approximation of Alexa's statistical NLU, not Alexa)"
    generalise = True


@dataclass(frozen=True)
class Outcome:
    annotation: Annotation
    heard: Heard
    slot_differences: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.heard.intent == self.annotation.intent and not self.slot_differences


def _slot_differences(expected: Mapping[str, str], heard: Mapping[str, str] | None) -> tuple[str, ...]:
    if heard is None:
        return ()
    return tuple(
        f"{name}: expected {expected.get(name, '(none)')}, got {heard.get(name, '(none)')}"
        for name in sorted(set(expected) | set(heard))
        if expected.get(name) != heard.get(name)
    )


@dataclass(frozen=True)
class Evaluation:
    matcher: str
    outcomes: tuple[Outcome, ...]

    @property
    def accuracy(self) -> float:
        return sum(outcome.passed for outcome in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def per_intent(self) -> dict[str, tuple[int, int]]:
        """Expected intent -> (passed, total), by name."""
        totals: Counter[str] = Counter()
        passed: Counter[str] = Counter()
        for outcome in self.outcomes:
            totals[outcome.annotation.intent] += 1
            passed[outcome.annotation.intent] += outcome.passed
        return {name: (passed[name], totals[name]) for name in sorted(totals)}

    def misses(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    def confused_pairs(self) -> list[tuple[tuple[str, str], int]]:
        """(expected, got) intent pairs, most frequent first."""
        pairs = Counter((o.annotation.intent, o.heard.intent) for o in self.outcomes
                        if o.heard.intent != o.annotation.intent)
        return pairs.most_common()


def evaluate(annotations: Iterable[Annotation], matcher: Matcher) -> Evaluation:
    outcomes = []
    for annotation in annotations:
        heard = matcher.hear(annotation)
        differences = _slot_differences(matcher.expected_slots(annotation), heard.slots)
        outcomes.append(Outcome(annotation, heard, differences))
    return Evaluation(matcher.label, tuple(outcomes))


def report(evaluation: Evaluation, out: TextIO, *, top_confusions: int = 15) -> None:
    out.write(f"NLU evaluation, matcher: {evaluation.matcher}\n")
    out.write("Accuracy per intent (passed/total):\n")
    for name, (passed, total) in evaluation.per_intent().items():
        out.write(f"  {name:<32} {passed:>4}/{total:<4} {100 * passed / total:5.1f}%\n")
    passed = len(evaluation.outcomes) - len(evaluation.misses())
    out.write(f"Overall: {passed}/{len(evaluation.outcomes)} = {100 * evaluation.accuracy:.1f}%\n")
    pairs = evaluation.confused_pairs()
    if pairs:
        out.write("Most confused intents (expected -> got: count):\n")
        for (expected, got), count in pairs[:top_confusions]:
            out.write(f"  {expected} -> {got}: {count}\n")
    misses = evaluation.misses()
    out.write(f"Misses ({len(misses)}):\n")
    for miss in misses:
        out.write(f'  "{miss.annotation.utterance}": expected {miss.annotation.intent}, got {miss.heard.intent}\n')
        for difference in miss.slot_differences:
            out.write(f"      {difference}\n")


def annotations_from(paths: Iterable[Path]) -> list[Annotation]:
    return [annotation for path in paths for annotation in load_annotations(path)]


def summary_line(evaluation: Evaluation) -> str:
    passed = len(evaluation.outcomes) - len(evaluation.misses())
    return f"{evaluation.matcher}: {passed}/{len(evaluation.outcomes)} = {100 * evaluation.accuracy:.1f}%"



def _statistical(model: InteractionModel, skill_id: str) -> Matcher:
    from skill.simulator.statistical import StatisticalMatcher  # scikit-learn is a dev extra: load it on demand

    return StatisticalMatcher(model)


MATCHERS: Mapping[str, Callable[[InteractionModel, str], Matcher]] = {
    "exact": ExactMatcher, "simulator": SimulatorMatcher, "statistical": _statistical}
EXIT_OK, EXIT_BELOW_MINIMUM, EXIT_USAGE = 0, 1, 2


def run_evaluate_nlu(files: list[Path], model_path: Path | None, matcher_name: str, min_accuracy: float | None,
                     out: TextIO, err: TextIO, locale: str = "en-US") -> int:
    if min_accuracy is not None and not 0 <= min_accuracy <= 1:
        err.write(f"error: --min-accuracy is a fraction between 0 and 1, not {min_accuracy}\n")
        return EXIT_USAGE
    try:
        model = load_model(model_path or Settings.from_env().model_dir / f"{locale}.json")
        annotations = annotations_from(files)
        matcher = MATCHERS[matcher_name](model, DEV_SKILL_ID)
    except (ModelError, AnnotationError, SettingsError) as error:
        err.write(f"error: {error}\n")
        return EXIT_USAGE
    except ImportError as error:
        err.write(f"error: the statistical matcher needs scikit-learn (pip install -e '.[nlu]'): {error}\n")
        return EXIT_USAGE
    evaluation = evaluate(annotations, matcher)
    report(evaluation, out)
    if min_accuracy is not None and evaluation.accuracy < min_accuracy:
        out.write(f"FAIL: overall accuracy {100 * evaluation.accuracy:.1f}% is below {100 * min_accuracy:.1f}%\n")
        return EXIT_BELOW_MINIMUM
    return EXIT_OK
