"""The spoken triage: red flags first, then where and when it hurts, then one branch question.

The decision table is content/triage.yaml; this module loads it, refuses a broken one at
start-up, and walks it. It is pure: all progress of one triage is a small JSON-serialisable
dict that the skill keeps in Alexa session attributes, so any server process can take the next
turn and nothing about the user's symptoms outlives the session.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from skill.domain.content import ContentError, FromContentFile, Line, validate_item
from skill.grammar import slot_ids as _grammar_slot_ids

MAX_QUESTIONS = 5
MAX_OUTCOME_WORDS = 55            # an outcome with its appended advice; the composer adds guidance after it
URGENCIES = ("emergency_now", "doctor_1_2_days", "doctor_few_days", "doctor_within_week", "self_care")  # most urgent first
EMERGENCY = URGENCIES[0]
RED_FLAG_KINDS = ("injury", "infection", "nerve")

# Slot value ids come from the interaction model's grammar source, which refuses an id used by two slots.
SLOT_IDS: Mapping[str, tuple[str, ...]] = _grammar_slot_ids()
_SLOT_OF = {answer: slot for slot, answers in SLOT_IDS.items() for answer in answers}
# A yes, no or "not sure" doesn't say which question it answers, so it only answers the one asked.
# That is also what keeps the red-flag questions from ever being skipped.
CURRENT_ONLY = frozenset(SLOT_IDS["yes_no"])
THEN = "then"                     # answer target: the outcome the router chose before this question
ADVICE_JOIN = "+"                 # id of an outcome with advice appended: OUTCOME+ADVICE
# Texts are Lines keyed "triage.questions.ID[.reprompt|.repeat_slowly]" and "triage.outcomes.ID",
# so "repeat" can say them again from the key alone.
OUTCOME_KEY = "triage.outcomes."


def slot_of(answer: str) -> str:
    """The interaction-model slot that carries an answer id: slot_of("THIGH") == "location"."""
    return _SLOT_OF[answer]


def _free_answer_slot(answers: Iterable[str]) -> str | None:
    """The slot of the first answer id a question lists, unless that is a yes/no: PATTERN lists
    timing ids first, so it asks for `timing` (a feeling said in that answer still counts)."""
    slot = slot_of(next(iter(answers)))
    return None if slot == "yes_no" else slot


@dataclass(frozen=True)
class Question:
    id: str
    prompt: Line
    reprompt: Line                          # shorter re-ask for silence or "repeat"
    repeat_slowly: Line | None = None       # a long list read one item at a time, for "repeat"
    accepts: tuple[str, ...] = ()           # the answer ids that fit this question
    slot: str | None = None                 # the slot a free answer fills ("location"); None for yes/no


@dataclass(frozen=True)
class Outcome:
    id: str
    text: Line                              # may hold {emergency_number}; the composer fills it
    urgency: str                            # one of URGENCIES
    offers_stretching: bool

    @property
    def is_emergency(self) -> bool:
        return self.urgency == EMERGENCY


@dataclass(frozen=True)
class Step:
    """What the skill says next: a question (state to keep in the session) or an outcome (state None)."""
    question: Question | None
    outcome: Outcome | None
    state: dict | None
    understood: bool = True                 # False: the answer did not fit; say the same question again
    facts: dict = field(default_factory=dict)   # e.g. {"outer_hip": True}; keep for this session only


class TriageStateError(ValueError):
    """A session's triage state this table did not make (tampered with, or the table changed): start again."""


@dataclass(frozen=True)
class _Target:
    go: str                                 # a node id, or THEN
    add: str | None = None                  # advice id appended to the outcome reached


@dataclass(frozen=True)
class _QuestionNode:
    question: Question
    summary: str                            # for the graph
    routes: Mapping[str, _Target]           # answer id -> where it leads, most cautious first


@dataclass(frozen=True)
class _Rule:
    when: Mapping[str, frozenset[str]]      # question id -> answers; empty: always matches
    target: _Target
    then: str | None                        # the outcome a branch question answers "then" with


@dataclass(frozen=True)
class _Router:
    summary: str
    rules: tuple[_Rule, ...]


