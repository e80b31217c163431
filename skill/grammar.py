"""The interaction model's one reviewed source: a sample grammar expanded into Alexa's model JSON.

Inside a sample (and a slot synonym): `(a|b)` alternatives, `[x]` optional, nesting allowed,
`<name>` a word family declared once under `families:`, `{slot}` a slot of the intent. Expansion
lower-cases, normalises spaces and drops repeats, and refuses what the Alexa console would refuse
or what would swallow stray speech: a sample that is only slots, a sample in two intents, a
character Alexa forbids, an undeclared slot or family, an empty alternative not written as `[x]`.

The same source declares the slot value ids the triage answers with, so ids live in one place.
Each locale's model is that source with its layer (source/locales/<locale>.yaml) applied: more
alternatives or synonyms for declared families and slot values, never a new intent, slot or id.
Pure: no SDK, no Flask.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from skill.domain import yaml_loader
from skill.domain.layers import ContentLayers

SOURCE_DIR = Path(__file__).resolve().parent.parent / "interaction_model" / "source"
# One layer per locale, source/locales/<locale>.yaml: the locales are the files that exist there.
LOCALES_DIR = "locales"
# One spoken token: a word with inner apostrophes or hyphens, a spelled letter ("a."), or a {slot}.
_TOKEN = re.compile(r"[a-z]+(?:['-][a-z]+)*|[a-z]\.|\{[A-Za-z][A-Za-z_]*\}")
_SLOT = re.compile(r"\{([A-Za-z][A-Za-z_]*)\}")
_SLOT_PIECES = re.compile(r"(\{[A-Za-z][A-Za-z_]*\})")
# A sample that explodes past this is a reviewing problem, not a model: split it.
MAX_EXPANSIONS_PER_SAMPLE = 1000
DELEGATION = "SKILL_RESPONSE"


class GrammarError(ValueError):
    """The grammar source is wrong; says where (intent, slot or type) and which sample."""

    def __init__(self, where: str, sample: str, problem: str):
        self.where, self.sample, self.problem = where, sample, problem
        super().__init__(f"{where}: {sample!r}: {problem}")


class _Parser:
    """Recursive descent over one sample; each node yields its list of expansions."""

    def __init__(self, text: str, families: Mapping[str, str], slots: frozenset[str] | None,
                 where: str, depth: int = 0):
        self.text, self.families, self.slots, self.where, self.depth = text, families, slots, where, depth
        self.at = 0

    def fail(self, problem: str) -> GrammarError:
        return GrammarError(self.where, self.text, problem)

    def parse(self) -> list[str]:
        result = self._sequence(closers="")
        if self.at != len(self.text):
            raise self.fail(f"unexpected {self.text[self.at]!r} at {self.at}")
        return result

    def _sequence(self, closers: str) -> list[str]:
        parts: list[list[str]] = []
        while self.at < len(self.text) and self.text[self.at] not in closers:
            char = self.text[self.at]
            if char in "([":
                parts.append(self._group(char))
            elif char == "<":
                parts.append(self._family())
            elif char == "{":
                parts.append([self._slot()])
            elif char in ")]|>}":
                raise self.fail(f"unbalanced {char!r} at {self.at}")
            else:
                start = self.at
                while self.at < len(self.text) and self.text[self.at] not in "([<{)]|>}":
                    self.at += 1
                parts.append([self.text[start:self.at].lower()])
        combined = [""]
        for options in parts:
            combined = [left + right for left in combined for right in options]
            if len(combined) > MAX_EXPANSIONS_PER_SAMPLE:
                raise self.fail(f"expands to more than {MAX_EXPANSIONS_PER_SAMPLE} samples; split it")
        return combined

    def _group(self, opener: str) -> list[str]:
        closer = ")" if opener == "(" else "]"
        self.at += 1
        options: list[str] = []
        while True:
            alternative = self._sequence(closers="|" + closer)
            if any(not option.strip() for option in alternative):
                raise self.fail("empty alternative: write optional words as [x]")
            options += alternative
            if self.at >= len(self.text):
                raise self.fail(f"missing {closer!r}")
            if self.text[self.at] == closer:
                self.at += 1
                return options + [""] if opener == "[" else options
            self.at += 1  # "|"

    def _name(self, closer: str) -> str:
        end = self.text.find(closer, self.at)
        if end < 0:
            raise self.fail(f"missing {closer!r}")
        name = self.text[self.at + 1:end]
        self.at = end + 1
        return name

    def _family(self) -> list[str]:
        name = self._name(">")
        if name not in self.families:
            raise self.fail(f"undeclared family <{name}>")
        if self.depth > 20:
            raise self.fail(f"family <{name}> refers to itself")
        return _Parser(self.families[name], self.families, self.slots, self.where, self.depth + 1).parse()

    def _slot(self) -> str:
        name = self._name("}")
        if self.slots is None:
            raise self.fail(f"a slot {{{name}}} cannot appear here")
        if name not in self.slots:
            raise self.fail(f"undeclared slot {{{name}}}")
        return "{" + name + "}"


def expand(text: str, families: Mapping[str, str], slots: Iterable[str] | None = (), *,
           where: str = "sample") -> list[str]:
    """Every sentence `text` stands for, normalised, in first-seen order, without repeats.

    `slots` names the slots the text may use; None forbids slots (slot values and synonyms).
    """
    allowed = None if slots is None else frozenset(slots)
    sentences = dict.fromkeys(" ".join(raw.split()) for raw in _Parser(text, families, allowed, where).parse())
    for sentence in sentences:
        if not sentence:
            raise GrammarError(where, text, "can expand to nothing: not every part may be optional")
        bad = [token for token in sentence.split(" ") if not _TOKEN.fullmatch(token)]
        if bad:
            raise GrammarError(where, sentence, f"characters Alexa does not accept: {bad}")
    return list(sentences)


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    samples: tuple[str, ...]


@dataclass(frozen=True)
class Intent:
    name: str
    slots: tuple[Slot, ...]
    samples: tuple[str, ...]


@dataclass(frozen=True)
class Grammar:
    invocation_name: str
    fallback_sensitivity: str
    intents: tuple[Intent, ...]
    types: Mapping[str, tuple[tuple[str, str, tuple[str, ...]], ...]]   # type -> (id, value, synonyms)
    dialog: Mapping[str, Mapping[str, str]]                            # intent -> slot -> content key
    answers: Mapping[str, Any]                                         # triage slot -> intent, or id -> intent

    def intent(self, name: str) -> Intent:
        return next(intent for intent in self.intents if intent.name == name)

    def slot_ids(self) -> dict[str, tuple[str, ...]]:
        """The triage's answer slots and their value ids: {"location": ("OUTER_HIP", ...), "yes_no": ...}."""
        ids: dict[str, tuple[str, ...]] = {}
        for slot_name, carrier in self.answers.items():
            if isinstance(carrier, Mapping):          # ids that built-in or plain intents stand for
                ids[slot_name] = tuple(carrier)
            else:
                slot = next(slot for slot in self.intent(carrier).slots if slot.name == slot_name)
                ids[slot_name] = tuple(value_id for value_id, _, _ in self.types[slot.type])
        return ids

    def sample_counts(self) -> dict[str, int]:
        return {intent.name: len(intent.samples) for intent in self.intents}

    def to_model(self, prompt_text: "PromptText") -> dict:
        """The interaction model JSON, as the console and SMAPI take it."""
        def slot_json(slot: Slot) -> dict:
            return {"name": slot.name, "type": slot.type, **({"samples": list(slot.samples)} if slot.samples else {})}

        intents = [
            {"name": intent.name, **({"slots": [slot_json(s) for s in intent.slots]} if intent.slots else {}),
             "samples": list(intent.samples)}
            for intent in self.intents
        ]
        types = [
            {"name": name, "values": [
                {"id": value_id, "name": {"value": value, **({"synonyms": list(synonyms)} if synonyms else {})}}
                for value_id, value, synonyms in values
            ]}
            for name, values in self.types.items()
        ]
        dialog_intents, prompts = [], []
        for intent_name, elicited in self.dialog.items():
            slots = []
            for slot in self.intent(intent_name).slots:
                entry = {"name": slot.name, "type": slot.type, "confirmationRequired": False,
                         "elicitationRequired": slot.name in elicited, "prompts": {}}
                if slot.name in elicited:
                    prompt_id = f"Elicit.Slot.{intent_name}.{slot.name}"
                    entry["prompts"] = {"elicitation": prompt_id}
                    prompts.append({"id": prompt_id, "variations": [
                        {"type": "PlainText", "value": prompt_text(elicited[slot.name])}]})
                slots.append(entry)
            dialog_intents.append({"name": intent_name, "delegationStrategy": DELEGATION,
                                   "confirmationRequired": False, "prompts": {}, "slots": slots})
        return {"interactionModel": {
            "languageModel": {
                "invocationName": self.invocation_name,
                "modelConfiguration": {"fallbackIntentSensitivity": {"level": self.fallback_sensitivity}},
                "intents": intents,
                "types": types,
            },
            "dialog": {"delegationStrategy": DELEGATION, "intents": dialog_intents},
            "prompts": prompts,
        }}


