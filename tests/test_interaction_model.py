"""Quick content checks for every locale's interaction model and the skill manifest.

The handlers depend on the intent, slot and slot-value names pinned here; the character and
duplicate rules are the ones the Alexa developer console enforces when it builds the model
(alexa-spec Testable rules 42-50). The full rule set lives in `hip-helper check-model`.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

import locales
from skill import grammar
from skill.domain.triage import SLOT_IDS
from skill.runtime import load_services, request_handlers
from skill.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "interaction_model"
LOCALES = grammar.locales()
MANIFEST_PATH = ROOT / "deploy" / "skill-package" / "skill.json"
INVOCATION_NAME = "hip helper"

BUILT_IN_INTENTS = frozenset({
    "AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent", "AMAZON.NavigateHomeIntent",
    "AMAZON.FallbackIntent", "AMAZON.YesIntent", "AMAZON.NoIntent", "AMAZON.RepeatIntent",
    "AMAZON.StartOverIntent", "AMAZON.NextIntent", "AMAZON.PauseIntent", "AMAZON.ResumeIntent",
})
RED_FLAG_INTENTS = ("RedFlagInjuryIntent", "RedFlagInfectionIntent", "RedFlagNerveIntent")
QUESTION_INTENTS = (
    "CausesIntent", "ConditionIntent", "SymptomsIntent", "ReferredPainIntent", "PreventionIntent", "SelfCareIntent",
    "SeeDoctorIntent", "EmergencySignsIntent", "StartTriageIntent", "DescribePainIntent", "StartRoutineIntent",
    "SetReminderIntent",
)
# Issue 8: phrasing families, not single sentences.
MINIMUM_SAMPLES = {**dict.fromkeys(RED_FLAG_INTENTS, 150), **dict.fromkeys(QUESTION_INTENTS, 80)}
# The triage's elicited answers (contract of issue 8): each is asked with Dialog.ElicitSlot.
ELICITED = {("DescribePainIntent", "location"), ("DescribePainIntent", "timing"),
            ("DurationIntent", "duration"), ("SetReminderIntent", "time")}


@pytest.fixture(params=LOCALES)
def locale(request) -> str:
    """Each test that takes it runs once per locale: a layer's words must keep every rule."""
    return request.param


def source(locale: str) -> grammar.Grammar:
    return grammar.load(locale=locale)


# Emergency wording: a sample or slot synonym outside the red-flag intents that contains one of
# these would pull an emergency away from the emergency answer.
RED_FLAG_WORDING = (
    "can't walk", "can't stand", "can't get up", "can't put", "can't bear", "can't move", "can't lift",
    "can't feel", "can't control", "fell", "fall", "crack", "deformed", "shorter", "turned out", "bleeding",
    "fever", "temperature", "chills", "shiver", "unwell", "numb", "tingl", "pins and needles", "bladder",
    "bowel", "wet myself", "pale", "gave way", "agony", "unbearable", "broke",
)

# Words, possessives/contractions, word-internal hyphens, spelled letters ("a."), and {slot} references.
UTTERANCE_TOKEN = re.compile(r"[a-z]+(?:['-][a-z]+)*|[a-z]\.|\{[A-Za-z][A-Za-z_]*\}")
SLOT_REFERENCE = re.compile(r"\{([A-Za-z][A-Za-z_]*)\}")
NAME = re.compile(r"[A-Za-z][A-Za-z_]*")


def model_path(locale: str) -> Path:
    return MODEL_DIR / f"{locale}.json"


@cache
def interaction_model(locale: str) -> dict:
    return json.loads(model_path(locale).read_text(encoding="utf-8"))["interactionModel"]


def language_model(locale: str) -> dict:
    return interaction_model(locale)["languageModel"]


@cache
def manifest() -> dict:
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["manifest"]


def intents(locale: str) -> dict[str, dict]:
    return {intent["name"]: intent for intent in language_model(locale)["intents"]}


