"""Red-flag words in whatever the user said, whichever intent and slot Alexa put them in.

The terms, negations and fillers are data (content/red_flags.yaml, section `matching`); this
module only normalises text the way the simulator's matcher does and finds the terms on whole
words, skipping negated ones ("no fever", "I don't have a fever", "not numb"). It is pure and
keeps nothing: the text it is given is never stored or returned.

It runs on every request, and most text holds no term. So the first two words each term can
begin with are read from its pattern once (`leads`), and a pattern is tried only where those
words are: a set lookup per word rejects the rest, with exactly the matches a full scan finds.
"""
from __future__ import annotations

import re
import re._constants as _sre
import re._parser as _sre_parse
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate, groupby
from pathlib import Path
from typing import Any, NamedTuple

from skill.domain.content import SOURCE_ID, ContentError, FromContentFile
from skill.domain.triage import RED_FLAG_KINDS

# Contractions as the matcher expands them ("can't" -> "can not"); "'s" only for "it's", "that's"...
# Each with a substring any match contains, so text without it skips that pattern's scan.
_CONTRACTIONS = (("can", re.compile(r"\b(can't|cannot|cant)\b"), "can not"), ("won't", re.compile(r"\bwon't\b"), "will not"),
                 ("ain't", re.compile(r"\bain't\b"), "is not"), ("n't", re.compile(r"n't\b"), " not"),
                 ("'m", re.compile(r"'m\b"), " am"), ("'re", re.compile(r"'re\b"), " are"),
                 ("'ve", re.compile(r"'ve\b"), " have"), ("'ll", re.compile(r"'ll\b"), " will"),
                 ("'d", re.compile(r"'d\b"), " would"),
                 ("'s", re.compile(r"\b(it|that|there|here|what|who|where|he|she|nothing|something|everything)'s\b"), r"\1 is"))
_DROPPED = re.compile(r"[^a-z0-9& ]")
_CLAUSE_PUNCTUATION = re.compile(r"[.,;:!?()\u2013\u2014]+|\s-\s")
Leads = Mapping[str, "frozenset[str] | None"]    # a first word, and the words that may follow it (None: any)
NEGATED = "no"        # an earlier negated hit counts as a negation for the next ("no numbness or tingling")


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces, contractions expanded, other marks gone."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    if "'" in text or "can" in text:           # in every contraction
        for needle, pattern, expansion in _CONTRACTIONS:
            if needle in text:
                text = pattern.sub(expansion, text)
    return " ".join(_DROPPED.sub(" ", text).split())


_WORD = re.compile(r"[a-z0-9]+")


def _words_of(normalised: str) -> list[str]:
    """The runs of word characters (what regex \\b sees) in normalised text."""
    return normalised.replace("&", " ").split() if "&" in normalised else normalised.split()


def _word_starts(normalised: str) -> list[int]:
    """Where each word of normalised text (single spaces, perhaps "&") starts."""
    if "&" in normalised:
        return [match.start() for match in _WORD.finditer(normalised)]
    lengths = accumulate(map(len, normalised.split(" ")), initial=0)
    return [at + index for index, at in enumerate(lengths)]     # words are one space apart


class _Hit(NamedTuple):         # a tuple: cheaper to make than a frozen dataclass, a few per request
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class _Kind:
    name: str
    pattern: re.Pattern[str]
    leads: Leads | None      # the words its matches can begin with, and what may follow each; None: not known