PromptText = Any  # Callable[[str], str]: content key -> the words of the prompt


def content_prompt(content_dir: Path, locale: str | None = None):
    """Resolve `file.dotted.key` to that content item's `say` in `locale`'s words, e.g. triage.questions.LOCATION."""
    layers = ContentLayers(content_dir)

    def text(key: str) -> str:
        file, _, dotted = key.partition(".")
        node: Any = layers.read(file, locale).data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise GrammarError("dialog", key, f"no content item {key!r}")
            node = node[part]
        if not isinstance(node, dict) or not isinstance(node.get("say"), str):
            raise GrammarError("dialog", key, "is not a spoken item with 'say'")
        return " ".join(node["say"].split())
    return text


def _heard_as(sample: str) -> str:
    from skill.domain.red_flags import normalise  # only build-model expands samples; the skill never does
    return " ".join(piece if _SLOT.fullmatch(piece) else normalise(piece) for piece in _SLOT_PIECES.split(sample))


def _duplicate_key(sample: str, slot_types: Mapping[str, str]) -> str:
    """The console's duplicate rule: a sample repeats another when equal with each slot read as its type."""
    return _SLOT.sub(lambda ref: "{" + slot_types[ref[1]] + "}", sample)


def _read_sources(directory: Path) -> dict:
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml_loader.load(path.read_text(encoding="utf-8")) or {}
        for section, value in data.items():
            if isinstance(value, dict):
                overlap = set(merged.get(section, {})) & set(value)
                if overlap:
                    raise GrammarError(path.name, section, f"declared twice: {sorted(overlap)}")
                merged.setdefault(section, {}).update(value)
            elif section in merged:
                raise GrammarError(path.name, section, "declared twice")
            else:
                merged[section] = value
    return merged


