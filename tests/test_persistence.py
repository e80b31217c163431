"""Remembered preferences: one suite run against SQLite and against DynamoDB (a real moto
server subprocess), plus SQLite's own guarantees (privacy of the file, WAL, several worker
processes writing at once without losing an update)."""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import sqlite3
import stat
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.queues import SimpleQueue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import (Application, Context, Device, DialogState, Intent, IntentConfirmationStatus,
                           IntentRequest, RequestEnvelope, Session, SupportedInterfaces, User)
from ask_sdk_model.interfaces.system import SystemState

from dynamodb_server import dummy_aws_environment, unresponsive_endpoint
from ports import listen_port
from skill import persistence
from skill.persistence import (ALLOWED_ATTRIBUTES, SqlitePersistenceAdapter, StoreFaults, build_persistence_adapter,
                               dynamodb_adapter, user_key)
from skill.settings import Settings, SettingsError

SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
ALICE = "amzn1.ask.account.AHBQ6CLSF3ZVHBWX7MGSB5TAYJ2NJ5PKXOQYNAQE6CXRJZ7VSBWQALICE"
BOB = "amzn1.ask.account.AFZLPQ4RXMNB2KJ7TWUHYD3OCVGE5I6SAQ8NVMZPLK2JXHWTY4RQBOB"
PREFERENCES = {
    "routine": {"name": "hip_mobility", "step": 3, "hold_seconds": 2.5},
    "reminders": True,
    "intro_heard": True,
}
# Alexa's whole-response budget; a stock boto3 client waiting on a hung endpoint takes minutes.
FAIL_FAST_SECONDS = 8.0


def make_envelope(user_id: str | None, request_id: str | None = None) -> RequestEnvelope:
    """An in-session IntentRequest as Alexa sends it; a fresh request id unless one is given."""
    application = Application(application_id=SKILL_ID)
    user = User(user_id=user_id) if user_id else None
    return RequestEnvelope(
        version="1.0",
        session=Session(new=False, session_id="amzn1.echo-api.session.0f3c", application=application,
                        user=user, attributes={}),
        context=Context(system=SystemState(
            application=application, user=user,
            device=Device(device_id="amzn1.ask.device.AGX7", supported_interfaces=SupportedInterfaces()),
            api_endpoint="https://api.amazonalexa.com", api_access_token="token")),
        request=IntentRequest(
            request_id=request_id or f"amzn1.echo-api.request.{uuid.uuid4()}",
            timestamp=datetime.now(UTC), locale="en-US", dialog_state=DialogState.COMPLETED,
            intent=Intent(name="NextStepIntent", confirmation_status=IntentConfirmationStatus.NONE)),
    )


def as_json(attributes: dict[str, object]) -> str:
    """Comparing JSON text also proves the values are plain JSON types (no Decimal)."""
    return json.dumps(attributes, sort_keys=True)


@dataclass
class StoreUnderTest:
    make_adapter: Callable[..., AbstractPersistenceAdapter]  # accepts allowed=
    dump: Callable[[], str]  # every record the store holds, as text
    make_unavailable_adapter: Callable[[], AbstractPersistenceAdapter]


def _sqlite_store(tmp_path: Path) -> StoreUnderTest:
    path = tmp_path / "state" / "preferences.sqlite3"
    not_a_directory = tmp_path / "regular-file"
    not_a_directory.write_text("")

    def dump() -> str:
        with closing(sqlite3.connect(path)) as connection:
            return "\n".join(connection.iterdump())

    return StoreUnderTest(
        make_adapter=lambda allowed=ALLOWED_ATTRIBUTES: SqlitePersistenceAdapter(path, allowed=allowed),
        dump=dump,
        make_unavailable_adapter=lambda: SqlitePersistenceAdapter(not_a_directory / "preferences.sqlite3"),
    )


def _dynamodb_store(endpoint_url: str) -> StoreUnderTest:
    import boto3  # here, not at the top: the spawned SQLite worker processes re-import this module

    table_name = f"preferences-{uuid.uuid4().hex}"

    def dump() -> str:
        client = boto3.client("dynamodb", endpoint_url=endpoint_url)
        return json.dumps(client.scan(TableName=table_name)["Items"])

    return StoreUnderTest(
        make_adapter=lambda allowed=ALLOWED_ATTRIBUTES: dynamodb_adapter(
            table_name, endpoint_url, allowed=allowed, create_table=True),
        dump=dump,
        make_unavailable_adapter=lambda: dynamodb_adapter(table_name, f"http://127.0.0.1:{listen_port()}"),
    )


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreUnderTest:
    if request.param == "sqlite":
        return _sqlite_store(tmp_path)
    request.getfixturevalue("aws_environment")
    return _dynamodb_store(request.getfixturevalue("moto_endpoint"))