class RedFlagTerms(FromContentFile):
    def __init__(self, kinds: tuple[_Kind, ...], precedence: tuple[str, ...],
                 clause_breaks: re.Pattern[str], negated_before: re.Pattern[str]):
        self._kinds = kinds
        self._precedence = precedence
        self._clause_breaks = clause_breaks
        self._negated_before = negated_before
        # each first word: the kinds (by place) whose terms begin with it, and what may follow it there
        self._leads: dict[str, list[tuple[int, frozenset[str] | None]]] | None = {}
        for place, kind in enumerate(kinds):
            if kind.leads is None:
                self._leads = None
                break
            for first, following in kind.leads.items():
                self._leads.setdefault(first, []).append((place, following))
        breaks = leads(_sre_parse.parse(clause_breaks.pattern))
        self._break_words = frozenset(breaks) if breaks is not None else None

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
            kinds=tuple(_kind(path, kind, kinds[kind]) for kind in RED_FLAG_KINDS),
            precedence=tuple(precedence),
            clause_breaks=re.compile(rf"\b(?:{_alternatives(_words(path, matching, 'clause_breaks'))})\b"),
            negated_before=re.compile(rf"(?:^|\s)(?:{negations}|{NEGATED})(?:\s(?:{fillers}))*\s*$"))

    def kind(self, texts: Iterable[str]) -> str | None:
        """The red-flag kind said in any of `texts` (by precedence), or None."""
        found = {hit.kind for text in texts for clause in self._clauses(text) for hit in self._hits(clause)}
        return next((kind for kind in self._precedence if kind in found), None)

    def _clauses(self, text: str) -> Iterator[str]:
        """The clauses of `text` that hold a word some term begins with: no other clause can hold a term.

        Words are what the patterns see as words, so a pattern whose first words are all missing
        cannot match: neither a term nor a clause break (that split is skipped too).
        """
        for part in _CLAUSE_PUNCTUATION.split(text):
            clause = normalise(part)
            words = _words_of(clause)
            if self._leads is not None and self._leads.keys().isdisjoint(words):
                continue
            if self._break_words is None or not self._break_words.isdisjoint(words):
                yield from (piece.strip() for piece in self._clause_breaks.split(clause) if piece.strip())
            elif clause:
                yield clause

    def _candidates(self, clause: str) -> list[_Hit]:
        """Each kind's matches, exactly as its pattern's finditer finds them, kind by kind, but tried
        only where a word its terms begin with starts, followed by a word that can come next:
        nowhere else can a match start."""
        if self._leads is None:
            return [_Hit(match.start(), match.end(), kind.name) for kind in self._kinds
                    for match in kind.pattern.finditer(clause)]
        words = [*_words_of(clause), None]
        tries = sorted((place, index) for index, word in enumerate(words) if word in self._leads
                       for place, following in self._leads[word] if following is None or words[index + 1] in following)
        if not tries:
            return []
        starts = _word_starts(clause)
        ends = [0] * len(self._kinds)
        candidates: list[_Hit] = []
        for place, index in tries:
            kind, start = self._kinds[place], starts[index]
            # match() sees the text before `start` (lookbehinds, \b), as finditer does
            if start >= ends[place] and (match := kind.pattern.match(clause, start)):
                candidates.append(_Hit(start, match.end(), kind.name))
                ends[place] = match.end()
        return candidates

    def _hits(self, clause: str) -> list[_Hit]:
        """Terms not negated, left to right; a negated term negates the next one ("no fever or chills")."""
        candidates = sorted(self._candidates(clause), key=lambda hit: (hit.start, -hit.end))
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


def _kind(path: Path, name: str, raw: Any) -> _Kind:
    """The kind's terms as one pattern, and the words its matches can begin with (None: not known)."""
    key = f"matching.kinds.{name}"
    if not isinstance(raw, dict) or set(raw) != {"sources", "terms"}:
        raise ContentError(path, key, "needs 'sources' and 'terms'")
    sources = raw["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and SOURCE_ID.match(s) for s in sources):
        raise ContentError(path, f"{key}.sources", "needs a list of source ids like S3")
    terms = raw["terms"]
    if not isinstance(terms, list) or not terms or not all(isinstance(term, str) and term.strip() for term in terms):
        raise ContentError(path, f"{key}.terms", "needs a list of terms")
    term_leads: list[Leads | None] = []
    for index, term in enumerate(terms):
        try:
            term_leads.append(leads(_sre_parse.parse(term)))
        except re.error as error:
            raise _bad_term(path, key, index, error) from None
    try:
        pattern = re.compile(r"\b(?:" + "|".join(f"(?:{term})" for term in terms) + r")\b")
    except re.error as error:    # rare (a lookbehind of varying width, a flag mid-pattern): name the term
        culprit = next((index for index, term in enumerate(terms) if not _compiles(f"(?:{term})")), None)
        if culprit is None:
            raise ContentError(path, f"{key}.terms", f"do not make one pattern: {error}") from None
        raise _bad_term(path, key, culprit, error) from None
    return _Kind(name, pattern, None if None in term_leads else _merged(term_leads))


def _merged(all_leads: list[Leads]) -> Leads:
    merged: dict[str, frozenset[str] | None] = {}
    for term_leads in all_leads:
        for first, following in term_leads.items():
            known = merged.get(first, frozenset())
            merged[first] = None if known is None or following is None else known | following
    return merged


def _bad_term(path: Path, key: str, index: int, error: re.error) -> ContentError:
    return ContentError(path, f"{key}.terms.{index}", f"not a valid pattern: {error}")


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


# How many texts a part of a pattern may stand for before the rest counts as unknown; and the most repeats read.
_MOST_TEXTS = 5000
_LONGEST_REPEAT = 64
_OPEN, _DONE, _CUT = "open", "done", "cut"     # the text may go on; it holds two whole words; unknown after it
_TWO_WORDS = re.compile(r"\w*\W+\w+\W")         # a text's end of its first word, and one whole word after it
_LEAD = re.compile(r"(\w*)(\W+(\w*))?")
_ZERO_WIDTH = (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT)
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)


