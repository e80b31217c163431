"""Where the skill remembers preferences between sessions: SQLite by default, DynamoDB for scale.

Only routine progress, reminder opt-in and whether the long introduction was heard are ever
stored. Symptoms, pain and triage answers never are (Alexa policy for skills that are not
HIPAA-eligible), and the adapters enforce that with an allow-list of attribute names, as a
second line of defence under the handlers. Users are keyed by a SHA-256 digest of their
Amazon user id, so the raw id is never written anywhere.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope

from skill import deadline as request_deadlines
from skill.dynamodb_http import Credentials, DynamoDbError, DynamoDbHttpClient
from skill.settings import ENV_PREFIX, Settings, SettingsError

log = logging.getLogger("hip_helper.storage")
# Each DynamoDB call is bounded (connect and read, two attempts); its worst case is what a
# request must still have left for the call to be started.
DYNAMODB_CALL_TIMEOUT = 0.5
DYNAMODB_ATTEMPTS = 2
DYNAMODB_WORST_CASE_SECONDS = (DYNAMODB_CALL_TIMEOUT + DYNAMODB_CALL_TIMEOUT) * DYNAMODB_ATTEMPTS  # connect + read

ALLOWED_ATTRIBUTES = frozenset({"routine", "reminders", "intro_heard"})

# Requests whose snapshot was read but never saved (a handler raised) are forgotten past this.
MAX_PENDING_SNAPSHOTS = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS preferences (
    user_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_key, name)
) WITHOUT ROWID
"""


def user_key(request_envelope: RequestEnvelope) -> str:
    """The partition key for a request's user: SHA-256 hex digest of context.System.user.userId."""
    try:
        user_id = request_envelope.context.system.user.user_id
    except AttributeError:
        user_id = None
    if not user_id:
        raise PersistenceException("request has no context.System.user.userId to key preferences by")
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def _reject_disallowed(attributes: Mapping[str, object], allowed: frozenset[str]) -> None:
    for name in attributes:
        if name not in allowed:
            raise PersistenceException(f"refusing to store attribute {name!r}: not in the allow-list")


def _encode(name: str, value: object) -> str:
    # Canonical text, so an unchanged value always compares equal to its stored row.
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise PersistenceException(f"attribute {name!r} is not storable as JSON: {error}") from None


def _request_id(request_envelope: RequestEnvelope) -> str | None:
    request = getattr(request_envelope, "request", None)
    return getattr(request, "request_id", None)


def _is_power_of_ten(count: int) -> bool:
    return count == 10 ** (len(str(count)) - 1)


def _error_code(error: BaseException) -> str | None:
    """SQLite's or DynamoDB's fixed error code (from either client), if the error carries one."""
    code = getattr(error, "sqlite_errorname", None) or getattr(error, "code", None)
    response = getattr(error, "response", None)
    if code is None and isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
    return code


def _fault_kind(error: BaseException) -> str:
    """The exception type, plus its fixed error code: never its message, which can quote a key or a value."""
    code = _error_code(error)
    return f"{type(error).__name__} ({code})" if code else type(error).__name__


class StoreFaults:
    """Makes store failures visible without flooding the log: each kind (operation, exception
    type) is logged the 1st, 10th, 100th... time it happens, with the count so far. Only in
    development mode does a line carry the exception's message."""

    def __init__(self, store: str, details: bool = False):
        self._store = store
        self._details = details
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def record(self, operation: str, error: BaseException) -> None:
        kind = _fault_kind(error)
        with self._lock:
            self._counts[operation, kind] += 1
            count = self._counts[operation, kind]
        if _is_power_of_ten(count):
            detail = f": {error}" if self._details else ""
            log.warning("%s preferences store: %s failed with %s (%d so far)%s",
                        self._store, operation, kind, count, detail)