def parse(source: Mapping[str, Any]) -> Grammar:
    """Expand a grammar source (the merged YAML) and check it."""
    families = {name: str(text) for name, text in source.get("families", {}).items()}
    types = {}
    for type_name, values in source.get("types", {}).items():
        expanded = []
        for value_id, forms in values.items():
            spoken = [form for text in forms for form in expand(text, families, None, where=f"{type_name}.{value_id}")]
            expanded.append((value_id, spoken[0], tuple(dict.fromkeys(form for form in spoken[1:] if form != spoken[0]))))
        owner: dict[str, str] = {}
        for value_id, value, synonyms in expanded:
            for form in (value, *synonyms):
                if owner.setdefault(form, value_id) != value_id:
                    raise GrammarError(f"{type_name}.{value_id}", form, f"also a spoken form of {owner[form]}")
        types[type_name] = tuple(expanded)
    intents, owner_of = [], {}
    for intent_name, body in source["intents"].items():
        body = body or {}
        slot_types = {name: spec["type"] for name, spec in (body.get("slots") or {}).items()}
        for slot_type in slot_types.values():
            if not slot_type.startswith("AMAZON.") and slot_type not in types:
                raise GrammarError(intent_name, slot_type, "undeclared slot type")
        samples = [s for text in body.get("samples") or () for s in expand(text, families, slot_types, where=intent_name)]
        # "i can't walk" and "i cannot walk" are the same words once heard: keep the first spelling
        # only, so the model's size goes on phrasings, not on contraction spellings.
        heard: dict[str, str] = {}
        for sample in samples:
            heard.setdefault(_heard_as(sample), sample)
        samples = list(heard.values())
        for sample in samples:
            if not _SLOT.sub("", sample).strip():
                raise GrammarError(intent_name, sample, "only slots: it would swallow stray speech; "
                                                        "put it on the slot's samples for elicitation")
            key = _duplicate_key(sample, slot_types)
            if owner_of.setdefault(key, intent_name) != intent_name:
                raise GrammarError(intent_name, sample, f"also a sample of {owner_of[key]}")
        slots = []
        for slot_name, spec in (body.get("slots") or {}).items():
            where = f"{intent_name}.{slot_name}"
            slot_samples = list(dict.fromkeys(
                s for text in spec.get("samples") or () for s in expand(text, families, slot_types, where=where)))
            for sample in slot_samples:
                if "{" + slot_name + "}" not in sample:
                    raise GrammarError(where, sample, f"a slot sample must hold {{{slot_name}}}")
            slots.append(Slot(slot_name, spec["type"], tuple(slot_samples)))
        intents.append(Intent(intent_name, tuple(slots), tuple(samples)))
    grammar = Grammar(
        invocation_name=source["invocation_name"],
        fallback_sensitivity=source.get("fallback_sensitivity", "LOW"),
        intents=tuple(intents), types=types,
        dialog=source.get("dialog", {}), answers=source.get("triage_answers", {}),
    )
    for intent_name, elicited in grammar.dialog.items():
        declared = {slot.name for slot in grammar.intent(intent_name).slots}
        for slot_name in elicited:
            if slot_name not in declared:
                raise GrammarError("dialog", f"{intent_name}.{slot_name}", "no such slot")
    _check_unique_ids(grammar)
    return grammar


