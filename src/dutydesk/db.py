"""Engine, sessions and the one-transaction-per-use-case helpers.

SQLite runs in WAL mode with a busy timeout; write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing half-way
when a read lock cannot be upgraded.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Pool,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, NoResultFound
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

log = logging.getLogger("dutydesk.db")

T = TypeVar("T")


class Base(DeclarativeBase):
    pass


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" hook issues BEGIN itself.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


class WriteLockBusy(Exception):
    """A write that may not wait found SQLite's write lock taken (``Database.write(wait=False)``)."""


def _sqlite_begin(conn: Any) -> None:
    options = conn.get_execution_options()
    mode = options.get("sqlite_begin", "DEFERRED")
    if not options.get("sqlite_nowait"):
        conn.exec_driver_sql(f"BEGIN {mode}")
        return
    # Take the lock only if it is free now: with no busy timeout, SQLite answers SQLITE_BUSY
    # at once instead of sleeping in its busy handler. The timeout is put back either way.
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        (timeout,) = cursor.execute("PRAGMA busy_timeout").fetchone()
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute(f"BEGIN {mode}")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            raise WriteLockBusy("another process holds SQLite's write lock") from exc
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
    finally:
        cursor.close()


PING_AFTER_IDLE = 5.0  # seconds a pooled PostgreSQL connection may sit before a ping


class _HintedSQLiteCompiler(SQLiteCompiler):
    """SQLite's compiler drops table hints; this one writes them after the table name, so
    ``select(...).with_hint(Ticket, "INDEXED BY ix_…", "sqlite")`` names the index to use
    where SQLite's planner, with two values of ``is_open`` in its statistics, would walk
    the desk's tickets instead of a covering index of its open ones."""

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def make_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        engine.dialect.statement_compiler = _HintedSQLiteCompiler
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    ping_after = kwargs.pop("ping_after_idle", PING_AFTER_IDLE)
    engine = create_engine(url, **kwargs)
    IdlePing(ping_after).listen(engine)
    return engine


class IdlePing:
    """Pessimistic disconnect handling for connections that sat idle in the pool.

    A connection idle for a while may have been dropped (a database restart, a firewall), so
    it is pinged before use and replaced if dead. One that was in use a moment ago is handed
    out as is: pinging on every checkout (``pool_pre_ping``) cost a round trip per request.
    """

    def __init__(self, after: float) -> None:
        self.after = after

    def listen(self, engine: Engine) -> None:
        event.listen(engine, "connect", self._mark)
        event.listen(engine, "checkin", self._mark)
        event.listen(engine, "checkout", self._checkout)

    @staticmethod
    def _mark(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def _checkout(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < self.after:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.rollback()
        except Exception as exc:  # the pool replaces it and retries the checkout
            raise DisconnectionError(f"idle connection is gone: {exc}") from exc


def pool_of(session: Session) -> Pool:
    """The connection pool behind a session: the key for caches that live as long as the
    database (a database's read and write engines share it; two databases never do)."""
    bind = session.get_bind()
    return bind.engine.pool if isinstance(bind, Connection) else bind.pool


class Database:
    """Owns the engine; hands out read and write sessions."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.engine = make_engine(url, **engine_kwargs)
        # PostgreSQL reads run in autocommit: under READ COMMITTED each statement sees its own
        # snapshot even inside a transaction, so BEGIN and ROLLBACK were two round trips that
        # bought nothing. SQLite reads keep their transaction: it holds one WAL snapshot.
        reader = (
            self.engine
            if self.sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._read = sessionmaker(reader, expire_on_commit=False)
        writer = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.sqlite else self.engine
        )
        self._write = sessionmaker(writer, expire_on_commit=False)
        self._write_at_once = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE", sqlite_nowait=True),
            expire_on_commit=False,
        )
        # SQLite has one writer. Queue this process's writers on a lock instead of letting them
        # collide on the file lock, where SQLite's busy handler sleeps in coarse steps.
        self._write_lock = threading.Lock() if self.sqlite else None
        self._checkpointer: WalCheckpointer | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self, *, wait: bool = True) -> Iterator[Session]:
        """One transaction: commits on success, rolls back everything on any error.

        ``wait=False`` (SQLite) is for the event loop, which must not sleep on a lock: if
        another thread or process holds the write lock, ``WriteLockBusy`` is raised when the
        transaction begins (``session.connection()``), before anything is written.
        """
        if self._write_lock is None:
            with self._write() as session, session.begin():
                yield session
            return
        if wait:
            with self._write_lock, self._write() as session, session.begin():
                yield session
            return
        if not self._write_lock.acquire(blocking=False):
            raise WriteLockBusy("another thread of this process is writing")
        try:
            with self._write_at_once() as session, session.begin():
                yield session
        finally:
            self._write_lock.release()

    def run_job(self, job: Callable[[Session], T]) -> T:
        """``job(session)`` in a write transaction of its own, on this thread."""
        with self.write() as session:
            return job(session)

    def checkpoint_in_background(self, interval: float = 0.5) -> None:
        """For a long-running server on SQLite: copy the WAL back into the database from a
        background thread, instead of inside whichever commit crosses SQLite's 1000-page
        mark while holding the write lock. Checkpoints run in SQLite's C code, outside the
        GIL, and a page rewritten many times between two of them is copied once."""
        if not self.sqlite or self._checkpointer is not None:
            return
        event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # pooled connections reconnect with the pragma
        self._checkpointer = WalCheckpointer(self, interval)
        self._checkpointer.start()

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()


class WalCheckpointer(threading.Thread):
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval`` seconds.

    A passive checkpoint never blocks writers. But SQLite starts the WAL over only when a
    writer begins at an instant when every frame has been copied, which a steady stream of
    writers never offers. When the WAL has grown past ``catch_up_frames`` the checkpoint
    therefore runs while holding this process's write lock; the next writer then finds the
    WAL fully copied and starts it over, so the WAL stays bounded.
    """

    def __init__(self, db: Database, interval: float, catch_up_frames: int = 4000) -> None:
        super().__init__(name="dutydesk-wal-checkpoint", daemon=True)
        self.db, self.interval, self.catch_up_frames = db, interval, catch_up_frames
        self._stop_event = threading.Event()

    def run(self) -> None:
        raw = self.db.engine.raw_connection()
        try:
            while not self._stop_event.wait(self.interval):
                try:
                    self.checkpoint(raw.driver_connection)
                except Exception:  # a busy or failing checkpoint is retried next time
                    log.exception("WAL checkpoint failed")
            self.checkpoint(raw.driver_connection)
        finally:
            raw.close()

    def checkpoint(self, conn: Any) -> tuple[int, int]:
        """One pass; returns (frames in the WAL, frames copied) after it."""
        _busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= self.catch_up_frames and self.db._write_lock:
            with self.db._write_lock:
                _busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames), int(copied)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


@dataclass(frozen=True)
class _Form:
    """A statement as one dialect's driver takes it."""

    sql: str
    names: list[str]  # parameters in the driver's order
    processors: list[Any]  # each parameter's bind processor, or None
    literals: dict[str, Any]  # values the statement carries itself (``count + 1``)
    positional: bool


@dataclass(frozen=True)
class Ran:
    """What a prepared statement returned: its first row (RETURNING), and rows affected."""

    row: Any
    rowcount: int

    def scalar(self) -> Any:
        return None if self.row is None else self.row[0]

    def scalar_one(self) -> Any:
        if self.row is None:
            raise NoResultFound("the statement returned no row")
        return self.row[0]


def _run(conn: Connection, sql: str, args: Any, *, many: bool) -> Ran:
    """Run driver-ready SQL on the connection's own DBAPI cursor, in its transaction.

    The transaction has begun (``Session.connection()`` began it), so the statement joins
    it like any other; driver errors arrive wrapped as SQLAlchemy's own (IntegrityError…).
    """
    dbapi_error = conn.dialect.loaded_dbapi.Error
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, args)
        else:
            cursor.execute(sql, args)
        row = cursor.fetchone() if cursor.description is not None else None
        return Ran(row, cursor.rowcount)
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, args, exc, dbapi_error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


