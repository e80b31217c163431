"""Yes or no to the offer the last response made, and only then.

Each response that asks a yes/no question names its offer in the session; a yes or no
with no offer pending goes to the fallback, so a stray "yes" never consents to anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ask_sdk_model import Response

from skill.handlers.base import Handler
from skill.handlers.turn import ServicesByLocale, Turn
from skill.session_state import PENDING_OFFER

Answer = Callable[[Turn], Response]


@dataclass(frozen=True)
class Offer:
    accept: Answer
    decline: Answer


class OfferReply(Handler):
    def __init__(self, services: ServicesByLocale, offers: dict[str, Offer]):
        super().__init__(services)
        self.offers = offers

    intents = frozenset({"AMAZON.YesIntent", "AMAZON.NoIntent"})

    def matches(self, turn: Turn) -> bool:
        return super().matches(turn) and turn.session.get(PENDING_OFFER) in self.offers

    def answer(self, turn: Turn) -> Response:
        offer = self.offers[turn.session[PENDING_OFFER]]
        return offer.accept(turn) if turn.intent_name == "AMAZON.YesIntent" else offer.decline(turn)
