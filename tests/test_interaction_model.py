"""Quick content checks for the en-US interaction model and the skill manifest.

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

ROOT = Path(__file__).resolve().parent.parent
MODEL_PATH = ROOT / "interaction_model" / "en-US.json"
MANIFEST_PATH = ROOT / "deploy" / "skill-package" / "skill.json"
INVOCATION_NAME = "hip helper"

BUILT_IN_INTENTS = frozenset({
    "AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent", "AMAZON.NavigateHomeIntent",
    "AMAZON.FallbackIntent", "AMAZON.YesIntent", "AMAZON.NoIntent", "AMAZON.RepeatIntent",
    "AMAZON.StartOverIntent", "AMAZON.NextIntent", "AMAZON.PauseIntent", "AMAZON.ResumeIntent",
})
RED_FLAG_INTENTS = ("RedFlagInjuryIntent", "RedFlagInfectionIntent", "RedFlagNerveIntent")

MINIMUM_SAMPLES = {
    **dict.fromkeys(RED_FLAG_INTENTS, 18),
    **dict.fromkeys((
        "CausesIntent", "ConditionIntent", "SymptomsIntent", "ReferredPainIntent", "PreventionIntent",
        "SelfCareIntent", "SeeDoctorIntent", "StartTriageIntent",
    ), 25),
    "DescribePainIntent": 40,
    "UnsureIntent": 10,
    "DurationIntent": 10,
    **dict.fromkeys((
        "StartRoutineIntent", "ResumeRoutineIntent", "SetReminderIntent", "ListRemindersIntent",
        "CancelRemindersIntent", "ForgetMeIntent",
    ), 12),
}

# Slot name -> slot type, per custom intent; intents missing here take no slots.
EXPECTED_SLOTS = {
    "DescribePainIntent": {"location": "PainLocation", "timing": "PainTiming", "feeling": "PainFeeling"},
    "ConditionIntent": {"condition": "HipCondition"},
    "SelfCareIntent": {"treatment": "Treatment"},
    "DurationIntent": {"duration": "PainDuration"},
    "StartRoutineIntent": {"routine": "StretchRoutine"},
    "SetReminderIntent": {"time": "AMAZON.TIME", "date": "AMAZON.DATE", "frequency": "ReminderFrequency"},
}

EXPECTED_SLOT_IDS = {
    "PainLocation": {"OUTER_HIP", "GROIN_FRONT", "BUTTOCK_BACK", "THIGH"},
    "PainTiming": {"DURING_RUN", "AFTER_RUN", "LYING_ON_SIDE", "REST_OR_NIGHT", "WALKING"},
    "PainFeeling": {"SNAPPING", "CLICKING", "SWELLING", "REDNESS", "STIFFNESS", "ACHING"},
    "HipCondition": {"BURSITIS", "TROCHANTERIC_BURSITIS", "SNAPPING_HIP", "TENDINITIS"},
    "Treatment": {"ICE", "REST", "CORTISONE", "STRETCHING"},
    "PainDuration": {"FEW_DAYS", "ONE_TO_TWO_WEEKS", "MORE_THAN_TWO_WEEKS"},
    "StretchRoutine": {"WARM_UP", "COOL_DOWN", "HIPS"},
    "ReminderFrequency": {"DAILY", "WEEKDAYS", "WEEKLY", "ONCE"},
}

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


@cache
def language_model() -> dict:
    return json.loads(MODEL_PATH.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]


@cache
def manifest() -> dict:
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["manifest"]


def intents() -> dict[str, dict]:
    return {intent["name"]: intent for intent in language_model()["intents"]}


def custom_intents() -> dict[str, dict]:
    return {name: intent for name, intent in intents().items() if name not in BUILT_IN_INTENTS}


def slot_types_of(intent: dict) -> dict[str, str]:
    return {slot["name"]: slot["type"] for slot in intent.get("slots", [])}


def slot_type_values() -> dict[str, list[dict]]:
    return {slot_type["name"]: slot_type["values"] for slot_type in language_model()["types"]}


def spoken_forms(value: dict) -> list[str]:
    return [value["name"]["value"], *value["name"].get("synonyms", [])]


def normalised(sample: str, slot_types: dict[str, str]) -> str:
    """The console's duplicate key: lower case, each {slot} replaced by its slot type."""
    return SLOT_REFERENCE.sub(lambda ref: "{" + slot_types.get(ref[1], ref[1]) + "}", sample).lower()


def all_samples() -> list[tuple[str, str]]:
    return [(name, sample) for name, intent in intents().items() for sample in intent["samples"]]


def is_well_formed(utterance: str) -> bool:
    return all(UTTERANCE_TOKEN.fullmatch(token) for token in utterance.split(" "))


