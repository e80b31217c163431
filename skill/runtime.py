"""The skill runtime: ask-sdk-core dispatch over explicitly ordered handlers.

`request_handlers` is the one place that says which handler answers what, in order: the
first whose predicate matches wins, so safety comes first and the catch-all comes last.
"""
from __future__ import annotations

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.alexa_api import TimeoutApiClient
from skill.domain.content import Content
from skill.domain.routines import Routines
from skill.domain.screens import load_documents
from skill.domain.speech import SpeechComposer
from skill.domain.triage import TriageEngine
from skill.handlers import answers, privacy, reminders, session, stretching, triage
from skill.handlers.base import Handler
from skill.handlers.errors import CatchAll
from skill.handlers.offers import Offer, OfferReply
from skill.handlers.turn import OFFER_MORE, OFFER_RESUME_TRIAGE, OFFER_TRIAGE, Services
from skill.persistence import build_persistence_adapter
from skill.serializer import FastSerializer, PlainJson
from skill.settings import Settings


class InvalidRequest(ValueError):
    """The JSON is not an Alexa request envelope."""


def offers() -> dict[str, Offer]:
    """What a yes or a no means after each yes/no question the skill asks."""
    return {
        OFFER_MORE: Offer(accept=session.what_next, decline=session.goodbye),
        OFFER_TRIAGE: Offer(accept=triage.start_triage, decline=triage.stop_triage),
        OFFER_RESUME_TRIAGE: Offer(accept=triage.resume_triage, decline=triage.stop_triage),
        stretching.OFFER_START_STRETCHES: Offer(accept=stretching.accept_start, decline=session.what_next),
        stretching.OFFER_NEXT_STRETCH: Offer(accept=stretching.accept_next, decline=stretching.pause),
        stretching.OFFER_RESUME_STRETCH: Offer(accept=stretching.resume_saved, decline=session.what_next),
        reminders.OFFER_CREATE_REMINDER: Offer(accept=reminders.create_confirmed, decline=reminders.decline_reminder),
        privacy.OFFER_FORGET_ME: Offer(accept=privacy.forget, decline=privacy.keep),
    }


def request_handlers(services: Services) -> list[Handler]:
    return [
        # Requests that must never speak.
        session.SessionEnded(services),
        session.SkillEvent(services),
        # Safety first: a red flag interrupts anything, even a triage question or a stretch.
        triage.RedFlag(services),
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
        # Questions answered from the source document.
        answers.Topic(services),
        answers.DescribePain(services),
        # Whatever is left that Alexa routed to us.
        session.Fallback(services),
    ]


def load_services(settings: Settings) -> Services:
    """Load and validate all content once; a broken file stops start-up here."""
    content = Content.load(settings.content_dir)
    return Services(
        content=content,
        composer=SpeechComposer(content),
        triage=TriageEngine.load(settings.content_dir / "triage.yaml"),
        routines=Routines.load(settings.content_dir / "stretches.yaml"),
        apl_documents={name: PlainJson(document)
                       for name, document in load_documents(settings.content_dir / "apl").items()},
    )


def build_skill(services: Services, settings: Settings, serializer: FastSerializer) -> CustomSkill:
    builder = CustomSkillBuilder(persistence_adapter=build_persistence_adapter(settings),
                                 api_client=TimeoutApiClient.from_settings(settings))
    builder.skill_id = settings.skill_id
    for handler in request_handlers(services):
        builder.add_request_handler(handler)
    builder.add_exception_handler(CatchAll(services))
    skill = builder.create()
    skill.serializer = serializer  # the Alexa API clients parse their replies with it too
    return skill


class SkillRuntime:
    """JSON envelope in, JSON envelope out."""

    def __init__(self, skill: CustomSkill, serializer: FastSerializer):
        self._skill = skill
        self._serializer = serializer

    @classmethod
    def from_settings(cls, settings: Settings) -> "SkillRuntime":
        serializer = FastSerializer()
        return cls(build_skill(load_services(settings), settings, serializer), serializer)

    def handle(self, envelope: dict) -> dict:
        try:
            request_envelope = self._serializer.deserialize_envelope(envelope)
        except SerializationException as error:
            raise InvalidRequest(str(error)) from None
        response_envelope = self._skill.invoke(request_envelope=request_envelope, context=None)
        return self._serializer.serialize(response_envelope)
