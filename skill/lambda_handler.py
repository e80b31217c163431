"""AWS Lambda entry point: `skill.lambda_handler.handler`.

Alexa invokes a Lambda function directly (no HTTP signature to check), so only the
timestamp and skill id are verified here; the rest of the path is the web service's.
Set HIP_HELPER_SKILL_ID, and HIP_HELPER_STORE=dynamodb with HIP_HELPER_DYNAMODB_TABLE
(infrastructure/cfn-deployer/skill-stack.yaml sets all three). Nothing on this path may import
Flask or cryptography: the zip deploy/lambda/build.py makes does not contain them.
"""
from __future__ import annotations

import functools
from typing import Any

from skill import door
from skill.deadline import request_budget
from skill.runtime import SkillRuntime
from skill.settings import Settings
from skill.verification import RequestVerifier


@functools.cache
def _service() -> tuple[Settings, RequestVerifier, SkillRuntime]:
    """Built once per Lambda container, on the first invocation."""
    settings = Settings.from_env()
    settings.require_skill_id()
    return (settings, RequestVerifier(skill_id=settings.skill_id, verify_signature=False),
            SkillRuntime.from_settings(settings, every_locale=False))


def handler(event: dict, context: Any) -> dict:
    """A malformed or unverifiable event raises (door.Refused, VerificationError), which Lambda
    reports to Alexa as a failed invocation, as Alexa expects."""
    settings, verifier, runtime = _service()
    door.check(event)
    budget = settings.request_budget_seconds
    if hasattr(context, "get_remaining_time_in_millis"):  # leave the runtime a moment to reply
        budget = min(budget, context.get_remaining_time_in_millis() / 1000 - 0.5)
    with request_budget(budget):
        verifier.verify({}, b"", event)
        return runtime.handle(event)
