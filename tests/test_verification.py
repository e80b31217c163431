"""RequestVerifier against a throw-away PKI: signature, certificate chain, cache, timestamp, skill id.

REJECTED and ACCEPTED are the request matrix; tests/test_verification_http.py replays it through
the Flask app. The transport tests at the end use a real HTTP server on 127.0.0.1.
"""
from __future__ import annotations

import http.server
import json
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from skill.simulator.alexa_api_stub import TlsFiles, make_tls_files
from pki import (ISSUED_AT, SKILL_ID, SLOT_VALUE, USER_ID, CertHost, Leaf, alexa_envelope, all_signers,
                 build_signer, encode, stranger_key)
from skill.settings import Settings
from skill.verification import (CHAIN_CACHE_SIZE, FAILURE_TTL, RequestVerifier, VerificationError, download_chain,
                                normalize_cert_url)

NOW = ISSUED_AT
ECHO_API = "https://s3.amazonaws.com/echo.api/"
UNREACHABLE_URL = ECHO_API + "gone.pem"
NOT_PEM_URL = ECHO_API + "not-pem.pem"
LEAF_ONLY_URL = ECHO_API + "leaf-only.pem"
AMAZON_CHAIN = Path("/work/shared/fixtures/amazon-echo-api-cert-7.pem")


@dataclass(frozen=True)
class Request:
    headers: dict[str, str]
    body: bytes

    @property
    def envelope(self) -> dict:
        return json.loads(self.body)


def signed(envelope: dict | None = None, *, signer_leaf: Leaf = Leaf.VALID, trusted: bool = True,
           **sign_overrides: object) -> Request:
    body = encode(envelope if envelope is not None else alexa_envelope(NOW))
    return Request(build_signer(signer_leaf, trusted=trusted).sign(body, **sign_overrides), body)


def with_headers(**changes: str | None) -> Request:
    """A correctly signed request whose headers are then changed (None removes one); '_' stands for '-'."""
    request = signed()
    headers = dict(request.headers)
    for name, value in changes.items():
        headers.pop(name.replace("_", "-"), None)
        if value is not None:
            headers[name.replace("_", "-")] = value
    return replace(request, headers=headers)


def body_changed_after_signing() -> Request:
    request = signed()
    return replace(request, body=request.body.replace(b"42", b"43"))


def lowercase_header_names() -> Request:
    request = signed()
    return replace(request, headers={name.lower(): value for name, value in request.headers.items()})


def legacy_signature_only() -> Request:
    request = signed(algorithm=hashes.SHA1())
    return replace(request, headers={"SignatureCertChainUrl": request.headers["SignatureCertChainUrl"],
                                     "Signature": request.headers["Signature-256"]})


def aged(seconds: float, request_type: str = "IntentRequest") -> dict:
    """An envelope stamped `seconds` before NOW (negative: in the future)."""
    return alexa_envelope(NOW - timedelta(seconds=seconds), request_type=request_type)


def reshaped(change: Callable[[dict], None]) -> dict:
    envelope = alexa_envelope(NOW)
    change(envelope)
    return envelope


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], Request]
    reason: str = ""  # what a rejection must say; empty for accepted requests


MISSING = "signature headers are missing"
NOT_HTTPS = "certificate URL is not https"
BAD_PATH = "certificate URL path is not under /echo.api/"
MISMATCH = "signature does not match the body"
CERT_DATES = "signing certificate is expired or not yet valid"
TOO_FAR = "request timestamp is too far from now"
NOT_ISO = "request timestamp is not ISO 8601"
NO_APP_ID = "applicationId is missing"
QUERY = "certificate URL has a query or fragment"
ENCODED = "certificate URL path is percent-encoded"