def leads(parsed: Any) -> Leads | None:
    """The first word of every match of a parsed pattern, each with the words that can come next,
    or None when its first words are not a known few.

    Reads the pattern as the texts it stands for, up to its second word's end; lookarounds and
    anchors only narrow a match, so skipping them only adds texts. Where the next word is not
    known (a pattern like \\w+, the pattern may end there), any word may come next. A match that
    may begin with something other than a word character is None.
    """
    if parsed.state.flags & ~_sre.SRE_FLAG_UNICODE:
        return None
    found: list[Leads] = []
    for text, status in _follow(list(parsed), {("", _OPEN)}):
        lead = _LEAD.match(text)
        first, second = lead.group(1), lead.group(3)
        if not first or (status is _CUT and lead.end(1) == len(text)):
            return None
        whole = bool(second) and (status is not _CUT or lead.end(3) < len(text))
        found.append({first: frozenset({second}) if whole else None})
    return _merged(found)


_Text = tuple[str, str]    # a text a pattern's start stands for, and its status


def _follow(items: list[Any], texts: set[_Text]) -> set[_Text]:
    """The texts after reading `items` on from each of `texts`."""
    for literal, group in groupby(items, key=lambda item: item[0] is _sre.LITERAL):
        # a run of characters is read at once
        steps = [(_sre.LITERAL, "".join(chr(code) for _, code in group))] if literal else list(group)
        for op, av in steps:
            if all(status is not _OPEN for _, status in texts):
                return texts
            ended = {text for text in texts if text[1] is not _OPEN}
            texts = ended | _step(op, av, {text for text, status in texts if status is _OPEN})
            if len(texts) > _MOST_TEXTS:
                return _cut(texts)
    return texts


def _step(op: Any, av: Any, texts: set[str]) -> set[_Text]:
    if op is _sre.LITERAL:
        return {_done(text + av) for text in texts}
    if op is _sre.IN and all(code is _sre.LITERAL for code, _ in av):
        return {_done(text + chr(value)) for text in texts for _, value in av}
    opened = {(text, _OPEN) for text in texts}
    if op in _ZERO_WIDTH:
        return opened
    if op is _sre.SUBPATTERN and not av[1] and not av[2]:    # no flags added or removed
        return _follow(list(av[3]), opened)
    if op is _sre.BRANCH:
        return set().union(*(_follow(list(items), opened) for items in av[1]))
    if op in _REPEATS:
        return _repeat(*av, opened)
    return _cut(opened)    # anything else (\\w, ., a negated set, a backreference...) is not read


def _repeat(least: int, most: int, items: Any, texts: set[_Text]) -> set[_Text]:
    found: set[_Text] = set()
    for count in range(_LONGEST_REPEAT + 1):
        if count >= least:
            found |= texts
        if count == most:
            return found
        following = _follow(list(items), texts)
        if following == texts:          # more repeats add nothing
            return found | texts
        texts = following
    return found | _cut(texts)


def _done(text: str) -> _Text:
    two = _TWO_WORDS.match(text)
    return (text[:two.end()], _DONE) if two else (text, _OPEN)


def _cut(texts: set[_Text]) -> set[_Text]:
    return {(text, _CUT if status is _OPEN else status) for text, status in texts}