class SqlitePersistenceAdapter(AbstractPersistenceAdapter):
    """One row per (user key, attribute name), so workers that change different attributes of
    the same user at once never overwrite each other.

    save_attributes writes only what changed since this request's get_attributes. Without such a
    snapshot (attributes were assigned, not read) it replaces the user's whole set, as the
    AbstractPersistenceAdapter contract says.
    """

    def __init__(self, path: Path, allowed: frozenset[str] = ALLOWED_ATTRIBUTES, timeout: float = 2.0,
                 faults: StoreFaults | None = None):
        self._path = Path(path)
        self._allowed = allowed
        self._timeout = timeout
        self._faults = faults or StoreFaults("SQLite")
        self._local = threading.local()
        # Connections opened before a fork: closing one in the child would act on the
        # parent's database state, so the child only drops it here and never touches it.
        self._inherited: list[sqlite3.Connection] = []
        self._snapshots: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        self._snapshots_lock = threading.Lock()

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, object]:
        key = user_key(request_envelope)
        with self._store_errors("read"):
            stored = self._read_rows(self._connection(), key)
        self._remember_snapshot(request_envelope, key, stored)
        return {name: json.loads(value) for name, value in stored.items()}

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict[str, object]) -> None:
        key = user_key(request_envelope)
        snapshot = self._take_snapshot(request_envelope, key)
        _reject_disallowed(attributes, self._allowed)
        wanted = {name: _encode(name, value) for name, value in attributes.items()}
        with self._store_errors("save"):
            connection = self._connection()
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                if snapshot is None:
                    snapshot = self._read_rows(connection, key)
                self._write_changes(connection, key, snapshot, wanted)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        key = user_key(request_envelope)
        self._take_snapshot(request_envelope, key)
        with self._store_errors("delete"):
            connection = self._connection()
            with connection:
                connection.execute("DELETE FROM preferences WHERE user_key = ?", (key,))

    @contextmanager
    def _store_errors(self, operation: str) -> Iterator[None]:
        """Log sqlite3 and file-system failures, and raise them as a short PersistenceException."""
        try:
            yield
        except (sqlite3.Error, OSError) as error:
            self._faults.record(operation, error)
            raise PersistenceException(f"preferences store could not {operation} preferences: {error}") from error

    @staticmethod
    def _read_rows(connection: sqlite3.Connection, key: str) -> dict[str, str]:
        rows = connection.execute("SELECT name, value FROM preferences WHERE user_key = ?", (key,))
        return dict(rows.fetchall())

    @staticmethod
    def _write_changes(connection: sqlite3.Connection, key: str,
                       snapshot: dict[str, str], wanted: dict[str, str]) -> None:
        changed = [(key, name, value) for name, value in wanted.items() if snapshot.get(name) != value]
        removed = [(key, name) for name in snapshot.keys() - wanted.keys()]
        connection.executemany("INSERT OR REPLACE INTO preferences (user_key, name, value) VALUES (?, ?, ?)",
                               changed)
        connection.executemany("DELETE FROM preferences WHERE user_key = ? AND name = ?", removed)

    def _remember_snapshot(self, request_envelope: RequestEnvelope, key: str, stored: dict[str, str]) -> None:
        request_id = _request_id(request_envelope)
        if request_id is None:
            return
        with self._snapshots_lock:
            self._snapshots[(request_id, key)] = stored
            while len(self._snapshots) > MAX_PENDING_SNAPSHOTS:
                self._snapshots.popitem(last=False)

    def _take_snapshot(self, request_envelope: RequestEnvelope, key: str) -> dict[str, str] | None:
        request_id = _request_id(request_envelope)
        with self._snapshots_lock:
            return self._snapshots.pop((request_id, key), None)

    def _connection(self) -> sqlite3.Connection:
        # gunicorn forks workers after import: a connection is opened lazily, per thread, and
        # again in a child process, never shared across a fork.
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            if hasattr(local, "connection"):
                self._inherited.append(local.connection)
            local.connection = self._open()
            local.pid = os.getpid()
        return local.connection

    def _open(self) -> sqlite3.Connection:
        try:
            return self._open_read_write()
        except (sqlite3.Error, OSError) as error:
            if not self._path.is_file():
                raise
            # A read-only file or directory (or a full disk) must not turn returning users into
            # new ones: their preferences are still read, and only saves fail.
            connection = self._open_read_only()
            self._faults.record("open for writing", error)
            return connection

    def _open_read_only(self) -> sqlite3.Connection:
        uri = self._path.resolve().as_uri()
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=self._timeout, isolation_level=None)
        try:
            connection.execute("SELECT 1 FROM preferences LIMIT 1").fetchall()
            return connection
        except sqlite3.OperationalError:
            connection.close()
        # mode=ro needs an existing -shm file (a writer is running). With none, because the last
        # writer stopped and checkpointed everything into the main file, only immutable=1 opens a
        # WAL-mode file in a read-only directory; it reads the main file alone.
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=self._timeout, isolation_level=None)

    def _open_read_write(self) -> sqlite3.Connection:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file ourselves so it is private from the first byte (WAL files copy its mode).
        os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
        # timeout= is SQLite's busy_timeout: how long to wait for another worker's write lock.
        # isolation_level=None leaves transactions to the explicit BEGIN IMMEDIATE in save.
        connection = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
        try:
            self._use_wal(connection)
            connection.execute(_SCHEMA)
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    def _use_wal(self, connection: sqlite3.Connection) -> None:
        """Switch a new file to WAL. The switch takes an exclusive lock without waiting in SQLite's busy
        handler, so workers opening a fresh file together retry it until the timeout."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


def _plain_number(value: object) -> int | float:
    if not isinstance(value, Decimal):
        raise PersistenceException(f"stored preferences hold an unexpected {type(value).__name__}")
    return int(value) if value == value.to_integral_value() else float(value)


class DynamoDbPersistenceAdapter(AbstractPersistenceAdapter):
    """One item per user in the official ask-sdk DynamoDbAdapter's layout ({"id": user key,
    "attributes": map}), so a table either of them wrote reads the same in the other, behind the
    allow-list and with the same plain JSON values as SQLite (DynamoDB reads every number back as
    Decimal and refuses floats).

    It talks to one low-level client, created on first use: skill.dynamodb_http's where the
    credentials are in the environment (Lambda), else botocore's. The official adapter builds a
    boto3 resource when its module is imported and another for its caller: about 100 ms of a cold start each.
    """

    def __init__(self, table_name: str, connect: Callable[[], Any], allowed: frozenset[str] = ALLOWED_ATTRIBUTES,
                 create_table: bool = False, faults: StoreFaults | None = None):
        # Nothing is contacted here: an endpoint that is down at boot must not stop the app
        # starting, only degrade the requests that need it (with a log line) until it is back.
        self._table = table_name
        self._connect = connect
        self._allowed = allowed
        self._create_table = create_table
        self._faults = faults or StoreFaults("DynamoDB")
        self._client: Any = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, object]:
        key = _item_key(request_envelope)
        with self._store_errors("read") as client:
            item = client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        if item is None or ATTRIBUTES_FIELD not in item:
            return {}
        return from_attribute_value(item[ATTRIBUTES_FIELD])

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict[str, object]) -> None:
        key = _item_key(request_envelope)
        _reject_disallowed(attributes, self._allowed)
        # Through canonical JSON, as for SQLite: only what JSON can hold is stored, floats exactly as written.
        storable = {name: json.loads(_encode(name, value), parse_float=Decimal) for name, value in attributes.items()}
        item = {**key, ATTRIBUTES_FIELD: to_attribute_value(storable)}
        with self._store_errors("save") as client:
            client.put_item(TableName=self._table, Item=item)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        key = _item_key(request_envelope)
        with self._store_errors("delete") as client:
            client.delete_item(TableName=self._table, Key=key)

    @contextmanager
    def _store_errors(self, operation: str) -> Iterator[Any]:
        """The client, unless the request lacks time for a call; its failures are logged and
        raised as a PersistenceException naming the error's type."""
        request = request_deadlines.current()
        if request is not None and request.remaining() < DYNAMODB_WORST_CASE_SECONDS:
            # A call that may not finish inside the request's budget is not started at all.
            error = PersistenceException("not enough of the request's deadline left for DynamoDB")
            self._faults.record(operation, error)
            raise error
        try:
            yield self._shared_client()
        except _client_failures() as error:
            self._faults.record(operation, error)
            raise PersistenceException(f"DynamoDB could not {operation} preferences: "
                                       f"{type(error).__name__}: {error}") from error

    def _shared_client(self) -> Any:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                # Both clients keep sockets alive: a forked worker must not share its parent's.
                client = self._connect()
                if self._create_table:
                    _create_table(client, self._table)  # before it is kept, so a failure is tried again
                self._client, self._pid = client, os.getpid()
            return self._client