class Prepared:
    """A Core statement compiled once per dialect, run on the driver's cursor.

    ``Connection.execute`` spends about 40 µs per statement finding the compiled form in its
    cache and converting parameters; ``exec_driver_sql`` takes about 9 and the bare cursor
    about 1.3. Filing a ticket runs some ten statements, so its fixed-shape writes use this.
    Values still go through each column type's own bind processor (UTC datetimes, JSON,
    booleans), errors still arrive as SQLAlchemy's exceptions, and every parameter must be
    given: Python-side column defaults are not applied. Not for statements whose SQL depends
    on the values (expanding IN). Engine events (``before_cursor_execute``) do not see them.
    """

    def __init__(self, statement: ClauseElement, keys: tuple[str, ...] = ()) -> None:
        self.statement = statement
        self.keys = keys  # for INSERT: the columns given, in any order
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            compiled = cast(
                SQLCompiler,
                self.statement.compile(dialect=dialect, column_keys=list(self.keys) or None),
            )
            binds = compiled.binds
            names = list(compiled.positiontup or []) if compiled.positional else list(binds)
            form = self._forms[dialect.name] = _Form(
                sql=compiled.string,
                names=names,
                processors=[
                    binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
                ],
                literals={
                    n: binds[n].value
                    for n in names
                    if n not in self.keys and binds[n].value is not None
                },
                positional=compiled.positional,
            )
        return form

    def execute(self, conn: Connection, params: dict[str, Any]) -> Ran:
        form = self._form(conn.dialect)
        return _run(conn, form.sql, self._row(form, params), many=False)

    def executemany(self, conn: Connection, rows: list[dict[str, Any]]) -> Ran:
        form = self._form(conn.dialect)
        return _run(conn, form.sql, [self._row(form, r) for r in rows], many=True)

    @staticmethod
    def _row(form: _Form, params: dict[str, Any]) -> Any:
        if form.literals:
            params = {**form.literals, **params}
        values = [
            params[n] if p is None else p(params[n])
            for n, p in zip(form.names, form.processors, strict=True)
        ]
        return tuple(values) if form.positional else dict(zip(form.names, values, strict=True))


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on every engine; rejects naive input."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)
