"""`hip-helper check-model`: the Alexa developer console's build checks, run offline.

Interaction models (top-level "interactionModel") get the invocation-name, built-in intent, naming,
limit, utterance, slot-value and dialog checks; skill manifests (top-level "manifest") get the
manifest checks. Each problem is one line: `FILE: WHERE: "utterance": what is wrong`.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from skill.settings import DEV_SKILL_ID, PROJECT_ROOT
from skill.simulator.model import ModelError, load_model
from skill.simulator.nlu import FALLBACK_INTENT, UnroutableUtterance, UtteranceResolver

MAX_MODEL_BYTES = 1536 * 1024  # 1.5 MB
MAX_INTENTS = 250
MAX_INTENTS_AND_SLOT_TYPES = 350
MAX_SLOT_VALUE_CHARS = 140
REQUIRED_INTENTS = ("AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent", "AMAZON.NavigateHomeIntent")
PROMPT_VARIATION_TYPES = frozenset({"PlainText", "SSML"})
SSL_CERTIFICATE_TYPES = frozenset({"Trusted", "Wildcard", "SelfSigned"})
REMINDERS_PERMISSION = "alexa::alerts:reminders:skill:readwrite"
APL_INTERFACE = "ALEXA_PRESENTATION_APL"
# What each locale's store listing must hold here: its own words, not another locale's.
LISTING_FIELDS = ("name", "summary", "description", "examplePhrases", "keywords")
LOCALE_FILE = re.compile(r"[a-z]{2}-[A-Z]{2}")
_APL_DIRECTIVE_MARKERS = ("Alexa.Presentation.APL.RenderDocument", "RenderDocumentDirective")

# Words an invocation name may not contain, by the reason the console gives.
_FORBIDDEN_INVOCATION_WORDS = {
    **dict.fromkeys(("alexa", "amazon", "echo", "computer"), "the wake word"),
    **dict.fromkeys(("skill", "app"), "the word"),
    **dict.fromkeys(("ask", "tell", "open", "launch", "start", "begin", "load", "play", "run", "resume",
                     "use", "enable", "talk"), "the launch word"),
    **dict.fromkeys(("to", "from", "in", "using", "with", "about", "for", "that", "by", "if", "and",
                     "whether"), "the connecting word"),
}
_ARTICLES_AND_PREPOSITIONS = frozenset({"a", "an", "the", "of", "on", "at", "to", "for", "in", "with", "by",
                                        "from", "about"})
_INVOCATION_NAME = re.compile(r"[a-z][a-z .']*[a-z.]")
_NAME = re.compile(r"[A-Za-z][A-Za-z_]*")
_BUILTIN_NAME = re.compile(r"AMAZON\.[A-Za-z_]+")
_SLOT_TOKEN = re.compile(r"\{[A-Za-z][A-Za-z_]*\}")
_SLOT_REFERENCE = re.compile(r"\{([^{}]*)\}")
_WORD = re.compile(r"[a-z]+(?:[-'][a-z]+)*'?")


@dataclass(frozen=True)
class Problem:
    message: str
    where: str | None = None  # the intent, slot type, prompt or field concerned
    utterance: str | None = None

    def line(self, file: str) -> str:
        quoted = None if self.utterance is None else f'"{self.utterance}"'
        return ": ".join(part for part in (file, self.where, quoted, self.message) if part is not None)


@dataclass(frozen=True)
class SkillFeatures:
    """What the skill's code does that its manifest must declare."""

    uses_reminders: bool
    uses_apl: bool

    @classmethod
    def detect(cls, source_dir: Path) -> "SkillFeatures":
        """Search the skill's Python code (this simulator excepted) for the reminders scope and APL directives."""
        code = "\n".join(
            path.read_text(encoding="utf-8")
            for path in sorted(source_dir.rglob("*.py"))
            if "simulator" not in path.relative_to(source_dir).parts
        )
        return cls(uses_reminders=REMINDERS_PERMISSION in code,
                   uses_apl=any(marker in code for marker in _APL_DIRECTIVE_MARKERS))