ID_FIELD = "id"  # the official adapter's defaults, kept so existing tables stay readable
ATTRIBUTES_FIELD = "attributes"


def _item_key(request_envelope: RequestEnvelope) -> dict[str, dict[str, str]]:
    return {ID_FIELD: {"S": user_key(request_envelope)}}


def _client_failures() -> tuple[type[Exception], ...]:
    """What either client fails with; botocore's only once it is in use, so naming them never imports it."""
    return (DynamoDbError, *(_botocore().errors if sys.modules.get("botocore") is not None else ()))


def _create_table(client: Any, table_name: str) -> None:
    """For a local endpoint (DynamoDB Local, moto), which starts empty; an existing table is kept."""
    try:
        client.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": ID_FIELD, "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": ID_FIELD, "AttributeType": "S"}])
    except _client_failures() as error:
        if _error_code(error) != "ResourceInUseException":
            raise


class _Botocore(NamedTuple):
    """What the DynamoDB store uses of botocore, imported on the store's first use. Not boto3,
    whose import adds s3transfer and about 80 ms to a cold start for nothing this store needs."""

    session: Callable[[], Any]
    config: Callable[..., Any]
    errors: tuple[type[Exception], ...]


_MISSING_EXTRA = f"{ENV_PREFIX}STORE=dynamodb needs the dynamodb extra: pip install 'hip-helper[dynamodb]'"