REJECTED = [
    # Signature headers and certificate URL
    Case("no signature headers", lambda: replace(signed(), headers={}), MISSING),
    Case("no Signature-256", lambda: with_headers(Signature_256=None), MISSING),
    Case("empty Signature-256", lambda: with_headers(Signature_256=""), MISSING),
    Case("only legacy Signature header", legacy_signature_only, MISSING),
    Case("no cert URL", lambda: with_headers(SignatureCertChainUrl=None), MISSING),
    Case("empty cert URL", lambda: with_headers(SignatureCertChainUrl=""), NOT_HTTPS),
    Case("http cert URL", lambda: with_headers(SignatureCertChainUrl="http://s3.amazonaws.com/echo.api/c.pem"),
         NOT_HTTPS),
    Case("ftp cert URL", lambda: with_headers(SignatureCertChainUrl="ftp://s3.amazonaws.com/echo.api/c.pem"),
         NOT_HTTPS),
    Case("other host", lambda: with_headers(SignatureCertChainUrl="https://notamazon.com/echo.api/c.pem"),
         "certificate URL host is not s3.amazonaws.com"),
    Case("path in other case", lambda: with_headers(SignatureCertChainUrl="https://s3.amazonaws.com/EcHo.aPi/c.pem"),
         BAD_PATH),
    Case("other path", lambda: with_headers(SignatureCertChainUrl="https://s3.amazonaws.com/invalid.path/c.pem"),
         BAD_PATH),
    Case("dot-dot out of echo.api", lambda: with_headers(SignatureCertChainUrl=ECHO_API + "../c.pem"), BAD_PATH),
    # A query, fragment or escape would let one file have endless cache keys (and %2e%2e hide a "..").
    Case("query on cert URL", lambda: with_headers(SignatureCertChainUrl=build_signer().url + "?x=1"), QUERY),
    Case("empty query on cert URL", lambda: with_headers(SignatureCertChainUrl=build_signer().url + "?"), QUERY),
    Case("fragment on cert URL", lambda: with_headers(SignatureCertChainUrl=build_signer().url + "#x"), QUERY),
    Case("escaped dot-dot", lambda: with_headers(SignatureCertChainUrl=ECHO_API + "%2e%2e/echo.api/"
                                                                       "echo-api-cert-test.pem"), ENCODED),
    Case("escaped slash", lambda: with_headers(SignatureCertChainUrl="https://s3.amazonaws.com/echo.api%2F"
                                                                     "echo-api-cert-test.pem"), ENCODED),
    Case("port 563", lambda: with_headers(SignatureCertChainUrl="https://s3.amazonaws.com:563/echo.api/c.pem"),
         "certificate URL port is not 443"),
    Case("unparsable port", lambda: with_headers(SignatureCertChainUrl="https://s3.amazonaws.com:x/echo.api/c.pem"),
         "certificate URL is malformed"),
    # What the URL serves
    Case("unreachable cert URL", lambda: signed(url=UNREACHABLE_URL), "certificate chain could not be downloaded"),
    Case("cert URL serves garbage", lambda: signed(url=NOT_PEM_URL), "certificate chain is not PEM"),
    Case("chain without intermediate", lambda: signed(url=LEAF_ONLY_URL), "certificate chain is not trusted"),
    Case("expired signing cert", lambda: signed(signer_leaf=Leaf.EXPIRED), CERT_DATES),
    Case("signing cert not yet valid", lambda: signed(signer_leaf=Leaf.NOT_YET_VALID), CERT_DATES),
    Case("signing cert without SAN", lambda: signed(signer_leaf=Leaf.NO_SAN),
         "signing certificate has no subjectAltName"),
    Case("signing cert for another host", lambda: signed(signer_leaf=Leaf.OTHER_SAN),
         "signing certificate is not for echo-api.amazon.com"),
    Case("chain to an untrusted root", lambda: signed(trusted=False), "certificate chain is not trusted"),
    # The signature itself
    Case("signature not base64", lambda: with_headers(Signature_256="abc"), "signature is not base64"),
    Case("signature not ASCII", lambda: with_headers(Signature_256="\u00e9\u00e9\u00e9\u00e9"),
         "signature is not base64"),
    Case("signed by another key", lambda: signed(key=stranger_key()), MISMATCH),
    Case("body changed after signing", body_changed_after_signing, MISMATCH),
    Case("SHA-1 signature", lambda: signed(algorithm=hashes.SHA1()), MISMATCH),
    # Timestamp
    Case("151 s old", lambda: signed(aged(151)), TOO_FAR),
    Case("151 s in the future", lambda: signed(aged(-151)), TOO_FAR),
    Case("61 min old skill event", lambda: signed(aged(61 * 60, "AlexaSkillEvent.SkillEnabled")), TOO_FAR),
    Case("61 min old ordinary request", lambda: signed(aged(61 * 60)), TOO_FAR),
    Case("timestamp without zone", lambda: signed(alexa_envelope("2030-01-01T00:00:00")),
         "request timestamp has no time zone"),
    Case("timestamp not a date", lambda: signed(alexa_envelope("yesterday")), NOT_ISO),
    Case("timestamp a number", lambda: signed(reshaped(lambda e: e["request"].update(timestamp=1700000000))),
         NOT_ISO),
    Case("no timestamp", lambda: signed(reshaped(lambda e: e["request"].pop("timestamp"))),
         "request timestamp is missing"),
    Case("request not an object", lambda: signed(reshaped(lambda e: e.update(request="LaunchRequest"))),
         "request timestamp is missing"),
    # Application id
    Case("other skill", lambda: signed(alexa_envelope(NOW, skill_id="amzn1.ask.skill.other")),
         "applicationId does not match this skill"),
    Case("no context", lambda: signed(reshaped(lambda e: e.pop("context"))), NO_APP_ID),
    Case("System not an object", lambda: signed(reshaped(lambda e: e["context"].update(System=[1]))), NO_APP_ID),
    # Order: signature, then timestamp, then application id
    Case("forged and stale", lambda: signed(aged(600), key=stranger_key()), MISMATCH),
    Case("stale and for another skill",
         lambda: signed(alexa_envelope(NOW - timedelta(hours=2), skill_id="amzn1.ask.skill.other")), TOO_FAR),
]