@dataclass(frozen=True)
class _Advice:
    text: str
    urgency: str


@dataclass(frozen=True)
class _Table:
    file: Path
    start: str
    questions: Mapping[str, _QuestionNode]
    routers: Mapping[str, _Router]
    outcomes: Mapping[str, Outcome]
    advice: Mapping[str, _Advice]
    red_flags: Mapping[str, str]
    session_facts: Mapping[str, Mapping[str, frozenset[str]]]


class TriageEngine(FromContentFile):
    def __init__(self, table: _Table):
        self._table = table
        self._owner_of = {answer: question_id for question_id, node in table.questions.items()
                          for answer in node.routes if answer not in CURRENT_ONLY}
        self._lines, self._urgencies = self._every_line()

    @classmethod
    def parse(cls, path: Path, data: Any) -> TriageEngine:
        """Check the whole table, every path included; a broken table raises ContentError naming `path`."""
        return cls(_Reader(path, data).table())

    def say(self, key: str) -> Line:
        """A question's or outcome's text by its key (an outcome with advice appended included)."""
        try:
            return self._lines[key]
        except KeyError:
            raise KeyError(f"no triage text {key!r}") from None

    def keys(self) -> frozenset[str]:
        return frozenset(self._lines)

    def urgency_of(self, key: str) -> str | None:
        """How urgent the advice said under `key` is: an outcome's urgency, None for a question."""
        return self._urgencies.get(key)

    def _every_line(self) -> tuple[dict[str, Line], dict[str, str]]:
        """Every text the table can say, and each outcome's urgency, by key; checks every path on the way."""
        lines = {line.key: line for node in self._table.questions.values()
                 for line in (node.question.prompt, node.question.reprompt, node.question.repeat_slowly) if line}
        outcomes = [*self._table.outcomes.values(), *self._check_every_path()]
        lines.update((outcome.text.key, outcome.text) for outcome in outcomes)
        return lines, {outcome.text.key: outcome.urgency for outcome in outcomes}

    def start(self, known: Mapping[str, str | None] | None = None) -> Step:
        """The first question. `known`: slot answers the user gave before the triage began."""
        state: dict[str, Any] = {"at": None, "asked": 0, "answers": {}, "then": None}
        state = self._record(state, _answer_ids(known or {}), current=None)
        return self._go(state, _Target(self._table.start))

    def answer(self, state: dict, answers: Mapping[str, str | None]) -> Step:
        """Apply one utterance's slot answers, e.g. {"location": "OUTER_HIP", "timing": "DURING_RUN"}.

        Only the ids matter (slot names are for the reader). Answers to later questions are kept
        even when they don't fit this one, and those questions are then not asked.
        """
        node = self._table.questions[self._checked(state)["at"]]
        state = self._record(state, _answer_ids(answers), current=node)
        given = state["answers"].get(node.question.id)
        if given is None:
            return self._step(state, node.question, understood=False)
        return self._go(state, self._chosen(node, given))

    def current(self, state: dict) -> Question:
        return self._table.questions[self._checked(state)["at"]].question

    def red_flag(self, kind: str) -> Step:
        """A red-flag phrase said at any point: straight to the matching emergency outcome."""
        if kind not in self._table.red_flags:
            raise ValueError(f"unknown red flag {kind!r}; expected one of {RED_FLAG_KINDS}")
        return Step(None, self._table.outcomes[self._table.red_flags[kind]], None)

    def paths(self) -> Iterator[list[tuple[str, str]]]:
        """Every (question id, answer) path from the first question to an outcome."""
        for path, _ in self._walk(self.start(), []):
            yield path

    def to_mermaid(self) -> str:
        return _MermaidGraph(self._table).render()

    def _record(self, state: dict, answers: list[str], current: _QuestionNode | None) -> dict:
        """The state with these answers added; the first answer to a question wins, so routes never change mid-way."""
        fresh: dict[str, list[str]] = {}
        for answer in answers:
            owner = self._owner(answer, current)
            if owner is not None and owner not in state["answers"]:
                fresh.setdefault(owner, []).append(answer)
        return {**state, "answers": {**state["answers"], **fresh}}

    def _owner(self, answer: str, current: _QuestionNode | None) -> str | None:
        if answer in CURRENT_ONLY:
            return current.question.id if current is not None and answer in current.routes else None
        return self._owner_of.get(answer)

    @staticmethod
    def _chosen(node: _QuestionNode, given: list[str]) -> _Target:
        return next(target for answer, target in node.routes.items() if answer in given)

    def _go(self, state: dict, target: _Target) -> Step:
        """Follow the table from `target`, through routers and answered questions, to the next question or an outcome."""
        table = self._table
        for _ in range(len(table.questions) + len(table.routers) + 1):
            node_id = state["then"] if target.go == THEN else target.go
            if node_id is None:
                raise ContentError(table.file, f"questions.{state['at']}",
                                   "leads to 'then', but no router rule before it chose an outcome")
            if node_id in table.outcomes:
                return self._finish(state, node_id, target.add)
            if node_id in table.routers:
                rule = self._matching_rule(node_id, state["answers"])
                state, target = {**state, "then": rule.then}, rule.target
            elif node_id in state["answers"]:
                target = self._chosen(table.questions[node_id], state["answers"][node_id])
            else:
                return self._ask(state, table.questions[node_id])
        raise ContentError(table.file, f"questions.{state['at']}", "the routes after it go round in a loop")

    def _matching_rule(self, router_id: str, answers: Mapping[str, list[str]]) -> _Rule:
        for rule in self._table.routers[router_id].rules:
            if _matches(rule.when, answers):
                return rule
        raise ContentError(self._table.file, f"routers.{router_id}", "no rule matches these answers")

    def _ask(self, state: dict, node: _QuestionNode) -> Step:
        asked = state["asked"] + 1
        if asked > MAX_QUESTIONS:
            raise ContentError(self._table.file, f"questions.{node.question.id}",
                               f"would be question {asked} on a path; at most {MAX_QUESTIONS} may be asked")
        return self._step({**state, "at": node.question.id, "asked": asked}, node.question)

    def _step(self, state: dict, question: Question, understood: bool = True) -> Step:
        return Step(question, None, state, understood, self._facts(state))

    def _finish(self, state: dict, outcome_id: str, advice_id: str | None) -> Step:
        outcome = self._table.outcomes[outcome_id]
        if advice_id is not None:
            outcome = _with_advice(outcome, advice_id, self._table.advice[advice_id])
        return Step(None, outcome, None, facts=self._facts(state))

    def _facts(self, state: dict) -> dict:
        return {name: True for name, when in self._table.session_facts.items() if _matches(when, state["answers"])}

    def _checked(self, state: Any) -> dict:
        table = self._table
        try:
            valid = (state["at"] in table.questions and isinstance(state["asked"], int)
                     and all(question in table.questions and isinstance(answers, list)
                             for question, answers in state["answers"].items())
                     and (state["then"] is None or state["then"] in table.outcomes))
        except (TypeError, KeyError, AttributeError):
            valid = False
        if not valid:     # the message leaves the answers out: they are symptoms, and errors get logged
            raise TriageStateError(f"not a triage state of {table.file}")
        return state

    def _walk(self, step: Step, path: list[tuple[str, str]]) -> Iterator[tuple[list[tuple[str, str]], Outcome]]:
        if step.outcome is not None:
            yield path, step.outcome
            return
        assert step.question is not None and step.state is not None    # a step is an outcome or a question
        for answer in step.question.accepts:
            taken = [*path, (step.question.id, answer)]
            try:
                following = self.answer(step.state, {slot_of(answer): answer})
            except ContentError as error:
                raise ContentError(error.file, error.key, f"{error.problem} (path: {_path_text(taken)})") from None
            yield from self._walk(following, taken)

    def _check_every_path(self) -> list[Outcome]:
        """Every path ends in an outcome within MAX_QUESTIONS, fits the word limit, and every node is used;
        returns the outcomes reached."""
        table = self._table
        reached = {table.start, *table.red_flags.values()}
        outcomes = []
        for path, outcome in self._walk(self.start(), []):
            outcomes.append(outcome)
            reached.update(question for question, _ in path)
            reached.update(outcome.id.split(ADVICE_JOIN))
            words = len(outcome.text.split())
            if words > MAX_OUTCOME_WORDS:
                raise ContentError(table.file, f"outcomes.{outcome.id.split(ADVICE_JOIN)[0]}.say",
                                   f"{outcome.id} is {words} words; at most {MAX_OUTCOME_WORDS}")
        for section, ids in (("questions", table.questions), ("outcomes", table.outcomes), ("advice", table.advice)):
            unused = sorted(set(ids) - reached)
            if unused:
                raise ContentError(table.file, f"{section}.{unused[0]}", "is never reached by any path")
        return outcomes


