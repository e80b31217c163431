"""Every spoken word lives in content/*.yaml; this module loads and validates it once at start-up.

A spoken item is a mapping:

    say: "Short sentences for the ear. May hold {emergency_number}."
    source:
      document: {paragraph: 6, quote: "a few words of that paragraph"}  # seed document, 1-based block
      supplementary: [S16, S17]   # ids from research/triage.md, for safety facts the document lacks
      interface: true             # wording of the skill itself (prompts), no medical claim
    note: "why this differs from the document, where it does"
    more: "The rest of a long answer, said when the user asks for more."   # optional
    urgency: doctor_few_days      # optional: the answer itself advises care this soon
    shown: card                   # optional: never spoken, only shown on the card (or `screen`: on APL)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from skill.domain import yaml_loader

if TYPE_CHECKING:
    from skill.domain.layers import ContentLayers


class ContentError(ValueError):
    """A content file is broken; says which file, which key and what is wrong."""

    def __init__(self, file: str | Path, key: str, problem: str):
        self.file, self.key, self.problem = str(file), key, problem
        super().__init__(f"{self.file}: {key}: {problem}")


# Wording rules for everything the skill says. Each pattern names what it forbids.
FORBIDDEN_WORDING: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\byou(?:'ve| have| probably have| likely have| must have)\s+(?:a |an |got )?"
                r"(?:bursitis|tendinitis|tendonitis|snapping hip|a fracture|a stress fracture|an infection|arthritis)\b", re.I),
     "claims a diagnosis: say 'can be associated with'"),
    (re.compile(r"\b(?:you are|you're) (?:suffering from|diagnosed)\b", re.I), "claims a diagnosis"),
    (re.compile(r"\bI (?:can )?diagnose\b", re.I), "claims to diagnose"),
    (re.compile(r"\b(?:I(?:'ll| will| can)|let me|alexa (?:will|can)|this (?:skill|device) (?:will|can))\s+"
                r"(?:call|phone|dial|contact|alert|notify|send)\b", re.I),
     "implies the skill can call for help"),
    (re.compile(r"\b(?:calling|contacting) (?:911|999|112|an ambulance|emergency services|for help) (?:for you|now)\b", re.I),
     "implies the skill can call for help"),
    (re.compile(r"\b(?:instead of|no need to see|don't need(?: to see)?|replaces?|replacement for|substitute for) "
                r"(?:a |your )?(?:doctor|physio|physiotherapist|medical advice)\b", re.I),
     "implies it replaces a doctor"),
)


def wording_problems(text: str) -> list[str]:
    """What in `text` breaks the wording rules; empty when it is fine.

    'not a substitute for professional medical advice' is the required disclaimer, so
    a negated 'substitute for' is allowed.
    """
    problems = []
    for pattern, why in FORBIDDEN_WORDING:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 12):match.start()].lower()
            if "not a" in before or "isn't a" in before or "never a" in before:
                continue
            problems.append(f"{why}: {match.group(0)!r}")
    return problems


# S ids are research/triage.md's sources; L ids are content/sources.yaml's, for the locale facts
# (emergency numbers and urgent-care services) that review does not cover.
SOURCE_ID = re.compile(r"^[SL]\d+$")
SOURCES_FILE = "sources.yaml"
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# {emergency_number} is filled per locale by the composer; the others by the handler that says the item.
KNOWN_PLACEHOLDERS = frozenset({"emergency_number", "when", "time", "count", "part_of_day", "start"})
MORE = ":more"                  # key suffix: an item's `more` text
ITEM_KEYS = frozenset({"say", "source", "note", "more", "urgency", "shown"})
SHOWN = frozenset({"card", "screen"})   # where an item that is never spoken is shown instead


class Line(str):
    """Text said from content, carrying its content key and values so it can be composed again."""
    key: str
    values: dict[str, object]

    def __new__(cls, text: str, key: str, values: dict[str, object]) -> "Line":
        line = super().__new__(cls, text)
        line.key, line.values = key, values
        return line


@dataclass(frozen=True)
class Item:
    """One spoken item and where its words come from."""
    key: str
    say: str
    source: dict[str, Any]
    note: str | None = None
    more: str | None = None                 # the rest of a long answer
    urgency: str | None = None              # the answer's own advice is this urgent (triage URGENCIES)
    shown: str | None = None                # never spoken: shown on the card or the screen (SHOWN)

    @property
    def supplementary(self) -> bool:
        """Safety content the source document lacks."""
        return "document" not in self.source and "supplementary" in self.source


def validate_item(file: str | Path, key: str, raw: Any, *, placeholders: frozenset[str] = KNOWN_PLACEHOLDERS) -> Item:
    """Check one spoken item against the schema and the wording rules; raise ContentError if broken."""
    if not isinstance(raw, dict) or not isinstance(raw.get("say"), str) or not raw["say"].strip():
        raise ContentError(file, key, "a spoken item needs a non-empty 'say' text")
    unknown = set(raw) - ITEM_KEYS
    if unknown:
        raise ContentError(file, key, f"unknown fields {sorted(unknown)}; allowed: {sorted(ITEM_KEYS)}")
    say = _spoken_text(file, f"{key}.say", raw["say"], placeholders)
    more = raw.get("more")
    if more is not None:
        if not isinstance(more, str) or not more.strip():
            raise ContentError(file, f"{key}.more", "'more' is the rest of the answer, as text")
        more = _spoken_text(file, f"{key}.more", more, placeholders)
    _validate_source(file, f"{key}.source", raw.get("source"))
    for name in ("note", "urgency"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise ContentError(file, f"{key}.{name}", f"a {name} is text")
    if raw.get("shown") is not None and raw["shown"] not in SHOWN:
        raise ContentError(file, f"{key}.shown", f"is one of {sorted(SHOWN)}: where the item is shown instead of said")
    return Item(key=key, say=say, source=raw["source"], note=raw.get("note"), more=more, urgency=raw.get("urgency"),
                shown=raw.get("shown"))


def _spoken_text(file: str | Path, key: str, text: str, placeholders: frozenset[str]) -> str:
    text = " ".join(text.split())
    for name in PLACEHOLDER.findall(text):
        if name not in placeholders:
            raise ContentError(file, key, f"unknown placeholder {{{name}}}")
    for problem in wording_problems(text):
        raise ContentError(file, key, problem)
    return text


def _validate_source(file: str | Path, key: str, source: Any) -> None:
    if not isinstance(source, dict) or not ({"document", "supplementary", "interface"} & set(source)):
        raise ContentError(file, key, "every item needs a source: document, supplementary or interface")
    document = source.get("document")
    if document is not None:
        if (not isinstance(document, dict) or not isinstance(document.get("paragraph"), int)
                or document["paragraph"] < 1 or not isinstance(document.get("quote"), str)):
            raise ContentError(file, f"{key}.document", "needs a paragraph number (1-based) and a quote")
    supplementary = source.get("supplementary")
    if supplementary is not None:
        if not isinstance(supplementary, list) or not supplementary or not all(
                isinstance(s, str) and SOURCE_ID.match(s) for s in supplementary):
            raise ContentError(file, f"{key}.supplementary", "needs a list of source ids like S16")
    if "interface" in source and source["interface"] is not True:
        raise ContentError(file, f"{key}.interface", "is either true or absent")


def read_yaml(path: Path) -> Any:
    """Parse one content file; syntax errors name the file."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml_loader.load(handle)
    except FileNotFoundError:
        raise ContentError(path, "(file)", "missing") from None
    except yaml_loader.YAMLError as error:
        raise ContentError(path, "(file)", f"not valid YAML: {error}") from None