def locales(directory: Path = SOURCE_DIR) -> tuple[str, ...]:
    """Every locale with a layer, en-US first (the default everywhere else), then by name."""
    found = sorted(path.stem for path in (directory / LOCALES_DIR).glob("*.yaml"))
    return tuple(sorted(found, key=lambda locale: locale != "en-US"))


def apply_layer(source: Mapping[str, Any], layer: Mapping[str, Any], where: str) -> dict:
    """The shared source with one locale's words: each family or slot value named in the layer gets
    `add` (alternatives, or synonyms) or `replace`. A layer can name only what the shared source
    declares, so every locale has the same intents, slots, types and value ids."""
    unknown = set(layer) - {"families", "types"}
    if unknown:
        raise GrammarError(where, ", ".join(sorted(unknown)), "a locale layer holds only families and types")
    families = dict(source.get("families", {}))
    for name, change in (layer.get("families") or {}).items():
        if name not in families:
            raise GrammarError(where, name, "not a family of the shared source")
        families[name] = _changed(where, name, change, lambda added: f"({families[name]}|{added})")
    types = {name: dict(values) for name, values in source.get("types", {}).items()}
    for type_name, values in (layer.get("types") or {}).items():
        for value_id, change in values.items():
            if value_id not in types.get(type_name, {}):
                raise GrammarError(where, f"{type_name}.{value_id}", "not a slot value of the shared source")
            forms = list(types[type_name][value_id])
            types[type_name][value_id] = _changed(where, f"{type_name}.{value_id}", change,
                                                  lambda added: forms + list(added))
    return {**source, "families": families, "types": types}


def _changed(where: str, name: str, change: Any, add: Any) -> Any:
    if not isinstance(change, Mapping) or len(change) != 1 or not {"add", "replace"} >= set(change):
        raise GrammarError(where, name, "write {add: ...} or {replace: ...}")
    return add(change["add"]) if "add" in change else change["replace"]


@cache
def load(directory: Path = SOURCE_DIR, locale: str = "en-US") -> Grammar:
    layer_path = directory / LOCALES_DIR / f"{locale}.yaml"
    if not layer_path.is_file():
        raise GrammarError(locale, str(layer_path), "no such locale layer")
    layer = yaml_loader.load(layer_path.read_text(encoding="utf-8")) or {}
    return parse(apply_layer(_read_sources(directory), layer, f"{LOCALES_DIR}/{layer_path.name}"))


