"""Storage faults, through the real Flask app: a full disk, a read-only SQLite file and a DynamoDB
that is down (at boot, or going away mid-session). Each time the user still hears an answer,
nothing raises a traceback, and the operator gets one log line per kind of fault naming only the
exception type, never the user's key or what was stored."""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from alexa_requests import AlexaSession
from conftest import SKILL_ID
from dynamodb_server import MotoServer, free_loopback_port
from pki import CertHost
from skill.app import create_app
from skill.runtime import SkillRuntime, build_skill, load_services
from skill.serializer import FastSerializer
from skill.settings import PROJECT_ROOT, Settings
from skill.verification import RequestVerifier
from speech_text import heard

PROMPTS = yaml.safe_load((PROJECT_ROOT / "content" / "prompts.yaml").read_text())
WELCOME = " ".join(PROMPTS["welcome"]["say"].split())
WELCOME_BACK = " ".join(PROMPTS["welcome_back"]["say"].split())
NOBODY = 65534


def build(signer, settings: Settings):
    """The production app, plus its persistence adapter so a test can fill the disk under it."""
    serializer = FastSerializer()
    skill = build_skill(load_services(settings), settings, serializer)
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[signer.root], fetch_chain=CertHost().publish(signer))
    return create_app(settings, verifier=verifier, runtime=SkillRuntime(skill, serializer)), skill.persistence_adapter


def device(app, signer, user_id: str | None = None) -> AlexaSession:
    return AlexaSession(app.test_client(), signer, SKILL_ID,
                        user_id=user_id or f"amzn1.ask.account.TEST-{uuid.uuid4()}")


def storage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "hip_helper.storage"]


def assert_nothing_leaked(caplog: pytest.LogCaptureFixture, *users: AlexaSession) -> None:
    assert all(record.exc_info is None and record.exc_text is None for record in caplog.records)
    assert "Traceback" not in caplog.text
    for user in users:
        assert user.user_id not in caplog.text
        assert hashlib.sha256(user.user_id.encode()).hexdigest() not in caplog.text


@pytest.fixture
def storage_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="hip_helper")
    return caplog


# --- SQLite ------------------------------------------------------------------------------

def fill_disk(adapter) -> None:
    """A full disk, for real: SQLite's max_page_count caps the adapter's own connection at the
    file's current size, and filler rows then take the last free space, so the next write fails
    with SQLITE_FULL exactly as on a full disk. The cap lives on that one connection, hence the
    private _connection(); the app then writes through that same connection (same thread)."""
    connection = adapter._connection()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for filler in range(100_000):
            connection.execute("INSERT INTO preferences VALUES (?, 'filler', '0')", (f"filler-{filler}",))


def test_full_disk_still_answers_and_logs_the_failed_save_once(signer, tmp_path: Path, storage_log) -> None:
    app, adapter = build(signer, Settings(skill_id=SKILL_ID, db_path=tmp_path / "prefs.sqlite3"))
    first = device(app, signer)
    assert heard(first.launch()).startswith(WELCOME)
    fill_disk(adapter)
    storage_log.clear()

    users = [device(app, signer) for _ in range(3)]
    replies = [user.launch() for user in users]

    assert all(heard(reply).startswith(WELCOME) for reply in replies)
    assert heard(first.launch()).startswith(WELCOME_BACK)  # what was stored before still reads back
    assert storage_lines(storage_log) == [
        "SQLite preferences store: save failed with OperationalError (SQLITE_FULL) (1 so far)"]
    assert_nothing_leaked(storage_log, first, *users)


@contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """The store's directory and files read-only for this process, for real. Root ignores file
    modes, so as root (CI) the process also switches its effective uid to nobody for the block,
    the way a service running as an unprivileged user meets a read-only volume."""
    files = list(directory.iterdir())
    for file in files:
        file.chmod(0o444)
    directory.chmod(0o555)
    as_root = os.geteuid() == 0
    try:
        if as_root:
            os.seteuid(NOBODY)
        yield
    finally:
        if as_root:
            os.seteuid(0)
        directory.chmod(0o700)
        for file in files:
            file.chmod(0o600)


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """pytest's tmp_path sits under a 0700 directory that nobody cannot enter."""
    parent = Path(tempfile.mkdtemp(prefix="hip-helper-ro-"))
    parent.chmod(0o755)
    yield parent
    for file in (parent / "state").iterdir():
        file.unlink()
    (parent / "state").rmdir()
    parent.rmdir()


def test_read_only_sqlite_still_greets_a_returning_user_and_logs_once(signer, world_readable_dir: Path,
                                                                      storage_log) -> None:
    settings = Settings(skill_id=SKILL_ID, db_path=world_readable_dir / "state" / "prefs.sqlite3")
    earlier_app, _ = build(signer, settings)
    returning = device(earlier_app, signer)
    assert heard(returning.launch()).startswith(WELCOME)

    with read_only(settings.db_path.parent):
        app, _ = build(signer, settings)  # a worker started after the volume turned read-only
        storage_log.clear()
        welcomed_back = device(app, signer, returning.user_id).launch()
        newcomers = [device(app, signer) for _ in range(2)]
        first_visits = [user.launch() for user in newcomers]

    assert heard(welcomed_back).startswith(WELCOME_BACK)
    assert all(heard(reply).startswith(WELCOME) for reply in first_visits)
    lines = storage_lines(storage_log)
    assert len(lines) == 2, lines
    assert lines[0].startswith("SQLite preferences store: open for writing failed with ")
    assert lines[1] == "SQLite preferences store: save failed with OperationalError (SQLITE_READONLY) (1 so far)"
    assert_nothing_leaked(storage_log, returning, *newcomers)


# --- DynamoDB ----------------------------------------------------------------------------

def dynamodb_settings(endpoint_url: str) -> Settings:
    return Settings(skill_id=SKILL_ID, store="dynamodb", dynamodb_endpoint=endpoint_url,
                    dynamodb_table=f"preferences-{uuid.uuid4().hex}")


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_down_at_boot_starts_and_answers_with_defaults(signer, storage_log) -> None:
    app, _ = build(signer, dynamodb_settings(f"http://127.0.0.1:{free_loopback_port()}"))
    assert storage_lines(storage_log) == []  # nothing contacted while starting

    users = [device(app, signer) for _ in range(3)]
    replies = [user.launch() for user in users]
    topic = users[0].intent("AMAZON.HelpIntent")

    assert all(heard(reply).startswith(WELCOME) for reply in replies)
    assert heard(topic)
    assert storage_lines(storage_log) == [
        "DynamoDB preferences store: read failed with EndpointConnectionError (1 so far)"]
    assert_nothing_leaked(storage_log, *users)


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_stopping_mid_session_degrades_to_defaults_and_logs_once(signer, storage_log) -> None:
    with MotoServer() as server:
        app, _ = build(signer, dynamodb_settings(server.endpoint_url))
        returning = device(app, signer)
        assert heard(returning.launch()).startswith(WELCOME)
        assert heard(device(app, signer, returning.user_id).launch()).startswith(WELCOME_BACK)
        assert storage_lines(storage_log) == []
        server.stop()

        replies = [device(app, signer, returning.user_id).launch() for _ in range(3)]

    # Preferences read as defaults while the store is down: the long welcome again, no error.
    assert all(heard(reply).startswith(WELCOME) for reply in replies)
    assert storage_lines(storage_log) == [
        "DynamoDB preferences store: read failed with EndpointConnectionError (1 so far)"]
    assert_nothing_leaked(storage_log, returning)
