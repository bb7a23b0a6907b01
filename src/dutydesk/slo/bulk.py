"""Bulk reads and writes of clock rows for :func:`dutydesk.slo.service.recompute`.

A calendar edit rewrites the clocks of every open ticket (100k rows is a normal desk-year).
SQLAlchemy's per-value processing (parsing SQLite's datetime strings with a regex, binding
every parameter through its type) costs more than the clock arithmetic itself, so this
path speaks to the driver directly, on the caller's connection and in its transaction.
The encoding is exactly SQLAlchemy's (``UTCDateTime`` stores naive UTC; SQLite keeps
``YYYY-MM-DD HH:MM:SS.ffffff`` text, which sorts and compares like the ORM's values), so
ORM and bulk rows are interchangeable; the tests run this path on SQLite and PostgreSQL.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dutydesk.slo.clocks import Clock, Facts, Pause

# Clock fields stored as instants (decoded and encoded here, not by SQLAlchemy).
_INSTANTS = frozenset(
    {
        "started_at",
        "due_at",
        "at_risk_at",
        "paused_at",
        "stopped_at",
        "met_at",
        "breached_at",
        "decided_at",
    }
)
_BOOLS = frozenset({"cadence", "business"})
_SQLITE_CACHE_KIB = 65536  # page cache while rewriting a desk's clocks (default is 2 MiB)

PausesJson = Callable[[Clock], list[list[Any]]]


class BulkIO:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.json_mark = "?" if self.sqlite else "CAST(%s AS JSON)"

    @contextmanager
    def bulk_mode(self) -> Iterator[None]:
        """Pause the cyclic GC (many short-lived objects, no cycles: each full collection
        would walk them all) and give SQLite a page cache that holds the clock indexes."""
        collecting = gc.isenabled()
        gc.disable()
        before = None
        if self.sqlite:
            before = self.conn.exec_driver_sql("PRAGMA cache_size").scalar()
            self.conn.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
        try:
            yield
        finally:
            if before is not None:
                self.conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
            if collecting:
                gc.enable()

    # ----------------------------------------------------------------- encoding

    def instant_in(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite: naive UTC text
            return datetime.fromisoformat(value + "+00:00")
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]

    def instant_out(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        if self.sqlite:  # "YYYY-MM-DD HH:MM:SS.ffffff", without the "+00:00"
            return value.isoformat(sep=" ", timespec="microseconds")[:26]
        return value.replace(tzinfo=None)

    @staticmethod
    def pauses_in(raw: Any) -> list[Pause]:
        if not raw or raw == "[]":
            return []
        items = json.loads(raw) if isinstance(raw, str) else raw
        parse = datetime.fromisoformat  # the JSON holds ISO 8601 with an offset
        return [(parse(a), parse(b) if b else None) for a, b, *_ in items]

    # ----------------------------------------------------------------- reading

    def open_tickets(self, desk: str) -> list[tuple[int, Facts]]:
        rows = self.conn.exec_driver_sql(
            "SELECT id, created_at, priority, kind, triaged_at, started_at, resolved_at, "
            f"last_update_at, blocked, blocked_at, in_queue FROM tickets WHERE desk = {self.mark} "
            "AND is_open",
            (desk,),
        ).fetchall()
        at = self.instant_in
        out = []
        for row in rows:
            tid, created, prio, kind, triaged, started, resolved, update, blocked, since, queued = (
                row
            )
            created_at = at(created)
            assert created_at is not None
            facts = Facts(
                created_at=created_at,
                is_open=True,
                priority=prio,
                kind=kind,
                triaged_at=at(triaged),
                started_at=at(started),
                resolved_at=at(resolved),
                last_update_at=at(update),
                blocked=bool(blocked),
                blocked_at=at(since),
                in_queue=bool(queued),
            )
            out.append((tid, facts))
        return out

    def clocks(self, desk: str, fields: Sequence[str]) -> list[tuple[int, Clock]]:
        """Running and paused clocks plus kept deadlines of the desk's open tickets."""
        cols = ", ".join(f"c.{f}" for f in fields)
        rows = self.conn.exec_driver_sql(
            f"SELECT c.id, c.ticket_id, c.pauses, {cols} FROM ticket_clocks c "
            "JOIN tickets t ON t.id = c.ticket_id "
            f"WHERE c.desk = {self.mark} AND t.is_open AND (c.state <> 'stopped' "
            "OR (NOT c.cadence AND c.outcome IN ('met', 'breached'))) ORDER BY c.id",
            (desk,),
        ).fetchall()
        decoders = [
            self.instant_in if f in _INSTANTS else bool if f in _BOOLS else None for f in fields
        ]
        out = []
        for row in rows:
            values: dict[str, Any] = {
                f: (dec(v) if dec is not None and v is not None else v)
                for f, dec, v in zip(fields, decoders, row[3:], strict=True)
            }
            c = Clock(**values)
            c.pauses = self.pauses_in(row[2])
            c.id = row[0]
            out.append((row[1], c))
        return out

    def active_clocks(self, desk: str) -> list[Clock]:
        """The desk's running and paused clocks (only open tickets have any), with the
        columns a reschedule needs; one range of the (desk, state, ...) indexes."""
        rows = self.conn.exec_driver_sql(
            "SELECT id, pauses, name, rule, target, cadence, business, started_at, "
            "target_seconds, at_risk_fraction, due_at, at_risk_at, state, paused_at, "
            f"paused_seconds FROM ticket_clocks WHERE desk = {self.mark} "
            "AND state IN ('running', 'paused')",
            (desk,),
        ).fetchall()
        at = self.instant_in
        out = []
        for (
            cid,
            pauses,
            name,
            rule,
            target,
            cadence,
            business,
            started,
            seconds,
            fraction,
            due,
            risk,
            state,
            paused_at,
            paused_seconds,
        ) in rows:
            started_at = at(started)
            assert started_at is not None
            c = Clock(
                name,
                rule,
                target,
                bool(cadence),
                bool(business),
                started_at,
                seconds,
                fraction,
                due_at=at(due),
                at_risk_at=at(risk),
                state=state,
                paused_at=at(paused_at),
                paused_seconds=paused_seconds,
                id=cid,
            )
            if pauses and pauses != "[]":
                c.pauses = self.pauses_in(pauses)
            out.append(c)
        return out

    # ----------------------------------------------------------------- writing

    def _encoders(self, fields: Sequence[str]) -> list[Callable[[Any], Any] | None]:
        return [self.instant_out if f in _INSTANTS else None for f in fields]

    def update(
        self, fields: Sequence[str], clocks: Sequence[Clock], pauses: PausesJson | None
    ) -> None:
        """UPDATE ticket_clocks SET `fields` (and pauses, given how to render them) by id,
        in id order (fewer page hops)."""
        if not clocks:
            return
        sets = [f"{f} = {self.mark}" for f in fields]
        if pauses is not None:
            sets.append(f"pauses = {self.json_mark}")
        encoders = self._encoders(fields)
        params = []
        for c in sorted(clocks, key=lambda c: c.id or 0):
            row = [
                enc(v) if enc is not None and v is not None else v
                for enc, v in zip(encoders, [getattr(c, f) for f in fields], strict=True)
            ]
            if pauses is not None:
                row.append(json.dumps(pauses(c)) if c.pauses else "[]")
            row.append(c.id)
            params.append(tuple(row))
        self.conn.exec_driver_sql(
            f"UPDATE ticket_clocks SET {', '.join(sets)} WHERE id = {self.mark}",
            params,
        )

    def insert(
        self,
        desk: str,
        fields: Sequence[str],
        rows: Sequence[tuple[int, Clock]],
        pauses: PausesJson,
    ) -> None:
        """INSERT new clocks: (ticket_id, clock) pairs of `desk`."""
        if not rows:
            return
        names = ", ".join(["ticket_id", "desk", *fields, "pauses"])
        marks = ", ".join([self.mark] * (len(fields) + 2) + [self.json_mark])
        encoders = self._encoders(fields)
        params = []
        for ticket_id, c in rows:
            values = [
                enc(v) if enc is not None and v is not None else v
                for enc, v in zip(encoders, [getattr(c, f) for f in fields], strict=True)
            ]
            params.append((ticket_id, desk, *values, json.dumps(pauses(c))))
        self.conn.exec_driver_sql(
            f"INSERT INTO ticket_clocks ({names}) VALUES ({marks})",
            params,
        )