def custom_intents(locale: str) -> dict[str, dict]:
    return {name: intent for name, intent in intents(locale).items() if name not in BUILT_IN_INTENTS}


def slot_types_of(intent: dict) -> dict[str, str]:
    return {slot["name"]: slot["type"] for slot in intent.get("slots", [])}


def slot_type_values(locale: str) -> dict[str, list[dict]]:
    return {slot_type["name"]: slot_type["values"] for slot_type in language_model(locale)["types"]}


def spoken_forms(value: dict) -> list[str]:
    return [value["name"]["value"], *value["name"].get("synonyms", [])]


def normalised(sample: str, slot_types: dict[str, str]) -> str:
    """The console's duplicate key: lower case, each {slot} replaced by its slot type."""
    return SLOT_REFERENCE.sub(lambda ref: "{" + slot_types.get(ref[1], ref[1]) + "}", sample).lower()


def all_samples(locale: str) -> list[tuple[str, str]]:
    return [(name, sample) for name, intent in intents(locale).items() for sample in intent["samples"]]


def is_well_formed(utterance: str) -> bool:
    return all(UTTERANCE_TOKEN.fullmatch(token) for token in utterance.split(" "))


# A small offline resolver in the style of virtual-alexa: a sample matches when its literal words
# match and every custom slot captures one of that type's spoken forms; the most literal text wins.
def _resolve_slot(slot_type: str, spoken: str, locale: str) -> str | None:
    if slot_type.startswith("AMAZON."):
        return spoken
    for value in slot_type_values(locale)[slot_type]:
        if spoken in spoken_forms(value):
            return value["id"]
    return None


def _match_sample(sample: str, slot_types: dict[str, str], utterance: str, locale: str) -> dict[str, str] | None:
    parts = SLOT_REFERENCE.split(sample)  # literal, slot, literal, slot, ...
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    match = re.fullmatch(pattern, utterance)
    if match is None:
        return None
    resolved = {slot: _resolve_slot(slot_types[slot], spoken, locale) for slot, spoken in match.groupdict().items()}
    return None if None in resolved.values() else resolved


def route(utterance: str, locale: str) -> tuple[str, dict[str, str]] | None:
    candidates = []
    for name, intent in custom_intents(locale).items():
        if "AMAZON.SearchQuery" in slot_types_of(intent).values():
            continue  # a carrier and any words: Alexa's last resort, not a route
        for sample in intent["samples"]:
            slots = _match_sample(sample, slot_types_of(intent), utterance, locale)
            if slots is not None:
                literal_length = len(SLOT_REFERENCE.sub("", sample))
                candidates.append((literal_length, name, slots))
    if not candidates:
        return None
    _, name, slots = max(candidates, key=lambda candidate: candidate[0])
    return name, slots


# --- interaction model ---------------------------------------------------------------------------

def test_model_file_is_rendered_json(locale: str) -> None:
    text = model_path(locale).read_text(encoding="utf-8")
    assert text == grammar.render(json.loads(text))


def test_invocation_name_follows_the_naming_rules(locale: str) -> None:
    name = language_model(locale)["invocationName"]
    assert name == INVOCATION_NAME
    assert re.fullmatch(r"[a-z][a-z .']*[a-z.]", name) and 2 <= len(name) <= 50 and len(name.split()) >= 2


def test_all_built_in_intents_are_present_and_extended_only_where_the_source_says(locale: str) -> None:
    built_ins = {name: intent for name, intent in intents(locale).items() if name.startswith("AMAZON.")}
    assert set(built_ins) == BUILT_IN_INTENTS
    extended = {intent.name for intent in source(locale).intents if intent.name.startswith("AMAZON.") and intent.samples}
    assert {name for name, intent in built_ins.items() if intent["samples"]} == extended
    assert {"AMAZON.NoIntent", "AMAZON.HelpIntent", "AMAZON.NextIntent"} <= extended