ACCEPTED = [
    Case("correctly signed", signed),
    Case("host in mixed case", lambda: with_headers(SignatureCertChainUrl="https://S3.AmAzOnAwS.CoM/echo.api/"
                                                                         "echo-api-cert-test.pem")),
    Case("scheme in upper case", lambda: with_headers(SignatureCertChainUrl="HTTPS://s3.amazonaws.com/echo.api/"
                                                                            "echo-api-cert-test.pem")),
    Case("explicit port 443", lambda: with_headers(SignatureCertChainUrl="https://s3.amazonaws.com:443/echo.api/"
                                                                         "echo-api-cert-test.pem")),
    Case("dot-dot back into echo.api", lambda: with_headers(SignatureCertChainUrl=ECHO_API + "../echo.api/"
                                                                                  "echo-api-cert-test.pem")),
    Case("header names in lower case", lowercase_header_names),
    Case("149 s old", lambda: signed(aged(149))),
    Case("149 s in the future", lambda: signed(aged(-149))),
    Case("30 min old skill event", lambda: signed(aged(30 * 60, "AlexaSkillEvent.SkillEnabled"))),
    Case("fractional seconds", lambda: signed(alexa_envelope((NOW - timedelta(milliseconds=1500)).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")))),
    Case("offset instead of Z", lambda: signed(alexa_envelope(
        NOW.astimezone(timezone(timedelta(hours=2))).isoformat()))),
]


def case_ids(cases: list[Case]) -> list[str]:
    return [case.name for case in cases]


def published_chains() -> dict[str, bytes]:
    """URL -> file for everything the matrix downloads: every signer variant plus broken files."""
    files = {signer.url: signer.chain_pem for signer in all_signers()}
    files[NOT_PEM_URL] = b"<html><body>Access Denied</body></html>"
    files[LEAF_ONLY_URL] = build_signer().leaf.public_bytes(serialization.Encoding.PEM)
    return files


@pytest.fixture(scope="session")
def published() -> dict[str, bytes]:
    return published_chains()  # once per session: key generation is the slow part


@pytest.fixture
def cert_host(published: dict[str, bytes]) -> CertHost:
    return CertHost(files=dict(published))


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(cert_host: CertHost, clock: Clock) -> RequestVerifier:
    return RequestVerifier(skill_id=SKILL_ID, trust_roots=[build_signer().root], fetch_chain=cert_host, clock=clock)


def verify(verifier: RequestVerifier, request: Request) -> None:
    verifier.verify(request.headers, request.body, request.envelope)


def rejection_reason(verifier: RequestVerifier, request: Request) -> str:
    with pytest.raises(VerificationError) as caught:
        verify(verifier, request)
    return caught.value.reason


# --- the matrix ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", REJECTED, ids=case_ids(REJECTED))
def test_rejects_with_a_log_safe_reason(case: Case, verifier: RequestVerifier) -> None:
    reason = rejection_reason(verifier, case.build())

    assert reason == case.reason
    assert USER_ID not in reason and SLOT_VALUE not in reason


@pytest.mark.parametrize("case", ACCEPTED, ids=case_ids(ACCEPTED))
def test_accepts(case: Case, verifier: RequestVerifier) -> None:
    verify(verifier, case.build())


def test_equivalent_url_spellings_download_the_canonical_url(verifier: RequestVerifier,
                                                              cert_host: CertHost) -> None:
    verify(verifier, with_headers(SignatureCertChainUrl="https://S3.amazonaws.com:443/echo.api/../echo.api/"
                                                        "echo-api-cert-test.pem"))

    assert cert_host.downloads == [build_signer().url]


@pytest.mark.parametrize("url, canonical", [
    ("https://S3.AMAZONAWS.COM/echo.api/c.pem", ECHO_API + "c.pem"),
    ("HTTPS://s3.amazonaws.com/echo.api/c.pem", ECHO_API + "c.pem"),
    ("https://s3.amazonaws.com:443/echo.api/c.pem", ECHO_API + "c.pem"),
    ("https://s3.amazonaws.com/echo.api/./x/../c.pem", ECHO_API + "c.pem"),
], ids=["uppercase host", "uppercase scheme", "port 443", "dot segments"])
def test_equivalent_urls_share_one_canonical_form(url: str, canonical: str) -> None:
    assert normalize_cert_url(url) == canonical


@pytest.mark.parametrize("url, reason", [
    (ECHO_API + "c.pem?x=1", QUERY),
    (ECHO_API + "c.pem?", QUERY),
    (ECHO_API + "c.pem#top", QUERY),
    (ECHO_API + "c.pem#", QUERY),
    (ECHO_API + "%2e%2e/c.pem", ENCODED),
    (ECHO_API + "%2E%2E/echo.api/c.pem", ENCODED),
    ("https://s3.amazonaws.com/echo.api%2Fc.pem", ENCODED),
    ("https://s3.amazonaws.com/%65cho.api/c.pem", ENCODED),
], ids=["query", "empty query", "fragment", "empty fragment", "escaped dot-dot", "escaped dot-dot back in",
        "escaped slash", "escaped letter"])
def test_url_forms_that_could_vary_the_key_are_refused(url: str, reason: str) -> None:
    with pytest.raises(VerificationError) as caught:
        normalize_cert_url(url)

    assert caught.value.reason == reason


def test_rejected_urls_are_never_downloaded(verifier: RequestVerifier, cert_host: CertHost) -> None:
    for url in ("http://s3.amazonaws.com/echo.api/c.pem", "https://notamazon.com/echo.api/c.pem",
                ECHO_API + "../c.pem", "https://s3.amazonaws.com:563/echo.api/c.pem", build_signer().url + "?x=1",
                build_signer().url + "#x", ECHO_API + "%2e%2e/c.pem", "https://s3.amazonaws.com/echo.api%2Fc.pem"):
        rejection_reason(verifier, with_headers(SignatureCertChainUrl=url))

    assert cert_host.downloads == []


# --- the validated-chain cache ------------------------------------------------------------------

def test_warm_request_does_not_download_again(verifier: RequestVerifier, cert_host: CertHost) -> None:
    verify(verifier, signed())
    verify(verifier, signed(aged(10)))

    assert cert_host.downloads == [build_signer().url]


def test_cached_chain_is_still_used_just_before_it_expires(verifier: RequestVerifier, cert_host: CertHost,
                                                           clock: Clock) -> None:
    verify(verifier, signed())
    clock.now = build_signer().leaf.not_valid_after_utc - timedelta(seconds=1)
    verify(verifier, signed(alexa_envelope(clock.now)))

    assert len(cert_host.downloads) == 1


def test_cached_chain_past_expiry_is_validated_again(verifier: RequestVerifier, cert_host: CertHost,
                                                     clock: Clock) -> None:
    verify(verifier, signed())
    clock.now = build_signer().leaf.not_valid_after_utc + timedelta(seconds=1)

    assert rejection_reason(verifier, signed(alexa_envelope(clock.now))) == CERT_DATES
    assert len(cert_host.downloads) == 2


def test_failed_url_is_not_downloaded_again_within_the_failure_ttl(verifier: RequestVerifier,
                                                                   cert_host: CertHost) -> None:
    first = rejection_reason(verifier, signed(url=UNREACHABLE_URL))
    cert_host.files[UNREACHABLE_URL] = build_signer().chain_pem  # even if it would now work

    assert rejection_reason(verifier, signed(url=UNREACHABLE_URL)) == first
    assert cert_host.downloads == [UNREACHABLE_URL]


def test_failed_chain_validation_is_remembered_too(verifier: RequestVerifier, cert_host: CertHost) -> None:
    reasons = [rejection_reason(verifier, signed(url=LEAF_ONLY_URL)) for _ in range(3)]

    assert reasons == ["certificate chain is not trusted"] * 3
    assert cert_host.downloads == [LEAF_ONLY_URL]


def test_failed_url_is_tried_again_after_the_failure_ttl(verifier: RequestVerifier, cert_host: CertHost,
                                                         clock: Clock) -> None:
    rejection_reason(verifier, signed(url=UNREACHABLE_URL))
    cert_host.files[UNREACHABLE_URL] = build_signer().chain_pem
    clock.now = NOW + FAILURE_TTL

    verify(verifier, signed(alexa_envelope(clock.now), url=UNREACHABLE_URL))
    assert cert_host.downloads == [UNREACHABLE_URL] * 2


def test_random_queries_cause_no_download_and_keep_the_real_chain(verifier: RequestVerifier,
                                                                  cert_host: CertHost) -> None:
    """The reported attack: S3 ignores the query, so each ?x= used to be a fresh cache key and a download."""
    real = build_signer().url
    verify(verifier, signed())
    junk = [f"{real}?x={secrets.token_hex(8)}" for _ in range(40)]
    cert_host.files.update(dict.fromkeys(junk, build_signer().chain_pem))  # what S3 would serve for them

    reasons = {rejection_reason(verifier, with_headers(SignatureCertChainUrl=url, Signature_256="AAAA"))
               for url in junk}
    verify(verifier, signed(aged(5)))

    assert reasons == {QUERY}
    assert cert_host.downloads == [real]  # the first request's download only


def test_junk_paths_cannot_push_the_real_chain_out(verifier: RequestVerifier, cert_host: CertHost) -> None:
    """Paths that pass the URL check but serve no chain each cost one download, once, and no cache slot."""
    verify(verifier, signed())
    junk = [f"{ECHO_API}junk-{number}.pem" for number in range(40)]
    for _ in range(2):
        for url in junk:
            rejection_reason(verifier, with_headers(SignatureCertChainUrl=url))
    verify(verifier, signed(aged(5)))

    assert cert_host.downloads == [build_signer().url, *junk]


def test_cache_drops_the_least_recently_used_url(verifier: RequestVerifier, cert_host: CertHost) -> None:
    first, second, *others, newest = [f"{ECHO_API}rotated-{number}.pem" for number in range(CHAIN_CACHE_SIZE + 1)]
    cert_host.files.update(dict.fromkeys([first, second, *others, newest], build_signer().chain_pem))
    for url in (first, second, *others, first, newest):  # the cache is full just before `newest`
        verify(verifier, signed(url=url))

    verify(verifier, signed(url=first))
    verify(verifier, signed(url=second))

    assert cert_host.downloads.count(first) == 1  # used again recently, so kept
    assert cert_host.downloads.count(second) == 2  # least recently used, so dropped


def test_concurrent_requests_share_the_verifier(verifier: RequestVerifier, cert_host: CertHost) -> None:
    request = signed()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: verify(verifier, request), range(32)))

    assert cert_host.downloads == [build_signer().url]  # the others waited for the one download


def test_concurrent_requests_for_a_bad_url_download_it_once(verifier: RequestVerifier, cert_host: CertHost) -> None:
    request = signed(url=UNREACHABLE_URL)
    with ThreadPoolExecutor(max_workers=8) as pool:
        reasons = set(pool.map(lambda _: rejection_reason(verifier, request), range(32)))

    assert reasons == {"certificate chain could not be downloaded"}
    assert cert_host.downloads == [UNREACHABLE_URL]


# --- signature checking off (development mode) --------------------------------------------------

def test_without_signature_checking_an_unsigned_request_is_accepted(cert_host: CertHost, clock: Clock) -> None:
    verifier = RequestVerifier(skill_id=SKILL_ID, verify_signature=False, fetch_chain=cert_host, clock=clock)

    verify(verifier, Request({}, encode(alexa_envelope(NOW))))

    assert cert_host.downloads == []


@pytest.mark.parametrize("envelope, reason", [
    (alexa_envelope(NOW, skill_id="amzn1.ask.skill.other"), "applicationId does not match this skill"),
    (alexa_envelope(NOW - timedelta(seconds=151)), TOO_FAR),
], ids=["other skill", "stale"])
def test_without_signature_checking_timestamp_and_skill_id_still_count(envelope: dict, reason: str,
                                                                       clock: Clock) -> None:
    verifier = RequestVerifier(skill_id=SKILL_ID, verify_signature=False, clock=clock)

    assert rejection_reason(verifier, Request({}, encode(envelope))) == reason


@pytest.mark.parametrize("dev_mode, reason", [(True, None), (False, MISSING)])
def test_from_settings_checks_signatures_outside_dev_mode(dev_mode: bool, reason: str | None) -> None:
    verifier = RequestVerifier.from_settings(Settings(skill_id=SKILL_ID, dev_mode=dev_mode))
    unsigned = Request({}, encode(alexa_envelope(datetime.now(timezone.utc))))

    if reason is None:
        verify(verifier, unsigned)
    else:
        assert rejection_reason(verifier, unsigned) == reason


def test_an_empty_skill_id_is_refused_up_front() -> None:
    with pytest.raises(ValueError):
        RequestVerifier(skill_id="")


# --- Amazon's real chain with the default (certifi) trust roots ---------------------------------

@pytest.mark.skipif(not AMAZON_CHAIN.exists(), reason="Amazon's echo-api chain fixture is not on this machine")
@pytest.mark.parametrize("moment, roots, reason", [
    # A signature check is only reached once the chain has passed.
    (datetime(2019, 12, 1, tzinfo=timezone.utc), None, MISMATCH),
    (datetime(2019, 12, 1, tzinfo=timezone.utc), "test root", "certificate chain is not trusted"),
    (datetime.now(timezone.utc), None, CERT_DATES),
], ids=["in its validity window", "in its window but not trusted", "now, expired"])
def test_amazon_chain(moment: datetime, roots: str | None, reason: str) -> None:
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[build_signer().root] if roots else None,
                               fetch_chain=lambda _url: AMAZON_CHAIN.read_bytes(), clock=lambda: moment)
    headers = {"SignatureCertChainUrl": ECHO_API + "echo-api-cert-7.pem", "Signature-256": "AAAA"}

    assert rejection_reason(verifier, Request(headers, encode(alexa_envelope(moment)))) == reason


