"""deploy/nginx/hip-helper.conf in front of gunicorn: slow or stalled clients never reach a sync worker.

Real nginx (on a high port, with a throw-away certificate) and real gunicorn with
deploy/gunicorn.conf.py; the app runs in development mode so plain requests get real answers.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
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
from skill.settings import DEV_SKILL_ID, Settings
from speech_text import heard
from test_serving import environment, free_port, wait_for_health

# Debian puts it in /usr/sbin, which is not on every PATH.
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "hip-helper.conf"
ALEXA_DEADLINE = 8.0  # seconds Alexa waits for the whole response
SLOW_CLIENTS = 12


def dev_app():
    """gunicorn's app factory for these tests (`test_nginx:dev_app()`): development mode, no signatures."""
    from skill.app import create_app
    return create_app(Settings.from_env(dev_mode=True, skill_id=DEV_SKILL_ID))


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
    gunicorn: subprocess.Popen
    nginx: subprocess.Popen

    def gunicorn_output(self) -> str:
        """Stops gunicorn and returns everything it logged."""
        self.gunicorn.terminate()
        return self.gunicorn.communicate(timeout=15)[0]


def start_gunicorn(tmp_path: Path, port: int, workers: int = 2) -> subprocess.Popen:
    env = environment(tmp_path, HIP_HELPER_BIND=f"127.0.0.1:{port}", HIP_HELPER_WORKERS=str(workers))
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                "--pythonpath", "tests", "test_nginx:dev_app()"], env=env, cwd=ROOT,
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


@pytest.fixture
def stack(tmp_path) -> Stack:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    gunicorn_port, nginx_port = free_port(), free_port()
    gunicorn = start_gunicorn(tmp_path, gunicorn_port)
    try:
        nginx, tls = start_nginx(tmp_path, nginx_port, gunicorn_port)
    except BaseException:
        gunicorn.kill()
        gunicorn.communicate()
        raise
    yield Stack(nginx_port, gunicorn_port, tls, gunicorn, nginx)
    for process in (nginx, gunicorn):
        if process.poll() is None:
            process.terminate()
            process.communicate(timeout=15)


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