def test_fallback_sensitivity_is_low(locale: str) -> None:
    assert language_model(locale)["modelConfiguration"]["fallbackIntentSensitivity"]["level"] == "LOW"


def test_custom_intents_are_exactly_the_ones_the_grammar_declares(locale: str) -> None:
    declared = {intent.name for intent in source(locale).intents if not intent.name.startswith("AMAZON.")}
    assert set(custom_intents(locale)) == declared
    assert set(MINIMUM_SAMPLES) <= declared


@pytest.mark.parametrize(("intent_name", "minimum"), MINIMUM_SAMPLES.items())
def test_intent_has_enough_samples(locale: str, intent_name: str, minimum: int) -> None:
    assert len(intents(locale)[intent_name]["samples"]) >= minimum


def test_intent_slots_are_the_grammar_sources(locale: str) -> None:
    assert {name: slot_types_of(intent) for name, intent in intents(locale).items()} == {
        intent.name: {slot.name: slot.type for slot in intent.slots} for intent in source(locale).intents
    }


def test_slot_value_ids_are_the_grammar_sources(locale: str) -> None:
    assert {name: [value["id"] for value in values] for name, values in slot_type_values(locale).items()} == {
        name: [value_id for value_id, _, _ in values] for name, values in source(locale).types.items()
    }


def test_the_triage_reads_its_answer_ids_from_the_grammar(locale: str) -> None:
    assert dict(SLOT_IDS) == source(locale).slot_ids()
    for slot_name, carrier in source(locale).answers.items():
        if isinstance(carrier, dict):
            assert set(carrier.values()) <= set(intents(locale)), slot_name
        else:
            assert slot_name in slot_types_of(intents(locale)[grammar.intent_of_slot(slot_name)])


def test_elicited_slots_have_a_dialog_prompt_from_content_and_answer_samples(locale: str) -> None:
    model = interaction_model(locale)
    assert model["dialog"]["delegationStrategy"] == "SKILL_RESPONSE"
    prompts = {prompt["id"]: prompt["variations"][0]["value"] for prompt in model["prompts"]}
    elicited = {
        (intent["name"], slot["name"]): prompts[slot["prompts"]["elicitation"]]
        for intent in model["dialog"]["intents"] for slot in intent["slots"] if slot["elicitationRequired"]
    }
    assert set(elicited) == ELICITED
    assert all(text.endswith("?") for text in elicited.values())
    for intent_name, slot_name in ELICITED:
        slot = next(slot for slot in intents(locale)[intent_name]["slots"] if slot["name"] == slot_name)
        assert "{" + slot_name + "}" in slot["samples"], (intent_name, slot_name)


def test_every_custom_slot_type_is_declared_and_used(locale: str) -> None:
    used = {slot_type for intent in intents(locale).values() for slot_type in slot_types_of(intent).values()}
    assert {slot_type for slot_type in used if not slot_type.startswith("AMAZON.")} == set(slot_type_values(locale))


def test_names_and_sizes_are_within_console_limits(locale: str) -> None:
    names = [*custom_intents(locale), *slot_type_values(locale)]
    names += [slot for intent in intents(locale).values() for slot in slot_types_of(intent)]
    assert [name for name in names if not NAME.fullmatch(name)] == []
    assert len(intents(locale)) <= 250 and len(intents(locale)) + len(slot_type_values(locale)) <= 350
    assert model_path(locale).stat().st_size <= 1_500_000


def test_samples_use_only_allowed_characters(locale: str) -> None:
    bad = [(name, sample) for name, sample in all_samples(locale) if not is_well_formed(sample)]
    assert bad == []


def test_every_slot_reference_is_declared_in_its_intent(locale: str) -> None:
    undeclared = [
        (name, sample)
        for name, intent in intents(locale).items()
        for sample in intent["samples"]
        if not set(SLOT_REFERENCE.findall(sample)) <= set(slot_types_of(intent))
    ]
    assert undeclared == []