# --- one suite, both stores ---------------------------------------------------------------

def test_saved_preferences_read_back_unchanged_by_a_new_adapter(store: StoreUnderTest) -> None:
    store.make_adapter().save_attributes(make_envelope(ALICE), PREFERENCES)

    assert as_json(store.make_adapter().get_attributes(make_envelope(ALICE))) == as_json(PREFERENCES)


def test_user_never_seen_has_no_preferences(store: StoreUnderTest) -> None:
    assert store.make_adapter().get_attributes(make_envelope(ALICE)) == {}


def test_two_users_never_see_each_others_preferences(store: StoreUnderTest) -> None:
    adapter = store.make_adapter()
    adapter.save_attributes(make_envelope(ALICE), {"reminders": True})
    adapter.save_attributes(make_envelope(BOB), {"reminders": False, "intro_heard": True})

    assert adapter.get_attributes(make_envelope(ALICE)) == {"reminders": True}
    assert adapter.get_attributes(make_envelope(BOB)) == {"reminders": False, "intro_heard": True}


def test_delete_removes_everything_for_that_user_only(store: StoreUnderTest) -> None:
    adapter = store.make_adapter()
    adapter.save_attributes(make_envelope(ALICE), PREFERENCES)
    adapter.save_attributes(make_envelope(BOB), {"intro_heard": True})

    adapter.delete_attributes(make_envelope(ALICE))

    assert adapter.get_attributes(make_envelope(ALICE)) == {}
    assert adapter.get_attributes(make_envelope(BOB)) == {"intro_heard": True}
    stored = store.dump()
    assert user_key(make_envelope(ALICE)) not in stored
    assert user_key(make_envelope(BOB)) in stored


def test_attribute_dropped_during_a_request_is_removed(store: StoreUnderTest) -> None:
    adapter = store.make_adapter()
    adapter.save_attributes(make_envelope(ALICE), PREFERENCES)
    envelope = make_envelope(ALICE)
    attributes = adapter.get_attributes(envelope)

    del attributes["routine"]
    adapter.save_attributes(envelope, attributes)

    assert adapter.get_attributes(make_envelope(ALICE)) == {"reminders": True, "intro_heard": True}


def test_save_without_a_read_replaces_the_whole_set(store: StoreUnderTest) -> None:
    adapter = store.make_adapter()
    adapter.save_attributes(make_envelope(ALICE), PREFERENCES)

    adapter.save_attributes(make_envelope(ALICE), {"reminders": False})

    assert adapter.get_attributes(make_envelope(ALICE)) == {"reminders": False}


@pytest.mark.parametrize("forbidden", ["symptoms", "triage"])
def test_health_data_is_refused_and_nothing_is_written(store: StoreUnderTest, forbidden: str) -> None:
    adapter = store.make_adapter()

    with pytest.raises(PersistenceException, match=forbidden) as refused:
        adapter.save_attributes(make_envelope(ALICE), {"reminders": True, forbidden: "sharp pain in the groin"})

    assert ALICE not in str(refused.value)
    assert adapter.get_attributes(make_envelope(ALICE)) == {}
    assert "sharp pain" not in store.dump()


def test_allow_list_can_be_narrowed(store: StoreUnderTest) -> None:
    adapter = store.make_adapter(allowed=frozenset({"intro_heard"}))
    adapter.save_attributes(make_envelope(ALICE), {"intro_heard": True})

    with pytest.raises(PersistenceException, match="reminders"):
        adapter.save_attributes(make_envelope(ALICE), {"intro_heard": True, "reminders": True})

    assert adapter.get_attributes(make_envelope(ALICE)) == {"intro_heard": True}


def test_raw_user_id_is_never_written(store: StoreUnderTest) -> None:
    store.make_adapter().save_attributes(make_envelope(ALICE), PREFERENCES)

    stored = store.dump()
    assert user_key(make_envelope(ALICE)) in stored  # proves the dump holds the user's data
    assert ALICE not in stored
    assert ALICE.rsplit(".", 1)[-1] not in stored