def _answer_ids(answers: Mapping[str, str | None]) -> list[str]:
    return [answer for answer in answers.values() if answer]


def _matches(when: Mapping[str, frozenset[str]], answers: Mapping[str, list[str]]) -> bool:
    return all(allowed.intersection(answers.get(question, ())) for question, allowed in when.items())


def _with_advice(outcome: Outcome, advice_id: str, advice: _Advice) -> Outcome:
    joined = f"{outcome.id}{ADVICE_JOIN}{advice_id}"
    return Outcome(
        id=joined,
        text=Line(f"{outcome.text} {advice.text}", OUTCOME_KEY + joined, {}),
        urgency=min(outcome.urgency, advice.urgency, key=URGENCIES.index),
        offers_stretching=outcome.offers_stretching,
    )


def _path_text(path: list[tuple[str, str]]) -> str:
    return " > ".join(f"{question}={answer}" for question, answer in path)


class _Reader:
    """Builds the table from parsed YAML; the first problem found raises ContentError naming its key."""

    SECTIONS = ("questions", "routers", "outcomes")     # the three kinds of node, one id space

    def __init__(self, file: Path, raw: Any):
        self.file = file
        self.raw = self._mapping(raw, "(file)")
        self._keys(self.raw, "(file)", required={"start", "red_flags", "questions", "routers", "outcomes", "advice"},
                   optional={"session_facts"})
        self.sections = {name: self._mapping(self.raw[name], name) for name in (*self.SECTIONS, "advice")}
        self.kind_of = self._node_kinds()

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ContentError(self.file, key, problem)

    def table(self) -> _Table:
        questions = {question_id: self._question(question_id, raw)
                     for question_id, raw in self.sections["questions"].items()}
        self._check_answer_owners(questions)
        outcomes = {outcome_id: self._outcome(outcome_id, raw) for outcome_id, raw in self.sections["outcomes"].items()}
        return _Table(
            file=self.file,
            start=self._start(),
            questions=questions,
            routers={router_id: self._router(router_id, raw, questions)
                     for router_id, raw in self.sections["routers"].items()},
            outcomes=outcomes,
            advice={advice_id: self._advice(advice_id, raw) for advice_id, raw in self.sections["advice"].items()},
            red_flags=self._red_flags(outcomes),
            session_facts={name: self._conditions(f"session_facts.{name}", raw, questions)
                           for name, raw in self._mapping(self.raw.get("session_facts", {}), "session_facts").items()},
        )

    def _node_kinds(self) -> dict[str, str]:
        kind_of: dict[str, str] = {}
        for section in self.SECTIONS:
            for node_id in self.sections[section]:
                if node_id in kind_of or node_id == THEN:
                    self.fail(f"{section}.{node_id}", f"id already used ({kind_of.get(node_id, 'reserved word')})")
                kind_of[node_id] = section
        return kind_of

    def _is(self, node_id: Any, section: str) -> bool:
        return isinstance(node_id, str) and self.kind_of.get(node_id) == section

    def _start(self) -> str:
        if not self._is(self.raw["start"], "questions"):
            self.fail("start", f"{self.raw['start']!r} is not a question")
        return self.raw["start"]

    def _question(self, question_id: str, raw: Any) -> _QuestionNode:
        key = f"questions.{question_id}"
        raw = self._mapping(raw, key)
        self._keys(raw, key, required={"summary", "say", "reprompt", "source"},
                   optional={"repeat_slowly", "note", "answers", "values", "next"})
        texts = {name: self._question_text(key, raw, name)
                 for name in ("say", "reprompt", "repeat_slowly") if name in raw}
        routes = self._routes(key, raw)
        question = Question(question_id, texts["say"], texts["reprompt"], texts.get("repeat_slowly"), tuple(routes),
                            _free_answer_slot(routes))
        return _QuestionNode(question, self._text(raw, "summary", key), routes)

    def _question_text(self, key: str, raw: Mapping, name: str) -> Line:
        item_key = key if name == "say" else f"{key}.{name}"
        item = {"say": raw[name], "source": raw["source"], **({"note": raw["note"]} if "note" in raw else {})}
        text = validate_item(self.file, item_key, item).say
        if not text.endswith("?"):
            self.fail(f"{key}.{name}", "a question must end with a question mark")
        return Line(text, f"triage.{item_key}", {})

    def _routes(self, key: str, raw: Mapping) -> dict[str, _Target]:
        """Either `answers` (each answer its own target) or `values` that all go on to `next`."""
        if ("answers" in raw) == ("values" in raw or "next" in raw):
            self.fail(key, "needs either 'answers', or 'values' with 'next'")
        if "answers" in raw:
            answers = self._mapping(raw["answers"], f"{key}.answers")
            routes = {answer: self._target(f"{key}.answers.{answer}", target) for answer, target in answers.items()}
        else:
            onward = self._target(f"{key}.next", raw.get("next"))
            routes = {answer: onward for answer in self._names(raw["values"], f"{key}.values")}
        if not routes:
            self.fail(key, "accepts no answers")
        for answer in routes:
            if isinstance(answer, bool):
                self.fail(f"{key}.answers", 'write "YES" and "NO" in quotes: bare, YAML reads them as true and false')
            if answer not in _SLOT_OF:
                self.fail(f"{key}.{'answers' if 'answers' in raw else 'values'}",
                          f"{answer!r} is not a slot value id of the interaction model")
        return routes

    def _target(self, key: str, raw: Any) -> _Target:
        raw = {"go": raw} if isinstance(raw, str) else self._mapping(raw, key)
        self._keys(raw, key, required={"go"}, optional={"add"})
        go, add = raw["go"], raw.get("add")
        if go != THEN and not any(self._is(go, section) for section in self.SECTIONS):
            self.fail(key, f"leads to {go!r}, which is no question, router or outcome")
        if add is not None:
            if not isinstance(add, str) or add not in self.sections["advice"]:
                self.fail(f"{key}.add", f"no advice called {add!r}")
            if go != THEN and not self._is(go, "outcomes"):
                self.fail(f"{key}.add", "advice can only be added to an outcome")
        return _Target(go, add)

    def _check_answer_owners(self, questions: Mapping[str, _QuestionNode]) -> None:
        """An answer id other than yes, no or not sure must tell which question it answers."""
        owner: dict[str, str] = {}
        for question_id, node in questions.items():
            for answer in set(node.routes) - CURRENT_ONLY:
                if answer in owner:
                    self.fail(f"questions.{question_id}", f"{answer} is already an answer of {owner[answer]}")
                owner[answer] = question_id

    def _router(self, router_id: str, raw: Any, questions: Mapping[str, _QuestionNode]) -> _Router:
        key = f"routers.{router_id}"
        raw = self._mapping(raw, key)
        self._keys(raw, key, required={"summary", "rules"})
        if not isinstance(raw["rules"], list) or not raw["rules"]:
            self.fail(f"{key}.rules", "needs a list of rules")
        rules = tuple(self._rule(f"{key}.rules.{index}", rule, questions) for index, rule in enumerate(raw["rules"]))
        return _Router(self._text(raw, "summary", key), rules)

    def _rule(self, key: str, raw: Any, questions: Mapping[str, _QuestionNode]) -> _Rule:
        raw = self._mapping(raw, key)
        self._keys(raw, key, required={"go"}, optional={"when", "then"})
        if raw["go"] == THEN:
            self.fail(f"{key}.go", "a router rule leads to a node, not to 'then'")
        then = raw.get("then")
        if then is not None and not self._is(then, "outcomes"):
            self.fail(f"{key}.then", f"{then!r} is not an outcome")
        return _Rule(self._conditions(f"{key}.when", raw.get("when", {}), questions),
                     self._target(f"{key}.go", raw["go"]), then)

    def _conditions(self, key: str, raw: Any, questions: Mapping[str, _QuestionNode]) -> dict[str, frozenset[str]]:
        conditions = {}
        for question_id, listed in self._mapping(raw, key).items():
            if question_id not in questions:
                self.fail(f"{key}.{question_id}", "is not a question")
            answers = frozenset(self._names(listed, f"{key}.{question_id}"))
            for unknown in sorted(answers - set(questions[question_id].routes)):
                self.fail(f"{key}.{question_id}", f"{question_id} never gets the answer {unknown}")
            conditions[question_id] = answers
        return conditions

    def _outcome(self, outcome_id: str, raw: Any) -> Outcome:
        key = f"outcomes.{outcome_id}"
        raw = self._mapping(raw, key)
        self._keys(raw, key, required={"say", "source", "urgency", "offers_stretching"}, optional={"note"})
        text = self._spoken(key, raw)
        urgency = self._urgency(key, raw)
        if urgency == EMERGENCY and "{emergency_number}" not in text:
            self.fail(f"{key}.say", "an emergency outcome names {emergency_number}")
        if not isinstance(raw["offers_stretching"], bool):
            self.fail(f"{key}.offers_stretching", "is true or false")
        return Outcome(outcome_id, Line(text, OUTCOME_KEY + outcome_id, {}), urgency, raw["offers_stretching"])

    def _advice(self, advice_id: str, raw: Any) -> _Advice:
        key = f"advice.{advice_id}"
        raw = self._mapping(raw, key)
        self._keys(raw, key, required={"say", "source", "urgency"}, optional={"note"})
        return _Advice(self._spoken(key, raw), self._urgency(key, raw))

    def _spoken(self, key: str, raw: Mapping) -> str:
        text = validate_item(self.file, key, {name: raw[name] for name in ("say", "source", "note") if name in raw}).say
        if len(text.split()) > MAX_OUTCOME_WORDS:
            self.fail(f"{key}.say", f"{len(text.split())} words; at most {MAX_OUTCOME_WORDS}")
        return text

    def _urgency(self, key: str, raw: Mapping) -> str:
        if raw["urgency"] not in URGENCIES:
            self.fail(f"{key}.urgency", f"is one of {', '.join(URGENCIES)}")
        return raw["urgency"]

    def _red_flags(self, outcomes: Mapping[str, Outcome]) -> dict[str, str]:
        red_flags = self._mapping(self.raw["red_flags"], "red_flags")
        if set(red_flags) != set(RED_FLAG_KINDS):
            self.fail("red_flags", f"needs exactly the kinds {', '.join(RED_FLAG_KINDS)}")
        for kind, outcome_id in red_flags.items():
            if not isinstance(outcome_id, str) or outcome_id not in outcomes or not outcomes[outcome_id].is_emergency:
                self.fail(f"red_flags.{kind}", f"{outcome_id!r} is not an emergency outcome")
        return red_flags

    def _mapping(self, raw: Any, key: str) -> dict:
        if not isinstance(raw, dict):
            self.fail(key, "must be a mapping")
        return raw

    def _names(self, raw: Any, key: str) -> list[str]:
        if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
            self.fail(key, "must be a list of ids")
        return raw

    def _text(self, raw: Mapping, name: str, key: str) -> str:
        if not isinstance(raw[name], str) or not raw[name].strip():
            self.fail(f"{key}.{name}", "must be non-empty text")
        return raw[name]

    def _keys(self, raw: Mapping, key: str, required: Set[str], optional: Set[str] = frozenset()) -> None:
        for missing in sorted(required - set(raw)):
            self.fail(f"{key}.{missing}", "is missing")
        for unknown in sorted(set(raw) - required - optional):
            self.fail(f"{key}.{unknown}", f"unknown key; allowed: {', '.join(sorted(required | optional))}")