# A small offline resolver in the style of virtual-alexa: a sample matches when its literal words
# match and every custom slot captures one of that type's spoken forms; the most literal text wins.
def _resolve_slot(slot_type: str, spoken: str) -> str | None:
    if slot_type.startswith("AMAZON."):
        return spoken
    for value in slot_type_values()[slot_type]:
        if spoken in spoken_forms(value):
            return value["id"]
    return None


def _match_sample(sample: str, slot_types: dict[str, str], utterance: str) -> dict[str, str] | None:
    parts = SLOT_REFERENCE.split(sample)  # literal, slot, literal, slot, ...
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    match = re.fullmatch(pattern, utterance)
    if match is None:
        return None
    resolved = {slot: _resolve_slot(slot_types[slot], spoken) for slot, spoken in match.groupdict().items()}
    return None if None in resolved.values() else resolved


def route(utterance: str) -> tuple[str, dict[str, str]] | None:
    candidates = []
    for name, intent in custom_intents().items():
        for sample in intent["samples"]:
            slots = _match_sample(sample, slot_types_of(intent), utterance)
            if slots is not None:
                literal_length = len(SLOT_REFERENCE.sub("", sample))
                candidates.append((literal_length, name, slots))
    if not candidates:
        return None
    _, name, slots = max(candidates, key=lambda candidate: candidate[0])
    return name, slots


# --- interaction model ---------------------------------------------------------------------------

def test_model_file_is_two_space_indented_json() -> None:
    text = MODEL_PATH.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_invocation_name_follows_the_naming_rules() -> None:
    name = language_model()["invocationName"]
    assert name == INVOCATION_NAME
    assert re.fullmatch(r"[a-z][a-z .']*[a-z.]", name) and 2 <= len(name) <= 50 and len(name.split()) >= 2


# Built-ins we extend with samples: "nothing" or "that's all" answer "anything else?" with a no.
EXTENDED_BUILT_INS = {"AMAZON.NoIntent"}


def test_all_built_in_intents_are_present_and_only_no_is_extended() -> None:
    built_ins = {name: intent for name, intent in intents().items() if name.startswith("AMAZON.")}
    assert set(built_ins) == BUILT_IN_INTENTS
    assert {name for name, intent in built_ins.items() if intent["samples"]} == EXTENDED_BUILT_INS


def test_fallback_sensitivity_is_low() -> None:
    assert language_model()["modelConfiguration"]["fallbackIntentSensitivity"]["level"] == "LOW"


def test_custom_intents_are_exactly_the_ones_the_handlers_know() -> None:
    assert set(custom_intents()) == set(MINIMUM_SAMPLES)


@pytest.mark.parametrize(("intent_name", "minimum"), MINIMUM_SAMPLES.items())
def test_intent_has_enough_samples(intent_name: str, minimum: int) -> None:
    assert len(intents()[intent_name]["samples"]) >= minimum


def test_red_flag_intents_have_at_least_sixty_samples_together() -> None:
    assert sum(len(intents()[name]["samples"]) for name in RED_FLAG_INTENTS) >= 60


@pytest.mark.parametrize("intent_name", MINIMUM_SAMPLES)
def test_intent_slots_match_what_the_handlers_read(intent_name: str) -> None:
    assert slot_types_of(intents()[intent_name]) == EXPECTED_SLOTS.get(intent_name, {})


@pytest.mark.parametrize(("type_name", "ids"), EXPECTED_SLOT_IDS.items())
def test_slot_type_has_the_expected_value_ids(type_name: str, ids: set[str]) -> None:
    assert {value["id"] for value in slot_type_values()[type_name]} == ids


def test_every_custom_slot_type_is_declared_and_used() -> None:
    used = {slot_type for intent in intents().values() for slot_type in slot_types_of(intent).values()}
    assert {slot_type for slot_type in used if not slot_type.startswith("AMAZON.")} == set(slot_type_values())


def test_names_and_sizes_are_within_console_limits() -> None:
    names = [*custom_intents(), *slot_type_values()]
    names += [slot for intent in intents().values() for slot in slot_types_of(intent)]
    assert [name for name in names if not NAME.fullmatch(name)] == []
    assert len(intents()) <= 250 and len(intents()) + len(slot_type_values()) <= 350
    assert MODEL_PATH.stat().st_size <= 1_500_000


def test_samples_use_only_allowed_characters() -> None:
    bad = [(name, sample) for name, sample in all_samples() if not is_well_formed(sample)]
    assert bad == []


def test_every_slot_reference_is_declared_in_its_intent() -> None:
    undeclared = [
        (name, sample)
        for name, intent in intents().items()
        for sample in intent["samples"]
        if not set(SLOT_REFERENCE.findall(sample)) <= set(slot_types_of(intent))
    ]
    assert undeclared == []


def test_no_sample_is_repeated_within_or_across_intents() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for name, intent in intents().items():
        for sample in intent["samples"]:
            owners[normalised(sample, slot_types_of(intent))].append(name)
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}


