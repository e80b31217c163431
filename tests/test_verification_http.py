"""The verification matrix of tests/test_verification.py replayed through the Flask app over HTTP.

Every rejection must be a 400 that names the reason, with no skill handler run; every accepted
request a 200 with a JSON response envelope.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pki import SKILL_ID, SLOT_VALUE, USER_ID, CertHost, alexa_envelope, build_signer, encode
from skill.app import MAX_BODY_BYTES, create_app
from skill.settings import Settings
from skill.verification import RequestVerifier, download_chain
# cert_server and tls_files are fixtures: imported so this module gets its own loopback server.
from test_verification import (ACCEPTED, DEADLINE_MARGIN, FETCH_MAX_BYTES, HEADER_DEADLINE, QUERY, REJECTED, Case,
                               Clock, Request, _CertServer, case_ids, cert_server, local_url, published_chains,
                               signed, tls_files, with_headers)

REPLY = {"version": "1.0", "response": {"outputSpeech": {"type": "PlainText", "text": "ok"},
                                        "shouldEndSession": True}}


class CountingRuntime:
    """Stands in for SkillRuntime so these tests see only verification; counts calls to prove no handler ran."""

    def __init__(self) -> None:
        self.calls = 0

    def answer(self, envelope: dict) -> tuple[dict, str]:
        self.calls += 1
        return REPLY, json.dumps(REPLY)


@pytest.fixture(scope="session")
def published() -> dict[str, bytes]:
    return published_chains()  # once per session: key generation is the slow part


@pytest.fixture
def runtime() -> CountingRuntime:
    return CountingRuntime()


@pytest.fixture
def make_app(runtime: CountingRuntime) -> Callable[..., Flask]:
    def make(*, dev_mode: bool = False, verifier: RequestVerifier | None = None) -> Flask:
        return create_app(Settings(skill_id=SKILL_ID, dev_mode=dev_mode), verifier=verifier, runtime=runtime)
    return make


@pytest.fixture
def cert_host(published: dict[str, bytes]) -> CertHost:
    return CertHost(files=dict(published))


@pytest.fixture
def client(make_app: Callable[..., Flask], cert_host: CertHost) -> FlaskClient:
    """Production settings; the verifier trusts the test root and downloads from an in-memory host."""
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[build_signer().root], fetch_chain=cert_host,
                               clock=Clock())
    return make_app(verifier=verifier).test_client()


def post(client: FlaskClient, request: Request) -> TestResponse:
    return client.post("/alexa", data=request.body, headers=request.headers)


def unsigned(envelope: dict) -> Request:
    return Request({"Content-Type": "application/json"}, encode(envelope))


# Envelopes of the wrong shape are refused at the door, before verification gives its reason.
AT_THE_DOOR = {
    "timestamp a number": "request.timestamp must be a string",
    "request not an object": "request must be an object",
    "System not an object": "context.System must be an object",
}


@pytest.mark.parametrize("case", REJECTED, ids=case_ids(REJECTED))
def test_rejected_request_gets_400_and_reaches_no_handler(case: Case, client: FlaskClient,
                                                          runtime: CountingRuntime,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    response = post(client, case.build())

    assert response.status_code == 400
    reason = AT_THE_DOOR.get(case.name, case.reason)
    assert reason in response.get_json()["error"]
    assert runtime.calls == 0
    assert reason in caplog.text  # the rejection was logged, so the next check looks at real log lines
    for text in (response.get_data(as_text=True), caplog.text):
        assert USER_ID not in text and SLOT_VALUE not in text


@pytest.mark.parametrize("case", ACCEPTED, ids=case_ids(ACCEPTED))
def test_accepted_request_gets_the_skill_reply(case: Case, client: FlaskClient, runtime: CountingRuntime) -> None:
    response = post(client, case.build())

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["version"] == "1.0"
    assert isinstance(response.get_json()["response"], dict)
    assert runtime.calls == 1


def test_get_is_not_allowed(client: FlaskClient, runtime: CountingRuntime) -> None:
    assert client.get("/alexa").status_code == 405
    assert runtime.calls == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""], ids=["broken", "array", "empty"])
def test_body_that_is_not_a_json_object_gets_400(client: FlaskClient, runtime: CountingRuntime, body: bytes) -> None:
    response = client.post("/alexa", data=body, headers=build_signer().sign(body))

    assert response.status_code == 400
    assert runtime.calls == 0


def test_body_over_the_limit_gets_413(client: FlaskClient, runtime: CountingRuntime) -> None:
    body = b" " * (MAX_BODY_BYTES + 1)
    response = client.post("/alexa", data=body, headers=build_signer().sign(body))

    assert response.status_code == 413
    assert runtime.calls == 0


def test_production_settings_refuse_unsigned_requests(make_app: Callable[..., Flask],
                                                      runtime: CountingRuntime) -> None:
    client = make_app(dev_mode=False).test_client()  # the verifier the app builds itself

    response = post(client, unsigned(alexa_envelope(datetime.now(timezone.utc))))

    assert response.status_code == 400
    assert "signature headers are missing" in response.get_json()["error"]
    assert runtime.calls == 0


def test_dev_mode_accepts_unsigned_requests(make_app: Callable[..., Flask], runtime: CountingRuntime) -> None:
    response = post(make_app(dev_mode=True).test_client(), unsigned(alexa_envelope(datetime.now(timezone.utc))))

    assert response.status_code == 200
    assert runtime.calls == 1


@pytest.mark.parametrize("skill_id, age, reason", [
    ("amzn1.ask.skill.other", timedelta(0), "applicationId does not match this skill"),
    # Ten minutes rather than 151 s: this test runs on the real clock, so keep well clear of the edge.
    (SKILL_ID, timedelta(minutes=10), "request timestamp is too far from now"),
], ids=["other skill", "stale"])
def test_dev_mode_still_checks_skill_id_and_timestamp(make_app: Callable[..., Flask], runtime: CountingRuntime,
                                                      skill_id: str, age: timedelta, reason: str) -> None:
    envelope = alexa_envelope(datetime.now(timezone.utc) - age, skill_id=skill_id)
    response = post(make_app(dev_mode=True).test_client(), unsigned(envelope))

    assert response.status_code == 400
    assert reason in response.get_json()["error"]
    assert runtime.calls == 0


def test_forty_random_queries_get_400_without_a_download(client: FlaskClient, runtime: CountingRuntime,
                                                         cert_host: CertHost) -> None:
    real = build_signer().url
    assert post(client, signed()).status_code == 200
    junk = [f"{real}?x={secrets.token_hex(8)}" for _ in range(40)]
    cert_host.files.update(dict.fromkeys(junk, build_signer().chain_pem))  # S3 ignores the query

    responses = [post(client, with_headers(SignatureCertChainUrl=url, Signature_256="AAAA")) for url in junk]

    assert {(response.status_code, response.get_json()["error"]) for response in responses} == {
        (400, f"request verification failed: {QUERY}")}
    assert post(client, signed()).status_code == 200
    assert cert_host.downloads == [real]
    assert runtime.calls == 2


def test_trickled_certificate_headers_get_400_within_the_deadline(make_app: Callable[..., Flask],
                                                                  runtime: CountingRuntime,
                                                                  cert_server: _CertServer) -> None:
    url = local_url(cert_server, "/trickle-headers")
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[build_signer().root], clock=Clock(),
                               fetch_chain=lambda _url: download_chain(url, timeout=HEADER_DEADLINE,
                                                                       max_bytes=FETCH_MAX_BYTES,
                                                                       tls=cert_server.client_tls))
    started = time.monotonic()
    response = post(make_app(verifier=verifier).test_client(), signed())

    assert response.status_code == 400
    assert "certificate chain download timed out" in response.get_json()["error"]
    assert time.monotonic() - started <= HEADER_DEADLINE + DEADLINE_MARGIN
    assert runtime.calls == 0
