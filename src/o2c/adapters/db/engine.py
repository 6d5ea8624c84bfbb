"""Engines for SQLite and PostgreSQL with the settings o2c relies on."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, StatementError

from o2c.adapters.db.types import json_dumps

WRITE = "o2c_write"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         json_serializer=json_dumps)


def _sqlite_engine(url: str, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # A generous statement cache: the flow runs a few hundred distinct statements and
    # re-preparing one costs more than running it.
    engine = create_engine(url, echo=echo, connect_args={"timeout": 60, "cached_statements": 1024},
                           json_serializer=json_dumps)
    checkpointer = WalCheckpointer(database) if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so pysqlite must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache per connection
        if checkpointer is not None:
            # Checkpoints run beside the writers (see WalCheckpointer); the automatic one
            # only steps in if the WAL ever grows past ~40 MiB.
            cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            checkpointer.start()
        cursor.close()

    @event.listens_for(engine, "engine_disposed")
    def _on_dispose(_engine: Any) -> None:
        if checkpointer is not None:
            checkpointer.stop()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A unit of work takes SQLite's single write lock up front, so the reads it bases its
        # decisions on (credit exposure, stock) cannot go stale before it writes.
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.in_transaction:  # begun by a SQLiteWriteTransaction already
            return
        statement = "BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE) \
            else "BEGIN"
        dbapi_connection.execute(statement)

    return engine


AUTOCHECKPOINT_PAGES = 10_000


class WalCheckpointer:
    """Copies the SQLite write-ahead log back into the database from a background thread.

    By default the connection that commits the 1000th page of WAL does the checkpoint inside
    its commit, so every few dozen commands one of them waits several milliseconds. Here a
    daemon thread with its own connection runs PASSIVE checkpoints (they never block readers
    or the writer, and sqlite3 releases the GIL while they run) every quarter second."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="o2c-wal-checkpoint",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=1, isolation_level=None,
                                     check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the database may be busy, moved or deleted: try later
                    continue
        finally:
            connection.close()


def sqlalchemy_error(conn: Connection, sql: str, params: Any, error: Exception
                     ) -> StatementError:
    """A driver error as SQLAlchemy's DBAPIError family (IntegrityError, DataError,
    OperationalError...), exactly as Connection.execute raises it, for statements sent to the
    driver directly: callers (the bus: retries, Conflict/InvalidInput) see one kind of error
    whichever path ran the statement."""
    return DBAPIError.instance(sql, params, error, conn.dialect.loaded_dbapi.Error,
                               dialect=conn.dialect)


class WriteTransaction(Protocol):
    @property
    def is_active(self) -> bool: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class SQLiteWriteTransaction:
    """BEGIN IMMEDIATE and COMMIT sent straight to sqlite3.

    SQLAlchemy's transaction objects and its begin event cost about as much as a small
    statement, twice per command. Statements that go through SQLAlchemy Core inside still
    work: SQLAlchemy then opens its own transaction record (the begin listener sees the
    database transaction is already open and sends nothing), and commit and rollback go
    through it so both agree."""

    __slots__ = ("_connection", "_dbapi_connection", "is_active")

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        dbapi_connection: Any = connection.connection.dbapi_connection
        self._dbapi_connection = dbapi_connection
        self._run("BEGIN IMMEDIATE", dbapi_connection.execute, "BEGIN IMMEDIATE")
        self.is_active = True

    def commit(self) -> None:
        if self._connection.in_transaction():
            self._connection.commit()
        else:
            self._run("COMMIT", self._dbapi_connection.commit)
        self.is_active = False  # only once committed: a failed commit is rolled back

    def rollback(self) -> None:
        self.is_active = False
        if self._connection.in_transaction():
            self._connection.rollback()
        else:
            self._run("ROLLBACK", self._dbapi_connection.rollback)

    def _run(self, sql: str, call: Callable[..., Any], *args: Any) -> None:
        try:
            call(*args)
        except sqlite3.Error as error:  # "database is locked": an OperationalError to retry
            raise sqlalchemy_error(self._connection, sql, None, error) from error


class WriteConnections:
    """The connections units of work run on (with SQLite's write lock taken at BEGIN).

    On SQLite the connection a unit of work gives back is kept open for the next one (a
    single slot, so at most one connection stays outside the pool): checking a connection
    out of the pool and wrapping it costs about as much as a small command's own
    statements. PostgreSQL connections always go back to the pool, which pings them on the
    way out again (a kept one could have been dropped by the server meanwhile)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(**{WRITE: True})
        self._sqlite = engine.dialect.name == "sqlite"
        self._idle: Connection | None = None
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def acquire(self) -> Connection:
        with self._lock:
            connection, self._idle = self._idle, None
        if connection is None or connection.closed or connection.invalidated:
            connection = self._engine.connect()
        return connection

    def begin(self, connection: Connection) -> WriteTransaction:
        """The unit of work's transaction on `connection`, holding the write lock."""
        if self._sqlite:
            return SQLiteWriteTransaction(connection)
        return connection.begin()

    def release(self, connection: Connection) -> None:
        """Takes back a connection whose transaction has ended (committed or rolled back)."""
        if self._sqlite and not connection.invalidated and not connection.in_transaction() \
                and not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            with self._lock:
                if self._idle is None:
                    self._idle = connection
                    return
        connection.close()

    def close(self) -> None:
        with self._lock:
            connection, self._idle = self._idle, None
        if connection is not None:
            connection.close()


_ATTACHED_LOCK = threading.Lock()
T = TypeVar("T")


def attached(engine: Engine, name: str, make: Callable[[], T]) -> T:
    """The engine's one `name` object (made on first use), kept on the engine itself so both
    go away together: its write connections, its master data cache."""
    with _ATTACHED_LOCK:
        found = engine.__dict__.get(name)
        if found is None:
            found = engine.__dict__[name] = make()
        return found


def write_connections(engine: Engine) -> WriteConnections:
    """The engine's one source of unit-of-work connections."""
    return attached(engine, "_o2c_write_connections", lambda: WriteConnections(engine))


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