class FromContentFile:
    """A domain object built from one content file: `parse` takes the file's data (as a locale's
    layers laid it out, skill.domain.layers), `load` reads the default layer's file itself."""

    @classmethod
    def parse(cls, path: Path, data: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path) -> Any:
        return cls.parse(path, read_yaml(path))


def local_source_ids(path: Path, data: Any) -> frozenset[str]:
    """The L ids content/sources.yaml records; each needs a title, a URL and what it confirms."""
    if not isinstance(data, dict):
        raise ContentError(path, "(file)", "must map source ids to sources")
    for source_id, source in data.items():
        if not (isinstance(source_id, str) and source_id.startswith("L") and SOURCE_ID.match(source_id)):
            raise ContentError(path, str(source_id), "an id here is L and a number; S ids are research/triage.md's")
        if not isinstance(source, dict) or not all(isinstance(source.get(f), str) for f in ("title", "url", "confirms")):
            raise ContentError(path, source_id, "needs a title, a url and what it confirms")
    return frozenset(data)


def check_source_ids(path: Path, key: str, ids: Any, known: frozenset[str]) -> None:
    """Research ids (S) are checked for form; local ids (L) must be recorded in content/sources.yaml."""
    if not isinstance(ids, (list, tuple)) or not all(isinstance(i, str) and SOURCE_ID.match(i) for i in ids):
        raise ContentError(path, key, "needs a list of source ids like S16 or L2")
    unknown = sorted(i for i in ids if i.startswith("L") and i not in known)
    if unknown:
        raise ContentError(path, key, f"cites {unknown}, which {SOURCES_FILE} does not record")


@dataclass(frozen=True)
class Emergency:
    """A locale's emergency number."""
    number: str             # as a card shows it: "000"
    said: str | None        # what the voice says instead, where the service is named ("triple zero")


