"""deploy/nginx/hip-helper.conf in front of gunicorn: slow or stalled clients never reach a sync worker,
signed requests pass through byte for byte, oversize ones stop at the proxy.

Real nginx (on a high port, with a throw-away certificate) and real gunicorn with
deploy/gunicorn.conf.py. The slow-client tests run the app in development mode so plain requests
get real answers; the signature tests run it in production mode, trusting the test PKI (tests/pki.py).
Under CI (env CI set) a missing nginx fails these tests instead of skipping them.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import runpy
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alexa_requests import AlexaSession
from pki import SKILL_ID, CertHost, build_signer
from skill.app import MAX_BODY_BYTES
from skill.settings import DEV_SKILL_ID, Settings
from speech_text import heard
from ports import listen_port
from test_serving import environment, wait_for_health

# Debian puts it in /usr/sbin, which is not on every PATH.
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "hip-helper.conf"
ALEXA_DEADLINE = 8.0  # seconds Alexa waits for the whole response
SLOW_CLIENTS = 12
# Where the production app factory finds the test PKI: its trust root and the chain "Alexa" publishes.
PKI_DIR_VARIABLE = "NGINX_TEST_PKI_DIR"


def dev_app():
    """gunicorn's app factory for these tests (`test_nginx:dev_app()`): development mode, no signatures."""
    from skill.app import create_app
    return create_app(Settings.from_env(dev_mode=True, skill_id=DEV_SKILL_ID))


def production_app():
    """`test_nginx:production_app()`: production mode, verifying signatures against the test root in
    $NGINX_TEST_PKI_DIR, whose chain it "downloads" from memory, as tests/conftest.py does."""
    from skill.app import create_app
    from skill.verification import RequestVerifier

    directory = Path(os.environ[PKI_DIR_VARIABLE])
    root = x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())
    chain = CertHost(files={(directory / "chain-url").read_text(): (directory / "chain.pem").read_bytes()})
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[root], fetch_chain=chain)
    return create_app(Settings.from_env(skill_id=SKILL_ID), verifier=verifier)