# --- the real download over HTTP and HTTPS on 127.0.0.1 -----------------------------------------

FETCH_TIMEOUT = 1.0  # generous: a loaded CI machine must still fetch the good chain in time
FETCH_MAX_BYTES = 16 * 1024
# How long the stalling routes hold on: long enough to outlast FETCH_TIMEOUT, short enough that a
# broken timeout fails the test instead of hanging the suite.
STALL_SECONDS = 3.0
# The production default overall deadline, against headers sent one byte a second: a per-read
# timeout would wait for ever, as each byte comes well within it.
HEADER_DEADLINE = Settings.cert_fetch_timeout
HEADER_BYTE_SECONDS = 1.0
# What a deadline may overrun by: the last read returns, then the check fires; a loaded CI machine.
DEADLINE_MARGIN = 0.5


class _CertServer(http.server.ThreadingHTTPServer):
    chain_pem: bytes
    release: threading.Event  # lets stalled handlers finish at teardown
    paths: list[str]
    scheme: str
    client_tls: ssl.SSLContext  # trusts the server's throw-away CA

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # only clients hanging up mid-handshake get here: the verifier giving up, as it should


class _CertHandler(http.server.BaseHTTPRequestHandler):
    server: _CertServer

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        routes = {"/chain.pem": self._chain, "/silent": self._silent, "/trickle": self._trickle,
                  "/trickle-headers": self._trickle_headers, "/huge-declared": self._huge_declared,
                  "/huge-streamed": self._huge_streamed, "/redirect": self._redirect}
        route = routes.get(self.path, lambda: self.send_error(404))
        try:
            route()
        except OSError:
            pass  # the verifier hung up first, as it should

    def _chain(self) -> None:
        self._headers(200, {"Content-Length": str(len(self.server.chain_pem))})
        self.wfile.write(self.server.chain_pem)

    def _silent(self) -> None:
        if not self.server.release.wait(STALL_SECONDS):
            self._chain()  # a client without a working timeout gets a good chain, and the test fails

    def _trickle(self) -> None:
        self._headers(200, {})
        for _ in range(int(STALL_SECONDS / 0.05)):
            if self.server.release.wait(0.05):
                return
            self.wfile.write(b"-")
            self.wfile.flush()

    def _trickle_headers(self) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.server.chain_pem)}\r\n\r\n".encode()
        for byte in head:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.server.release.wait(HEADER_BYTE_SECONDS):
                return
        self.wfile.write(self.server.chain_pem)  # a client without an overall deadline gets the chain

    def _huge_declared(self) -> None:
        self._headers(200, {"Content-Length": str(4 * FETCH_MAX_BYTES)})
        self.wfile.write(b"-" * 4 * FETCH_MAX_BYTES)

    def _huge_streamed(self) -> None:
        self._headers(200, {})  # no length: the client only finds out by reading
        self.wfile.write(b"-" * 4 * FETCH_MAX_BYTES)

    def _redirect(self) -> None:
        self._headers(302, {"Location": "/chain.pem", "Content-Length": "0"})

    def _headers(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("cert-server-tls"))


