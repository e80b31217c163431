"""The shape every handler shares: a predicate and an answer over a Turn."""
from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.handlers.turn import ServicesByLocale, Turn


class Handler(AbstractRequestHandler):
    """A handler takes the intents it names. Handlers gated on session state narrow `matches` but
    still name every intent they can answer: the interaction model is checked against that list."""

    intents: frozenset[str] = frozenset()

    def __init__(self, services: ServicesByLocale):
        self._services = services

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(Turn.of(handler_input, self._services))

    def handle(self, handler_input: HandlerInput) -> Response:
        try:
            return self.answer(Turn.of(handler_input, self._services))
        finally:
            Turn.release(handler_input)

    def matches(self, turn: Turn) -> bool:
        return turn.intent_name in self.intents

    def answer(self, turn: Turn) -> Response:
        raise NotImplementedError
