"""The skill runtime: ask-sdk-core dispatch over explicitly ordered handlers.

`request_handlers` is the one place that says which handler answers what, in order: the
first whose predicate matches wins, so safety comes first and the catch-all comes last.
"""
from __future__ import annotations

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.domain.content import Content
from skill.domain.speech import SpeechComposer
from skill.domain.triage import TriageEngine
from skill.handlers import answers, session, triage
from skill.handlers.base import Handler
from skill.handlers.errors import CatchAll
from skill.handlers.turn import Services
from skill.serializer import FastSerializer
from skill.settings import Settings


class InvalidRequest(ValueError):
    """The JSON is not an Alexa request envelope."""


def request_handlers(services: Services) -> list[Handler]:
    return [
        # Requests that must never speak.
        session.SessionEnded(services),
        session.SkillEvent(services),
        # Safety first: a red flag interrupts anything, even a triage question.
        triage.RedFlag(services),
        session.Stop(services),
        session.Help(services),
        # The triage and the yes/no offers, gated on session state.
        triage.TriageStart(services),
        triage.OfferReply(services),
        triage.TriageAnswer(services),
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
    )


def build_skill(services: Services, settings: Settings) -> CustomSkill:
    builder = CustomSkillBuilder()
    builder.skill_id = settings.skill_id
    for handler in request_handlers(services):
        builder.add_request_handler(handler)
    builder.add_exception_handler(CatchAll(services))
    return builder.create()


class SkillRuntime:
    """JSON envelope in, JSON envelope out."""

    def __init__(self, skill: CustomSkill, serializer: FastSerializer):
        self._skill = skill
        self._serializer = serializer

    @classmethod
    def from_settings(cls, settings: Settings) -> "SkillRuntime":
        return cls(build_skill(load_services(settings), settings), FastSerializer())

    def handle(self, envelope: dict) -> dict:
        try:
            request_envelope = self._serializer.deserialize_envelope(envelope)
        except SerializationException as error:
            raise InvalidRequest(str(error)) from None
        response_envelope = self._skill.invoke(request_envelope=request_envelope, context=None)
        return self._serializer.serialize(response_envelope)
