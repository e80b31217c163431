"""The catch-all, registered last: no request ever ends without a spoken, safe answer.

The one exception it passes on is an envelope found to be garbage as it is read
(MalformedEnvelope): that is no Alexa request, and the runtime answers it with a 400.

A response interceptor would be skipped on this path, which is why the guidance comes from
the same composer here as everywhere else.
"""
from __future__ import annotations

import logging
import traceback
from pathlib import Path

from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_runtime.exceptions import DispatchException

from skill.handlers.turn import ServicesByLocale, Turn
from skill.request_log import loggable
from skill.serializer import MalformedEnvelope

log = logging.getLogger("hip_helper.skill")


def _raised_at(exception: Exception) -> str:
    frames = traceback.extract_tb(exception.__traceback__)
    if not frames:
        return "?"
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}"


class CatchAll(AbstractExceptionHandler):
    def __init__(self, services: ServicesByLocale):
        self._services = services

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return not isinstance(exception, MalformedEnvelope)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        try:
            return self._answer(Turn.of(handler_input, self._services), exception)
        finally:
            Turn.release(handler_input)

    @staticmethod
    def _answer(turn: Turn, exception: Exception) -> Response:
        kind = turn.request_type
        if kind == "SessionEndedRequest" or turn.handler_input.request_envelope.session is None:
            return turn.silent()
        if isinstance(exception, DispatchException):
            # An intent or request type with no handler: say what the skill can do.
            log.info("no handler for request type %s", loggable(kind))
            key = "prompts.fallback"
        else:
            # Only the type and where it was raised: messages and tracebacks can carry what the
            # user said. The traceback is for development, at DEBUG (HIP_HELPER_LOG_LEVEL).
            log.error("handler failed with %s at %s", type(exception).__name__, _raised_at(exception))
            log.debug("handler traceback", exc_info=exception)
            key = "prompts.error"
        return turn.ask_more([turn.text(key)])