# ---------------------------------------------------------------- interaction model checks


def _intents(model: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return model["languageModel"].get("intents", [])


def _slot_types(model: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return model["languageModel"].get("types", [])


def _invocation_name_problems(name: str) -> Iterator[str]:
    if re.search(r"\d", name):
        yield "has digits: spell numbers out"
    elif name != name.lower():
        yield "must be lowercase"
    elif not _INVOCATION_NAME.fullmatch(name):
        yield "may only hold lowercase letters, spaces, apostrophes and periods, starting with a letter"
    if not 2 <= len(name) <= 50:
        yield f"is {len(name)} characters (2 to 50 allowed)"
    words = name.lower().split()
    if len(words) < 2:
        yield "needs at least two words"
    for word in dict.fromkeys(word.strip(".").removesuffix("'s") for word in words):
        if word in _FORBIDDEN_INVOCATION_WORDS:
            yield f'must not contain {_FORBIDDEN_INVOCATION_WORDS[word]} "{word}"'
    if len(words) == 2 and _ARTICLES_AND_PREPOSITIONS.intersection(words):
        yield "a two-word name may not contain an article or preposition"


def check_invocation_name(model: Mapping[str, Any]) -> Iterator[Problem]:
    name = model["languageModel"].get("invocationName")
    if not isinstance(name, str) or not name:
        yield Problem("is missing", "invocationName")
        return
    for message in _invocation_name_problems(name):
        yield Problem(message, "invocationName", name)


def check_required_intents(model: Mapping[str, Any]) -> Iterator[Problem]:
    declared = {intent.get("name") for intent in _intents(model)}
    for name in REQUIRED_INTENTS:
        if name not in declared:
            yield Problem("is missing: every custom skill must have it", name)
    if FALLBACK_INTENT not in declared:
        yield Problem("is missing: without it Alexa sends unmatched speech to the closest intent", FALLBACK_INTENT)


def check_names(model: Mapping[str, Any]) -> Iterator[Problem]:
    declared_types = {slot_type.get("name") for slot_type in _slot_types(model)}
    seen: set[str] = set()
    for intent in _intents(model):
        name = str(intent.get("name", ""))
        if not (_NAME.fullmatch(name) or _BUILTIN_NAME.fullmatch(name)):
            yield Problem("intent names may only hold letters and underscores, starting with a letter", name)
        if name in seen:
            yield Problem("is declared twice", name)
        seen.add(name)
        for slot in intent.get("slots", []):
            slot_name, slot_type = str(slot.get("name", "")), str(slot.get("type", ""))
            if not _NAME.fullmatch(slot_name):
                yield Problem(f'slot name "{slot_name}" may only hold letters and underscores', name)
            if slot_type not in declared_types and not _BUILTIN_NAME.fullmatch(slot_type):
                yield Problem(f'slot "{slot_name}" has type "{slot_type}", which is neither in types '
                              "nor an AMAZON built-in", name)
    for type_name in declared_types:
        if not (_NAME.fullmatch(str(type_name)) or _BUILTIN_NAME.fullmatch(str(type_name))):
            yield Problem("slot type names may only hold letters and underscores "
                          "(AMAZON.<Type> only to extend a built-in)", str(type_name))


def check_limits(model: Mapping[str, Any]) -> Iterator[Problem]:
    intents, types = len(_intents(model)), len(_slot_types(model))
    if intents > MAX_INTENTS:
        yield Problem(f"has {intents} intents (at most {MAX_INTENTS})", "intents")
    if intents + types > MAX_INTENTS_AND_SLOT_TYPES:
        yield Problem(f"has {intents} intents and {types} slot types together "
                      f"(at most {MAX_INTENTS_AND_SLOT_TYPES})", "intents")


def _token_problem(token: str) -> str | None:
    if _SLOT_TOKEN.fullmatch(token):
        return None
    if "{" in token or "}" in token:
        if token.endswith("}'s"):
            return "put the possessive 's inside the slot value, not after the slot"
        return f'a slot reference must be a word of its own, like {{Slot}}, not "{token}"'
    if re.search(r"\d", token):
        return "has digits: spell numbers out"
    if token != token.lower():
        return "must be lowercase"
    if re.fullmatch(r"[a-z]\.", token) or _WORD.fullmatch(token):
        return None
    if "." in token:
        return 'periods may only follow single letters, as in "a. b. c."'
    if re.fullmatch(r"[a-z'-]+", token):
        return f'"{token}" has a hyphen or apostrophe outside a word'
    character = next(char for char in token if not ("a" <= char <= "z" or char in "'-"))
    return f'has "{character}": only letters, spaces, apostrophes, word-internal hyphens and {{Slot}} are allowed'


def _utterance_problems(utterance: str, intent: str, declared_slots: set[str]) -> Iterator[Problem]:
    if not utterance.strip():
        yield Problem("is empty", intent, utterance)
        return
    message = next(filter(None, map(_token_problem, utterance.split())), None)
    if message:
        yield Problem(message, intent, utterance)
    for slot in _SLOT_REFERENCE.findall(utterance):
        if slot not in declared_slots:
            yield Problem(f"{{{slot}}} is not one of this intent's slots", intent, utterance)


def _comparable(utterance: str, slot_types: Mapping[str, str]) -> str:
    """Case-insensitive, with each slot replaced by its type: "{a}" and "{b}" of one type are the
    same sample (the same spoken words route two ways), while slots of different types are not."""
    def slot_type(match: re.Match[str]) -> str:
        return "{" + slot_types.get(match.group(1), match.group(1)) + "}"
    return " ".join(_SLOT_REFERENCE.sub(slot_type, utterance.lower()).split())


def check_slot_only_samples(model: Mapping[str, Any]) -> Iterator[Problem]:
    """An intent sample made only of slots ("{time}", "{time} {date}") routes any stray speech to that
    intent; the phrasing belongs on the slot's own samples, asked for with Dialog.ElicitSlot."""
    for intent in _intents(model):
        for utterance in intent.get("samples", []):
            if utterance.strip() and not _SLOT_REFERENCE.sub("", utterance).strip():
                yield Problem("is only slot references, so it takes any speech as this intent: put it on the "
                              "slot's own samples and elicit the slot", str(intent.get("name", "")), utterance)


def check_utterances(model: Mapping[str, Any]) -> Iterator[Problem]:
    owner: dict[str, str] = {}
    for intent in _intents(model):
        name = str(intent.get("name", ""))
        slots = intent.get("slots", [])
        declared = {slot.get("name") for slot in slots}
        slot_types = {str(slot.get("name", "")).lower(): str(slot.get("type", "")) for slot in slots}
        seen_here: set[str] = set()
        for utterance in intent.get("samples", []):
            yield from _utterance_problems(utterance, name, declared)
            key = _comparable(utterance, slot_types)
            if key in seen_here:
                yield Problem("appears twice in this intent", name, utterance)
            elif owner.get(key, name) != name:
                yield Problem(f"is also a sample of {owner[key]}", name, utterance)
            seen_here.add(key)
            owner.setdefault(key, name)
        for slot in slots:
            for utterance in slot.get("samples", []):
                yield from _utterance_problems(utterance, name, declared)


def check_slot_values(model: Mapping[str, Any]) -> Iterator[Problem]:
    for slot_type in _slot_types(model):
        type_name = str(slot_type.get("name", ""))
        value_of_id: dict[str, str] = {}
        for value in slot_type.get("values", []):
            name = value.get("name", {})
            for form in (name.get("value", ""), *name.get("synonyms", [])):
                if len(form) > MAX_SLOT_VALUE_CHARS:
                    yield Problem(f"is {len(form)} characters (slot values and synonyms may have "
                                  f"{MAX_SLOT_VALUE_CHARS})", type_name, form)
            value_id = value.get("id")
            if value_id and value_id in value_of_id:
                yield Problem(f'has id "{value_id}", which "{value_of_id[value_id]}" already uses',
                              type_name, name.get("value", ""))
            elif value_id:
                value_of_id[value_id] = name.get("value", "")


def _prompt_reference_problems(owner: str, label: str, prompts: Mapping[str, str],
                               known_ids: set[str]) -> Iterator[Problem]:
    for kind, prompt_id in prompts.items():
        if prompt_id not in known_ids:
            yield Problem(f'{label}{kind} prompt "{prompt_id}" is not in prompts', owner)


def check_dialog(model: Mapping[str, Any]) -> Iterator[Problem]:
    prompts = model.get("prompts", [])
    known_ids = {prompt.get("id") for prompt in prompts}
    for prompt in prompts:
        where = f'prompt {prompt.get("id")}'
        if not prompt.get("variations"):
            yield Problem("has no variations", where)
        for variation in prompt.get("variations", []):
            if variation.get("type") not in PROMPT_VARIATION_TYPES:
                yield Problem(f'variation type "{variation.get("type")}" must be PlainText or SSML',
                              where, variation.get("value"))
    declared_intents = {intent.get("name"): intent for intent in _intents(model)}
    for intent in model.get("dialog", {}).get("intents", []):
        name = str(intent.get("name", ""))
        if name not in declared_intents:
            yield Problem("is in the dialog model but not in languageModel.intents", name)
        yield from _prompt_reference_problems(name, "intent ", intent.get("prompts", {}), known_ids)
        declared_slots = {slot.get("name"): slot for slot in declared_intents.get(name, {}).get("slots", [])}
        for slot in intent.get("slots", []):
            slot_prompts = slot.get("prompts", {})
            label = f'slot "{slot.get("name")}": '
            if slot.get("elicitationRequired") and "elicitation" not in slot_prompts:
                yield Problem(f"{label}elicitationRequired but no elicitation prompt", name)
            yield from _prompt_reference_problems(name, label, slot_prompts, known_ids)
            if name in declared_intents:
                yield from _dialog_slot_problems(name, label, slot, declared_slots.get(slot.get("name")))


def _dialog_slot_problems(intent: str, label: str, dialog_slot: Mapping[str, Any],
                          declared: Mapping[str, Any] | None) -> Iterator[Problem]:
    if declared is None:
        yield Problem(f"{label}is in the dialog model but not a slot of this intent", intent)
        return
    if dialog_slot.get("type") != declared.get("type"):
        yield Problem(f'{label}has type "{dialog_slot.get("type")}" in the dialog model but '
                      f'"{declared.get("type")}" on the intent', intent)
    elicited = dialog_slot.get("elicitationRequired") or "elicitation" in dialog_slot.get("prompts", {})
    reference = "{" + str(dialog_slot.get("name")) + "}"
    if elicited and not any(reference in sample for sample in declared.get("samples", [])):
        yield Problem(f"{label}is elicited but none of its slot samples contains {reference}, "
                      "so no answer can fill it", intent)


MODEL_CHECKS = (check_invocation_name, check_required_intents, check_names, check_limits,
                check_slot_only_samples, check_utterances, check_slot_values, check_dialog)


def check_interaction_model(model: Mapping[str, Any]) -> list[Problem]:
    """Every console build rule for one "interactionModel" object."""
    if not isinstance(model.get("languageModel"), dict):
        return [Problem("has no interactionModel.languageModel object")]
    try:
        return [problem for check in MODEL_CHECKS for problem in check(model)]
    except (AttributeError, KeyError, TypeError) as error:
        return [Problem(f"has an unexpected structure ({type(error).__name__}: {error})")]


# ---------------------------------------------------------------- manifest checks


def _example_phrase_matches(resolver: UtteranceResolver, phrase: str) -> bool:
    try:
        understanding = resolver.resolve(phrase)
    except UnroutableUtterance:
        return False
    return understanding.intent is None or understanding.intent.name != FALLBACK_INTENT


def _model_for_locale(manifest_path: Path, model_dir: Path, locale: str) -> Path | None:
    candidates = (manifest_path.parent / "interactionModels" / "custom" / f"{locale}.json",
                  model_dir / f"{locale}.json")
    return next((path for path in candidates if path.is_file()), None)


def check_example_phrases(manifest: Mapping[str, Any], manifest_path: Path, model_dir: Path,
                          only: str | None = None) -> Iterator[Problem]:
    locales = manifest.get("publishingInformation", {}).get("locales", {})
    for locale, information in locales.items():
        if only and locale != only:
            continue
        where = f"examplePhrases ({locale})"
        phrases = information.get("examplePhrases", [])
        if not phrases:
            continue
        model_path = _model_for_locale(manifest_path, model_dir, locale)
        if model_path is None:
            continue  # check_manifest_locales reports the missing model
        try:
            # Built-in phrasings are Alexa's, not samples: an example phrase must match a real sample.
            resolver = UtteranceResolver(load_model(model_path), DEV_SKILL_ID, builtin_phrases=False)
        except ModelError as error:
            yield Problem(str(error), where)
            continue
        for phrase in phrases:
            if not _example_phrase_matches(resolver, phrase):
                yield Problem("matches no sample utterance of the interaction model", where, phrase)


def check_manifest_fields(manifest: Mapping[str, Any], features: SkillFeatures) -> Iterator[Problem]:
    if manifest.get("manifestVersion") != "1.0":
        yield Problem(f'must be "1.0", not {json.dumps(manifest.get("manifestVersion"))}', "manifestVersion")
    custom = manifest.get("apis", {}).get("custom", {})
    endpoint = custom.get("endpoint", {})
    if not str(endpoint.get("uri", "")).startswith("https://"):
        yield Problem(f'must start with https:// (it is {json.dumps(endpoint.get("uri"))})', "endpoint.uri")
    certificate = endpoint.get("sslCertificateType")
    if certificate not in SSL_CERTIFICATE_TYPES:
        yield Problem(f"must be one of {', '.join(sorted(SSL_CERTIFICATE_TYPES))}, not {json.dumps(certificate)}",
                      "endpoint.sslCertificateType")
    elif certificate == "SelfSigned":
        yield Problem("SelfSigned certificates are for development only: a published skill needs "
                      "Trusted or Wildcard", "endpoint.sslCertificateType")
    permissions = {permission.get("name") for permission in manifest.get("permissions", [])}
    if features.uses_reminders != (REMINDERS_PERMISSION in permissions):
        state = ("creates reminders but does not declare" if features.uses_reminders
                 else "creates no reminders but declares")
        yield Problem(f"the skill {state} {REMINDERS_PERMISSION}", "permissions")
    interfaces = {interface.get("type") for interface in custom.get("interfaces", [])}
    if features.uses_apl != (APL_INTERFACE in interfaces):
        state = "sends APL but does not declare" if features.uses_apl else "sends no APL but declares"
        yield Problem(f"the skill {state} {APL_INTERFACE}", "apis.custom.interfaces")


def check_manifest_locales(manifest: Mapping[str, Any], model_dir: Path, only: str | None = None) -> Iterator[Problem]:
    """Each locale with a model is published with its own store text and privacy links, in a country
    the skill is distributed to, and no locale is listed without a model."""
    publishing = manifest.get("publishingInformation", {})
    listed = publishing.get("locales", {})
    privacy = manifest.get("privacyAndCompliance", {}).get("locales", {})
    models = {path.stem for path in model_dir.glob("*.json") if LOCALE_FILE.fullmatch(path.stem)}
    countries = set(publishing.get("distributionCountries", []))
    for locale in sorted(models | set(listed) | set(privacy)):
        if only and locale != only:
            continue
        where = f"publishingInformation.locales.{locale}"
        if locale not in models:
            yield Problem(f"is listed but {model_dir.name}/ has no {locale}.json", where)
        if locale not in listed:
            yield Problem("has an interaction model but no store listing", where)
        else:
            missing = [field for field in LISTING_FIELDS if not listed[locale].get(field)]
            if missing:
                yield Problem(f"lacks {', '.join(missing)}", where)
        if locale not in privacy:
            yield Problem("has no privacy and terms links", f"privacyAndCompliance.locales.{locale}")
        country = locale.partition("-")[2]
        if not publishing.get("isAvailableWorldwide") and country not in countries:
            yield Problem(f"{locale} is published but {country} is not a distribution country", "distributionCountries")


def check_manifest(manifest: Mapping[str, Any], manifest_path: Path, features: SkillFeatures,
                   model_dir: Path, only: str | None = None) -> list[Problem]:
    try:
        return [*check_manifest_fields(manifest, features),
                *check_manifest_locales(manifest, model_dir, only),
                *check_example_phrases(manifest, manifest_path, model_dir, only)]
    except (AttributeError, KeyError, TypeError) as error:
        return [Problem(f"has an unexpected structure ({type(error).__name__}: {error})")]


# ---------------------------------------------------------------- files and the command


def check_file(path: Path, features: SkillFeatures, model_dir: Path, only: str | None = None) -> list[Problem]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        return [Problem(f"cannot be read: {error.strerror}")]
    try:
        document = json.loads(raw)
    except ValueError as error:
        return [Problem(f"is not valid JSON: {error}")]
    if isinstance(document, dict) and isinstance(document.get("manifest"), dict):
        return check_manifest(document["manifest"], path, features, model_dir, only)
    if not isinstance(document, dict) or not isinstance(document.get("interactionModel"), dict):
        return [Problem('is neither an interaction model ("interactionModel") nor a skill manifest ("manifest")')]
    problems = check_interaction_model(document["interactionModel"])
    if len(raw) > MAX_MODEL_BYTES:
        problems.insert(0, Problem(f"is {len(raw)} bytes (at most {MAX_MODEL_BYTES}, 1.5 MB)"))
    return problems


def default_files(model_dir: Path, locale: str | None = None) -> list[Path]:
    """Every model and the manifest; with a locale, that locale's model (missing or not) and the manifest."""
    manifest = PROJECT_ROOT / "deploy" / "skill-package" / "skill.json"
    models = [model_dir / f"{locale}.json"] if locale else sorted(model_dir.glob("*.json"))
    return models + ([manifest] if manifest.is_file() else [])


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def run_check_model(paths: Iterable[Path], features: SkillFeatures, model_dir: Path, out: TextIO,
                    locale: str | None = None) -> int:
    """Check each file, print one line per problem (or "FILE: ok"); exit status 1 if anything is wrong."""
    paths = list(paths)
    if not paths:
        out.write(f"check-model: no interaction model files in {_shown(model_dir)}\n")
        return 1
    problem_count, files_with_problems = 0, 0
    for path in paths:
        problems = check_file(path, features, model_dir, locale)
        for problem in problems:
            out.write(problem.line(_shown(path)) + "\n")
        if not problems:
            out.write(f"{_shown(path)}: ok\n")
        problem_count += len(problems)
        files_with_problems += bool(problems)
    if problem_count:
        out.write(f"check-model: {problem_count} problem(s) in {files_with_problems} of {len(paths)} file(s)\n")
        return 1
    out.write(f"check-model: {len(paths)} file(s) ok\n")
    return 0
