"""The parts of an Alexa interaction model file (interactionModel.languageModel) the simulator uses."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping


class ModelError(ValueError):
    """The model file cannot be loaded; the message is one line for the developer."""


@dataclass(frozen=True)
class SlotValue:
    id: str
    name: str
    synonyms: tuple[str, ...] = ()

    @property
    def spoken_forms(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


@dataclass(frozen=True)
class SlotType:
    name: str
    values: tuple[SlotValue, ...]


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    samples: tuple[str, ...] = ()  # how users answer when this slot is elicited ("it's in my {location}")


@dataclass(frozen=True)
class Intent:
    name: str
    slots: tuple[Slot, ...]
    samples: tuple[str, ...]

    def slot(self, name: str) -> Slot | None:
        return next((slot for slot in self.slots if slot.name == name), None)


@dataclass(frozen=True)
class DialogSlot:
    name: str
    type: str
    elicitation_required: bool
    prompts: Mapping[str, str]  # "elicitation" / "confirmation" -> prompt id


@dataclass(frozen=True)
class DialogIntent:
    """An intent's entry in the dialog model; Alexa sends dialogState only for these intents."""

    name: str
    slots: tuple[DialogSlot, ...]


@dataclass(frozen=True)
class PromptVariation:
    type: str  # PlainText or SSML
    value: str


@dataclass(frozen=True)
class InteractionModel:
    invocation_name: str
    intents: tuple[Intent, ...]
    slot_types: Mapping[str, SlotType]
    dialog_intents: Mapping[str, DialogIntent] = field(default_factory=dict)
    prompts: Mapping[str, tuple[PromptVariation, ...]] = field(default_factory=dict)

    def declares(self, intent_name: str) -> bool:
        return self.intent(intent_name) is not None

    def intent(self, name: str) -> Intent | None:
        return next((intent for intent in self.intents if intent.name == name), None)


def _generated_id(value: str) -> str:
    # Alexa makes up an opaque id for values declared without one; a stable hash behaves the same way.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _slot_value(raw: Mapping[str, Any]) -> SlotValue:
    name = raw["name"]
    return SlotValue(
        id=raw.get("id") or _generated_id(name["value"]),
        name=name["value"],
        synonyms=tuple(name.get("synonyms", ())),
    )


def _intent(raw: Mapping[str, Any]) -> Intent:
    return Intent(
        name=raw["name"],
        slots=tuple(Slot(slot["name"], slot["type"], tuple(slot.get("samples", ())))
                    for slot in raw.get("slots", ())),
        samples=tuple(raw.get("samples", ())),
    )


def _dialog_intent(raw: Mapping[str, Any]) -> DialogIntent:
    slots = tuple(DialogSlot(slot["name"], slot["type"], bool(slot.get("elicitationRequired")),
                             MappingProxyType(dict(slot.get("prompts", {})))) for slot in raw.get("slots", ()))
    return DialogIntent(raw["name"], slots)


def _prompts(raw_prompts: Any) -> dict[str, tuple[PromptVariation, ...]]:
    return {raw["id"]: tuple(PromptVariation(variation["type"], variation["value"])
                             for variation in raw.get("variations", ()))
            for raw in raw_prompts}


def parse_model(document: Mapping[str, Any]) -> InteractionModel:
    """Read an interaction model document (the JSON object with the "interactionModel" key)."""
    try:
        interaction_model = document["interactionModel"]
        language_model = interaction_model["languageModel"]
        dialog = interaction_model.get("dialog") or {}
        slot_types = {
            raw["name"]: SlotType(raw["name"], tuple(_slot_value(value) for value in raw.get("values", ())))
            for raw in language_model.get("types", ())
        }
        return InteractionModel(
            invocation_name=language_model["invocationName"],
            intents=tuple(_intent(raw) for raw in language_model["intents"]),
            slot_types=MappingProxyType(slot_types),
            dialog_intents=MappingProxyType({raw["name"]: _dialog_intent(raw) for raw in dialog.get("intents", ())}),
            prompts=MappingProxyType(_prompts(interaction_model.get("prompts", ()))),
        )
    except (KeyError, TypeError) as error:
        raise ModelError(f"not an Alexa interaction model (missing or malformed {error})") from None


def load_model(path: Path) -> InteractionModel:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ModelError(f"cannot read the interaction model {path}: {error.strerror}") from None
    except ValueError as error:
        raise ModelError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ModelError(f"{path} is not an Alexa interaction model (not a JSON object)")
    return parse_model(document)