_MERMAID_STYLES: Mapping[str, str] = {
    "question": "fill:#e8f0fe,stroke:#3367d6",
    "emergency": "fill:#fce8e6,stroke:#c5221f,stroke-width:3px,font-weight:bold",
    "doctor": "fill:#fef7e0,stroke:#e37400",
    "selfcare": "fill:#e6f4ea,stroke:#137333",
}


class _MermaidGraph:
    """The table as a Mermaid flowchart: branch questions appear once per outcome they lead to."""

    def __init__(self, table: _Table):
        self.table = table
        self.nodes: dict[str, str] = {}            # mermaid id -> declaration
        self.classes: dict[str, list[str]] = {style: [] for style in _MERMAID_STYLES}
        self.edges: list[str] = []

    def render(self) -> str:
        self._visit(self.table.start, None)
        self._declare("RED_FLAG_PHRASE", '[["Red-flag phrase, at any point"]]', "emergency")
        for kind, outcome_id in self.table.red_flags.items():
            self._follow("RED_FLAG_PHRASE", outcome_id, None, kind)
        styles = [f"    classDef {style} {css}" for style, css in _MERMAID_STYLES.items()]
        members = [f"    class {','.join(ids)} {style}" for style, ids in self.classes.items() if ids]
        return "\n".join(["flowchart TD", *self.nodes.values(), *self.edges, *styles, *members]) + "\n"

    def _visit(self, node_id: str, then: str | None) -> None:
        """Declare a node and everything below it, once."""
        mermaid_id = self._mermaid_id(node_id, then)
        if mermaid_id in self.nodes:
            return
        table = self.table
        if node_id in table.outcomes:
            self._declare_outcome(table.outcomes[node_id])
        elif node_id in table.routers:
            self._visit_router(node_id, table.routers[node_id])
        else:
            self._visit_question(mermaid_id, table.questions[node_id], then)

    def _mermaid_id(self, node_id: str, then: str | None) -> str:
        """A branch question gets one node per outcome it may lead to, so its edges stay unambiguous."""
        if node_id in self.table.questions and then is not None:
            return f"{node_id}__{then}"
        return node_id

    def _follow(self, source: str, node_id: str, then: str | None, label: str) -> None:
        self._edge(source, self._mermaid_id(node_id, then), label)
        self._visit(node_id, then)

    def _visit_router(self, router_id: str, router: _Router) -> None:
        self._declare(router_id, f'{{"{_label(router.summary)}"}}', "question")
        for number, rule in enumerate(router.rules, start=1):
            conditions = "; ".join(f"{question}: {', '.join(sorted(answers))}" for question, answers in rule.when.items())
            self._follow(router_id, rule.target.go, rule.then, f"{number}. {conditions or 'otherwise'}")

    def _visit_question(self, mermaid_id: str, node: _QuestionNode, then: str | None) -> None:
        self._declare(mermaid_id, f'["{_label(node.summary)}"]', "question")
        by_target: dict[_Target, list[str]] = {}
        for answer, target in node.routes.items():
            by_target.setdefault(target, []).append(answer)
        for target, answers in by_target.items():
            label = "any answer" if len(by_target) == 1 else " / ".join(answers)
            if target.add:
                label += f" + {target.add}"
            destination = then if target.go == THEN else target.go
            assert destination is not None      # load() checked that a rule chose `then` before this question
            self._follow(mermaid_id, destination, then, label)

    def _declare_outcome(self, outcome: Outcome) -> None:
        style = {"emergency_now": "emergency", "self_care": "selfcare"}.get(outcome.urgency, "doctor")
        self._declare(outcome.id, f'["{outcome.id}<br/>{outcome.urgency}"]', style)

    def _declare(self, mermaid_id: str, shape: str, style: str) -> None:
        self.nodes[mermaid_id] = f"    {mermaid_id}{shape}"
        self.classes[style].append(mermaid_id)

    def _edge(self, source: str, destination: str, label: str) -> None:
        self.edges.append(f'    {source} -->|"{_label(label)}"| {destination}')


def _label(text: str) -> str:
    return " ".join(text.split()).replace('"', "#quot;")
