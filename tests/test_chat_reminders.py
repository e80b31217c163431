"""`hip-helper chat` in-process sets, lists and cancels reminders offline, against the local Alexa API stand-in."""
from __future__ import annotations

import io
import socket

import pytest

from skill import request_log
from skill.domain.content import Content
from skill.settings import PROJECT_ROOT
from skill.simulator import alexa_api_stub
from skill.simulator.chat import EXIT_OK, ChatOptions, run_chat

CONTENT = Content.load(PROJECT_ROOT / "content")
CONVERSATION = ["open hip helper", "remind me to stretch every day at 7 am", "yes",  # confirm the reminder
                "yes",  # grant the reminders permission when Alexa asks
                "what reminders do I have", "cancel my reminders", "what reminders do I have"]


def said(output: str) -> list[str]:
    """Alexa's lines, without the safety guidance the composer adds after each."""
    return [line.removeprefix("Alexa: ") for line in output.splitlines() if line.startswith("Alexa: ")]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Preferences in the test's own file, and no route to anything but loopback."""
    monkeypatch.setenv("HIP_HELPER_DB_PATH", str(tmp_path / "prefs.sqlite3"))
    real_connect = socket.socket.connect

    def loopback_only(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost", "::1"):
            raise OSError(f"offline test: no route to {address[0]}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    # An in-process chat quiets the per-request log for the transcript; later tests read that log.
    level = request_log.log.level
    yield
    request_log.log.setLevel(level)


def chat(lines: list[str], **options) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert run_chat(ChatOptions(**options), stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out,
                    stderr=err) == EXIT_OK, err.getvalue()
    return out.getvalue()


def test_a_reminder_is_set_listed_and_cancelled_offline(offline):
    output = chat(CONVERSATION)
    lines = said(output)
    assert "permission answer: ACCEPTED" in output
    created = CONTENT.say("reminders.created", when="every day", time="7 am")
    assert any(line.startswith(created) for line in lines), lines
    listed = [line for line in lines if "stretch reminder" in line and "from me" in line]
    assert listed[0].startswith(CONTENT.say("reminders.count_one")), listed
    assert listed[1].startswith(CONTENT.say("reminders.count_none")), listed
    assert any(line.startswith(CONTENT.say("reminders.cancelled", count=1)) for line in lines), lines
    assert not any(CONTENT.say("reminders.no_time_zone") in line for line in lines)


def test_the_stand_in_is_what_the_skill_called(offline, monkeypatch):
    started = []
    original = alexa_api_stub.AlexaApiServer.__enter__
    monkeypatch.setattr(alexa_api_stub.AlexaApiServer, "__enter__",
                        lambda self: started.append(self) or original(self))
    chat(CONVERSATION[:4])
    (stub,) = started
    created = [r for r in stub.requests if r.method == "POST" and r.path == "/v1/alerts/reminders"]
    assert len(created) == 1 and created[0].header("Authorization") == f"Bearer {stub.token}"
    assert created[0].body["trigger"]["timeZoneId"] == "Europe/London"  # from the stand-in's settings API


def test_api_endpoint_points_the_skill_elsewhere(offline):
    # An unreachable endpoint: the skill must go there, not to the stand-in, and say so gracefully.
    output = chat(CONVERSATION[:4], api_endpoint="https://api.amazonalexa.com")
    assert any(line.startswith(CONTENT.say("reminders.no_time_zone")) for line in said(output)), output