@pytest.mark.parametrize("operation", ["get", "save", "delete"])
def test_unavailable_store_fails_fast_with_persistence_exception(store: StoreUnderTest, operation: str) -> None:
    adapter = store.make_unavailable_adapter()
    envelope = make_envelope(ALICE)
    calls = {
        "get": lambda: adapter.get_attributes(envelope),
        "save": lambda: adapter.save_attributes(envelope, {"reminders": True}),
        "delete": lambda: adapter.delete_attributes(envelope),
    }
    started = time.monotonic()

    with pytest.raises(PersistenceException) as failure:
        calls[operation]()

    assert time.monotonic() - started < FAIL_FAST_SECONDS
    assert ALICE not in str(failure.value)


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_that_never_answers_fails_fast_with_persistence_exception() -> None:
    with unresponsive_endpoint() as endpoint_url:
        adapter = dynamodb_adapter("preferences", endpoint_url)
        started = time.monotonic()

        with pytest.raises(PersistenceException, match="timeout"):
            adapter.get_attributes(make_envelope(ALICE))

    assert time.monotonic() - started < FAIL_FAST_SECONDS


# --- the partition key -------------------------------------------------------------------

def test_user_key_is_the_sha256_of_the_user_id() -> None:
    assert user_key(make_envelope(ALICE)) == hashlib.sha256(ALICE.encode()).hexdigest()
    assert user_key(make_envelope(ALICE)) != user_key(make_envelope(BOB))


def test_request_without_a_user_cannot_be_keyed() -> None:
    with pytest.raises(PersistenceException, match="userId"):
        user_key(make_envelope(None))


# --- choosing the store from settings ----------------------------------------------------

def test_sqlite_is_the_default_store_at_the_configured_path(tmp_path: Path) -> None:
    db_path = tmp_path / "configured" / "prefs.sqlite3"
    adapter = build_persistence_adapter(Settings(db_path=db_path))

    adapter.save_attributes(make_envelope(ALICE), {"intro_heard": True})

    assert isinstance(adapter, SqlitePersistenceAdapter)
    assert SqlitePersistenceAdapter(db_path).get_attributes(make_envelope(ALICE)) == {"intro_heard": True}


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_store_with_local_endpoint_creates_its_table(moto_endpoint: str) -> None:
    settings = Settings(store="dynamodb", dynamodb_table=f"configured-{uuid.uuid4().hex}",
                        dynamodb_endpoint=moto_endpoint)
    build_persistence_adapter(settings).save_attributes(make_envelope(ALICE), {"reminders": True})

    assert build_persistence_adapter(settings).get_attributes(make_envelope(ALICE)) == {"reminders": True}


def test_unknown_store_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="HIP_HELPER_STORE"):
        build_persistence_adapter(Settings(store="redis"))


@pytest.mark.usefixtures("aws_environment")
def test_missing_dynamodb_extra_is_a_one_line_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without credentials in the environment the store needs botocore's credential chain."""
    # The extra is installed here, so its absence is simulated: None in sys.modules makes import fail.
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)

    with pytest.raises(SettingsError, match=r"hip-helper\[dynamodb\]") as missing:
        build_persistence_adapter(Settings(store="dynamodb"))

    assert "\n" not in str(missing.value)


def test_with_credentials_in_the_environment_dynamodb_needs_no_botocore(monkeypatch: pytest.MonkeyPatch,
                                                                          moto_endpoint: str) -> None:
    """As on Lambda: the standard-library client signs with the environment's credentials."""
    for name, value in dummy_aws_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(sys.modules, "botocore", None)
    adapter = dynamodb_adapter(f"no-botocore-{uuid.uuid4().hex}", moto_endpoint, create_table=True)

    adapter.save_attributes(make_envelope(ALICE), {"routine": {"id": "hips", "step": 2}})

    assert adapter.get_attributes(make_envelope(ALICE)) == {"routine": {"id": "hips", "step": 2}}
    adapter.delete_attributes(make_envelope(ALICE))
    assert adapter.get_attributes(make_envelope(ALICE)) == {}


# --- SQLite only -------------------------------------------------------------------------

def test_sqlite_opens_nothing_until_first_use(tmp_path: Path) -> None:
    path = tmp_path / "state" / "preferences.sqlite3"
    adapter = SqlitePersistenceAdapter(path)

    assert not path.parent.exists()
    adapter.get_attributes(make_envelope(ALICE))
    assert path.exists()


def test_sqlite_files_are_private_and_hold_no_raw_user_id(tmp_path: Path) -> None:
    path = tmp_path / "state" / "preferences.sqlite3"
    SqlitePersistenceAdapter(path).save_attributes(make_envelope(ALICE), PREFERENCES)

    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    files = list(path.parent.iterdir())
    assert {file.name for file in files} >= {path.name, path.name + "-wal"}
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        assert ALICE.encode() not in file.read_bytes(), file.name


