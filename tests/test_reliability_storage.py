"""Storage faults, through the real Flask app: a full disk, a read-only SQLite file and a DynamoDB
that is down (at boot, or going away mid-session). Each time the user still hears an answer,
nothing raises a traceback, and the operator gets one log line per kind of fault naming only the
exception type, never the user's key or what was stored."""
from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import shutil
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
from dynamodb_server import MotoServer
from ports import listen_port
from pki import CertHost
from skill.app import create_app
from skill.persistence import SqlitePersistenceAdapter
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
    services = load_services(settings)
    skill = build_skill(services, settings, serializer)
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[signer.root], fetch_chain=CertHost().publish(signer))
    return create_app(settings, verifier=verifier, runtime=SkillRuntime(skill, serializer, services)), skill.persistence_adapter


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
    shutil.rmtree(parent)


def _first_visit_in_a_worker_that_exits(db_path: Path, user_id: str) -> None:
    from test_persistence import make_envelope  # spawned: imports stay inside the child

    SqlitePersistenceAdapter(db_path).save_attributes(make_envelope(user_id), {"intro_heard": True})


def first_visit(signer, settings: Settings, user_id: str, worker: str) -> None:
    """A running worker leaves -wal and -shm files beside the store (SQLite then reads it with
    mode=ro); a worker that stopped checkpointed and removed them, so only immutable=1 can open
    the WAL-mode file on a read-only volume."""
    if worker == "running":
        app, _ = build(signer, settings)
        assert heard(device(app, signer, user_id).launch()).startswith(WELCOME)
        return
    child = multiprocessing.get_context("spawn").Process(
        target=_first_visit_in_a_worker_that_exits, args=(settings.db_path, user_id))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert [file.name for file in settings.db_path.parent.iterdir()] == [settings.db_path.name]


@pytest.mark.parametrize("worker", ["running", "stopped"])
def test_read_only_sqlite_still_greets_a_returning_user_and_logs_once(signer, world_readable_dir: Path,
                                                                      storage_log, worker: str) -> None:
    settings = Settings(skill_id=SKILL_ID, db_path=world_readable_dir / "state" / "prefs.sqlite3")
    returning_id = f"amzn1.ask.account.TEST-{uuid.uuid4()}"
    first_visit(signer, settings, returning_id, worker)

    with read_only(settings.db_path.parent):
        app, _ = build(signer, settings)  # a worker started after the volume turned read-only
        storage_log.clear()
        returning = device(app, signer, returning_id)
        welcomed_back = returning.launch()
        newcomers = [device(app, signer) for _ in range(2)]
        first_visits = [user.launch() for user in newcomers]

    assert heard(welcomed_back).startswith(WELCOME_BACK)
    assert all(heard(reply).startswith(WELCOME) for reply in first_visits)
    assert storage_lines(storage_log) == [
        "SQLite preferences store: open for writing failed with PermissionError (1 so far)",
        "SQLite preferences store: save failed with OperationalError (SQLITE_READONLY) (1 so far)"]
    assert_nothing_leaked(storage_log, returning, *newcomers)


# --- DynamoDB ----------------------------------------------------------------------------

def dynamodb_settings(endpoint_url: str) -> Settings:
    return Settings(skill_id=SKILL_ID, store="dynamodb", dynamodb_endpoint=endpoint_url,
                    dynamodb_table=f"preferences-{uuid.uuid4().hex}")


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_down_at_boot_starts_and_answers_with_defaults(signer, storage_log) -> None:
    app, _ = build(signer, dynamodb_settings(f"http://127.0.0.1:{listen_port()}"))
    assert storage_lines(storage_log) == []  # nothing contacted while starting

    users = [device(app, signer) for _ in range(3)]
    replies = [user.launch() for user in users]
    topic = users[0].intent("AMAZON.HelpIntent")

    assert all(heard(reply).startswith(WELCOME) for reply in replies)
    assert heard(topic)
    assert storage_lines(storage_log) == [
        "DynamoDB preferences store: read failed with DynamoDbError (ConnectionError) (1 so far)"]
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
        "DynamoDB preferences store: read failed with DynamoDbError (ConnectionError) (1 so far)"]
    assert_nothing_leaked(storage_log, returning)
