"""``dutydesk db copy --to URL``: move an installation to another database (the embedded
SQLite to PostgreSQL, usually), verified row by row.

The target is migrated to the current schema and must hold no rows. Every table is copied in
one transaction on the target, read from one snapshot of the source, parents before
children; the search index is rebuilt from the copied tickets; PostgreSQL's id sequences are
moved past the copied ids. Then each table's row count and checksum are compared, read from
the same source snapshot the copy read: a difference is reported and the command fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, text, update
from sqlalchemy.orm import Session

from dutydesk.backup.tables import TableSum, checksum, nonempty, rows, tables
from dutydesk.db import make_engine
from dutydesk.migrate import upgrade
from dutydesk.tickets import search
from dutydesk.tickets.models import Ticket


class TargetNotEmpty(Exception):
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        listed = ", ".join(f"{t} ({n} rows)" for t, n in sorted(counts.items())[:5])
        super().__init__(f"the target database is not empty: {listed}")


class CopyMismatch(Exception):
    pass


@dataclass
class CopyReport:
    tables: dict[str, TableSum] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.tables.values())


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read of the whole database: SQLite's read transaction holds one WAL
    snapshot; PostgreSQL needs REPEATABLE READ for every statement to see the same one."""
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1")  # take the snapshot
        yield conn


def copy_database(
    source: Engine,
    target_url: str,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every row of ``source`` into the empty database at ``target_url`` and verify it."""
    upgrade(target_url)
    target = make_engine(target_url)
    try:
        found = nonempty(target)
        if found:
            raise TargetNotEmpty(found)
        with snapshot(source) as src:
            with target.begin() as dst:
                for table in tables():
                    n = _copy_table(src, dst, table)
                    if progress:
                        progress(table.name, n)
                _rebuild_search(dst)
                if target.dialect.name == "postgresql":
                    _move_sequences(dst)
            return verify(src, target)
    finally:
        target.dispose()


def verify(src: Connection, target: Engine) -> CopyReport:
    """Compare every table's count and checksum; raise ``CopyMismatch`` naming the tables."""
    report = CopyReport()
    wrong = []
    with snapshot(target) as dst:
        for table in tables():
            mine, theirs = checksum(src, table), checksum(dst, table)
            report.tables[table.name] = theirs
            if mine != theirs:
                wrong.append(f"{table.name}: {mine.rows} rows in the source, {theirs.rows} copied")
    if wrong:
        raise CopyMismatch("the copy differs from the source: " + "; ".join(wrong))
    return report


def _self_references(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _copy_table(src: Connection, dst: Connection, table: Table) -> int:
    """Rows in key order; a column that refers to the same table (a ticket that duplicates a
    later one) is filled in afterwards, so no row points at one not yet copied."""
    later = _self_references(table)
    (pk,) = table.primary_key.columns if len(table.primary_key.columns) == 1 else (None,)
    fixups: list[dict[str, Any]] = []
    count = 0
    for part in rows(src, table):
        batch = [dict(row._mapping) for row in part]
        if later and pk is not None:
            for row in batch:
                refs = {c: row[c] for c in later if row[c] is not None}
                if refs:
                    fixups.append({"_pk": row[pk.name], **refs})
                    row.update(dict.fromkeys(refs))
        dst.execute(insert(table), batch)
        count += len(batch)
    for fix in fixups:
        assert pk is not None
        key = fix.pop("_pk")
        dst.execute(update(table).where(pk == key).values(**fix))
    return count


def _rebuild_search(dst: Connection) -> None:
    """The search index is derived data: build it from the copied tickets, as a change does."""
    with Session(bind=dst) as session:
        last = 0
        while True:
            batch = session.scalars(
                select(Ticket).where(Ticket.id > last).order_by(Ticket.id).limit(500)
            ).all()
            if not batch:
                return
            for ticket in batch:
                search.reindex(session, ticket)
            last = batch[-1].id
            session.expunge_all()


def _move_sequences(dst: Connection) -> None:
    """Rows were copied with their ids: the next id each sequence hands out comes after them."""
    for table in tables():
        cols = list(table.primary_key.columns)
        if len(cols) != 1 or not cols[0].autoincrement or cols[0].type.python_type is not int:
            continue
        name = cols[0].name
        dst.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                f"coalesce((SELECT max({name}) FROM {table.name}), 0) + 1, false)"
            ),
            {"t": table.name, "c": name},
        )
