"""Shared fixtures: the real app in production mode, trusting a throw-away test PKI."""
from __future__ import annotations

import uuid

import pytest

from alexa_requests import AlexaSession
from pki import CertHost, build_signer
from skill.app import create_app
from skill.settings import Settings
from skill.verification import RequestVerifier

# Servers the tests start: Alexa's APIs over HTTPS (`alexa_api_server`) and a DynamoDB-compatible
# moto server (`moto_endpoint`, with `aws_environment`).
pytest_plugins = ["alexa_api_server", "dynamodb_server"]

SKILL_ID = "amzn1.ask.skill.6a1c0f0e-hip-helper-tests"


@pytest.fixture(scope="session")
def signer():
    return build_signer()


def production_app_with(signer, **settings):
    """The app exactly as production builds it, except that it trusts the test root CA."""
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[signer.root], fetch_chain=CertHost().publish(signer))
    return create_app(Settings(skill_id=SKILL_ID, dev_mode=False, **settings), verifier=verifier)


@pytest.fixture(scope="session")
def production_app(signer, tmp_path_factory):
    return production_app_with(signer, db_path=tmp_path_factory.mktemp("db") / "prefs.sqlite3")


@pytest.fixture
def alexa(production_app, signer) -> AlexaSession:
    """A device talking to the shared app; each test is a different user, so stored preferences never leak."""
    return AlexaSession(production_app.test_client(), signer, SKILL_ID,
                        user_id=f"amzn1.ask.account.TEST-{uuid.uuid4()}")


def pytest_terminal_summary(terminalreporter):
    """`make test` prints the word distribution the budget test measured (tests/speech_budget.py)."""
    import speech_budget
    if speech_budget.HEARD:
        terminalreporter.write_sep("-", "speech budget")
        terminalreporter.write_line(speech_budget.summary())
