"""Checks that a request really comes from Alexa, is fresh, and is meant for this skill.

Order per request: signature (cert URL, chain, RSA over the raw body; skipped in dev mode), then
timestamp, then application id. Nothing from the body is trusted before its signature holds.
Every failure is a `VerificationError` whose `.reason` is short and safe to log: it never quotes
user ids, slot values or body content.
"""
from __future__ import annotations

import base64
import functools
import http.client
import importlib
import logging
import posixpath
import socket
import ssl
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from skill import deadline as request_deadlines
from skill.deadline import Deadline, DeadlineSocket
from skill.envelope import field
from skill.settings import Settings

CERT_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
ECHO_API_DOMAIN = "echo-api.amazon.com"
CERT_URL_HOST = "s3.amazonaws.com"
CERT_URL_PATH_PREFIX = "/echo.api/"
HTTPS_PORT = 443
REQUEST_TOLERANCE = timedelta(seconds=150)
# Skill lifecycle events (enabled, account linked, ...) may be delivered up to an hour late.
SKILL_EVENT_PREFIX = "AlexaSkillEvent."
SKILL_EVENT_TOLERANCE = timedelta(hours=1)
CHAIN_CACHE_SIZE = 16
# A URL whose download or chain failed is refused without a new download for this long.
FAILURE_TTL = timedelta(seconds=60)
FAILURE_CACHE_SIZE = 1024
_DOWNLOAD_CHUNK_BYTES = 16 * 1024

log = logging.getLogger("hip_helper.verification")


class _OnFirstUse:
    """A module imported when one of its names is first read. Only signature checks need
    cryptography, and the Lambda path (no HTTP signature) neither imports nor ships it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> object:
        value = getattr(importlib.import_module(self._name), attribute)
        setattr(self, attribute, value)  # read as a plain attribute from then on: this runs per request
        return value


x509 = _OnFirstUse("cryptography.x509")
x509_verification = _OnFirstUse("cryptography.x509.verification")
hashes = _OnFirstUse("cryptography.hazmat.primitives.hashes")
padding = _OnFirstUse("cryptography.hazmat.primitives.asymmetric.padding")
rsa = _OnFirstUse("cryptography.hazmat.primitives.asymmetric.rsa")
crypto_errors = _OnFirstUse("cryptography.exceptions")
crypto_utils = _OnFirstUse("cryptography.utils")


class VerificationError(Exception):
    """The request must be rejected with HTTP 400; `reason` is short and log-safe."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --- certificate chain URL and download ---------------------------------------------------------

