"""The catch-all, registered last: no request ever ends without a spoken, safe answer.

A response interceptor would be skipped on this path, which is why the guidance comes from
the same composer here as everywhere else.
"""
from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_runtime.exceptions import DispatchException

from skill.handlers.turn import Services, Turn

log = logging.getLogger("hip_helper.skill")


class CatchAll(AbstractExceptionHandler):
    def __init__(self, services: Services):
        self.services = services

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        turn = Turn.of(handler_input, self.services)
        kind = turn.request_type
        if kind == "SessionEndedRequest" or handler_input.request_envelope.session is None:
            return turn.silent()
        if isinstance(exception, DispatchException):
            # An intent or request type with no handler: say what the skill can do.
            log.info("no handler for request type %s", kind)
            key = "prompts.fallback"
        else:
            # Only the exception type and trace: messages can carry what the user said.
            log.error("handler failed with %s", type(exception).__name__, exc_info=exception)
            key = "prompts.error"
        return turn.ask_more([turn.text(key)])
