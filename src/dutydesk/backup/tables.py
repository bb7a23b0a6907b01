"""What a copy or a checksum walks: every table of the schema, parents before children, each
row normalised so that the same data reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, inspect, select

from dutydesk import models


def tables() -> list[Table]:
    """Every table dutydesk keeps, in foreign-key order (a table after those it refers to).
    The search index (FTS5 table, tsvector column) is not among them: it is rebuilt."""
    return list(models.Base.metadata.sorted_tables)


def rows(conn: Connection, table: Table, chunk: int = 2000) -> Iterator[Sequence[Any]]:
    """The table's rows in primary-key order, streamed in chunks."""
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    yield from result.partitions(chunk)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class TableSum:
    rows: int
    sha256: str


def checksum(conn: Connection, table: Table) -> TableSum:
    """Count and SHA-256 of the table's rows, each as JSON of its typed values, in key order."""
    digest = hashlib.sha256()
    count = 0
    for part in rows(conn, table):
        for row in part:
            line = json.dumps([_plain(v) for v in row], default=str, sort_keys=True)
            digest.update(line.encode())
            digest.update(b"\n")
            count += 1
    return TableSum(count, digest.hexdigest())


def nonempty(engine: Engine) -> dict[str, int]:
    """Tables of the schema that exist and hold rows, with their counts."""
    present = set(inspect(engine).get_table_names())
    found = {}
    with engine.connect() as conn:
        for table in tables():
            if table.name in present:
                n = conn.execute(select(func.count()).select_from(table)).scalar_one()
                if n:
                    found[table.name] = int(n)
    return found