# Alexa signs with a handful of chain URLs; the bound keeps a hostile header from growing the cache.
# Only canonical results are kept: a refused URL raises, and lru_cache keeps nothing for it.
@functools.lru_cache(maxsize=64)
def normalize_cert_url(url: str) -> str:
    """The canonical https://s3.amazonaws.com/echo.api/... form of `url`, or VerificationError.

    The canonical form is also the cache key, so anything that could vary it without changing
    what S3 serves (a query, a fragment, percent-escapes) is refused rather than kept. Dot
    segments are resolved so `/echo.api/../x.pem` cannot escape the prefix; posixpath because
    URL paths use `/` whatever the host OS is.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise VerificationError("certificate URL is malformed") from None
    if parts.scheme != "https":  # urlsplit has already lower-cased it
        raise VerificationError("certificate URL is not https")
    if (parts.hostname or "").lower() != CERT_URL_HOST:
        raise VerificationError("certificate URL host is not s3.amazonaws.com")
    if port not in (None, HTTPS_PORT):
        raise VerificationError("certificate URL port is not 443")
    # Checked on the raw text: urlsplit drops an empty "?" or "#", which would still bust the key.
    if "?" in url or "#" in url:
        raise VerificationError("certificate URL has a query or fragment")
    # %2e%2e or %2F would pass the prefix check encoded and mean something else decoded.
    if unquote(parts.path) != parts.path:
        raise VerificationError("certificate URL path is percent-encoded")
    path = posixpath.normpath(parts.path) if parts.path else ""
    if not path.startswith(CERT_URL_PATH_PREFIX):
        raise VerificationError("certificate URL path is not under /echo.api/")
    return urlunsplit(("https", CERT_URL_HOST, path, "", ""))


class _DeadlineConnection(http.client.HTTPConnection):
    """One GET whose connect, TLS handshake, headers and body all end by `deadline`."""

    def __init__(self, host: str, port: int | None, deadline: Deadline, tls: ssl.SSLContext | None) -> None:
        super().__init__(host, port)
        self._deadline, self._tls = deadline, tls
        self.raw_sock: socket.socket | None = None

    def connect(self) -> None:
        # Name lookup is not bounded (getaddrinfo takes no timeout); each connection attempt is.
        sock = socket.create_connection((self.host, self.port), self._deadline.left())
        try:
            if self._tls is not None:
                sock.settimeout(self._deadline.left())  # since 3.5 a total for the whole handshake
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.raw_sock = sock
        self.sock = DeadlineSocket(sock, self._deadline)  # type: ignore[assignment]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def download_chain(url: str, *, timeout: float, max_bytes: int, deadline: float | None = None,
                   tls: ssl.SSLContext | None = None) -> bytes:
    """GET `url` within `timeout` seconds overall (connect, headers and body), refusing bodies over `max_bytes`.

    `deadline`, a time.monotonic() value (by default the current request's), can shorten that;
    `tls` replaces the system's trust store (tests serve https from a throw-away CA).
    Transport only: callers check the URL first (`normalize_cert_url` allows https to S3 only).
    Redirects are not followed: a redirect could lead off S3 or down to plain http.
    """
    if deadline is None and (request := request_deadlines.current()) is not None:
        deadline = request.at  # what is left of the request's budget, when the download is for one
    overall = Deadline.after(timeout) if deadline is None else Deadline(deadline).within(timeout)
    try:
        return _download_by(url, overall, max_bytes, tls or _tls_context())
    except TimeoutError:
        # Whether the server stalled connecting, in the headers or in the body, it is the same failure.
        raise VerificationError("certificate chain download timed out") from None


def _download_by(url: str, deadline: Deadline, max_bytes: int, tls: ssl.SSLContext) -> bytes:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise VerificationError("certificate URL is malformed")
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    connection = _DeadlineConnection(parts.hostname, parts.port, deadline,
                                     tls if parts.scheme == "https" else None)
    try:
        connection.request("GET", target, headers={"Accept": "*/*"})
        response = connection.getresponse()
        if response.status != 200:
            raise VerificationError(f"certificate chain download failed with HTTP {response.status}")
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise VerificationError("certificate chain is too large")
        received = bytearray()
        while chunk := response.read1(_DOWNLOAD_CHUNK_BYTES):
            received += chunk
            if len(received) > max_bytes:
                raise VerificationError("certificate chain is too large")
        return bytes(received)
    finally:
        connection.close()
        if connection.raw_sock is not None:
            connection.raw_sock.close()


def chain_fetcher(*, timeout: float = Settings.cert_fetch_timeout,
                  max_bytes: int = Settings.cert_max_bytes) -> Callable[[str], bytes]:
    """The production `fetch_chain`: `download_chain` with the configured limits."""
    return functools.partial(download_chain, timeout=timeout, max_bytes=max_bytes)


@functools.cache
def mozilla_roots() -> tuple[x509.Certificate, ...]:
    """certifi's Mozilla CA bundle, parsed once per process."""
    import certifi  # here: only signature checks need it, and Lambda requests carry no signature
    with warnings.catch_warnings():
        # A few long-lived roots carry non-positive serial numbers; cryptography warns but accepts them.
        warnings.simplefilter("ignore", crypto_utils.CryptographyDeprecationWarning)
        return tuple(x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes()))


# --- chain validation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _TrustedSigner:
    public_key: rsa.RSAPublicKey
    expires_at: datetime  # the earliest not_valid_after in the validated path


