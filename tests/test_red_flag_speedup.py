"""The fast red-flag scanner finds exactly what the plain one finds, for every text.

skill/domain/red_flags.py skips contraction patterns, clauses and positions that cannot hold a
match; a wrong skip would silently miss an emergency. So the scanner is compared, text by text,
with `ReferenceScanner` below: the straightforward reading of content/red_flags.yaml (every
pattern run on every clause), kept here as the specification. The corpus is every utterance and
slot value of tests/nlu, every line said in tests/conversations, texts generated from each term's
own pattern (alone, negated, after "but", mixed case, both apostrophes) and seeded random
recombinations of all their words.
"""
from __future__ import annotations

import csv
import random
import re
import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from skill.domain.content import ContentError
from skill.domain.red_flags import RedFlagTerms, leads, normalise
from skill.settings import PROJECT_ROOT

RED_FLAG_FILE = PROJECT_ROOT / "content" / "red_flags.yaml"
TESTS = Path(__file__).parent
MATCHING = yaml.safe_load(RED_FLAG_FILE.read_text(encoding="utf-8"))["matching"]
TERMS = [(kind, term) for kind, spec in MATCHING["kinds"].items() for term in spec["terms"]]


class ReferenceScanner:
    """The specification: the scanner as first written, with no shortcut of any kind."""

    CONTRACTIONS = ((r"\b(can't|cannot|cant)\b", "can not"), (r"\bwon't\b", "will not"), (r"\bain't\b", "is not"),
                    (r"n't\b", " not"), (r"'m\b", " am"), (r"'re\b", " are"), (r"'ve\b", " have"),
                    (r"'ll\b", " will"), (r"'d\b", " would"),
                    (r"\b(it|that|there|here|what|who|where|he|she|nothing|something|everything)'s\b", r"\1 is"))

    @dataclass(frozen=True)
    class Hit:
        start: int
        end: int
        kind: str

    def __init__(self, matching: dict):
        def alternatives(name: str) -> str:
            words = sorted((self.normalise(word) for word in matching[name]), key=len, reverse=True)
            return "|".join(re.escape(word) for word in words)
        self.precedence = matching["precedence"]
        self.kinds = {kind: re.compile(r"\b(?:" + "|".join(f"(?:{term})" for term in spec["terms"]) + r")\b")
                      for kind, spec in matching["kinds"].items()}
        self.clause_breaks = re.compile(rf"\b(?:{alternatives('clause_breaks')})\b")
        self.negated_before = re.compile(
            rf"(?:^|\s)(?:{alternatives('negations')}|no)(?:\s(?:{alternatives('fillers')}))*\s*$")

    @classmethod
    def normalise(cls, text: str) -> str:
        text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
        for pattern, expansion in cls.CONTRACTIONS:
            text = re.sub(pattern, expansion, text)
        return " ".join(re.sub(r"[^a-z0-9& ]", " ", text).split())

    def kind(self, texts: list[str]) -> str | None:
        found = {hit.kind for text in texts for clause in self.clauses(text) for hit in self.hits(clause)}
        return next((kind for kind in self.precedence if kind in found), None)

    def clauses(self, text: str) -> list[str]:
        parts = [self.normalise(part) for part in re.split(r"[.,;:!?()\u2013\u2014]+|\s-\s", text)]
        return [piece.strip() for part in parts for piece in self.clause_breaks.split(part) if piece.strip()]

    def hits(self, clause: str) -> list[Hit]:
        candidates = sorted((self.Hit(match.start(), match.end(), kind)
                             for kind, pattern in self.kinds.items() for match in pattern.finditer(clause)),
                            key=lambda hit: (hit.start, -hit.end))
        hits, negated = [], []
        for hit in candidates:
            before = clause[:hit.start]
            for earlier in reversed(negated):
                if earlier.end <= hit.start:
                    before = before[:earlier.start] + "no" + before[earlier.end:]
            (negated if self.negated_before.search(before) else hits).append(hit)
        return hits