@pytest.fixture(scope="module", params=["http", "https"])
def cert_server(request: pytest.FixtureRequest, tls_files: TlsFiles) -> Iterator[_CertServer]:
    server = _CertServer(("127.0.0.1", 0), _CertHandler)
    server.chain_pem, server.release, server.paths = build_signer().chain_pem, threading.Event(), []
    server.scheme, server.client_tls = request.param, ssl.create_default_context(cafile=str(tls_files.ca))
    if server.scheme == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_files.cert, tls_files.key)
        # The handshake runs on the handler thread, so a client that gives up cannot block accept().
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


def loopback_verifier(server: _CertServer, path: str) -> RequestVerifier:
    """The real download function, pointed at the local server (the https-only URL check passed before)."""
    return RequestVerifier(skill_id=SKILL_ID, trust_roots=[build_signer().root], clock=Clock(),
                           fetch_chain=lambda _url: download_chain(local_url(server, path), timeout=FETCH_TIMEOUT,
                                                                   max_bytes=FETCH_MAX_BYTES, tls=server.client_tls))


def local_url(server: _CertServer, path: str) -> str:
    return f"{server.scheme}://127.0.0.1:{server.server_port}{path}"


def test_download_fetches_a_real_chain(cert_server: _CertServer) -> None:
    verify(loopback_verifier(cert_server, "/chain.pem"), signed())


