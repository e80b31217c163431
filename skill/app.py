"""The Flask web service Alexa calls: POST /alexa, GET /healthz; and GET /privacy, GET /terms for people.

Flow of one request, each step once: size limit -> the door (strict JSON, depth, field
types) -> verification
(signature, timestamp, skill id) -> skill runtime (ask-sdk-core dispatch) -> JSON.
"""
from __future__ import annotations

import logging
import time

import orjson
from flask import Flask, Response, request

from skill.deadline import request_budget
from skill.door import Refused, admit
from skill.legal import LegalPages
from skill.request_log import RequestLog
from skill.runtime import InvalidRequest, SkillRuntime
from skill.settings import Settings
from skill.verification import RequestVerifier, VerificationError

MAX_BODY_BYTES = 256 * 1024
# The legal pages change only with a deployment: let browsers and the Alexa app cache them a day.
LEGAL_CACHE_SECONDS = 24 * 3600

def _json_response(payload: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json_response({"error": message}, status)


def _configure_logging(level: str) -> None:
    """Under a bare `gunicorn 'skill.app:create_app()'` nothing configures logging, and the
    per-request line would be dropped: give the skill's loggers a stderr handler then."""
    logger = logging.getLogger("hip_helper")
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)


def create_app(settings: Settings | None = None, *, verifier: RequestVerifier | None = None,
               runtime: SkillRuntime | None = None) -> Flask:
    """Build the app. Production (the default) verifies every request and needs a skill id.

    `verifier` and `runtime` are for tests and the benchmark, which bring their own PKI or stores.
    """
    settings = settings or Settings.from_env()
    settings.require_skill_id()
    _configure_logging(settings.log_level)
    runtime = runtime or SkillRuntime.from_settings(settings)
    verifier = verifier or RequestVerifier.from_settings(settings)
    request_log = RequestLog(settings.log_pseudonym_key())
    legal = LegalPages.load(settings.content_dir / "legal.yaml", settings.contact_email)

    app = Flask("hip_helper")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["HIP_HELPER_SETTINGS"] = settings

    @app.get("/healthz")
    def healthz() -> Response:
        return _json_response({"status": "ok", "skill": "hip-helper"})

    @app.get("/privacy", defaults={"page": "privacy"})
    @app.get("/terms", defaults={"page": "terms"})
    def legal_page(page: str) -> Response:
        # For people, not Alexa: no signature, the same words for everyone, so cacheable.
        response = Response(legal.render(page, request.args.get("locale")), mimetype="text/html")
        response.headers["Content-Security-Policy"] = "default-src 'none'"
        response.cache_control.public = True
        response.cache_control.max_age = LEGAL_CACHE_SECONDS
        response.add_etag()
        return response.make_conditional(request)

    @app.post("/alexa")
    def alexa() -> Response:
        # The budget starts on arrival: a certificate download and the handler's API calls share it.
        with request_budget(settings.request_budget_seconds):
            return answer(time.perf_counter())

    def answer(started: float) -> Response:
        body = request.get_data(cache=False)  # raw bytes: the signature covers them exactly
        try:
            envelope = admit(body)
        except Refused as refused:
            request_log.rejected(None, 400, refused.reason, started)
            return _error(400, f"request refused: {refused.reason}")
        try:
            verifier.verify(request.headers, body, envelope)
        except VerificationError as error:
            request_log.rejected(envelope, 400, error.reason, started)
            return _error(400, f"request verification failed: {error.reason}")
        try:
            reply, text = runtime.answer(envelope)
        except InvalidRequest:
            request_log.rejected(envelope, 400, "not an Alexa request envelope", started)
            return _error(400, "request body is not an Alexa request envelope")
        request_log.handled(envelope, reply, started)
        return Response(text, mimetype="application/json")

    @app.errorhandler(413)
    def too_large(_error_obj) -> Response:
        request_log.rejected(None, 413, "body too large", time.perf_counter())
        return _error(413, f"request body is over {MAX_BODY_BYTES // 1024} KB")

    @app.errorhandler(404)
    def not_found(_error_obj) -> Response:
        return _error(404, "not found: the skill endpoint is POST /alexa")

    @app.errorhandler(405)
    def method_not_allowed(_error_obj) -> Response:
        return _error(405, "method not allowed: the skill endpoint takes POST")

    return app