def test_sqlite_store_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "preferences.sqlite3"
    SqlitePersistenceAdapter(path).get_attributes(make_envelope(ALICE))

    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_locked_past_its_timeout_raises_persistence_exception(tmp_path: Path) -> None:
    path = tmp_path / "preferences.sqlite3"
    adapter = SqlitePersistenceAdapter(path, timeout=0.1)
    adapter.get_attributes(make_envelope(ALICE))
    with closing(sqlite3.connect(path, isolation_level=None)) as other_worker:
        other_worker.execute("BEGIN EXCLUSIVE")

        with pytest.raises(PersistenceException, match="locked") as failure:
            adapter.save_attributes(make_envelope(ALICE), {"reminders": True})

    assert ALICE not in str(failure.value)


def test_sqlite_interleaved_requests_keep_each_others_changes(tmp_path: Path) -> None:
    path = tmp_path / "preferences.sqlite3"
    worker_a, worker_b = SqlitePersistenceAdapter(path), SqlitePersistenceAdapter(path)
    worker_a.save_attributes(make_envelope(ALICE), {"reminders": False, "intro_heard": False})
    request_a, request_b = make_envelope(ALICE), make_envelope(ALICE)
    seen_by_a = worker_a.get_attributes(request_a)
    seen_by_b = worker_b.get_attributes(request_b)

    seen_by_b["intro_heard"] = True
    worker_b.save_attributes(request_b, seen_by_b)
    seen_by_a["reminders"] = True
    seen_by_a["routine"] = {"name": "hip_mobility", "step": 1}
    worker_a.save_attributes(request_a, seen_by_a)

    assert as_json(worker_b.get_attributes(make_envelope(ALICE))) == as_json(
        {"reminders": True, "intro_heard": True, "routine": {"name": "hip_mobility", "step": 1}})


def _count_up(adapter: SqlitePersistenceAdapter, name: str, rounds: int) -> None:
    """Read-modify-write one attribute, one request per round, as a skill handler would."""
    for _ in range(rounds):
        envelope = make_envelope(ALICE)
        attributes = adapter.get_attributes(envelope)
        attributes[name] = attributes.get(name, 0) + 1
        adapter.save_attributes(envelope, attributes)


def _count_up_in_worker_process(path: Path, name: str, rounds: int, start_together: Barrier) -> None:
    adapter = SqlitePersistenceAdapter(path, timeout=30.0)
    start_together.wait()
    _count_up(adapter, name, rounds)


def test_sqlite_concurrent_worker_processes_lose_no_update(tmp_path: Path) -> None:
    path, rounds = tmp_path / "preferences.sqlite3", 40
    names = sorted(ALLOWED_ATTRIBUTES)
    spawn = multiprocessing.get_context("spawn")
    start_together = spawn.Barrier(len(names))
    workers = [spawn.Process(target=_count_up_in_worker_process, args=(path, name, rounds, start_together),
                             daemon=True)
               for name in names]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)

    assert [worker.exitcode for worker in workers] == [0] * len(names)
    assert SqlitePersistenceAdapter(path).get_attributes(make_envelope(ALICE)) == {name: rounds for name in names}


def test_sqlite_threads_share_one_adapter(tmp_path: Path) -> None:
    adapter, rounds = SqlitePersistenceAdapter(tmp_path / "preferences.sqlite3", timeout=30.0), 20
    names = sorted(ALLOWED_ATTRIBUTES)

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for finished in [pool.submit(_count_up, adapter, name, rounds) for name in names]:
            finished.result()

    assert adapter.get_attributes(make_envelope(ALICE)) == {name: rounds for name in names}


def _open_handles_to(path: Path) -> int:
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == str(path.resolve()))


def _save_in_forked_child(adapter: SqlitePersistenceAdapter, path: Path, handles: SimpleQueue) -> None:
    adapter.save_attributes(make_envelope(ALICE), {"intro_heard": True})
    handles.put(_open_handles_to(path))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through Linux /proc")
def test_sqlite_forked_worker_opens_its_own_connection(tmp_path: Path) -> None:
    path = tmp_path / "preferences.sqlite3"
    adapter = SqlitePersistenceAdapter(path)
    adapter.save_attributes(make_envelope(ALICE), {"reminders": True})
    fork = multiprocessing.get_context("fork")
    handles_in_child = fork.SimpleQueue()

    child = fork.Process(target=_save_in_forked_child, args=(adapter, path, handles_in_child), daemon=True)
    child.start()
    child.join(60)

    assert child.exitcode == 0
    # The child still holds the descriptor it inherited, and must have opened one of its own.
    assert handles_in_child.get() == _open_handles_to(path) + 1
    assert adapter.get_attributes(make_envelope(ALICE)) == {"intro_heard": True}


