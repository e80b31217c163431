"""What every handler needs from one request: its slots, its session state, and one way to answer.

Every spoken answer goes through `Turn.say`, which calls the speech composer, so the safety
guidance, escaping, limits and end-of-session rules hold for every handler alike.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Intent, IntentConfirmationStatus, IntentRequest, Response, Slot, SlotConfirmationStatus
from ask_sdk_model.dialog import ElicitSlotDirective
from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective
from ask_sdk_model.ui import StandardCard

from skill.domain import screens
from skill.domain.content import MORE, Content, Line
from skill.domain.layers import layer_chain
from skill.domain.red_flags import RedFlagTerms
from skill.domain.reminders import ReminderWords
from skill.domain.routines import KEY_PREFIX as STRETCHES_PREFIX, Routines, Step as StretchStep
from skill.domain.speech import Part, Pause, Reply, SpeechComposer, most_urgent
from skill.domain.triage import TriageEngine
from skill.serializer import PlainJson
from skill.session_state import GUIDANCE_HEARD, LAST_REPLY, PENDING_OFFER

TURN = "turn"                       # request attribute: this request's Turn
TRIAGE_PREFIX = "triage."

# Offers a yes/no can answer.
OFFER_TRIAGE = "start_triage"
OFFER_RESUME_TRIAGE = "resume_triage"
OFFER_MORE = "more"                 # "anything else?": no ends the session

# The same offer is not made on two turns running: the second time, this question instead.
NEXT_TIME_ASK = {
    "prompts.questions.offer_triage": "prompts.questions.anything_else",
    "prompts.questions.anything_else": "prompts.questions.what_next",
    "prompts.questions.what_next": "prompts.questions.anything_else",
}


@dataclass(frozen=True)
class Services:
    """The domain objects handlers use, built once at start-up."""
    content: Content
    composer: SpeechComposer
    triage: TriageEngine
    red_flags: RedFlagTerms
    routines: Routines
    reminder_words: ReminderWords
    apl_documents: dict[str, dict]

    def line(self, key: str, values: dict[str, object]) -> Line:
        """Any text said before, again from its key: content, a triage question or outcome, a stretch."""
        if key.startswith(TRIAGE_PREFIX):
            return self.triage.say(key)
        if key.startswith(STRETCHES_PREFIX):
            return self.routines.say(key, **values)
        return self.content.say(key, **values)

    def urgency_of(self, key: str) -> str | None:
        """How soon the advice said under `key` says to get care: a triage outcome's or a content item's."""
        if key.startswith(TRIAGE_PREFIX):
            return self.triage.urgency_of(key)
        return self.content.item(key).urgency if self.content.has(key) else None

    def line_keys(self) -> frozenset[str]:
        """Every key `line` accepts: what a stored reply may name."""
        return self.content.keys() | self.triage.keys() | self.routines.keys()


class ServicesByLocale:
    """Each content layer chain's Services (skill.domain.layers): a request gets its locale's, and a
    locale no layer covers gets the default layer's, with its own emergency number. The default is
    built first (the others share its unchanged parts); the others now or on first use."""

    def __init__(self, build: Callable[[tuple[str, ...]], Services], layers: frozenset[str], *, every_locale: bool):
        self._build = build
        self._layers = layers
        self._lock = threading.Lock()
        self._by_chain = {(): build(())}
        if every_locale:
            for layer in sorted(layers, key=len):
                self._chain_services(self._chain(layer))

    @property
    def default(self) -> Services:
        return self._by_chain[()]

    def for_locale(self, locale: str | None) -> Services:
        return self._chain_services(self._chain(locale))

    def _chain(self, locale: str | None) -> tuple[str, ...]:
        """Only the layers that exist: a request can name any locale, and must not grow this cache."""
        return tuple(layer for layer in layer_chain(locale) if layer in self._layers)

    def _chain_services(self, chain: tuple[str, ...]) -> Services:
        services = self._by_chain.get(chain)
        if services is None:
            with self._lock:
                services = self._by_chain.get(chain) or self._build(chain)
                self._by_chain[chain] = services
        return services


class Preferences:
    """What the skill remembers between sessions (routine progress, reminder opt-in, intro heard).

    If the store is down, every health answer still works: reads give defaults and writes
    report failure, so only the preference features say they are unavailable.
    """

    def __init__(self, handler_input: HandlerInput):
        self._attributes = handler_input.attributes_manager
        self.available = True

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self._attributes.persistent_attributes.get(name, default)
        except PersistenceException:
            self.available = False
            return default

    def update(self, **values: Any) -> bool:
        """Set (or, with None, forget) attributes and save; False when the store is unavailable."""
        try:
            attributes = self._attributes.persistent_attributes
            for name, value in values.items():
                if value is None:
                    attributes.pop(name, None)
                else:
                    attributes[name] = value
            self._attributes.save_persistent_attributes()
            return True
        except PersistenceException:
            self.available = False
            return False

    def forget_all(self) -> bool:
        try:
            self._attributes.delete_persistent_attributes()
            return True
        except PersistenceException:
            self.available = False
            return False


class Turn:
    def __init__(self, handler_input: HandlerInput, services: Services):
        self.handler_input = handler_input
        self.services = services
        self._envelope = handler_input.request_envelope

    @classmethod
    def of(cls, handler_input: HandlerInput, services: ServicesByLocale) -> "Turn":
        """The request's one Turn, with its locale's services: every handler's predicate reads the same one."""
        cache = handler_input.attributes_manager.request_attributes
        turn = cache.get(TURN)
        if turn is None:
            locale = getattr(handler_input.request_envelope.request, "locale", None)
            turn = cache[TURN] = cls(handler_input, services.for_locale(locale))
        return turn

    @staticmethod
    def release(handler_input: HandlerInput) -> None:
        """Drop the request's Turn once it is answered. It refers back to the handler input that
        caches it, a cycle only the garbage collector would free, with the whole request in it."""
        handler_input.attributes_manager.request_attributes.pop(TURN, None)

    @functools.cached_property
    def intent_name(self) -> str | None:
        request = self.request
        if isinstance(request, IntentRequest) and request.intent is not None:
            return request.intent.name
        return None

    @functools.cached_property
    def request_type(self) -> str | None:
        return getattr(self.request, "object_type", None)

    @functools.cached_property
    def preferences(self) -> Preferences:
        return Preferences(self.handler_input)

    @property
    def request(self) -> Any:
        return self._envelope.request

    @property
    def locale(self) -> str | None:
        return getattr(self.request, "locale", None)

    @property
    def session(self) -> dict:
        """Session attributes, already checked against skill.session_state's schema by the runtime;
        an empty throw-away dict for requests without a session."""
        if self._envelope.session is None:
            return {}
        return self.handler_input.attributes_manager.session_attributes

    def text(self, key: str, **values: object) -> str:
        return self.services.content.say(key, **values)

    def slot_id(self, name: str) -> str | None:
        """The entity-resolved id of a custom slot, or None when absent or not matched."""
        slot = self._slot(name)
        resolutions = getattr(slot, "resolutions", None)
        for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
            code = getattr(getattr(authority, "status", None), "code", None)
            if getattr(code, "value", code) == "ER_SUCCESS_MATCH" and authority.values:
                # A forged match may carry no value: that is no id, not a failure.
                slot_id = getattr(getattr(authority.values[0], "value", None), "id", None)
                return slot_id if isinstance(slot_id, str) else None
        return None

    def slot_value(self, name: str) -> str | None:
        """The raw spoken value of a slot (built-in types like AMAZON.TIME have no resolutions)."""
        value = getattr(self._slot(name), "value", None)
        return value if isinstance(value, str) and value.strip() else None

    def _slot(self, name: str) -> Any:
        if not isinstance(self.request, IntentRequest) or self.request.intent is None:
            return None
        return (self.request.intent.slots or {}).get(name)

    @property
    def has_screen(self) -> bool:
        """Only devices that declare APL get screens (rule 58); the rest lose nothing."""
        interfaces = getattr(getattr(self._envelope.context, "system", None), "device", None)
        interfaces = getattr(interfaces, "supported_interfaces", None)
        return getattr(interfaces, "alexa_presentation_apl", None) is not None

    def say(self, body: Sequence[Part], *, question: str | None, reprompt: str | None = None,
            offer: str | None = None, stretch: StretchStep | None = None,
            elicit: tuple[str, str] | None = None) -> Response:
        """Answer with the composer. A question keeps the session open; none closes it.

        `offer` names what a following yes/no would accept; any other answer withdraws it.
        `stretch` shows that stretch step on a screen instead of the answer text.
        `elicit` = (intent, slot): the question asks for that slot, so Alexa matches the answer
        against the slot's own samples first (Dialog.ElicitSlot).
        The guidance follows the most urgent advice the body says (its keys tell), never softer.
        """
        session = self.session
        last = session.get(LAST_REPLY) or {}
        if isinstance(question, Line) and question.key in NEXT_TIME_ASK and _key(last.get("question")) == question.key:
            question, reprompt, offer = self.text(NEXT_TIME_ASK[question.key]), None, OFFER_MORE
        urgency = most_urgent([self.services.urgency_of(part.key) for part in body if isinstance(part, Line)])
        reply = self.services.composer.compose(
            body, locale=self.locale, full_guidance=not session.get(GUIDANCE_HEARD),
            question=question, reprompt=reprompt, card_title=self.text("prompts.card_title"), urgency=urgency)
        session[GUIDANCE_HEARD] = True
        session.pop(PENDING_OFFER, None)
        if offer:
            session[PENDING_OFFER] = offer
        session[LAST_REPLY] = {"body": [part.seconds if isinstance(part, Pause) else _stored(part) for part in body],
                               "question": _stored(question), "reprompt": _stored(reprompt)}
        if self.has_screen:
            self._show(reply, stretch, urgency)
        if elicit is not None and question is not None:
            self._elicit(*elicit)
        return self.respond(reply)

    def _elicit(self, intent_name: str, slot_name: str) -> None:
        """Ask Alexa to take the next utterance as `slot_name` of `intent_name`; slots already
        said in this request for that intent are carried over."""
        slots = dict(self.request.intent.slots or {}) if self.intent_name == intent_name else {}
        slots.setdefault(slot_name, Slot(name=slot_name, confirmation_status=SlotConfirmationStatus.NONE))
        self.handler_input.response_builder.add_directive(ElicitSlotDirective(
            slot_to_elicit=slot_name,
            updated_intent=Intent(name=intent_name, slots=slots,
                                  confirmation_status=IntentConfirmationStatus.NONE)))

    def _show(self, reply: Reply, stretch: StretchStep | None, urgency: str) -> None:
        safety = self.services.composer.guidance(self.locale, full=False, urgency=urgency)
        if stretch is not None:
            document = "stretch_step"
            data = screens.step_datasource(stretch, safety, self.services.routines.step_label(stretch))
        else:
            document = "answer"
            data = screens.answer_datasource(reply.card_title, reply.body_text, safety)
        self.handler_input.response_builder.add_directive(
            RenderDocumentDirective(token=document, document=self.services.apl_documents[document],
                                    datasources=PlainJson(data)))

    def ask_more(self, body: Sequence[Part], question_key: str = "prompts.questions.what_next") -> Response:
        """Answer, then ask what else; a plain "no" then ends the session politely."""
        return self.say(body, question=self.text(question_key), offer=OFFER_MORE)

    def last_body(self) -> list[Part]:
        """The body of the last answer, composed again from its keys; empty when there is none
        or its values don't fit its text (forged)."""
        last = self.session.get(LAST_REPLY)
        try:
            return [Pause(part) if isinstance(part, (int, float)) else self._recomposed(part)
                    for part in (last or {}).get("body", ())]
        except KeyError:
            return []

    def last_question_key(self) -> str | None:
        return _key((self.session.get(LAST_REPLY) or {}).get("question"))

    def repeat_last(self) -> Response | None:
        """The last answer composed again from its keys, so a forged one can only say real texts."""
        last = self.session.get(LAST_REPLY)
        body = self.last_body()
        if not last or (last["body"] and not body):
            return None
        try:
            question, reprompt = self._recomposed(last["question"]), self._recomposed(last["reprompt"])
        except KeyError:
            return None
        if question is not None and not question.endswith("?"):     # a forged key in the question's place
            return None
        self.session.pop(LAST_REPLY)   # repeating is not offering again: the same question may follow
        return self.say(body, question=question, reprompt=reprompt,
                        offer=self.session.get(PENDING_OFFER))

    def _recomposed(self, stored: str | dict | None) -> Line | None:
        if stored is None:
            return None
        if isinstance(stored, str):
            return self.services.line(stored, {})
        return self.services.line(stored["key"], stored["values"])

    def last_answer_more(self) -> str | None:
        """The rest of the last answer said, if it has more (MoreInfoIntent)."""
        content = self.services.content
        for part in (self.session.get(LAST_REPLY) or {}).get("body", ()):
            key = _key(part) or ""
            if content.has(key) and not key.endswith(MORE) and (more := content.more(key)) is not None:
                return more
        return None

    def respond(self, reply: Reply) -> Response:
        builder = self.handler_input.response_builder
        builder.speak(reply.ssml)
        builder.set_card(StandardCard(title=reply.card_title, text=reply.card_text))
        if reply.reprompt_ssml:
            builder.ask(reply.reprompt_ssml)
        builder.set_should_end_session(reply.end_session)
        return builder.response

    def silent(self) -> Response:
        """No speech: the only answer Alexa accepts to SessionEndedRequest and skill events."""
        return self.handler_input.response_builder.response


def _stored(text: str | None) -> str | dict | None:
    """What "repeat" keeps of a text: its key (with its values, if any), never the text itself.
    Alexa sends session attributes back with every request, so the bare key is kept when it can be."""
    if text is None:
        return None
    if not isinstance(text, Line):
        raise TypeError(f"spoken text must come keyed from content: {text[:40]!r}")
    return {"key": text.key, "values": text.values} if text.values else text.key


def _key(stored: Any) -> str | None:
    if isinstance(stored, str):
        return stored
    return stored.get("key") if isinstance(stored, dict) else None