def test_no_sample_is_repeated_within_or_across_intents(locale: str) -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for name, intent in intents(locale).items():
        for sample in intent["samples"]:
            owners[normalised(sample, slot_types_of(intent))].append(name)
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}


def test_samples_do_not_use_the_invocation_name(locale: str) -> None:
    assert [sample for _, sample in all_samples(locale) if INVOCATION_NAME in sample] == []


def test_no_intent_sample_is_only_slots(locale: str) -> None:
    assert [(name, sample) for name, sample in all_samples(locale) if not SLOT_REFERENCE.sub("", sample).strip()] == []


def test_bare_triage_answers_are_slot_samples(locale: str) -> None:
    def slot_samples(intent_name: str, slot_name: str) -> set[str]:
        return set(next(s for s in intents(locale)[intent_name]["slots"] if s["name"] == slot_name)["samples"])

    assert {"{location}", "on the {location}", "it's in my {location}", "mostly the {location}"} <= slot_samples(
        "DescribePainIntent", "location")
    assert {"{timing}", "only when i'm {timing}", "when i {timing}"} <= slot_samples("DescribePainIntent", "timing")
    assert {"{duration}", "for {duration}"} <= slot_samples("DurationIntent", "duration")
    assert {"{time}", "at {time}", "{time} please"} <= slot_samples("SetReminderIntent", "time")


def test_slot_values_are_short_unique_and_speakable(locale: str) -> None:
    for type_name, values in slot_type_values(locale).items():
        forms = [form for value in values for form in spoken_forms(value)]
        assert len(forms) == len(set(forms)), f"{type_name} repeats a synonym"
        assert [form for form in forms if len(form) > 140 or not is_well_formed(form)] == []


def test_emergency_wording_appears_only_in_red_flag_intents(locale: str) -> None:
    ordinary = [sample for name, sample in all_samples(locale) if name not in RED_FLAG_INTENTS]
    ordinary += [form for values in slot_type_values(locale).values() for value in values for form in spoken_forms(value)]
    assert [text for text in ordinary if any(wording in text for wording in RED_FLAG_WORDING)] == []


@pytest.mark.parametrize(("utterance", "expected"), [
    ("i can't walk", ("RedFlagInjuryIntent", {})),
    ("my hip is red and swollen", ("RedFlagInfectionIntent", {})),
    ("i wet myself", ("RedFlagNerveIntent", {})),
    ("my groin hurts when i run", ("DescribePainIntent", {"location": "GROIN_FRONT", "timing": "DURING_RUN"})),
    ("it hurts on the side of my hip when i lie on it",
     ("DescribePainIntent", {"location": "OUTER_HIP", "timing": "LYING_ON_SIDE"})),
    ("my hip hurts after running", ("DescribePainIntent", {"timing": "AFTER_RUN"})),
    ("it clicks", ("DescribePainIntent", {"feeling": "CLICKING"})),
    ("why does my hip hurt after running", ("CausesIntent", {})),
    ("tell me about dancer's hip", ("ConditionIntent", {"condition": "SNAPPING_HIP"})),
    ("should i ice my hip", ("SelfCareIntent", {"treatment": "ICE"})),
    ("does a cortisone shot help", ("SelfCareIntent", {"treatment": "CORTISONE"})),
    ("it's been three weeks", ("DurationIntent", {"duration": "MORE_THAN_TWO_WEEKS"})),
    ("remind me to stretch tomorrow at seven", ("SetReminderIntent", {"date": "tomorrow", "time": "seven"})),
    ("my hip is hot and swollen and i feel feverish", ("RedFlagInfectionIntent", {})),
    ("i can barely walk", ("RedFlagInjuryIntent", {})),
    ("both my legs are weak", ("RedFlagNerveIntent", {})),
    ("my foot is cold and pale", ("RedFlagNerveIntent", {})),
    ("when is hip pain an emergency", ("EmergencySignsIntent", {})),
    ("that stretch hurts", ("PainDuringStretchIntent", {})),
    ("do i need to get this looked at", ("SeeDoctorIntent", {})),
    ("it hurts all over", ("UnsureIntent", {})),
    ("start my warm up", ("StartRoutineIntent", {"routine": "WARM_UP"})),
    ("remind me to stretch every weekday at seven a. m.",
     ("SetReminderIntent", {"frequency": "WEEKDAYS", "time": "seven a. m."})),
    ("remind me to stretch on friday", ("SetReminderIntent", {"date": "friday"})),
    ("set a daily stretch reminder at six", ("SetReminderIntent", {"frequency": "DAILY", "time": "six"})),
    ("cancel my stretch reminders", ("CancelRemindersIntent", {})),
    ("erase what you know about me", ("ForgetMeIntent", {})),
])
def test_utterance_routes_to_intent_and_slot_ids(utterance: str, expected: tuple[str, dict[str, str]]) -> None:
    # en-US only: this regex resolver is slow, and each locale's own phrasings are held by
    # tests/nlu/locales/ (tests/test_nlu_evaluation.py) with the simulator's resolver.
    assert route(utterance, "en-US") == expected