def corpus_texts() -> list[str]:
    """What users said in the NLU sets (utterances and slot values) and in the conversations."""
    texts = []
    for path in sorted([*TESTS.glob("nlu/*.csv"), *TESTS.glob("nlu/locales/*.csv"), *TESTS.glob("nlu/holdout/*.csv")]):
        with path.open(encoding="utf-8", newline="") as rows:
            for row in csv.DictReader(rows):
                texts += [value for key, value in row.items()
                          if value and key and (key == "utterance" or key.startswith("slot["))]

    def said(node):
        if isinstance(node, dict):
            return [value for key, value in node.items() if key == "say" and isinstance(value, str)] + \
                [line for value in node.values() for line in said(value)]
        return [line for value in node for line in said(value)] if isinstance(node, list) else []
    for path in sorted(TESTS.glob("conversations/*.yaml")):
        texts += said(yaml.safe_load(path.read_text(encoding="utf-8")))
    return texts


def sample(items, rng: random.Random, words: list[str]) -> str:
    """One text a parsed pattern matches (lookarounds ignored, so some are near misses: useful too)."""
    out = []
    for op, av in items:
        if op is sre.LITERAL:
            out.append(chr(av))
        elif op is sre.IN:
            out.append(chr(rng.choice([value for code, value in av if code is sre.LITERAL] or [ord("x")])))
        elif op is sre.CATEGORY:
            out.append(rng.choice(words))
        elif op is sre.SUBPATTERN:
            out.append(sample(av[3], rng, words))
        elif op is sre.BRANCH:
            out.append(sample(rng.choice(av[1]), rng, words))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            out += [sample(av[2], rng, words) for _ in range(rng.randint(av[0], min(av[1], av[0] + 3)))]
    return "".join(out)


def term_texts(rng: random.Random, words: list[str]) -> list[str]:
    """Each term's own texts, alone and in the shapes negation and clause breaks act on."""
    texts = []
    for _, term in TERMS:
        for _ in range(12):
            said = sample(sre_parse.parse(term), rng, words)
            other = sample(sre_parse.parse(rng.choice(TERMS)[1]), rng, words)
            texts += [said, f"no {said}", f"I don't have {said}", f"not {said}", f"I haven't got any {said}",
                      f"no {other} or {said}", f"no {said} but {other}", f"I had no {said}, but {other}",
                      f"not {said} though {other}", f"my hip is fine - {said}", said.upper(), said.title(),
                      f"I can’t say it’s {said}", f"I can't say it's {said}", f"i fell asleep {said} in the fall"]
    return texts


def recombined(rng: random.Random, pool: list[str], count: int) -> list[str]:
    """Seeded random texts from all the corpus's words, with punctuation, negations and breaks among them."""
    joiners = [" ", " ", " ", " ", ", ", ". ", " but ", " no ", " not ", " don't ", " - ", "; ", " I can't ", "’s ", "&", " & "]
    texts = []
    for _ in range(count):
        words = [rng.choice(pool) for _ in range(rng.randint(1, 14))]
        texts.append("".join(word + rng.choice(joiners) for word in words).strip())
    return texts


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    rng = random.Random(11)
    base = corpus_texts()
    pool = sorted({word for text in base for word in text.split()})
    generated = term_texts(rng, pool)
    pool += sorted({word for text in generated for word in text.split()})
    return base + generated + recombined(rng, pool, 6000)


@pytest.fixture(scope="module")
def scanners() -> tuple[RedFlagTerms, ReferenceScanner]:
    return RedFlagTerms.load(RED_FLAG_FILE), ReferenceScanner(MATCHING)


def test_the_corpus_is_large_and_holds_every_kind_and_none(corpus, scanners):
    _, reference = scanners
    kinds = [reference.kind([text]) for text in corpus]
    assert len(corpus) > 15_000
    assert {kind: kinds.count(kind) > 1000 for kind in (None, *MATCHING["precedence"])} == \
        dict.fromkeys((None, *MATCHING["precedence"]), True)


def test_normalise_is_the_reference_normalise(corpus):
    differ = [text for text in corpus if normalise(text) != ReferenceScanner.normalise(text)]
    assert differ == []