@dataclass(frozen=True)
class Places:
    """The facts that differ by where the user is: guidance.yaml's emergency numbers and the
    urgent-but-not-emergency service each locale's guidance names."""
    KEYS: ClassVar[tuple[str, ...]] = ("emergency_numbers", "fallback_emergency_number", "urgent_care")
    numbers: dict[str, Emergency]
    fallback: str
    urgent_care: dict[str, str]   # locale -> the service's name, as its guidance says it

    def emergency(self, locale: str | None) -> Emergency:
        number = self.numbers.get(locale or "")
        return number if number is not None else Emergency(self.fallback, None)

    @classmethod
    def parse(cls, path: Path, data: dict, known_sources: frozenset[str]) -> "Places":
        numbers, urgent, fallback = data.get("emergency_numbers"), data.get("urgent_care"), \
            data.get("fallback_emergency_number")
        if not isinstance(numbers, dict) or not isinstance(urgent, dict) or not isinstance(fallback, str):
            raise ContentError(path, "emergency_numbers", "needs a locale map, urgent_care and fallback_emergency_number")
        for group, entries, field in (("emergency_numbers", numbers, "number"), ("urgent_care", urgent, "name")):
            for locale, entry in entries.items():
                if not isinstance(entry, dict) or not isinstance(entry.get(field), str) or not entry.get("sources"):
                    raise ContentError(path, f"{group}.{locale}", f"needs a {field} and its sources")
                check_source_ids(path, f"{group}.{locale}.sources", entry.get("sources"), known_sources)
        return cls(numbers={locale: Emergency(entry["number"], entry.get("said")) for locale, entry in numbers.items()},
                   fallback=fallback, urgent_care={locale: entry["name"] for locale, entry in urgent.items()})


class Content:
    """Every spoken item of guidance, answers, prompts, red_flags and reminders.yaml, by dotted key."""

    FILES = ("guidance", "answers", "prompts", "red_flags", "reminders")
    # Sections that are data, not spoken items: red_flags.matching is read by skill.domain.red_flags,
    # reminders.words (the words dates are built from) by skill.domain.reminders.ReminderWords.
    DATA = {"red_flags": ("matching",), "reminders": ("words",)}

    def __init__(self, items: dict[str, Item], places: "Places"):
        self._items = items
        self.places = places

    @classmethod
    def load(cls, directory: Path, locale: str | None = None, layers: "ContentLayers | None" = None) -> "Content":
        """Every spoken item as `locale` says it: the default layer with that locale's layers over it."""
        from skill.domain.layers import ContentLayers  # layers reads files with this module's reader
        layers = layers or ContentLayers(directory)
        sources = layers.read(SOURCES_FILE.removesuffix(".yaml"))
        known_sources = local_source_ids(sources.path, sources.data)
        items: dict[str, Item] = {}
        places: Places | None = None
        for name in cls.FILES:
            layered = layers.read(name, locale)
            path, data = layered.path, layered.data
            if not isinstance(data, dict):
                raise ContentError(path, "(file)", "must be a mapping of items")
            if name == "guidance":
                places = Places.parse(path, data, known_sources)
                data = {k: v for k, v in data.items() if k not in Places.KEYS}
            data = {k: v for k, v in data.items() if k not in cls.DATA.get(name, ())}
            for key, item in _collect_items(path, name, data).items():
                check_source_ids(path, f"{key}.source", item.source.get("supplementary", ()), known_sources)
                items[key] = item
        assert places is not None  # guidance is one of FILES
        content = cls(items, places)
        for required in ("guidance.full", "guidance.short"):
            content.say(required)
        return content

    def say(self, key: str, **values: object) -> Line:
        """The item's text with `values` filled in; {emergency_number} is left for the composer.

        `KEY:more` is the item's `more` text, the rest of a long answer.
        """
        text = self.item(key).more if key.endswith(MORE) else self.item(key).say
        if text is None:
            raise KeyError(f"content item {key!r} has no more to say")
        return Line(_filled(text, values), key, values)

    def more(self, key: str) -> Line | None:
        """The rest of a long answer, or None when the item says all it has."""
        return self.say(key + MORE) if self.item(key).more else None

    def item(self, key: str) -> Item:
        try:
            return self._items[key.removesuffix(MORE)]
        except KeyError:
            raise KeyError(f"no content item {key!r}") from None

    def has(self, key: str) -> bool:
        item = self._items.get(key.removesuffix(MORE))
        return item is not None and (not key.endswith(MORE) or item.more is not None)

    def keys(self) -> frozenset[str]:
        """Every key `say` accepts, `more` texts included."""
        return frozenset(self._items) | {key + MORE for key, item in self._items.items() if item.more}

    def items(self) -> list[Item]:
        return list(self._items.values())

    def emergency_number(self, locale: str | None) -> str:
        """The number as a card shows it ("000"), or the fallback words where no source confirms one."""
        return self.places.emergency(locale).number


def _filled(text: str, values: dict[str, object]) -> str:
    if not values:
        return text
    return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), text)


def _collect_items(path: Path, prefix: str, data: dict) -> dict[str, Item]:
    items = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}"
        if isinstance(value, dict) and "say" in value:
            items[dotted] = validate_item(path, dotted, value)
        elif isinstance(value, dict):
            items.update(_collect_items(path, dotted, value))
        else:
            raise ContentError(path, dotted, "expected a spoken item (with 'say') or a group of them")
    return items