def elicited_route(intent_name: str, slot_name: str, utterance: str, locale: str) -> dict[str, str] | None:
    """What an answer fills while the skill elicits `slot_name`: Alexa matches the slot's samples first."""
    intent = intents(locale)[intent_name]
    samples = next(slot for slot in intent["slots"] if slot["name"] == slot_name)["samples"]
    matches = [(len(SLOT_REFERENCE.sub("", sample).split()), _match_sample(sample, slot_types_of(intent), utterance, locale))
               for sample in samples]
    # The sample with the most literal words wins; on a tie the one that fills fewer slots.
    found = [(length, -len(slots), slots) for length, slots in matches if slots is not None]
    return max(found, key=lambda match: match[:2])[2] if found else None


@pytest.mark.parametrize(("eliciting", "utterance", "expected"), [
    (("DescribePainIntent", "location"), "lower back", {"location": "BUTTOCK_BACK"}),
    (("DescribePainIntent", "location"), "it's in my groin", {"location": "GROIN_FRONT"}),
    (("DescribePainIntent", "timing"), "at night", {"timing": "REST_OR_NIGHT"}),
    (("DescribePainIntent", "timing"), "only when i'm lying in bed", {"timing": "REST_OR_NIGHT"}),
    (("DurationIntent", "duration"), "since yesterday", {"duration": "FEW_DAYS"}),
    (("SetReminderIntent", "time"), "at eight in the morning", {"time": "eight in the morning"}),
])
def test_elicited_answer_fills_the_slot(locale: str, eliciting: tuple[str, str], utterance: str, expected: dict[str, str]) -> None:
    assert elicited_route(*eliciting, utterance, locale) == expected


# --- manifest ------------------------------------------------------------------------------------

def test_manifest_file_is_two_space_indented_json() -> None:
    text = MANIFEST_PATH.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_manifest_declares_endpoint_permissions_and_interfaces() -> None:
    skill = manifest()
    assert skill["manifestVersion"] == "1.0"
    assert skill["publishingInformation"]["category"] == "HEALTH_AND_FITNESS"
    assert skill["permissions"] == [{"name": "alexa::alerts:reminders:skill:readwrite"}]
    assert skill["apis"]["custom"]["endpoint"] == {
        "uri": "https://hip-helper.example.com/alexa", "sslCertificateType": "Wildcard",
    }
    assert skill["apis"]["custom"]["interfaces"] == [{"type": "ALEXA_PRESENTATION_APL"}]


def test_manifest_declares_no_personal_health_or_child_data(locale: str) -> None:
    privacy = manifest()["privacyAndCompliance"]
    assert (privacy["usesPersonalInfo"], privacy["usesHealthInfo"], privacy["isChildDirected"]) == (False, False, False)
    assert privacy["locales"][locale]["privacyPolicyUrl"].startswith("https://")
    assert privacy["locales"][locale]["termsOfUseUrl"].startswith("https://")