# --- making faults visible ---------------------------------------------------------------

def test_repeated_faults_log_at_the_1st_10th_and_100th_time_with_type_only(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hip_helper.storage")
    not_a_directory = tmp_path / "regular-file"
    not_a_directory.write_text("")
    adapter = SqlitePersistenceAdapter(not_a_directory / "preferences.sqlite3")

    for _ in range(100):
        with pytest.raises(PersistenceException):
            adapter.get_attributes(make_envelope(ALICE))

    assert [record.getMessage() for record in caplog.records] == [
        f"SQLite preferences store: read failed with FileExistsError ({count} so far)" for count in (1, 10, 100)]
    assert str(not_a_directory) not in caplog.text


def test_only_development_mode_logs_the_exception_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hip_helper.storage")
    failure = sqlite3.OperationalError("no such table: preferences")

    StoreFaults("SQLite").record("read", failure)
    StoreFaults("SQLite", details=True).record("read", failure)

    assert [record.getMessage() for record in caplog.records] == [
        "SQLite preferences store: read failed with OperationalError (1 so far)",
        "SQLite preferences store: read failed with OperationalError (1 so far): no such table: preferences"]


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_endpoint_that_is_down_is_not_contacted_at_construction() -> None:
    settings = Settings(store="dynamodb", dynamodb_endpoint=f"http://127.0.0.1:{listen_port()}")

    adapter = build_persistence_adapter(settings)

    with pytest.raises(PersistenceException, match="ConnectionError"):
        adapter.get_attributes(make_envelope(ALICE))


def test_dynamodb_is_not_called_when_the_request_has_too_little_time_left() -> None:
    """Without the guard this reaches the (closed) endpoint and fails with a ConnectionError."""
    from skill.deadline import request_budget

    adapter = build_persistence_adapter(
        Settings(store="dynamodb", dynamodb_endpoint=f"http://127.0.0.1:{listen_port()}"))
    with request_budget(1.0), pytest.raises(PersistenceException, match="deadline"):
        adapter.get_attributes(make_envelope(ALICE))


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_items_read_the_same_by_the_official_adapter_and_ours(moto_endpoint: str) -> None:
    """Tables the skill wrote with ask-sdk's DynamoDbAdapter stay readable, and the other way round."""
    import boto3
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter

    table_name = f"shared-{uuid.uuid4().hex}"
    ours = dynamodb_adapter(table_name, moto_endpoint, create_table=True)
    ours.save_attributes(make_envelope(ALICE), PREFERENCES)
    official = DynamoDbAdapter(table_name, partition_keygen=user_key,
                               dynamodb_resource=boto3.resource("dynamodb", endpoint_url=moto_endpoint))

    assert json.loads(json.dumps(official.get_attributes(make_envelope(ALICE)), default=float)) == PREFERENCES
    official.save_attributes(make_envelope(BOB), {"reminders": False})
    assert ours.get_attributes(make_envelope(BOB)) == {"reminders": False}


@pytest.mark.usefixtures("aws_environment")
def test_dynamodb_store_creates_one_client_on_first_use(moto_endpoint: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[str] = []
    adapter = dynamodb_adapter(f"one-client-{uuid.uuid4().hex}", moto_endpoint, create_table=True)
    connect = adapter._connect
    monkeypatch.setattr(adapter, "_connect", lambda: created.append("client") or connect())
    assert created == []

    adapter.save_attributes(make_envelope(ALICE), {"reminders": True})
    adapter.get_attributes(make_envelope(ALICE))
    adapter.delete_attributes(make_envelope(ALICE))

    assert created == ["client"]


def test_dynamodb_attribute_values_round_trip_plain_json() -> None:
    value = {"routine": {"name": "hip_mobility", "step": 3, "hold_seconds": 2.5, "done": [1, None, False]}}
    stored = persistence.to_attribute_value(json.loads(json.dumps(value), parse_float=Decimal))

    assert stored["M"]["routine"]["M"]["hold_seconds"] == {"N": "2.5"}
    assert stored["M"]["routine"]["M"]["done"] == {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}
    assert as_json(persistence.from_attribute_value(stored)) == as_json(value)
    with pytest.raises(PersistenceException, match="SS"):
        persistence.from_attribute_value({"SS": ["a"]})
