"""``backup``, ``restore``, ``export`` and ``db copy``: work on the local database
(``DUTYDESK_DATABASE_URL``) directly, not through the API."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from dutydesk.cli.client import emit, err, fail, get_settings, opts, out


def backup(
    file: Annotated[Path, typer.Argument(help="where to write the snapshot")],
) -> None:
    """A consistent snapshot of the database, safe while the server runs (SQLite: a database
    file; PostgreSQL: a pg_dump custom-format file)."""
    from dutydesk.backup.snapshot import BackupError
    from dutydesk.backup.snapshot import backup as take

    started = time.perf_counter()
    try:
        snap = take(get_settings().database_url, file)
    except BackupError as exc:
        raise fail(str(exc)) from exc
    emit(
        {
            "file": str(snap.path),
            "format": snap.format,
            "bytes": snap.bytes,
            "seconds": round(time.perf_counter() - started, 2),
        },
        lambda d: out.print(f"backup written to {d['file']} ({d['format']}, {d['bytes']} bytes)"),
    )


def restore(
    file: Annotated[Path, typer.Argument(help="a file `dutydesk backup` wrote")],
    force: Annotated[
        bool, typer.Option("--force", help="replace a database that already holds data")
    ] = False,
) -> None:
    """Put a backup in place of the configured database (stop servers and workers first)."""
    from dutydesk.backup.copy import CopyMismatch, TargetNotEmpty
    from dutydesk.backup.snapshot import BackupError
    from dutydesk.backup.snapshot import restore as put_back

    url = get_settings().database_url
    try:
        fmt = put_back(file, url, force=force)
    except TargetNotEmpty as exc:
        raise fail(f"{exc}; pass --force to replace it with the backup") from exc
    except (BackupError, CopyMismatch) as exc:
        raise fail(str(exc)) from exc
    emit(
        {"file": str(file), "format": fmt, "database": _shown(url)},
        lambda d: out.print(
            f"restored {d['file']} ({d['format']}) into {d['database']}; "
            "run `dutydesk db upgrade` if this dutydesk is newer than the backup"
        ),
    )


def export(
    file: Annotated[
        Path | None, typer.Argument(help="file to write (default: standard output)")
    ] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="one JSON object per ticket per line (the format)")
    ] = True,
) -> None:
    """Every ticket with its events and comments, in a stable order (diff two exports)."""
    from dutydesk.backup.export import export_jsonl
    from dutydesk.db import make_engine

    if not jsonl:
        raise fail("--jsonl is the one export format")
    engine = make_engine(get_settings().database_url)
    try:
        if file is None:
            n = export_jsonl(engine, sys.stdout)
        else:
            with open(file, "w", encoding="utf-8") as f:
                n = export_jsonl(engine, f)
    finally:
        engine.dispose()
    if file is not None:
        err.print(f"exported {n} tickets to {file}", highlight=False)


def db_copy(
    to: Annotated[str, typer.Option("--to", help="target, e.g. postgresql+psycopg://u@h/db")],
) -> None:
    """Copy this database into an empty one (SQLite to PostgreSQL), verified row by row."""
    from dutydesk.backup.copy import CopyMismatch, TargetNotEmpty, copy_database
    from dutydesk.db import make_engine

    source_url = get_settings().database_url
    if to == source_url:
        raise fail("--to names the database being copied; give another one")
    source = make_engine(source_url)

    def progress(table: str, n: int) -> None:
        if not opts.json and n:
            err.print(f"  {table}: {n} rows", highlight=False)

    try:
        report = copy_database(source, to, progress=progress)
    except TargetNotEmpty as exc:
        raise fail(f"{exc}; copy into a new, empty database") from exc
    except CopyMismatch as exc:
        raise fail(f"{exc}; the target was left as copied, for inspection") from exc
    finally:
        source.dispose()
    emit(
        {
            "to": _shown(to),
            "rows": report.rows,
            "tables": {t: {"rows": s.rows, "sha256": s.sha256} for t, s in report.tables.items()},
        },
        lambda d: out.print(
            f"copied {d['rows']} rows in {len(d['tables'])} tables to {d['to']}; "
            "every table's row count and checksum match the source"
        ),
    )


def _shown(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)