def test_the_skill_is_published_in_exactly_the_model_locales_and_their_countries() -> None:
    publishing = manifest()["publishingInformation"]
    assert sorted(publishing["locales"]) == sorted(manifest()["privacyAndCompliance"]["locales"]) == sorted(LOCALES)
    assert publishing["isAvailableWorldwide"] is False
    assert publishing["distributionCountries"] == ["US", "CA", "GB", "AU", "IN"]


def emergency_number(locale: str) -> str:
    """content/guidance.yaml's number for the locale: the one source the listing must agree with."""
    return locales.services(locale).content.emergency_number(locale)


def test_store_description_carries_the_disclaimer_the_local_number_and_no_rescue_claim(locale: str) -> None:
    listing = manifest()["publishingInformation"]["locales"][locale]
    description = listing["description"]
    assert listing["name"] == "Hip Helper" and listing["summary"] and listing["keywords"]
    for required in ("general information only", "does not diagnose",
                     "not a substitute for professional medical advice", "call your local emergency number"):
        assert required in description.lower()
    assert f"emergency number ({emergency_number(locale)} in " in description
    assert locales.foreign_marks_in(description, locale) == []
    for claim in ("call for help", "calls for help", "contact emergency services", "life-saving", "lifesaving"):
        assert claim not in description.lower()


def test_example_phrases_are_verbatim_samples(locale: str) -> None:
    phrases = manifest()["publishingInformation"]["locales"][locale]["examplePhrases"]
    assert phrases[0] == f"Alexa, open {INVOCATION_NAME}" and 1 <= len(phrases) <= 3
    samples = {sample for _, sample in all_samples(locale)}
    prefix = f"Alexa, ask {INVOCATION_NAME} "
    for phrase in phrases[1:]:
        assert phrase.startswith(prefix) and phrase.removeprefix(prefix).lower() in samples


def test_a_locale_listing_gives_an_example_in_its_own_words() -> None:
    """The second phrase shows what the locale adds (its care words), and is no sample of en-US's
    model where the words are the UK's, Australia's or Canada's own."""
    us_samples = {sample for _, sample in all_samples("en-US")}
    prefix = f"Alexa, ask {INVOCATION_NAME} "
    for locale in ("en-GB", "en-AU", "en-CA"):
        own = manifest()["publishingInformation"]["locales"][locale]["examplePhrases"][2].removeprefix(prefix)
        assert own not in us_samples, locale


def test_every_locale_has_the_same_intents_slots_types_and_ids(locale: str) -> None:
    """Only the words differ: a layer that drifted (a slot, a type, a value id, a prompt) fails here."""
    def shape(model: dict) -> dict:
        language = model["languageModel"]
        return {
            "invocation": language["invocationName"],
            "intents": {intent["name"]: [(slot["name"], slot["type"]) for slot in intent.get("slots", [])]
                        for intent in language["intents"]},
            "types": {slot_type["name"]: [value["id"] for value in slot_type["values"]] for slot_type in language["types"]},
            "dialog": model["dialog"], "prompts": [prompt["id"] for prompt in model["prompts"]],
        }
    assert shape(interaction_model(locale)) == shape(interaction_model("en-US"))


def test_the_model_declares_exactly_the_intents_the_registered_handlers_answer(locale: str) -> None:
    """An intent with no handler would only ever hear the fallback; a handler for an intent the
    model lacks is dead. Both sides come from the code: the model file and request_handlers()."""
    services = load_services(Settings(dev_mode=True))
    answered = set().union(*(handler.intents for handler in request_handlers(services)))
    assert set(intents(locale)) == answered, {"no handler": set(intents(locale)) - answered,
                                              "not in the model": answered - set(intents(locale))}