@functools.cache
def _botocore() -> _Botocore:
    try:
        import botocore.session
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise SettingsError(_MISSING_EXTRA) from None
    return _Botocore(botocore.session.Session, Config, (BotoCoreError, ClientError))


def _require_botocore() -> None:
    """At start-up, without importing it: botocore is over 100 ms of a cold start, and a request
    that reads no preferences (most of them) never needs it."""
    try:
        installed = importlib.util.find_spec("botocore") is not None
    except ValueError:  # present in sys.modules as None: imports of it are blocked
        installed = False
    if not installed:
        raise SettingsError(_MISSING_EXTRA)


def to_attribute_value(value: object) -> dict[str, Any]:
    """Plain JSON as a DynamoDB attribute value, the way boto3's TypeSerializer writes it."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):  # floats arrive as Decimal: DynamoDB numbers are decimal text
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_attribute_value(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {key: to_attribute_value(item) for key, item in value.items()}}
    raise PersistenceException(f"cannot store a {type(value).__name__} in DynamoDB")


def from_attribute_value(attribute: Mapping[str, Any]) -> object:
    """A DynamoDB attribute value as plain JSON; numbers come back as int or float, not Decimal."""
    (kind, value), = attribute.items()
    if kind == "NULL":
        return None
    if kind in ("BOOL", "S"):
        return value
    if kind == "N":
        return _plain_number(Decimal(value))
    if kind == "L":
        return [from_attribute_value(item) for item in value]
    if kind == "M":
        return {key: from_attribute_value(item) for key, item in value.items()}
    raise PersistenceException(f"stored preferences hold an unexpected DynamoDB {kind}")


def dynamodb_adapter(table_name: str, endpoint_url: str | None, region: str = "us-east-1",
                     allowed: frozenset[str] = ALLOWED_ATTRIBUTES,
                     create_table: bool = False, faults: StoreFaults | None = None) -> AbstractPersistenceAdapter:
    """The DynamoDB store on a client that gives up within a second or two, created on first use:
    the standard-library one where the credentials are in the environment, as on Lambda; else
    botocore's, with its whole credential chain (needs the [dynamodb] extra)."""
    credentials = Credentials.from_environment()
    if credentials is None:
        _require_botocore()

    # Alexa allows about 8 s per request, and single-item calls take milliseconds: a dead store
    # must fail within a second or two, not after botocore's default minute of timeouts and retries.
    def connect() -> Any:
        if credentials is not None:
            return DynamoDbHttpClient(credentials, region, endpoint_url, timeout=DYNAMODB_CALL_TIMEOUT,
                                      attempts=DYNAMODB_ATTEMPTS)
        boto = _botocore()
        config = boto.config(connect_timeout=DYNAMODB_CALL_TIMEOUT, read_timeout=DYNAMODB_CALL_TIMEOUT,
                             retries={"total_max_attempts": DYNAMODB_ATTEMPTS, "mode": "standard"})
        return boto.session().create_client("dynamodb", region_name=region, endpoint_url=endpoint_url or None,
                                             config=config)

    return DynamoDbPersistenceAdapter(table_name, connect, allowed, create_table, faults)


def build_persistence_adapter(settings: Settings) -> AbstractPersistenceAdapter:
    """The store named by settings.store; nothing is opened or contacted until first use, when
    a local DynamoDB endpoint also gets its table created."""
    if settings.store == "sqlite":
        return SqlitePersistenceAdapter(settings.db_path, faults=StoreFaults("SQLite", settings.dev_mode))
    if settings.store == "dynamodb":
        # A local endpoint (DynamoDB Local, moto) starts empty; in AWS the operator provisions the table.
        return dynamodb_adapter(settings.dynamodb_table, settings.dynamodb_endpoint or None,
                                region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                                create_table=bool(settings.dynamodb_endpoint),
                                faults=StoreFaults("DynamoDB", settings.dev_mode))
    raise SettingsError(f"{ENV_PREFIX}STORE must be sqlite or dynamodb, not {settings.store!r}")