def test_samples_do_not_use_the_invocation_name() -> None:
    assert [sample for _, sample in all_samples() if INVOCATION_NAME in sample] == []


def test_bare_triage_answers_are_samples() -> None:
    assert {"{location}", "on the {location}", "{timing}", "when i {timing}", "it {feeling}"} <= set(
        intents()["DescribePainIntent"]["samples"]
    )
    assert "{duration}" in intents()["DurationIntent"]["samples"]


def test_slot_values_are_short_unique_and_speakable() -> None:
    for type_name, values in slot_type_values().items():
        forms = [form for value in values for form in spoken_forms(value)]
        assert len(forms) == len(set(forms)), f"{type_name} repeats a synonym"
        assert [form for form in forms if len(form) > 140 or not is_well_formed(form)] == []


def test_emergency_wording_appears_only_in_red_flag_intents() -> None:
    ordinary = [sample for name, sample in all_samples() if name not in RED_FLAG_INTENTS]
    ordinary += [form for values in slot_type_values().values() for value in values for form in spoken_forms(value)]
    assert [text for text in ordinary if any(wording in text for wording in RED_FLAG_WORDING)] == []


@pytest.mark.parametrize(("utterance", "expected"), [
    ("i can't walk", ("RedFlagInjuryIntent", {})),
    ("my hip is red and swollen", ("RedFlagInfectionIntent", {})),
    ("i wet myself", ("RedFlagNerveIntent", {})),
    ("my groin hurts when i run", ("DescribePainIntent", {"location": "GROIN_FRONT", "timing": "DURING_RUN"})),
    ("it hurts on the side of my hip when i lie on it",
     ("DescribePainIntent", {"location": "OUTER_HIP", "timing": "LYING_ON_SIDE"})),
    ("my hip hurts after running", ("DescribePainIntent", {"timing": "AFTER_RUN"})),
    ("lower back", ("DescribePainIntent", {"location": "BUTTOCK_BACK"})),
    ("at night", ("DescribePainIntent", {"timing": "REST_OR_NIGHT"})),
    ("it clicks", ("DescribePainIntent", {"feeling": "CLICKING"})),
    ("why does my hip hurt after running", ("CausesIntent", {})),
    ("tell me about dancer's hip", ("ConditionIntent", {"condition": "SNAPPING_HIP"})),
    ("should i ice my hip", ("SelfCareIntent", {"treatment": "ICE"})),
    ("does a cortisone shot help", ("SelfCareIntent", {"treatment": "CORTISONE"})),
    ("it's been three weeks", ("DurationIntent", {"duration": "MORE_THAN_TWO_WEEKS"})),
    ("since yesterday", ("DurationIntent", {"duration": "FEW_DAYS"})),
    ("it hurts all over", ("UnsureIntent", {})),
    ("start my warm up", ("StartRoutineIntent", {"routine": "WARM_UP"})),
    ("remind me to stretch every weekday at seven a. m.",
     ("SetReminderIntent", {"frequency": "WEEKDAYS", "time": "seven a. m."})),
    ("cancel my stretch reminders", ("CancelRemindersIntent", {})),
    ("erase what you know about me", ("ForgetMeIntent", {})),
])
def test_utterance_routes_to_intent_and_slot_ids(utterance: str, expected: tuple[str, dict[str, str]]) -> None:
    assert route(utterance) == expected


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


def test_manifest_declares_no_personal_health_or_child_data() -> None:
    privacy = manifest()["privacyAndCompliance"]
    assert (privacy["usesPersonalInfo"], privacy["usesHealthInfo"], privacy["isChildDirected"]) == (False, False, False)
    assert privacy["locales"]["en-US"]["privacyPolicyUrl"].startswith("https://")


def test_store_description_carries_the_disclaimer_and_no_rescue_claim() -> None:
    listing = manifest()["publishingInformation"]["locales"]["en-US"]
    description = listing["description"].lower()
    assert listing["name"] == "Hip Helper"
    for required in ("general information only", "does not diagnose",
                     "not a substitute for professional medical advice", "call your local emergency number"):
        assert required in description
    for claim in ("call for help", "calls for help", "contact emergency services", "life-saving", "lifesaving"):
        assert claim not in description


def test_example_phrases_are_verbatim_samples() -> None:
    phrases = manifest()["publishingInformation"]["locales"]["en-US"]["examplePhrases"]
    assert phrases[0] == f"Alexa, open {INVOCATION_NAME}" and 1 <= len(phrases) <= 3
    samples = {sample for _, sample in all_samples()}
    prefix = f"Alexa, ask {INVOCATION_NAME} "
    for phrase in phrases[1:]:
        assert phrase.startswith(prefix) and phrase.removeprefix(prefix).lower() in samples
