"""What Alexa makes of a typed utterance: a launch, a one-shot, or an intent with slots.

Sample utterances are compiled once into regular expressions, following virtual-alexa's matcher:
a sample whose slots all hold recognised values (custom values or synonyms, built-in values Alexa
can convert) beats one that needs ER_SUCCESS_NO_MATCH or free text, then the most literal (non-slot)
characters win, then more recognised slots.

After a Dialog.ElicitSlot, the next utterance is tried against that slot's own samples first.

When no sample matches, the generalisation stage (generalise.py, an approximation of Alexa's
statistical NLU, not Alexa) picks the closest intent before the utterance goes to the FallbackIntent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date
from typing import Any, Mapping, Sequence

from skill.simulator.builtin_slots import builtin_converter, spell_out_digits
from skill.simulator.generalise import Generalised, Generaliser
from skill.simulator.model import Intent, InteractionModel, Slot, SlotType, SlotValue

FALLBACK_INTENT = "AMAZON.FallbackIntent"
# Alexa's free-form slot type: it takes any words after its carrier phrase.
SEARCH_QUERY = "AMAZON.SearchQuery"
# Words a sample needs around its slots before a value outside the slot's list is taken (ER_SUCCESS_NO_MATCH).
MIN_CARRIER_WORDS = 3

# Common phrasings Alexa maps to its built-in intents (used only for built-ins the model declares).
BUILTIN_PHRASES: Mapping[str, tuple[str, ...]] = {
    "AMAZON.YesIntent": ("yes", "yeah", "yep", "yup", "sure", "ok", "okay", "yes please", "of course",
                         "correct", "that's right"),
    "AMAZON.NoIntent": ("no", "nope", "nah", "no thanks", "no thank you", "not really"),
    "AMAZON.HelpIntent": ("help", "help me", "what can i say", "what can i do", "how does this work"),
    "AMAZON.StopIntent": ("stop", "quit", "exit", "shut up", "be quiet", "goodbye"),
    "AMAZON.CancelIntent": ("cancel", "never mind", "forget it"),
    "AMAZON.RepeatIntent": ("repeat", "repeat that", "say that again", "what", "come again", "pardon"),
    "AMAZON.StartOverIntent": ("start over", "restart", "start again", "begin again"),
    "AMAZON.NextIntent": ("next", "skip", "go on"),
    "AMAZON.PreviousIntent": ("previous", "go back"),
    "AMAZON.PauseIntent": ("pause", "hold on", "wait"),
    "AMAZON.ResumeIntent": ("resume", "continue"),
    "AMAZON.NavigateHomeIntent": ("go home", "home"),
}

_FILLER_WORDS = frozenset({"um", "uh", "please", "alexa", "so", "well", "okay"})
_LAUNCH_VERBS = r"(?:open|ask|tell|launch|start|talk to|begin|use)"
_ONE_SHOT_VERBS = r"(?:ask|tell|open)"
_CONNECTING_WORDS = r"(?:to|about|for|if|whether|that)"
_SUFFIX_CONNECTORS = r"(?:using|with|from)"

_IRREGULAR_CONTRACTIONS = {"won't": "will not", "can't": "can not", "cannot": "can not",
                           "shan't": "shall not", "let's": "let us", "ain't": "is not"}
_CONTRACTION_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"),
                         ("'d", " would"), ("'m", " am"))
# "'s" is also the possessive ("hip's"), so only these words expand to "<word> is".
_IS_CONTRACTIONS = frozenset({"it's", "that's", "what's", "there's", "here's", "he's", "she's",
                              "where's", "how's", "who's", "when's", "why's"})


def _expand_contraction(word: str) -> str:
    if word in _IRREGULAR_CONTRACTIONS:
        return _IRREGULAR_CONTRACTIONS[word]
    if word in _IS_CONTRACTIONS:
        return word[:-2] + " is"
    for suffix, expansion in _CONTRACTION_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + expansion
    return word


def normalize(text: str) -> str:
    """Lowercase words separated by single spaces, contractions expanded ("I'm" == "i am").

    Periods vanish ("a.m." -> "am") and other punctuation becomes a space ("7:30" -> "7 30").
    """
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace(".", "")
    text = re.sub(r"[^a-z0-9' ]", " ", text)
    words = (word.strip("'") for word in text.split())
    return " ".join(_expand_contraction(word) for word in words if word)


def strip_fillers(text: str) -> str:
    """Drop "um", "please", "alexa"... at either end, but never the whole utterance ("okay" is a yes)."""
    words = text.split()
    while len(words) > 1 and words[0] in _FILLER_WORDS:
        words.pop(0)
    while len(words) > 1 and words[-1] in _FILLER_WORDS:
        words.pop()
    return " ".join(words)


_BUILTIN_INTENT_BY_PHRASE = {
    normalize(phrase): intent_name for intent_name, phrases in BUILTIN_PHRASES.items() for phrase in phrases
}


def builtin_intent_of(utterance: str) -> str | None:
    """The built-in intent a plain phrase like "yeah" or "no thanks" means, model or not."""
    return _BUILTIN_INTENT_BY_PHRASE.get(strip_fillers(normalize(utterance)))


@dataclass(frozen=True)
class EntityResolution:
    authority: str
    matches: tuple[SlotValue, ...]

    @property
    def code(self) -> str:
        return "ER_SUCCESS_MATCH" if self.matches else "ER_SUCCESS_NO_MATCH"

    def to_json(self) -> dict[str, Any]:
        authority: dict[str, Any] = {"authority": self.authority, "status": {"code": self.code}}
        if self.matches:
            authority["values"] = [{"value": {"name": value.name, "id": value.id}} for value in self.matches]
        return {"resolutionsPerAuthority": [authority]}


@dataclass(frozen=True)
class SlotFill:
    """One slot as Alexa sends it: always present, with a value only when the user said one."""

    name: str
    value: str | None = None
    resolution: EntityResolution | None = None

    @property
    def resolved_id(self) -> str | None:
        return self.resolution.matches[0].id if self.resolution and self.resolution.matches else None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "SlotFill":
        """A slot as a skill sends it back in a Dialog directive's updatedIntent."""
        authorities = (raw.get("resolutions") or {}).get("resolutionsPerAuthority") or ()
        resolution = None
        if authorities:
            values = authorities[0].get("values") or ()
            resolution = EntityResolution(str(authorities[0].get("authority", "")), tuple(
                SlotValue(str(value["value"].get("id", "")), str(value["value"].get("name", "")))
                for value in values))
        return cls(str(raw.get("name", "")), raw.get("value"), resolution)

    def to_json(self) -> dict[str, Any]:
        slot: dict[str, Any] = {"name": self.name, "confirmationStatus": "NONE"}
        if self.value is not None:
            slot["value"] = self.value
        if self.resolution is not None:
            slot["resolutions"] = self.resolution.to_json()
        return slot