class _SignerCache:
    """Validated signers by canonical URL, least recently used dropped first, beside a separate
    record of recent failures; safe to share between threads.

    Failures never enter the signer LRU, so junk URLs cannot push the real chain out, and a
    failed URL is not fetched again until FAILURE_TTL has passed.
    """

    def __init__(self, max_entries: int, max_failures: int) -> None:
        self._max_entries, self._max_failures = max_entries, max_failures
        self._signers: OrderedDict[str, _TrustedSigner] = OrderedDict()
        self._failures: OrderedDict[str, tuple[str, datetime]] = OrderedDict()  # url -> (reason, retry at)
        self._fetching: dict[str, tuple[threading.Lock, int]] = {}  # url -> (lock, holders and waiters)
        self._lock = threading.Lock()

    def get(self, url: str, now: datetime) -> _TrustedSigner | None:
        """The signer for `url` if one is cached and its whole chain is still valid at `now`;
        VerificationError with the earlier reason if `url` failed within FAILURE_TTL."""
        with self._lock:
            failure = self._failures.get(url)
            if failure is not None:
                reason, retry_at = failure
                if now < retry_at:
                    raise VerificationError(reason)
                del self._failures[url]
            signer = self._signers.get(url)
            if signer is None or now >= signer.expires_at:
                return None
            self._signers.move_to_end(url)
            return signer

    def put(self, url: str, signer: _TrustedSigner) -> None:
        with self._lock:
            self._signers[url] = signer
            self._signers.move_to_end(url)
            while len(self._signers) > self._max_entries:
                self._signers.popitem(last=False)

    def put_failure(self, url: str, reason: str, now: datetime) -> None:
        with self._lock:
            self._failures[url] = (reason, now + FAILURE_TTL)
            self._failures.move_to_end(url)
            while len(self._failures) > self._max_failures:
                self._failures.popitem(last=False)

    @contextmanager
    def fetching(self, url: str) -> Iterator[None]:
        """Held while `url` is downloaded and validated: concurrent cold requests for it wait for
        that one attempt instead of each making their own."""
        with self._lock:
            lock, users = self._fetching.get(url, (threading.Lock(), 0))
            self._fetching[url] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                users = self._fetching[url][1] - 1
                if users:
                    self._fetching[url] = (lock, users)
                else:
                    del self._fetching[url]


