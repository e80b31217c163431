"""The skill as a new user and an operator meet it: real processes, real HTTP, real gunicorn."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ports import listen_port

HIP_HELPER = [sys.executable, "-m", "skill"]
SKILL_ID = "amzn1.ask.skill.serving-test"


def environment(tmp_path: Path, **values: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HIP_HELPER_")}
    env.update(HIP_HELPER_DB_PATH=str(tmp_path / "prefs.sqlite3"), **values)
    return env


def wait_for_health(port: int, process: subprocess.Popen, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail("server did not answer /healthz")


def post(port: int, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/alexa", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def server(tmp_path):
    started = []

    def start(args: list[str], **env: str) -> tuple[subprocess.Popen, int]:
        port = listen_port()
        process = subprocess.Popen(HIP_HELPER + args + ["--port", str(port)], env=environment(tmp_path, **env),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(process)
        wait_for_health(port, process)
        return process, port

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_production_refuses_to_start_without_a_skill_id(tmp_path):
    result = subprocess.run(HIP_HELPER + ["serve"], env=environment(tmp_path), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "HIP_HELPER_SKILL_ID" in line


def test_development_mode_only_binds_to_loopback(tmp_path):
    result = subprocess.run(HIP_HELPER + ["serve", "--dev", "--host", "0.0.0.0"], env=environment(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "loopback" in result.stderr


def test_gunicorn_serves_in_production_mode_and_rejects_unsigned_requests(server):
    process, port = server(["serve", "--host", "127.0.0.1"], HIP_HELPER_SKILL_ID=SKILL_ID)
    assert wait_for_health(port, process) == {"status": "ok", "skill": "hip-helper"}
    status, body = post(port, b'{"version": "1.0", "request": {"type": "LaunchRequest"}}')
    assert status == 400 and "verification failed" in body["error"]


def test_development_server_talks_to_the_simulator_over_http(server, tmp_path):
    process, port = server(["serve", "--dev"])
    chat = subprocess.run(HIP_HELPER + ["chat", "--url", f"http://127.0.0.1:{port}/alexa"],
                          input="open hip helper\nhow do I prevent hip pain\nstop\n",
                          env=environment(tmp_path), capture_output=True, text=True, timeout=60)
    assert chat.returncode == 0, chat.stderr
    assert "Welcome to Hip Helper" in chat.stdout and "treadmill" in chat.stdout and "Goodbye" in chat.stdout


def test_bare_gunicorn_with_the_deploy_config_logs_one_line_per_request(tmp_path):
    port = listen_port()
    env = environment(tmp_path, HIP_HELPER_SKILL_ID=SKILL_ID, HIP_HELPER_BIND=f"127.0.0.1:{port}",
                      HIP_HELPER_WORKERS="1")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                "skill.app:create_app()"], env=env, cwd=Path(__file__).parent.parent,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_health(port, process)
        status, _ = post(port, b'{"version": "1.0", "request": {"type": "LaunchRequest"}}')
        assert status == 400
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"status": 400, "reason": "signature headers are missing"}.items() <= lines[-1].items()
