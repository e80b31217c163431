"""A local HTTPS stand-in for Alexa's service APIs (Reminders and device settings).

In-process `hip-helper chat` talks to it by default, so reminders work offline; the tests use it
through the `alexa_api_server` fixture (tests/alexa_api_server.py).

Real TLS (a throw-away CA made at start-up, server certificate for 127.0.0.1 and localhost),
real HTTP on an ephemeral loopback port, the endpoints' request/response contract:

    POST   /v1/alerts/reminders               201 {alertToken, createdTime, updatedTime, status, version, href}
    GET    /v1/alerts/reminders               200 {"alerts": [...], "totalCount": "n"}
    DELETE /v1/alerts/reminders/{alertToken}  200, or 404 when there is no such reminder
    GET    /v2/devices/{deviceId}/settings/System.timeZone  200 "Europe/London", or 204 when unset

Every call needs `Authorization: Bearer <token>` (401 otherwise). Create bodies are checked
as Alexa checks them; a time with "Z" or an offset gets 400 INVALID_TRIGGER_SCHEDULED_TIME_FORMAT,
Alexa's own code; the other 400 codes are this server's names for the broken rule.

Tests program faults for the next calls (`fail_next`, `delay_next`, `malformed_next`) and read
what reached the wire in `requests`:

    def test_something(alexa_api_server):
        client = TimeoutApiClient(timeout=1, ca_bundle=alexa_api_server.ca_path)
        ... api_endpoint=alexa_api_server.base_url, authorization_value=alexa_api_server.token ...
        alexa_api_server.fail_next(503)
        assert alexa_api_server.requests[-1].path == "/v1/alerts/reminders"
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import secrets
import ssl
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TIME_FORMAT_ERROR = "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT"
# Local wall-clock time, optionally with milliseconds; fullmatch leaves no room for "Z" or an offset.
_WALL_CLOCK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?")
_MALFORMED_JSON = b'{"alertToken": "cut off'
_ERROR_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 429: "TOO_MANY_REQUESTS",
                500: "INTERNAL_SERVER_ERROR", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}


# --- TLS material -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TlsFiles:
    ca: Path    # the CA certificate clients trust (PEM)
    cert: Path  # the server certificate (PEM)
    key: Path   # the server key (PEM)


def make_tls_files(directory: Path) -> TlsFiles:
    """A fresh CA and a server certificate it signed, valid a day either side of now."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key)
    server_cert = _server_certificate(server_key, ca_cert, ca_key)
    files = TlsFiles(directory / "alexa-api-ca.pem", directory / "alexa-api-cert.pem", directory / "alexa-api-key.pem")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    return files