def test_every_text_gets_the_reference_kind(corpus, scanners):
    fast, reference = scanners
    differ = [(text, fast.kind([text]), reference.kind([text])) for text in corpus
              if fast.kind([text]) != reference.kind([text])]
    assert differ == []


def test_several_texts_at_once_get_the_reference_kind(corpus, scanners):
    """A request's slot values are scanned together: the kind first in precedence among them wins."""
    fast, reference = scanners
    rng = random.Random(12)
    groups = [rng.sample(corpus, rng.randint(2, 4)) for _ in range(2000)]
    assert [group for group in groups if fast.kind(group) != reference.kind(group)] == []


def test_the_shipped_terms_let_the_scanner_skip_text_without_a_first_word(scanners):
    """Every term's first word is known, so a sentence without one costs no pattern scan at all."""
    fast, _ = scanners
    unknown = [term for _, term in TERMS if leads(sre_parse.parse(term)) is None]
    assert unknown == []
    assert all(kind.leads for kind in fast._kinds)


@pytest.mark.parametrize("pattern, expected", [
    ("fell|fallen", {"fell": None, "fallen": None}),
    ("(?<!in the )fall(?! asleep)", {"fall": None}),
    ("problems?|hard", {"problem": None, "problems": None, "hard": None}),
    ("(can|could) not (really |even )?(stand|walk)", {"can": {"not"}, "could": {"not"}}),
    ("it (feels|has gone)( really)? hot|it is", {"it": {"feels", "has", "is"}}),
    ("it (feels|looks)|it", {"it": None}),                     # "it" alone: any word may follow
    (r"(sudden|overnight) (\w+ ){0,4}bad", {"sudden": None, "overnight": None}),
    (r"the shakes|a (temp|tum\w+)", {"the": {"shakes"}, "a": None}),   # "tum..." is not a known word
    ("ab{2,3}", {"abb": None, "abbb": None}),
    ("pins&needles|x y", {"pins": {"needles"}, "x": {"y"}}),
    (r"\w+ish", None),                 # any word at all
    ("a+", None),                      # endless
    (" fall", None),                   # may begin between words
    ("x?", None),                      # may begin with nothing
    ("[^a]ll", None),
    ("(?i)fall", None),                # a flag changes what the words are
])
def test_the_leads_of_a_pattern(pattern, expected):
    found = leads(sre_parse.parse(pattern))
    assert (dict(found) if found is not None else None) == \
        ({first: frozenset(following) if following is not None else None for first, following in expected.items()}
         if expected is not None else None)


def test_a_term_whose_first_word_is_unknown_is_still_found(tmp_path, scanners):
    """Content may hold a term the shortcut cannot read; the scanner then scans every clause."""
    raw = yaml.safe_load(RED_FLAG_FILE.read_text(encoding="utf-8"))
    raw["matching"]["kinds"]["nerve"]["terms"].append(r"\w+ish toes")
    terms = RedFlagTerms.parse(tmp_path / "red_flags.yaml", raw)
    assert [kind.leads for kind in terms._kinds if kind.name == "nerve"] == [None]
    reference = ReferenceScanner(raw["matching"])
    for text in ("my toes are fine", "bluish toes", "I have no bluish toes", "quite greyish toes, but no fever"):
        assert terms.kind([text]) == reference.kind([text]), text
    assert terms.kind(["quite greyish toes"]) == "nerve"


@pytest.mark.parametrize("term", ["(?<!a+)fever", "(?i)fever"])
def test_a_term_that_only_fails_to_compile_is_named(tmp_path, term):
    """Terms are parsed on their own but compiled only together; a term that parses yet cannot
    compile (a lookbehind of varying width, a flag mid-pattern) is still named, not a traceback."""
    raw = yaml.safe_load(RED_FLAG_FILE.read_text(encoding="utf-8"))
    raw["matching"]["kinds"]["infection"]["terms"].insert(1, term)
    with pytest.raises(ContentError) as raised:
        RedFlagTerms.parse(tmp_path / "red_flags.yaml", raw)
    assert raised.value.key == "matching.kinds.infection.terms.1"