@dataclass(frozen=True)
class IntentMatch:
    name: str
    slots: Mapping[str, SlotFill] = field(default_factory=dict)
    # Set only when no sample matched and the generalisation stage chose the intent: its cosine.
    generalised: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "confirmationStatus": "NONE",
                "slots": {name: slot.to_json() for name, slot in self.slots.items()}}


@dataclass(frozen=True)
class Elicitation:
    """A Dialog.ElicitSlot from the skill's last response: Alexa takes the next answer as this slot."""

    intent: str
    slot: str
    slots: Mapping[str, SlotFill] = field(default_factory=dict)  # updatedIntent's slots, kept as sent


@dataclass(frozen=True)
class Understanding:
    """What Alexa heard: `invoked` means the skill was named, so a new session starts."""

    invoked: bool
    intent: IntentMatch | None  # None: only "open hip helper", a LaunchRequest
    # Only intents in the dialog model get one: STARTED, or IN_PROGRESS for an elicited slot's answer.
    dialog_state: str | None = None

    @property
    def is_launch(self) -> bool:
        return self.intent is None


class UnroutableUtterance(LookupError):
    """Nothing matched and the model has no AMAZON.FallbackIntent to route it to."""


@dataclass
class _SamplePattern:
    intent: Intent
    literal_chars: int
    literal_words: int
    free_form: bool  # holds an AMAZON.SearchQuery slot
    words: frozenset[str]  # the sample's literal words: an utterance without them all cannot match
    slots: tuple[Slot, ...]  # capture group i holds slots[i]
    loose_source: str  # every slot captures any words
    strict_source: str  # custom slots capture only their declared values and synonyms

    # Both compiled on first use: a grammar has thousands of samples and the word check rules out most.
    @cached_property
    def loose(self) -> re.Pattern[str]:
        return re.compile(self.loose_source)

    @cached_property
    def strict(self) -> re.Pattern[str]:
        return re.compile(self.strict_source)


