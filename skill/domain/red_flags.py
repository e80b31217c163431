"""Red-flag words in whatever the user said, whichever intent and slot Alexa put them in.

The terms, negations and fillers are data (content/red_flags.yaml, section `matching`); this
module only normalises text the way the simulator's matcher does and finds the terms on whole
words, skipping negated ones ("no fever", "I don't have a fever", "not numb"). It is pure and
keeps nothing: the text it is given is never stored or returned.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.domain.content import SOURCE_ID, ContentError, FromContentFile
from skill.domain.triage import RED_FLAG_KINDS

# Contractions as the matcher expands them ("can't" -> "can not"); "'s" only for "it's", "that's"...
_CONTRACTIONS = ((re.compile(r"\b(can't|cannot|cant)\b"), "can not"), (re.compile(r"\bwon't\b"), "will not"),
                 (re.compile(r"\bain't\b"), "is not"), (re.compile(r"n't\b"), " not"),
                 (re.compile(r"'m\b"), " am"), (re.compile(r"'re\b"), " are"), (re.compile(r"'ve\b"), " have"),
                 (re.compile(r"'ll\b"), " will"), (re.compile(r"'d\b"), " would"),
                 (re.compile(r"\b(it|that|there|here|what|who|where|he|she|nothing|something|everything)'s\b"), r"\1 is"))
_CLAUSE_PUNCTUATION = re.compile(r"[.,;:!?()\u2013\u2014]+|\s-\s")
NEGATED = "no"        # an earlier negated hit counts as a negation for the next ("no numbness or tingling")


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces, contractions expanded, other marks gone."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, expansion in _CONTRACTIONS:
        text = pattern.sub(expansion, text)
    return " ".join(re.sub(r"[^a-z0-9& ]", " ", text).split())


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str


class RedFlagTerms(FromContentFile):
    def __init__(self, kinds: Mapping[str, re.Pattern[str]], precedence: tuple[str, ...],
                 clause_breaks: re.Pattern[str], negated_before: re.Pattern[str]):
        self._kinds = kinds
        self._precedence = precedence
        self._clause_breaks = clause_breaks
        self._negated_before = negated_before

    @classmethod
    def parse(cls, path: Path, raw: Any) -> RedFlagTerms:
        """Compile the `matching` section; a broken one raises ContentError naming `path`."""
        matching = raw.get("matching") if isinstance(raw, dict) else None
        if not isinstance(matching, dict):
            raise ContentError(path, "matching", "is missing")
        precedence = _words(path, matching, "precedence")
        if sorted(precedence) != sorted(RED_FLAG_KINDS):
            raise ContentError(path, "matching.precedence", f"lists each of {', '.join(RED_FLAG_KINDS)} once")
        kinds = matching.get("kinds")
        if not isinstance(kinds, dict) or set(kinds) != set(RED_FLAG_KINDS):
            raise ContentError(path, "matching.kinds", f"needs exactly the kinds {', '.join(RED_FLAG_KINDS)}")
        negations, fillers = (_alternatives(_words(path, matching, name)) for name in ("negations", "fillers"))
        return cls(
            kinds={kind: _kind_pattern(path, f"matching.kinds.{kind}", kinds[kind]) for kind in RED_FLAG_KINDS},
            precedence=tuple(precedence),
            clause_breaks=re.compile(rf"\b(?:{_alternatives(_words(path, matching, 'clause_breaks'))})\b"),
            negated_before=re.compile(rf"(?:^|\s)(?:{negations}|{NEGATED})(?:\s(?:{fillers}))*\s*$"))

    def kind(self, texts: Iterable[str]) -> str | None:
        """The red-flag kind said in any of `texts` (by precedence), or None."""
        found = {hit.kind for text in texts for clause in self._clauses(text) for hit in self._hits(clause)}
        return next((kind for kind in self._precedence if kind in found), None)

    def _clauses(self, text: str) -> list[str]:
        clauses = [normalise(part) for part in _CLAUSE_PUNCTUATION.split(text)]
        return [piece.strip() for clause in clauses for piece in self._clause_breaks.split(clause) if piece.strip()]

    def _hits(self, clause: str) -> list[_Hit]:
        """Terms not negated, left to right; a negated term negates the next one ("no fever or chills")."""
        candidates = sorted((_Hit(match.start(), match.end(), kind)
                             for kind, pattern in self._kinds.items() for match in pattern.finditer(clause)),
                            key=lambda hit: (hit.start, -hit.end))
        hits: list[_Hit] = []
        negated: list[_Hit] = []
        for hit in candidates:
            before = clause[:hit.start]
            for earlier in reversed(negated):        # earlier negated terms read as the negation word
                if earlier.end <= hit.start:
                    before = before[:earlier.start] + NEGATED + before[earlier.end:]
            (negated if self._negated_before.search(before) else hits).append(hit)
        return hits


def _words(path: Path, raw: Mapping[str, Any], name: str) -> list[str]:
    words = raw.get(name)
    if not isinstance(words, list) or not words or not all(isinstance(word, str) and word.strip() for word in words):
        raise ContentError(path, f"matching.{name}", "needs a list of words")
    return [normalise(word) for word in words]


def _alternatives(words: list[str]) -> str:
    """Longest first, so "no sign of" wins over "no"."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


def _kind_pattern(path: Path, key: str, raw: Any) -> re.Pattern[str]:
    if not isinstance(raw, dict) or set(raw) != {"sources", "terms"}:
        raise ContentError(path, key, "needs 'sources' and 'terms'")
    sources = raw["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and SOURCE_ID.match(s) for s in sources):
        raise ContentError(path, f"{key}.sources", "needs a list of source ids like S3")
    terms = raw["terms"]
    if not isinstance(terms, list) or not terms or not all(isinstance(term, str) and term.strip() for term in terms):
        raise ContentError(path, f"{key}.terms", "needs a list of terms")
    for index, term in enumerate(terms):
        try:
            re.compile(term)
        except re.error as error:
            raise ContentError(path, f"{key}.terms.{index}", f"not a valid pattern: {error}") from None
    return re.compile(r"\b(?:" + "|".join(f"(?:{term})" for term in terms) + r")\b")