def _parse_chain(pem: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise VerificationError("certificate chain is not PEM") from None


def _check_signing_cert(leaf: x509.Certificate, now: datetime) -> None:
    """Explicit leaf checks so the log says why; path validation below would also refuse these."""
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise VerificationError("signing certificate is expired or not yet valid")
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        raise VerificationError("signing certificate has no subjectAltName") from None
    if ECHO_API_DOMAIN not in names.get_values_for_type(x509.DNSName):
        raise VerificationError("signing certificate is not for echo-api.amazon.com")


def _validate_chain(pem: bytes, store: x509_verification.Store, now: datetime) -> _TrustedSigner:
    leaf, *intermediates = _parse_chain(pem)
    _check_signing_cert(leaf, now)
    verifier = (x509_verification.PolicyBuilder().store(store).time(now)
                .build_server_verifier(x509_verification.DNSName(ECHO_API_DOMAIN)))
    try:
        path = verifier.verify(leaf, intermediates)
    except x509_verification.VerificationError:
        raise VerificationError("certificate chain is not trusted") from None
    public_key = leaf.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise VerificationError("signing certificate key is not RSA")
    return _TrustedSigner(public_key, min(cert.not_valid_after_utc for cert in path))


# --- envelope fields ----------------------------------------------------------------------------

def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup: proxies and test clients do not all keep Alexa's capitalisation."""
    value = headers.get(name)  # Werkzeug's headers already ignore case: one lookup
    if value is not None:
        return value
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _request_time(envelope: dict) -> datetime:
    raw = field(envelope, "request", "timestamp")
    if raw is None:
        raise VerificationError("request timestamp is missing")
    try:
        stamp = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise VerificationError("request timestamp is not ISO 8601") from None
    if stamp.tzinfo is None:
        raise VerificationError("request timestamp has no time zone")
    return stamp


def _tolerance(envelope: dict) -> timedelta:
    request_type = field(envelope, "request", "type")
    if isinstance(request_type, str) and request_type.startswith(SKILL_EVENT_PREFIX):
        return SKILL_EVENT_TOLERANCE
    return REQUEST_TOLERANCE


# --- the verifier -------------------------------------------------------------------------------

class RequestVerifier:
    """Verifies one request envelope; thread-safe, meant to live as long as the app."""

    def __init__(self, *, skill_id: str, verify_signature: bool = True,
                 trust_roots: Sequence[x509.Certificate] | None = None,
                 fetch_chain: Callable[[str], bytes] | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        """`trust_roots` must not be empty; `clock` must return timezone-aware datetimes."""
        if not skill_id:
            raise ValueError("RequestVerifier needs the skill id: an empty one would match unset applicationIds")
        self._skill_id = skill_id
        self._verify_signature = verify_signature
        # Without signatures (Lambda) no trust store is built, so cryptography is never imported.
        self._store = (x509_verification.Store(list(trust_roots if trust_roots is not None else mozilla_roots()))
                       if verify_signature else None)
        self._fetch_chain = fetch_chain or chain_fetcher()
        self._clock = clock
        self._signers = _SignerCache(CHAIN_CACHE_SIZE, FAILURE_CACHE_SIZE)

    @classmethod
    def from_settings(cls, settings: Settings) -> "RequestVerifier":
        fetch_chain = chain_fetcher(timeout=settings.cert_fetch_timeout, max_bytes=settings.cert_max_bytes)
        return cls(skill_id=settings.skill_id, verify_signature=settings.verify_signature, fetch_chain=fetch_chain)

    def verify(self, headers: Mapping[str, str], body: bytes, envelope: dict) -> None:
        """Return if the request may be handled; raise VerificationError otherwise."""
        now = self._clock()
        if self._verify_signature:
            self._check_signature(headers, body, now)
        self._check_timestamp(envelope, now)
        self._check_application_id(envelope)

    def _check_signature(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        url = _header(headers, CERT_URL_HEADER)
        encoded = _header(headers, SIGNATURE_HEADER)
        if url is None or not encoded:
            raise VerificationError("signature headers are missing")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            raise VerificationError("signature is not base64") from None
        signer = self._trusted_signer(normalize_cert_url(url), now)
        try:
            signer.public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except crypto_errors.InvalidSignature:
            raise VerificationError("signature does not match the body") from None

    def _trusted_signer(self, url: str, now: datetime) -> _TrustedSigner:
        """A warm URL costs a dictionary lookup; a cold or expired one a download and a chain
        validation, at most one at a time per URL; a recently failed one its earlier reason."""
        signer = self._signers.get(url, now)
        if signer is not None:
            return signer
        # Per URL, so one slow download does not stall requests for other URLs.
        with self._signers.fetching(url):
            signer = self._signers.get(url, now)  # whoever held the lock before may have settled it
            if signer is not None:
                return signer
            try:
                signer = _validate_chain(self._download(url), self._store, now)
            except VerificationError as error:
                self._signers.put_failure(url, error.reason, now)
                log.warning("certificate chain from %s refused for the next %d s: %s", url,
                            FAILURE_TTL.total_seconds(), error.reason)
                raise
            self._signers.put(url, signer)
        log.info("validated Alexa signing certificate chain from %s", url)
        return signer

    def _download(self, url: str) -> bytes:
        try:
            return self._fetch_chain(url)
        except VerificationError:
            raise
        except Exception as error:  # any transport failure (DNS, TLS, 404, timeout) means: reject
            log.warning("certificate chain download failed: %s", type(error).__name__)
            raise VerificationError("certificate chain could not be downloaded") from None

    @staticmethod
    def _check_timestamp(envelope: dict, now: datetime) -> None:
        if abs(now - _request_time(envelope)) > _tolerance(envelope):
            raise VerificationError("request timestamp is too far from now")

    def _check_application_id(self, envelope: dict) -> None:
        application_id = field(envelope, "context", "System", "application", "applicationId")
        if application_id is None:
            raise VerificationError("applicationId is missing")
        if application_id != self._skill_id:
            raise VerificationError("applicationId does not match this skill")