@pytest.mark.parametrize("path, reason", [
    ("/silent", "certificate chain download timed out"),
    ("/trickle", "certificate chain download timed out"),
    ("/huge-declared", "certificate chain is too large"),
    ("/huge-streamed", "certificate chain is too large"),
    ("/missing.pem", "certificate chain download failed with HTTP 404"),
    ("/redirect", "certificate chain download failed with HTTP 302"),
])
def test_download_gives_up(cert_server: _CertServer, path: str, reason: str) -> None:
    assert rejection_reason(loopback_verifier(cert_server, path), signed()) == reason


def test_download_does_not_follow_redirects(cert_server: _CertServer) -> None:
    requests_before = len(cert_server.paths)
    rejection_reason(loopback_verifier(cert_server, "/redirect"), signed())

    assert cert_server.paths[requests_before:] == ["/redirect"]


def test_headers_trickled_a_byte_a_second_fail_within_the_deadline(cert_server: _CertServer) -> None:
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[build_signer().root], clock=Clock(),
                               fetch_chain=lambda _url: download_chain(
                                   local_url(cert_server, "/trickle-headers"), timeout=HEADER_DEADLINE,
                                   max_bytes=FETCH_MAX_BYTES, tls=cert_server.client_tls))
    started = time.monotonic()
    reason = rejection_reason(verifier, signed())
    elapsed = time.monotonic() - started

    assert reason == "certificate chain download timed out"
    assert HEADER_DEADLINE - 0.1 <= elapsed <= HEADER_DEADLINE + DEADLINE_MARGIN


