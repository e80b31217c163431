"""Answers from the source document: causes, conditions, symptoms, prevention, self-care, doctors."""
from __future__ import annotations

from typing import Callable

from ask_sdk_model import Response

from skill.domain.content import MORE
from skill.handlers.base import Handler
from skill.handlers.triage import described_answers
from skill.handlers.turn import OFFER_RESUME_TRIAGE, OFFER_TRIAGE, Turn

OFFER_MORE_INFO = "more_info"       # "want more on that?": yes says the rest of the answer
from skill.session_state import KNOWN_ANSWERS, TRIAGE


def _keyed_by_slot(slot: str, group: str, default: str) -> Callable[[Turn], str]:
    """A content key chosen by a resolved slot id, e.g. answers.treatments.ICE."""
    def choose(turn: Turn) -> str:
        key = f"{group}.{turn.slot_id(slot)}"
        return key if turn.services.content.has(key) else default
    return choose


def _condition(turn: Turn) -> str:
    """A condition named but not one the skill knows ("knee cartilage") gets the list it does know."""
    if turn.slot_value("condition") and turn.slot_id("condition") is None:
        return "prompts.unknown_condition"
    return _keyed_by_slot("condition", "answers.conditions", "answers.conditions.overview")(turn)


# Each question intent and how to pick its answer.
TOPICS: dict[str, Callable[[Turn], str]] = {
    "CausesIntent": lambda turn: "answers.causes",
    "ConditionIntent": _condition,
    "SymptomsIntent": lambda turn: "answers.symptoms",
    "ReferredPainIntent": lambda turn: "answers.referred_pain",
    "PreventionIntent": lambda turn: "answers.prevention",
    "SelfCareIntent": _keyed_by_slot("treatment", "answers.treatments", "answers.self_care"),
    "SeeDoctorIntent": lambda turn: "answers.see_doctor",
    "EmergencySignsIntent": lambda turn: "answers.emergency_signs",
}


def answer_then_offer(turn: Turn, key: str) -> Response:
    return offer_after(turn, turn.text(key))


def offer_after(turn: Turn, answer: str) -> Response:
    """Answer, then offer what fits: carry on with a triage under way, the rest of a long
    answer, or a triage."""
    body = [answer]
    if TRIAGE in turn.session:
        return turn.say(body, question=turn.text("prompts.questions.resume_triage"), offer=OFFER_RESUME_TRIAGE)
    if turn.services.content.has(f"{getattr(answer, 'key', '')}{MORE}"):
        return turn.say(body, question=turn.text("prompts.questions.more_on_that"), offer=OFFER_MORE_INFO)
    return turn.say(body, question=turn.text("prompts.questions.offer_triage"), offer=OFFER_TRIAGE)


class Topic(Handler):
    intents = frozenset(TOPICS)

    def answer(self, turn: Turn) -> Response:
        return answer_then_offer(turn, TOPICS[turn.intent_name](turn))


class MoreInfo(Handler):
    """"Tell me more": the rest of the last answer, when it has more."""

    intents = frozenset({"MoreInfoIntent"})

    def answer(self, turn: Turn) -> Response:
        return more_info(turn)


def more_info(turn: Turn) -> Response:
    more = turn.last_answer_more()
    if more is None:
        return turn.ask_more([turn.text("prompts.no_more")], "prompts.questions.anything_else")
    return offer_after(turn, more)


class DescribePain(Handler):
    """A runner describing their pain outside a triage: what it can be associated with, then the offer.

    The description is kept for this session only, so the triage need not ask it again.
    """

    intents = frozenset({"DescribePainIntent"})

    def answer(self, turn: Turn) -> Response:
        described = described_answers(turn)
        turn.session.setdefault(KNOWN_ANSWERS, {}).update(described)
        return answer_then_offer(turn, self._content_key(described))

    @staticmethod
    def _content_key(described: dict[str, str]) -> str:
        """The most safety-relevant thing said wins: a red or swollen hip before anything else."""
        feeling, timing, location = (described.get(k) for k in ("feeling", "timing", "location"))
        if feeling in ("REDNESS", "SWELLING"):
            return "answers.described.RED_SWOLLEN"
        if timing == "REST_OR_NIGHT":
            return "answers.described.REST_OR_NIGHT"
        if feeling in ("SNAPPING", "CLICKING"):
            return "answers.described.SNAPPING"
        if location:
            return f"answers.described.{location}"
        if feeling == "STIFFNESS":
            return "answers.described.STIFFNESS"
        return "answers.described.general"
