"""The shape every handler shares: a predicate and an answer over a Turn."""
from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.handlers.turn import Services, Turn


class Handler(AbstractRequestHandler):
    def __init__(self, services: Services):
        self.services = services

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(Turn.of(handler_input, self.services))

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.answer(Turn.of(handler_input, self.services))

    def matches(self, turn: Turn) -> bool:
        raise NotImplementedError

    def answer(self, turn: Turn) -> Response:
        raise NotImplementedError