def test_a_passed_in_deadline_cuts_the_download_short(cert_server: _CertServer) -> None:
    started = time.monotonic()
    with pytest.raises(VerificationError) as caught:
        download_chain(local_url(cert_server, "/silent"), timeout=STALL_SECONDS, max_bytes=FETCH_MAX_BYTES,
                       deadline=started + 0.3, tls=cert_server.client_tls)

    assert caught.value.reason == "certificate chain download timed out"
    assert time.monotonic() - started <= 0.3 + DEADLINE_MARGIN


def test_the_request_budget_bounds_a_download_made_for_the_request(cert_server: _CertServer) -> None:
    from skill.deadline import request_budget

    started = time.monotonic()
    with request_budget(0.3), pytest.raises(VerificationError):
        download_chain(local_url(cert_server, "/silent"), timeout=STALL_SECONDS, max_bytes=FETCH_MAX_BYTES,
                       tls=cert_server.client_tls)
    assert time.monotonic() - started <= 0.3 + DEADLINE_MARGIN


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_server_that_accepts_and_never_speaks_fails_within_the_deadline(scheme: str) -> None:
    """Connected but silent: for https the TLS handshake itself must stay inside the deadline."""
    with socket.create_server(("127.0.0.1", 0)) as listener:  # the kernel completes the connect; nobody answers
        url = f"{scheme}://127.0.0.1:{listener.getsockname()[1]}/chain.pem"
        started = time.monotonic()
        with pytest.raises(VerificationError) as caught:
            download_chain(url, timeout=FETCH_TIMEOUT, max_bytes=FETCH_MAX_BYTES)

    assert caught.value.reason == "certificate chain download timed out"
    assert time.monotonic() - started <= FETCH_TIMEOUT + DEADLINE_MARGIN