def _certificate(subject: str, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Alexa API test CA")])
    return (_certificate("Alexa API test CA", name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))


def _server_certificate(key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
                        ca_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    return (_certificate("127.0.0.1", ca_cert.subject, key.public_key())
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))


# --- What tests program and read -----------------------------------------------------------------

@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str                # as sent, without the query string
    headers: dict[str, str]  # names lower-cased
    raw_body: bytes
    body: Any                # parsed JSON; None when empty or not JSON

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Fault:
    """How to misbehave on one call; the defaults behave."""

    status: int | None = None  # answer this status with an Alexa-style error body instead of serving
    delay: float = 0.0         # seconds to wait before answering
    malformed: bool = False    # send a body that is not JSON
    trickle: float = 0.0       # seconds between bytes of the whole answer, status line included


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: Any = None  # JSON-encoded; None is an empty body
    malformed: bool = False
    trickle: float = 0.0

    def encoded(self) -> bytes:
        if self.malformed:
            return _MALFORMED_JSON
        return b"" if self.payload is None else json.dumps(self.payload).encode()


def _error(status: int, code: str | None = None, message: str = "") -> _Reply:
    return _Reply(status, {"code": code or _ERROR_CODES.get(status, "ERROR"), "message": message or f"status {status}"})


# --- The server ----------------------------------------------------------------------------------

class AlexaApiServer:
    """The server and its state; start with `with AlexaApiServer(tmp_dir) as server:` or the test fixture."""

    def __init__(self, directory: Path, *, tls: bool = True):
        self.token = secrets.token_urlsafe(24)
        self.time_zone: str | None = "Europe/London"  # what every device reports; None answers 204
        self.reminders: dict[str, dict[str, Any]] = {}
        self.tls_files = make_tls_files(directory) if tls else None
        self._requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _HttpServer(self, self._ssl_context())
        # A short poll keeps shutdown, and so each test's teardown, quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="alexa-api-server", daemon=True)
        self._routes: tuple[tuple[str, re.Pattern[str], Callable[..., _Reply]], ...] = (
            ("POST", re.compile(r"/v1/alerts/reminders"), self._create_reminder),
            ("GET", re.compile(r"/v1/alerts/reminders"), self._list_reminders),
            ("DELETE", re.compile(r"/v1/alerts/reminders/(?P<alert_token>[^/]+)"), self._delete_reminder),
            ("GET", re.compile(r"/v2/devices/(?P<device_id>[^/]+)/settings/System\.timeZone"), self._time_zone),
        )

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls_files else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def ca_path(self) -> Path | None:
        return self.tls_files.ca if self.tls_files else None

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def fail_next(self, status: int, times: int = 1) -> None:
        self._program(Fault(status=status), times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Stall before answering; teardown ends the wait, so a long delay costs nothing."""
        self._program(Fault(delay=seconds), times)

    def trickle_next(self, seconds_per_byte: float = 1.0, times: int = 1) -> None:
        """Answer a byte at a time, so no single read ever times out: only a deadline ends it."""
        self._program(Fault(trickle=seconds_per_byte), times)

    def malformed_next(self, times: int = 1, *, status: int | None = None) -> None:
        """Send broken JSON, with the normal status or `status`."""
        self._program(Fault(status=status, malformed=True), times)

    def __enter__(self) -> AlexaApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def handle(self, request: RecordedRequest) -> _Reply:
        """Answer one request (called on the server's threads)."""
        with self._lock:
            self._requests.append(request)
            fault = self._faults.popleft() if self._faults else Fault()
        if fault.delay:
            self._stopping.wait(fault.delay)
        reply = _error(fault.status) if fault.status else self._serve(request)
        return replace(reply, malformed=fault.malformed, trickle=fault.trickle)

    def _program(self, fault: Fault, times: int) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.tls_files is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls_files.cert, self.tls_files.key)
        return context

    def _serve(self, request: RecordedRequest) -> _Reply:
        if request.header("Authorization") != f"Bearer {self.token}":
            return _error(401, message="missing or wrong bearer token")
        path_known = False
        for method, pattern, serve in self._routes:
            match = pattern.fullmatch(request.path)
            path_known = path_known or match is not None
            if match and method == request.method:
                return serve(request, **match.groupdict())
        return _error(405, "METHOD_NOT_ALLOWED") if path_known else _error(404)

    def _create_reminder(self, request: RecordedRequest) -> _Reply:
        problem = reminder_body_problem(request.body)
        if problem:
            return _error(400, *problem)
        token = str(uuid.uuid4())
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        alert = {"alertToken": token, "createdTime": now, "updatedTime": now, "status": "ON", "version": "1",
                 "trigger": request.body["trigger"], "alertInfo": request.body["alertInfo"],
                 "pushNotification": request.body.get("pushNotification", {"status": "ENABLED"})}
        with self._lock:
            self.reminders[token] = alert
        summary = {key: alert[key] for key in ("alertToken", "createdTime", "updatedTime", "status", "version")}
        return _Reply(201, {**summary, "href": f"/v1/alerts/reminders/{token}"})

    def _list_reminders(self, request: RecordedRequest) -> _Reply:
        with self._lock:
            alerts = list(self.reminders.values())
        return _Reply(200, {"alerts": alerts, "totalCount": str(len(alerts))})

    def _delete_reminder(self, request: RecordedRequest, alert_token: str) -> _Reply:
        with self._lock:
            deleted = self.reminders.pop(alert_token, None)
        return _Reply(200) if deleted else _error(404, message=f"no reminder {alert_token}")

    def _time_zone(self, request: RecordedRequest, device_id: str) -> _Reply:
        return _Reply(204) if self.time_zone is None else _Reply(200, self.time_zone)


def reminder_body_problem(body: Any) -> tuple[str, str] | None:
    """The 400 error code and message Alexa would give this create body, or None when it is acceptable."""
    if not isinstance(body, dict):
        return "INVALID_REQUEST", "body must be a JSON object"
    trigger = _object(body.get("trigger"))
    checks: tuple[tuple[bool, str, str], ...] = (
        (_is_wall_clock(body.get("requestTime")), TIME_FORMAT_ERROR, "requestTime: local time without zone"),
        (trigger.get("type") in ("SCHEDULED_ABSOLUTE", "SCHEDULED_RELATIVE"), "INVALID_TRIGGER_TYPE",
         "trigger.type must be SCHEDULED_ABSOLUTE or SCHEDULED_RELATIVE"),
        *_trigger_checks(trigger),
        _spoken_content_check(body),
        (_object(body.get("pushNotification")).get("status", "ENABLED") in ("ENABLED", "DISABLED"),
         "INVALID_PUSH_NOTIFICATION_STATUS", "pushNotification.status must be ENABLED or DISABLED"),
    )
    return next(((code, message) for passed, code, message in checks if not passed), None)


def _trigger_checks(trigger: dict[str, Any]) -> tuple[tuple[bool, str, str], ...]:
    if trigger.get("type") == "SCHEDULED_RELATIVE":
        offset = trigger.get("offsetInSeconds")
        return ((isinstance(offset, int) and offset > 0, "INVALID_TRIGGER_OFFSET", "offsetInSeconds must be positive"),)
    recurrence = trigger.get("recurrence")
    start = _object(recurrence).get("startDateTime")
    rules = _object(recurrence).get("recurrenceRules", [])
    return (
        (_is_wall_clock(trigger.get("scheduledTime")), TIME_FORMAT_ERROR, "scheduledTime: local time without zone"),
        (_is_time_zone(trigger.get("timeZoneId")), "INVALID_TIME_ZONE_ID", "timeZoneId must be an IANA time zone"),
        (recurrence is None or isinstance(recurrence, dict), "INVALID_RECURRENCE", "recurrence must be an object"),
        (start is None or _is_wall_clock(start), TIME_FORMAT_ERROR, "startDateTime: local time without zone"),
        (isinstance(rules, list) and all(isinstance(rule, str) and rule.startswith("FREQ=") for rule in rules),
         "INVALID_RECURRENCE_RULE", "recurrenceRules must be RRULE strings"),
    )


def _spoken_content_check(body: dict[str, Any]) -> tuple[bool, str, str]:
    content = _object(_object(body.get("alertInfo")).get("spokenInfo")).get("content")
    valid = isinstance(content, list) and bool(content) and all(
        isinstance(item, dict) and isinstance(item.get("locale"), str) and isinstance(item.get("text"), str)
        for item in content)
    return valid, "INVALID_ALERT_INFO", "alertInfo.spokenInfo.content needs locale and text"


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_wall_clock(value: Any) -> bool:
    return isinstance(value, str) and _WALL_CLOCK.fullmatch(value) is not None


def _is_time_zone(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- HTTP plumbing -------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    timeout = 10  # a stalled client cannot pin a handler thread

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=self.command,
            path=urlsplit(self.path).path,
            headers={name.lower(): value for name, value in self.headers.items()},
            raw_body=raw_body,
            body=_parsed(raw_body),
        )
        reply = self.server.api.handle(request)
        payload = reply.encoded()
        if reply.trickle:
            self._trickle(reply.status, payload, reply.trickle)
            return
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_DELETE = do_GET

    def _trickle(self, status: int, payload: bytes, seconds_per_byte: float) -> None:
        answer = (f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
        self.close_connection = True
        for at in range(len(answer)):
            if self.server.api._stopping.wait(seconds_per_byte):
                return
            try:
                self.wfile.write(answer[at:at + 1])
                self.wfile.flush()
            except OSError:  # the client gave up, as it should
                return

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read AlexaApiServer.requests instead."""


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: AlexaApiServer, ssl_context: ssl.SSLContext | None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        if ssl_context:
            # The handshake runs on the handler thread, so a silent client cannot block accept().
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (its timeout) or refused our certificate is expected here; other errors are not."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _parsed(raw_body: bytes) -> Any:
    try:
        return json.loads(raw_body) if raw_body else None
    except ValueError:
        return None