@dataclass(frozen=True)
class _Candidate:
    score: tuple[int, ...]          # (every slot recognised, literal characters, slots recognised, variant)
    match: IntentMatch

    @property
    def fully_recognised(self) -> bool:
        return bool(self.score[0])


def _alternation(forms: list[str]) -> str:
    # Longest first, so "outer hip" is tried before "outer".
    return "(" + "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)) + ")"


class UtteranceResolver:
    """Resolves utterances against one interaction model; build once, resolve many times."""

    def __init__(self, model: InteractionModel, skill_id: str, *, today: date | None = None,
                 builtin_phrases: bool = True, generalise: bool = True) -> None:
        self._model = model
        self._builtin_phrases = builtin_phrases
        self._generalise = generalise
        self._skill_id = skill_id
        self._today = today or date.today()
        self._value_index = {name: self._index_values(slot_type) for name, slot_type in model.slot_types.items()}
        self._value_alternation = {name: _alternation(list(values)) for name, values in self._value_index.items()
                                   if values}
        patterns = [
            self._compile(intent, sample)
            for intent in model.intents
            for sample in self._samples_of(intent, builtin_phrases)
        ]
        # A carrier and a free-form slot ("i {words}") fits almost anything, so Alexa takes it only
        # when nothing more specific does: those samples are tried last, after generalisation.
        self._patterns = [pattern for pattern in patterns if not pattern.free_form]
        self._free_form = [pattern for pattern in patterns if pattern.free_form]
        self._slot_patterns = {
            (intent.name, slot.name): [self._compile(intent, sample) for sample in slot.samples]
            for intent in model.intents
            for slot in intent.slots
        }
        invocation = re.escape(normalize(model.invocation_name))
        self._launch = re.compile(rf"^{_LAUNCH_VERBS} {invocation}$")
        self._one_shot = (
            re.compile(rf"^{_ONE_SHOT_VERBS} {invocation} (?:(?P<connector>{_CONNECTING_WORDS}) )?(?P<rest>.+)$"),
            re.compile(rf"^(?P<rest>.+) {_SUFFIX_CONNECTORS} {invocation}$"),
        )

    @property
    def model(self) -> InteractionModel:
        return self._model

    # Built on the first utterance no sample matches: most resolvers (and tests) never need it.
    @cached_property
    def _generaliser(self) -> Generaliser:
        return Generaliser(self._model, self._value_index, BUILTIN_PHRASES if self._builtin_phrases else {})

    @staticmethod
    def _samples_of(intent: Intent, builtin_phrases: bool) -> tuple[str, ...]:
        extra = BUILTIN_PHRASES.get(intent.name, ()) if builtin_phrases else ()
        return intent.samples + extra

    @staticmethod
    def _index_values(slot_type: SlotType) -> dict[str, tuple[SlotValue, ...]]:
        index: dict[str, tuple[SlotValue, ...]] = {}
        for value in slot_type.values:
            for form in {normalize(spoken) for spoken in value.spoken_forms} - {""}:
                index[form] = index.get(form, ()) + (value,)
        return index

    def _compile(self, intent: Intent, sample: str) -> _SamplePattern:
        slots_by_name = {slot.name: slot for slot in intent.slots}
        strict_parts: list[str] = []
        loose_parts: list[str] = []
        captured: list[Slot] = []
        literal_chars = literal_words = 0
        words: set[str] = set()
        for piece in re.split(r"(\{[^{}]+\})", sample):
            if piece.startswith("{") and piece.endswith("}"):
                # A reference to an undeclared slot captures free text, as an untyped slot would.
                slot = slots_by_name.get(piece[1:-1], Slot(piece[1:-1], ""))
                captured.append(slot)
                strict_parts.append(self._value_alternation.get(slot.type, "(.+?)"))
                loose_parts.append("(.+?)")
            elif literal := normalize(piece):
                literal_chars += len(literal)
                literal_words += len(literal.split())
                words.update(literal.split())
                strict_parts.append(re.escape(literal))
                loose_parts.append(re.escape(literal))
        return _SamplePattern(
            intent=intent, literal_chars=literal_chars, literal_words=literal_words,
            free_form=any(slot.type == SEARCH_QUERY for slot in captured), words=frozenset(words), slots=tuple(captured),
            loose_source="^" + " ".join(loose_parts) + "$",
            strict_source="^" + " ".join(strict_parts) + "$",
        )

    def resolve(self, utterance: str, elicitation: Elicitation | None = None) -> Understanding:
        """What Alexa makes of an utterance; `elicitation` is the skill's pending Dialog.ElicitSlot."""
        variants = self._variants(utterance)
        for text in variants:
            if self._launch.match(text):
                return Understanding(invoked=True, intent=None)
        for text in variants:
            for pattern in self._one_shot:
                if found := pattern.match(text):
                    return self._understood(True, self._one_shot_intent(found))
        if elicitation is None:
            return self._understood(False, self.match_intent(utterance))
        found = self.match_elicited(utterance, elicitation)
        if found.name != elicitation.intent:
            return self._understood(False, found)
        # The answer, or another phrasing of the elicited intent itself: the same dialog goes on.
        said = {name: fill for name, fill in found.slots.items() if fill.value is not None}
        answer = IntentMatch(found.name, {**found.slots, **elicitation.slots, **said}, found.generalised)
        return Understanding(invoked=False, intent=answer, dialog_state="IN_PROGRESS")

    def _one_shot_intent(self, found: re.Match[str]) -> IntentMatch:
        """"ask hip helper about tendinitis": samples may hold the connecting word ("about {condition}")
        or not ("{condition}"), so the rest is tried with it first, then without."""
        rest, connector = found.group("rest"), found.groupdict().get("connector")
        if connector and (with_connector := self._best(f"{connector} {rest}", self._patterns)) is not None:
            return with_connector
        return self.match_intent(rest)

    def _understood(self, invoked: bool, intent: IntentMatch) -> Understanding:
        state = "STARTED" if intent.name in self._model.dialog_intents else None
        return Understanding(invoked=invoked, intent=intent, dialog_state=state)

    def match_elicited(self, utterance: str, elicitation: Elicitation) -> IntentMatch:
        """What an utterance means while a slot is elicited: that slot's samples are heard first.

        A sample made only of slots counts only when the values are recognised, so anything else the
        user says ("I fell and can't stand") still reaches the intent the model has for it. And a
        sentence the whole model understands fully ("it hurts on the outside of my hip when I run")
        beats a slot sample that only half understands it.
        """
        answer = self._best_candidate(utterance, self._slot_patterns.get((elicitation.intent, elicitation.slot), ()),
                                      eliciting=True)
        whole = self._best_candidate(utterance, self._patterns)
        if answer is not None and not (whole is not None and whole.fully_recognised and not answer.fully_recognised):
            return answer.match
        return whole.match if whole is not None else self._beyond_samples(utterance)

    def match_intent(self, utterance: str) -> IntentMatch:
        """The intent an utterance spoken inside the skill's session goes to."""
        if (found := self._best(utterance, self._patterns)) is not None:
            return found
        return self._beyond_samples(utterance)

    def _beyond_samples(self, utterance: str) -> IntentMatch:
        """No sample fits: generalisation, then a carrier with free-form words, then the fallback."""
        if self._generalise and (close := self._generaliser.classify(utterance)) is not None:
            return self._generalised(close)
        if (found := self._best(utterance, self._free_form)) is not None:
            return found
        if self._model.declares(FALLBACK_INTENT):
            return IntentMatch(FALLBACK_INTENT)
        raise UnroutableUtterance(
            f'no sample utterance matches "{utterance}" and the model has no {FALLBACK_INTENT}'
        )

    def _generalised(self, close: Generalised) -> IntentMatch:
        intent = self._model.intent(close.intent)
        fills = {slot.name: SlotFill(slot.name) for slot in intent.slots} if intent else {}
        for name, (spoken, values) in close.slots.items():
            fills[name] = SlotFill(name, spoken, EntityResolution(self._authority(intent.slot(name).type), values))
        return IntentMatch(close.intent, fills, generalised=close.confidence)

    def _best(self, utterance: str, patterns: Sequence[_SamplePattern]) -> IntentMatch | None:
        found = self._best_candidate(utterance, patterns)
        return found.match if found is not None else None

    def _best_candidate(self, utterance: str, patterns: Sequence[_SamplePattern], *,
                        eliciting: bool = False) -> _Candidate | None:
        candidates = [
            candidate
            for preference, text in enumerate(reversed(self._variants(utterance)))
            for words in (frozenset(text.split()),)
            for pattern in patterns
            if pattern.words <= words and (candidate := self._try(pattern, text, preference, eliciting)) is not None
        ]
        return max(candidates, key=lambda candidate: candidate.score) if candidates else None

    @staticmethod
    def _variants(utterance: str) -> list[str]:
        """The utterance as typed, without filler words, and with digits spelled out, most literal first."""
        text = normalize(utterance)
        forms = [text, strip_fillers(text)]
        forms += [spell_out_digits(form) for form in forms]
        return list(dict.fromkeys(forms))

    def _try(self, pattern: _SamplePattern, text: str, preference: int, eliciting: bool) -> _Candidate | None:
        loose = pattern.loose.match(text)
        if loose is None:  # the strict pattern only ever matches a subset of the loose one
            return None
        strict = pattern.strict.match(text)
        # A sample made only of slots ("{location}") would swallow every utterance with
        # ER_SUCCESS_NO_MATCH; Alexa sends such utterances to the FallbackIntent instead.
        found = strict or (loose if pattern.literal_chars else None)
        if found is None:
            return None
        fills = {slot.name: SlotFill(slot.name) for slot in pattern.intent.slots}
        recognised = unknown_words = 0
        for slot, spoken in zip(pattern.slots, found.groups()):
            fills[slot.name], known = self._fill(slot, spoken)
            recognised += known
            unknown_words += 0 if known else len(spoken.split())
        all_recognised = recognised == len(pattern.slots)
        if not all_recognised and not self._carried(pattern, unknown_words, eliciting):
            return None
        # The strict pattern only knows custom values: a built-in slot it captured as free text that
        # Alexa cannot convert ("at the park" as a TIME) is no better than ER_SUCCESS_NO_MATCH.
        score = (all_recognised, pattern.literal_chars, recognised, preference)
        return _Candidate(score, IntentMatch(pattern.intent.name, fills))

    @staticmethod
    def _carried(pattern: _SamplePattern, unknown_words: int, eliciting: bool) -> bool:
        """Whether the sample says enough around an unrecognised value for Alexa to take it.

        "{time}" takes "seven am", not "tell me a joke"; "what's {condition}" is too little to carry
        "the score in the game" (Alexa calls that out of domain), while "my {location} hurts" carries
        "elbow" and "my hip is {feeling}" carries a whole sentence, which the red-flag scan then reads.
        While a slot is elicited, Alexa expects that slot, so any literal words carry it.
        """
        if pattern.literal_words >= MIN_CARRIER_WORDS or (eliciting and pattern.literal_words):
            return True
        return 0 < pattern.literal_words and unknown_words <= pattern.literal_words

    def _authority(self, slot_type: str) -> str:
        return f"amzn1.er-authority.echo-sdk.{self._skill_id}.{slot_type}"

    def _fill(self, slot: Slot, spoken: str) -> tuple[SlotFill, bool]:
        """The slot as Alexa fills it, and whether its value was recognised."""
        if slot.type in self._value_index:
            resolution = EntityResolution(
                authority=self._authority(slot.type),
                matches=self._value_index[slot.type].get(spoken, ()),
            )
            return SlotFill(slot.name, spoken, resolution), bool(resolution.matches)
        if slot.type == SEARCH_QUERY:  # the words as said, whatever they are
            return SlotFill(slot.name, spoken), True
        convert = builtin_converter(slot.type, self._today)
        canonical = convert(spoken) if convert else None
        return SlotFill(slot.name, canonical or spoken), canonical is not None
