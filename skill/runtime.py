"""The skill runtime: ask-sdk-core dispatch over explicitly ordered handlers.

`request_handlers` is the one place that says which handler answers what, in order: the
first whose predicate matches wins, so safety comes first and the catch-all comes last.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.alexa_api import TimeoutApiClient
from skill.domain.content import Content, FromContentFile
from skill.domain.layers import ContentLayers
from skill.domain.red_flags import RedFlagTerms
from skill.domain.reminders import ReminderWords
from skill.domain.routines import Routines
from skill.domain.screens import load_documents
from skill.domain.speech import SpeechComposer
from skill.domain.triage import SLOT_IDS, TriageEngine
from skill.handlers import answers, privacy, reminders, session, stretching, triage
from skill.handlers.base import Handler
from skill.handlers.errors import CatchAll
from skill.handlers.offers import Offer, OfferReply
from skill.handlers.turn import OFFER_MORE, OFFER_RESUME_TRIAGE, OFFER_TRIAGE, Services, ServicesByLocale
from skill.persistence import build_persistence_adapter
from skill.serializer import FastSerializer, PlainJson, strict_json
from skill.session_state import VERSION, SessionSchema
from skill.settings import Settings

log = logging.getLogger("hip_helper.session")

# Alexa's limits for what a skill sends back.
MAX_REPLY_BYTES = 120 * 1024      # the whole reply
MAX_RESPONSE_BYTES = 24 * 1024    # the "response" object


class InvalidRequest(ValueError):
    """The JSON is not an Alexa request envelope."""


def offers() -> dict[str, Offer]:
    """What a yes or a no means after each yes/no question the skill asks."""
    return {
        OFFER_MORE: Offer(accept=session.what_next, decline=session.goodbye),
        OFFER_TRIAGE: Offer(accept=triage.start_triage, decline=triage.stop_triage),
        OFFER_RESUME_TRIAGE: Offer(accept=triage.resume_triage, decline=triage.stop_triage),
        answers.OFFER_MORE_INFO: Offer(accept=answers.more_info, decline=session.what_next),
        stretching.OFFER_START_STRETCHES: Offer(accept=stretching.accept_start, decline=session.what_next),
        stretching.OFFER_NEXT_STRETCH: Offer(accept=stretching.accept_next, decline=stretching.pause),
        stretching.OFFER_RESUME_STRETCH: Offer(accept=stretching.resume_saved, decline=session.what_next),
        reminders.OFFER_CREATE_REMINDER: Offer(accept=reminders.create_confirmed, decline=reminders.decline_reminder),
        privacy.OFFER_FORGET_ME: Offer(accept=privacy.forget, decline=privacy.keep),
    }


def request_handlers(services: ServicesByLocale) -> list[Handler]:
    return [
        # Requests that must never speak.
        session.SessionEnded(services),
        session.SkillEvent(services),
        # Safety first: a red flag interrupts anything, even a triage question or a stretch.
        triage.RedFlag(services),
        stretching.PainDuringStretch(services),
        session.Stop(services),
        session.Help(services),
        # Alexa's answer to our voice permission request.
        reminders.PermissionAnswer(services),
        # Yes/no to the offer just made, then the triage, gated on session state.
        OfferReply(services, offers()),
        triage.TriageStart(services),
        triage.TriageAnswer(services),
        # Stretching: controls apply only while a routine runs in this session.
        stretching.StartRoutine(services),
        stretching.RoutineControl(services),
        stretching.ResumeRoutine(services),
        reminders.SetReminder(services),
        reminders.ListReminders(services),
        reminders.CancelReminders(services),
        privacy.ForgetMe(services),
        session.Repeat(services),
        session.StartOver(services),
        session.Launch(services),
        # Replies about the last answer: after the stateful handlers, so "thanks" never ends a
        # triage or a routine, and before the topics, which they would otherwise fall into.
        answers.MoreInfo(services),
        session.Thanks(services),
        # Questions answered from the source document.
        answers.Topic(services),
        answers.DescribePain(services),
        # Whatever is left that Alexa routed to us.
        session.Fallback(services),
    ]


def load_services(settings: Settings, *, every_locale: bool = True) -> ServicesByLocale:
    """Load and validate all content once; a broken file stops start-up here.

    `every_locale` builds every layer chain now (the web service, where start-up time is free);
    without it, as on Lambda, where a cold start is paid by a waiting user, the default layer is
    built now and each other chain on its locale's first request. CI builds every chain.
    """
    loader = _ServicesLoader(settings.content_dir)
    return ServicesByLocale(loader.build, loader.layer_names, every_locale=every_locale)


class _ServicesLoader:
    """Builds one layer chain's Services. A file no layer of the chain changes is read and checked
    once, and its domain object shared with the default's."""

    def __init__(self, content_dir: Path):
        self._content_dir = content_dir
        self._layers = ContentLayers(content_dir)
        self.layer_names = frozenset(self._layers.layers())
        self._apl_documents = {name: PlainJson(document) for name, document in load_documents(content_dir / "apl").items()}
        self._default: dict[str, object] = {}

    def build(self, chain: tuple[str, ...]) -> Services:
        locale = chain[-1] if chain else None
        content = Content.load(self._content_dir, locale, self._layers)
        return Services(
            content=content,
            composer=SpeechComposer(content),
            triage=self._domain(TriageEngine, "triage", locale),
            red_flags=self._domain(RedFlagTerms, "red_flags", locale),
            routines=self._domain(Routines, "stretches", locale),
            reminder_words=self._domain(ReminderWords, "reminders", locale),
            apl_documents=self._apl_documents,
        )

    def _domain(self, kind: type[FromContentFile], name: str, locale: str | None) -> Any:
        """`kind` parsed from `name`.yaml as `locale` reads it, or the default's when no layer changes it."""
        if locale is not None and not self._layers.has_layer(name, locale):
            return self._default[name]
        layered = self._layers.read(name, locale)
        parsed = kind.parse(layered.path, layered.data)
        if locale is None:
            self._default[name] = parsed
        return parsed