# The triage's answer ids and the intent carrying each answer slot, compiled by build-model: the
# skill reads them at start-up, and this small file instead of the whole source saves a cold start
# about 15 ms. tests/test_grammar.py and `build-model --check` fail when it is stale.
ANSWERS_FILE = SOURCE_DIR / "answers.compiled.json"


def compile_answers(directory: Path = SOURCE_DIR) -> str:
    """ANSWERS_FILE's text, from the source, without expanding a single sample."""
    source = _read_sources(directory)
    ids: dict[str, list[str]] = {}
    carriers: dict[str, str] = {}
    for slot_name, carrier in source["triage_answers"].items():
        if isinstance(carrier, Mapping):          # ids that built-in or plain intents stand for
            ids[slot_name] = list(carrier)
        else:
            slot_type = source["intents"][carrier]["slots"][slot_name]["type"]
            ids[slot_name] = list(source["types"][slot_type])
            carriers[slot_name] = carrier
    return json.dumps({"slot_ids": ids, "carriers": carriers}, indent=2) + "\n"


@cache
def _answers() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    compiled = json.loads(ANSWERS_FILE.read_text(encoding="utf-8"))
    return {slot: tuple(ids) for slot, ids in compiled["slot_ids"].items()}, compiled["carriers"]


def slot_ids() -> dict[str, tuple[str, ...]]:
    return _answers()[0]


def intent_of_slot(slot_name: str) -> str:
    """Which custom intent carries an answer slot: intent_of_slot("duration") == "DurationIntent"."""
    return _answers()[1][slot_name]


def render(model: dict) -> str:
    """The committed file's exact text: two-space JSON, UTF-8, final newline, except that a list of
    strings (samples, synonyms) puts one per line unindented: diffs stay a line a sample, and five
    locales' models stay under Alexa's 1.5 MB."""
    return _render(model, 0) + "\n"


def _render(value: Any, depth: int) -> str:
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict) and value:
        items = (f"{inner}{json.dumps(key, ensure_ascii=False)}: {_render(item, depth + 1)}" for key, item in value.items())
        return "{\n" + ",\n".join(items) + f"\n{outer}}}"
    if isinstance(value, list) and value:
        if all(isinstance(item, str) for item in value):
            return "[\n" + ",\n".join(json.dumps(item, ensure_ascii=False) for item in value) + f"\n{outer}]"
        return "[\n" + ",\n".join(inner + _render(item, depth + 1) for item in value) + f"\n{outer}]"
    return json.dumps(value, ensure_ascii=False)


def diff_summary(committed: dict, generated: dict) -> list[str]:
    """What differs, per intent and section, in a few lines a reviewer can act on."""
    lines = []
    old_lm, new_lm = committed.get("interactionModel", {}), generated["interactionModel"]
    old_intents = {i["name"]: i for i in old_lm.get("languageModel", {}).get("intents", [])}
    new_intents = {i["name"]: i for i in new_lm["languageModel"]["intents"]}
    for name in sorted(set(old_intents) | set(new_intents)):
        old, new = old_intents.get(name), new_intents.get(name)
        if old is None or new is None:
            lines.append(f"intent {name}: {'only in the source' if old is None else 'only in the committed file'}")
        elif old != new:
            gone, added = set(old.get("samples", [])) - set(new["samples"]), set(new["samples"]) - set(old.get("samples", []))
            lines.append(f"intent {name}: {len(added)} samples to add, {len(gone)} to remove"
                         + ("" if added or gone else ", slots differ"))
    for section in ("types", "invocationName", "modelConfiguration"):
        if old_lm.get("languageModel", {}).get(section) != new_lm["languageModel"][section]:
            lines.append(f"languageModel.{section} differs")
    for section in ("dialog", "prompts"):
        if old_lm.get(section) != new_lm[section]:
            lines.append(f"{section} differs")
    return lines or ["formatting differs"]


def _check_unique_ids(grammar: Grammar) -> None:
    seen: dict[str, str] = {}
    for slot_name, ids in grammar.slot_ids().items():
        for value_id in ids:
            if seen.setdefault(value_id, slot_name) != slot_name:
                raise GrammarError("triage_answers", value_id, f"id used by {seen[value_id]} and {slot_name}")