def publish_test_pki(directory: Path) -> Path:
    """The signer's root, chain and chain URL as files a gunicorn process can read."""
    signer = build_signer()
    directory.mkdir()
    (directory / "root.pem").write_bytes(signer.root.public_bytes(serialization.Encoding.PEM))
    (directory / "chain.pem").write_bytes(signer.chain_pem)
    (directory / "chain-url").write_text(signer.url)
    return directory


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hip-helper nginx test")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def render_site(*, port: int, cert: Path, key: Path, upstream_port: int) -> str:
    """The deploy file with only its three marked settings changed; fails if any is not where the file says."""
    text = SITE.read_text()
    for pattern, value in ((r"listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
                           (r"ssl_certificate +\S+;", f"ssl_certificate {cert};"),
                           (r"ssl_certificate_key +\S+;", f"ssl_certificate_key {key};"),
                           (r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{upstream_port};")):
        text, count = re.subn(pattern, value, text)
        assert count == 1, f"{SITE.name}: expected one {pattern!r}"
    return text


@dataclass
class Stack:
    nginx_port: int
    gunicorn_port: int
    tls: ssl.SSLContext
    cert: Path  # the throw-away certificate nginx presents
    gunicorn: subprocess.Popen
    nginx: subprocess.Popen

    def gunicorn_output(self) -> str:
        """Stops gunicorn and returns everything it logged."""
        self.gunicorn.terminate()
        return self.gunicorn.communicate(timeout=15)[0]


def start_gunicorn(tmp_path: Path, port: int, workers: int = 2, app: str = "test_nginx:dev_app()",
                   **env_values: str) -> subprocess.Popen:
    env = environment(tmp_path, HIP_HELPER_BIND=f"127.0.0.1:{port}", HIP_HELPER_WORKERS=str(workers), **env_values)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                "--pythonpath", "tests", app], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_health(port, process)
    return process


def start_nginx(tmp_path: Path, port: int, upstream_port: int) -> tuple[subprocess.Popen, ssl.SSLContext]:
    cert, key = self_signed(tmp_path)
    (tmp_path / "hip-helper.conf").write_text(render_site(port=port, cert=cert, key=key, upstream_port=upstream_port))
    # The Debian build keeps temp files under /var/lib/nginx; a test keeps them in its own directory.
    temp_paths = "".join(f"  {kind}_temp_path {tmp_path / kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        "worker_processes 1;\nevents { worker_connections 512; }\n"
        f"http {{\n{temp_paths}  include {tmp_path / 'hip-helper.conf'};\n}}\n")
    process = subprocess.Popen([NGINX, "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                                "-g", f"daemon off; pid {tmp_path / 'nginx.pid'};"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tls = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited: {process.stdout.read()}")
        try:
            status, _ = get_health(port, tls)
            if status == 200:
                return process, tls
        except OSError:
            time.sleep(0.1)
    pytest.fail("nginx did not answer /healthz")


def get_health(port: int, tls: ssl.SSLContext) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=2)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def require_nginx() -> None:
    if NGINX is not None:
        return
    message = "nginx is not installed (apt-get install nginx; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message + ": CI must run the proxy tests")
    pytest.skip(message)


def start_stack(tmp_path: Path, **gunicorn_options) -> Stack:
    require_nginx()
    gunicorn_port, nginx_port = listen_port(), listen_port()
    gunicorn = start_gunicorn(tmp_path, gunicorn_port, **gunicorn_options)
    try:
        nginx, tls = start_nginx(tmp_path, nginx_port, gunicorn_port)
    except BaseException:
        gunicorn.kill()
        gunicorn.communicate()
        raise
    return Stack(nginx_port, gunicorn_port, tls, tmp_path / "cert.pem", gunicorn, nginx)


def stop_stack(stack: Stack) -> None:
    for process in (stack.nginx, stack.gunicorn):
        if process.poll() is None:
            process.terminate()
            process.communicate(timeout=15)


@pytest.fixture
def stack(tmp_path) -> Stack:
    """Development mode behind nginx: unsigned requests get real answers."""
    running = start_stack(tmp_path)
    yield running
    stop_stack(running)


@pytest.fixture
def production_stack(tmp_path) -> Stack:
    """Production mode behind nginx: every request's signature is checked against the test root."""
    running = start_stack(tmp_path, app="test_nginx:production_app()",
                          **{PKI_DIR_VARIABLE: str(publish_test_pki(tmp_path / "pki"))})
    yield running
    stop_stack(running)


def launch_body() -> bytes:
    # A new user each time: everyone hears the first-time welcome.
    session = AlexaSession(None, None, DEV_SKILL_ID, user_id=f"amzn1.ask.account.NGINX-TEST-{uuid.uuid4()}")
    envelope = session.envelope({"type": "LaunchRequest"})
    return json.dumps(envelope).encode("utf-8")


def connect(port: int, tls: ssl.SSLContext | None, timeout: float) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return tls.wrap_socket(raw, server_hostname="127.0.0.1") if tls else raw


@dataclass
class Probe:
    status: int | None
    seconds: float
    heard: str


def probe(port: int, tls: ssl.SSLContext | None) -> Probe:
    """One launch request; a status of None means no answer within Alexa's deadline."""
    started = time.monotonic()
    cls = http.client.HTTPSConnection if tls else http.client.HTTPConnection
    connection = cls("127.0.0.1", port, timeout=ALEXA_DEADLINE, **({"context": tls} if tls else {}))
    try:
        connection.request("POST", "/alexa", body=launch_body(), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        seconds = time.monotonic() - started
        said = heard(json.loads(body)) if response.status == 200 else ""
        return Probe(response.status if seconds < ALEXA_DEADLINE else None, seconds, said)
    except OSError:
        return Probe(None, time.monotonic() - started, "")
    finally:
        connection.close()


class SlowClients:
    """Connections that send a request header one byte a second, reconnecting whenever they are cut off."""

    def __init__(self, port: int, tls: ssl.SSLContext | None, count: int = SLOW_CLIENTS):
        self.port, self.tls = port, tls
        self.stopping = threading.Event()
        self.cut_off = 0  # connections the server closed on them
        self.threads = [threading.Thread(target=self._dribble, daemon=True) for _ in range(count)]

    def __enter__(self) -> "SlowClients":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def _dribble(self) -> None:
        header = b"POST /alexa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Padding: " + b"a" * 4000
        while not self.stopping.is_set():
            try:
                with connect(self.port, self.tls, timeout=5) as connection:
                    for byte in header:
                        connection.sendall(bytes([byte]))
                        if self.stopping.wait(1):
                            return
            except OSError:
                self.cut_off += 1
                self.stopping.wait(0.2)


def probes_under_slow_clients(port: int, tls: ssl.SSLContext | None, count: int = 20) -> tuple[list[Probe], int]:
    """Launch requests while slow clients hold connections, and how often those were cut off.

    Probes are spread over 8 s, so slow clients are cut off and reconnect meanwhile.
    """
    with SlowClients(port, tls) as slow, ThreadPoolExecutor(max_workers=count) as pool:
        time.sleep(1.5)  # every slow client is connected and dribbling
        futures = []
        for _ in range(count):
            futures.append(pool.submit(probe, port, tls))
            time.sleep(ALEXA_DEADLINE / count)
        return [future.result() for future in futures], slow.cut_off


def test_the_site_proxies_to_gunicorns_default_bind_on_loopback(monkeypatch):
    monkeypatch.delenv("HIP_HELPER_BIND", raising=False)
    bind = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["bind"]
    assert bind == "127.0.0.1:8080"
    assert re.search(rf"^\s*server {re.escape(bind)};", SITE.read_text(), re.MULTILINE)


def test_twelve_slow_clients_do_not_delay_anyone_behind_nginx(stack):
    results, cut_off = probes_under_slow_clients(stack.nginx_port, stack.tls)
    late = [r for r in results if r.status != 200 or r.seconds >= ALEXA_DEADLINE]
    assert not late, f"{len(late)} of {len(results)} launch requests not answered in time: {late}"
    unwelcomed = [r for r in results if not r.heard.startswith("Welcome to Hip Helper")]
    assert not unwelcomed, unwelcomed
    assert cut_off > 0, "nginx never cut off a client that sent one header byte a second"


def test_a_body_shorter_than_its_content_length_is_refused_by_nginx_not_a_worker(stack):
    body = launch_body()
    head = (f"POST /alexa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("ascii")
    started = time.monotonic()
    with connect(stack.nginx_port, stack.tls, timeout=10) as connection:
        connection.sendall(head + body[:-20])
        try:
            answer = connection.recv(4096)
        except ConnectionResetError:
            answer = b""
    seconds = time.monotonic() - started
    status_line = answer.split(b"\r\n", 1)[0].decode("ascii", "replace")
    assert seconds < 7, f"nginx held the truncated request for {seconds:.1f} s"
    assert answer == b"" or re.match(r"HTTP/1\.1 4\d\d ", status_line), status_line

    after = probe(stack.nginx_port, stack.tls)
    assert after.status == 200 and after.heard.startswith("Welcome to Hip Helper")
    output = stack.gunicorn_output()
    assert "Traceback" not in output and "WORKER TIMEOUT" not in output, output
    statuses = [json.loads(line).get("status") for line in output.splitlines() if line.startswith("{")]
    assert statuses == [200], f"only the follow-up request should reach a worker: {output}"


# --- The production config, read and run --------------------------------------------------------

def directives(name: str) -> list[str]:
    """The values of every `name ...;` directive in the site file, comments ignored."""
    text = re.sub(r"#[^\n]*", "", SITE.read_text())
    return [value.strip() for value in re.findall(rf"(?:^|[;{{}}\s]){name}\s+([^;]*);", text)]


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s)?", value).groups()
    return int(number) / 1000 if unit == "ms" else float(number)


def test_the_site_allows_tls_1_2_and_later_only_and_talks_http_1_1_to_gunicorn():
    assert directives("ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    assert directives("proxy_http_version") == ["1.1"]


def test_the_body_limit_is_the_apps_and_nothing_logs_or_rewrites_the_body():
    assert [seconds(v.rstrip("k")) * 1024 for v in directives("client_max_body_size")] == [MAX_BODY_BYTES]
    assert directives("client_body_buffer_size") == directives("client_max_body_size")
    assert "$request_body" not in SITE.read_text()
    assert not directives("proxy_set_body") and not directives("log_format")
    assert directives("access_log") == ["off"]


def test_every_deadline_is_well_inside_alexas_eight_seconds():
    timeouts = {name: directives(name) for name in ("client_header_timeout", "client_body_timeout", "send_timeout",
                                                    "proxy_connect_timeout", "proxy_send_timeout",
                                                    "proxy_read_timeout")}
    assert all(len(values) == 1 for values in timeouts.values()), timeouts
    longest = max(seconds(values[0]) for values in timeouts.values())
    gunicorn_timeout = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["timeout"]
    assert gunicorn_timeout < seconds(directives("proxy_read_timeout")[0]) <= longest <= ALEXA_DEADLINE - 1.5


def post_over_tls(stack: Stack, body: bytes, headers: dict[str, str],
                  tls_version: ssl.TLSVersion | None = None) -> tuple[int, bytes]:
    context = stack.tls
    if tls_version is not None:
        context = ssl.create_default_context(cafile=str(stack.cert))
        context.minimum_version = context.maximum_version = tls_version
    connection = http.client.HTTPSConnection("127.0.0.1", stack.nginx_port, context=context, timeout=ALEXA_DEADLINE)
    try:
        connection.request("POST", "/alexa", body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def signed_launch(*, indent: int | None = None) -> tuple[bytes, dict[str, str]]:
    session = AlexaSession(None, None, SKILL_ID, user_id=f"amzn1.ask.account.NGINX-TEST-{uuid.uuid4()}")
    body = json.dumps(session.envelope({"type": "LaunchRequest"}), indent=indent).encode("utf-8")
    return body, build_signer().sign(body)


def logged_statuses(stack: Stack) -> list[int]:
    output = stack.gunicorn_output()
    assert "Traceback" not in output, output
    return [json.loads(line).get("status") for line in output.splitlines() if line.startswith("{")]


def test_a_signed_request_passes_through_tls_byte_for_byte_and_is_answered(production_stack):
    # Unusual but valid layout: any re-encoding on the way would break the signature.
    body, headers = signed_launch(indent=3)
    status, answer = post_over_tls(production_stack, body, headers, tls_version=ssl.TLSVersion.TLSv1_2)
    assert status == 200, answer
    assert heard(json.loads(answer)).startswith("Welcome to Hip Helper")
    assert logged_statuses(production_stack) == [200]


def test_a_body_changed_after_signing_is_refused_by_the_app(production_stack):
    body, headers = signed_launch()
    tampered = body.replace(b"NGINX-TEST-", b"NGINX-EVIL-")
    assert tampered != body and len(tampered) == len(body)
    status, answer = post_over_tls(production_stack, tampered, headers)
    assert status == 400
    assert json.loads(answer)["error"].startswith("request verification failed")
    assert logged_statuses(production_stack) == [400]


def test_an_oversize_body_is_refused_by_nginx_before_it_reaches_gunicorn(production_stack):
    body, _ = signed_launch()
    at_limit = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(at_limit) == MAX_BODY_BYTES
    over = at_limit[:-1] + b" }"
    status, _ = post_over_tls(production_stack, at_limit, build_signer().sign(at_limit))
    assert status == 200, "a body exactly at the app's limit must get through"
    head = (f"POST /alexa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(over)}\r\n\r\n").encode("ascii")
    with connect(production_stack.nginx_port, production_stack.tls, timeout=5) as connection:
        connection.sendall(head)  # nginx judges the declared length; the body is never read
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert logged_statuses(production_stack) == [200], "only the request at the limit may reach a worker"


def test_the_privacy_and_terms_pages_open_directly_through_the_proxy(production_stack):
    for path in ("/privacy?locale=en-US", "/terms"):
        connection = http.client.HTTPSConnection("127.0.0.1", production_stack.nginx_port,
                                                 context=production_stack.tls, timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200 and response.getheader("Content-Type") == "text/html; charset=utf-8"
            assert response.read().startswith(b"<!DOCTYPE html>")
        finally:
            connection.close()