def build_skill(services: ServicesByLocale, settings: Settings, serializer: FastSerializer) -> CustomSkill:
    builder = CustomSkillBuilder(persistence_adapter=build_persistence_adapter(settings),
                                 api_client=TimeoutApiClient.from_settings(settings))
    builder.skill_id = settings.skill_id
    for handler in request_handlers(services):
        builder.add_request_handler(handler)
    builder.add_exception_handler(CatchAll(services))
    skill = builder.create()
    skill.serializer = serializer  # the Alexa API clients parse their replies with it too
    return skill


def session_schema(services: ServicesByLocale) -> SessionSchema:
    """One schema for every locale: layers change words, never keys, routines or steps."""
    services = services.default
    routines = services.routines
    return SessionSchema(
        offers=frozenset(offers()),
        routine_steps={routine: len(routines.steps(routine, outer_hip_pain=False)) for routine in routines.routine_ids},
        slot_ids=SLOT_IDS, content_keys=services.line_keys())


def _size(value: object) -> int:
    return len(strict_json(value))


class SkillRuntime:
    """JSON envelope in, JSON envelope out, both checked: session state against its schema, the
    reply's size against Alexa's limits."""

    def __init__(self, skill: CustomSkill, serializer: FastSerializer, services: ServicesByLocale):
        self._skill = skill
        self._serializer = serializer
        self._schema = session_schema(services)

    @classmethod
    def from_settings(cls, settings: Settings, *, every_locale: bool = True) -> "SkillRuntime":
        serializer = FastSerializer()
        services = load_services(settings, every_locale=every_locale)
        return cls(build_skill(services, settings, serializer), serializer, services)

    def handle(self, envelope: dict) -> dict:
        return self.answer(envelope)[0]

    def answer(self, envelope: dict) -> tuple[dict, bytes]:
        """The reply, and its JSON bytes as measured against Alexa's limits: the web service sends
        those bytes, so the reply is encoded once."""
        try:
            request_envelope = self._serializer.deserialize_envelope(self._checked_session(envelope))
            # The envelope's nested models are built as they are read, so garbage below its top
            # surfaces here: from dispatch (the catch-all passes it on), or from the reply, which
            # can carry part of the request back (a dialog directive's updated intent). A 400
            # either way, as when the whole envelope was built up front.
            response_envelope = self._skill.invoke(request_envelope=request_envelope, context=None)
            reply = self._serializer.serialize(response_envelope)
        except SerializationException as error:
            raise InvalidRequest(str(error)) from None
        return self._within_limits(reply)

    def _checked_session(self, envelope: dict) -> dict:
        """The envelope with its session attributes reduced to the schema's, before the SDK copies them."""
        session = envelope.get("session") if isinstance(envelope, dict) else None
        if not isinstance(session, dict) or "attributes" not in session:
            return envelope
        return {**envelope, "session": {**session, "attributes": self._schema.load(session["attributes"])}}

    def _within_limits(self, reply: dict) -> tuple[dict, bytes]:
        """Trim what the handlers wrote until the reply is strict JSON within Alexa's limits.

        A reply is measured once: under the response limit, the response inside it is too.
        """
        attributes = reply.get("sessionAttributes")
        if attributes is not None:
            reply["sessionAttributes"] = attributes = self._schema.load(attributes)
        text = strict_json(reply)
        if len(text) <= MAX_RESPONSE_BYTES:
            return reply, text
        while attributes and set(attributes) - {VERSION} and _size(reply) > MAX_REPLY_BYTES:
            largest = max((name for name in attributes if name != VERSION), key=lambda name: _size(attributes[name]))
            log.warning("session attribute %s dropped: the reply would exceed Alexa's size limit", largest)
            del attributes[largest]
        # Speech needs no check here: the composer fits every answer to Alexa's SSML limit.
        response = reply.get("response") or {}
        for optional in ("directives", "card"):
            if optional in response and _size(response) > MAX_RESPONSE_BYTES:
                log.warning("response %s dropped: over Alexa's size limit", optional)
                del response[optional]
        return reply, strict_json(reply)
