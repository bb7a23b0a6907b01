"""``dutydesk backup FILE`` and ``dutydesk restore FILE``.

A backup is a consistent snapshot taken while the server runs:

* SQLite: SQLite's online backup API copies the database page by page from one read
  snapshot (writers go on meanwhile, in WAL mode); the file is itself a dutydesk database.
* PostgreSQL: ``pg_dump --format=custom`` (one REPEATABLE READ snapshot) when the binary is
  on the PATH; otherwise a dutydesk SQLite file written by the verified copy
  (``backup.copy``) from one REPEATABLE READ snapshot.

The file is written beside its final name and renamed into place, so a failed backup never
leaves a half file under the name asked for. ``restore`` reads the file's first bytes to tell
the two formats apart and refuses to write over a database that holds any row unless told
``force``. Run it with the servers and workers stopped.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, make_url, text

from dutydesk.backup.copy import TargetNotEmpty, copy_database
from dutydesk.backup.tables import nonempty, tables
from dutydesk.db import is_sqlite, make_engine
from dutydesk.migrate import upgrade

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class Snapshot:
    path: Path
    format: str  # "sqlite" or "pg_dump"
    bytes: int


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url} names no database file")
    return Path(database)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (no ``+psycopg``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, file: Path) -> Snapshot:
    file = Path(file)
    partial = file.with_name(f".{file.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if is_sqlite(url):
            fmt = _sqlite_backup(sqlite_path(url), partial)
        elif shutil.which("pg_dump"):
            fmt = _pg_dump(url, partial)
        else:
            engine = make_engine(url)
            try:
                copy_database(engine, f"sqlite:///{partial}")
            finally:
                engine.dispose()
            fmt = "sqlite"
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return Snapshot(file, fmt, file.stat().st_size)


def _sqlite_backup(source: Path, dest: Path) -> str:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(dest)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        src.backup(dst)  # all pages, from one read snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        (ok,) = dst.execute("PRAGMA quick_check").fetchone()
        if ok != "ok":
            raise BackupError(f"the snapshot failed SQLite's check: {ok}")
    finally:
        dst.close()
        src.close()
    return "sqlite"


def schema_of(url: str) -> str | None:
    """The schema a URL's ``options=-csearch_path=NAME`` puts dutydesk in, if any."""
    options = make_url(url).query.get("options")
    given = options if isinstance(options, str) else " ".join(options or ())
    found = re.search(r"-c\s*search_path=([A-Za-z_][\w$]*)", given)
    return found.group(1) if found else None


def _pg_dump(url: str, dest: Path) -> str:
    # A dutydesk kept in its own schema (search_path) is backed up alone, with that schema.
    schema = schema_of(url)
    done = subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={dest}",
            *([f"--schema={schema}"] if schema else []),
            f"--dbname={libpq_url(url)}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return "pg_dump"


def file_format(file: Path) -> str:
    with open(file, "rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    raise BackupError(f"{file} is neither a dutydesk SQLite backup nor a pg_dump custom file")


def restore(file: Path, url: str, *, force: bool = False) -> str:
    """Put the backup at ``url``; returns the format it had."""
    file = Path(file)
    if not file.exists():
        raise BackupError(f"no backup at {file}")
    fmt = file_format(file)
    if fmt == "pg_dump" and is_sqlite(url):
        raise BackupError(
            "a pg_dump file restores into PostgreSQL: restore it there, then "
            "`dutydesk db copy --to sqlite:///FILE` if SQLite is wanted"
        )
    engine = make_engine(url)
    try:
        found = nonempty(engine)
        if found and not force:
            raise TargetNotEmpty(found)
        if fmt == "sqlite" and is_sqlite(url):
            _sqlite_restore(file, sqlite_path(url))
        elif fmt == "sqlite":
            upgrade(url)
            _empty(engine)
            source = make_engine(f"sqlite:///{file}")
            try:
                copy_database(source, url)
            finally:
                source.dispose()
        else:
            _pg_restore(file, url)
    finally:
        engine.dispose()
    return fmt


def _sqlite_restore(file: Path, target: Path) -> None:
    src = sqlite3.connect(file)
    dst = sqlite3.connect(target)
    try:
        dst.execute("PRAGMA busy_timeout=10000")
        src.backup(dst)  # replaces every page of the target, in one transaction
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        names = ", ".join(t.name for t in tables())
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _pg_restore(file: Path, url: str) -> None:
    done = subprocess.run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={libpq_url(url)}",
            str(file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
