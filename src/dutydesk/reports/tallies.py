"""Hourly tallies: what the reports would otherwise count event by event, kept per desk, UTC
hour and key in the transaction of each ticket change (the ``report_tallies`` rows).

Two kinds, both exact functions of a ticket's current desk, priority, status and filing instant
and of its events (:func:`ticket_rows` says how; a test recounts every row from the events):

* ``flow`` — for cumulative flow: +1 in column ``a``, priority ``b`` when a ticket arrives
  there, -1 when it leaves, at the instant ``max(event, filing)``; a ticket's filing holds its
  first column (its current one with every status change undone). Summed over all hours the
  rows give the tickets in each column now; summed up to an instant, those at that instant.
* ``did`` — events by actor ``a`` (user id) of what ``b``: ``triaged``, ``commented``,
  ``assignee`` (an assignment) and ``status:<column>`` (a move into that column), at the event.

Rows belong to the ticket's *current* desk and priority, as the reports count: a change of
either moves every row the ticket contributed (:func:`follow`). A report asks for sums
between instants (:func:`summed`); an instant inside an hour (a zone with a half-hour offset,
or now) splits that hour, whose rows it leaves out so the caller counts those few minutes from
the events themselves (:func:`split_hours`).

Written by the recorder (:class:`dutydesk.tickets.recorder.TicketChange`), filing and the
importer; bulk loads and upgrades fill them with :func:`rebuild` (``dutydesk report rebuild``).
This module has no report logic, so any report may keep its own kind here.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dutydesk.db import Prepared
from dutydesk.reports.buckets import bucket_index
from dutydesk.reports.models import ReportTally
from dutydesk.tickets.models import Event, Ticket

FLOW, DID = "flow", "did"
HOUR = timedelta(hours=1)
NONE = ""  # no priority, no column, no actor
_TALLIES: Table = ReportTally.__table__  # type: ignore[assignment]
_DID_TYPES = ("triaged", "commented")
_DID_FIELDS = ("status", "assignee")

Key = tuple[str, str, datetime, str, str]  # desk, kind, hour, a, b
SHARDS = 32


def _upsert(insert_: Any) -> Prepared:
    stmt = insert_(_TALLIES)
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["desk", "kind", "hour", "a", "b", "shard"],
            set_={"n": _TALLIES.c.n + stmt.excluded.n},
        ),
        ("desk", "kind", "hour", "a", "b", "shard", "n"),
    )


# Compiled once per dialect: every ticket change adds a few rows (see ``Prepared``).
_ADD = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


class EventLike(Protocol):
    at: datetime
    actor_id: int | None
    type: str
    field: str | None
    before: Any
    after: Any


def hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _text(value: Any) -> str:
    return NONE if value is None else str(value)


def did_what(type_: str, field: str | None, after: Any) -> str | None:
    """What a ``did`` row counts an event as, or None when it counts nothing."""
    if type_ in _DID_TYPES:
        return type_
    if type_ == "changed" and field == "assignee":
        return "assignee"
    if type_ == "changed" and field == "status":
        return f"status:{_text(after)}"
    return None


def _event_rows(desk: str, priority: str | None, created: datetime, e: EventLike) -> Counter[Key]:
    out: Counter[Key] = Counter()
    if e.type == "changed" and e.field == "status":
        hour = hour_of(max(e.at, created))
        out[(desk, FLOW, hour, _text(e.after), _text(priority))] += 1
        out[(desk, FLOW, hour, _text(e.before), _text(priority))] -= 1
    what = did_what(e.type, e.field, e.after)
    if what is not None:
        out[(desk, DID, hour_of(e.at), _text(e.actor_id), what)] += 1
    return out


def ticket_rows(
    desk: str,
    priority: str | None,
    status: str | None,
    created: datetime,
    events: Iterable[EventLike],
) -> Counter[Key]:
    """Every row one ticket contributes, from its state and all its events."""
    out: Counter[Key] = Counter()
    first = Counter({_text(status): 1})  # its current column with every status change undone
    for e in events:
        out.update(_event_rows(desk, priority, created, e))
        if e.type == "changed" and e.field == "status":
            first[_text(e.after)] -= 1
            first[_text(e.before)] += 1
    filed = hour_of(created)
    for column, n in first.items():
        out[(desk, FLOW, filed, column, _text(priority))] += n
    return out


def add(session: Session, rows: Mapping[Key, int]) -> None:
    """Add to the stored counts (one upsert per row; zero changes are skipped)."""
    conn = session.connection()
    # PostgreSQL: each transaction adds to one of SHARDS rows per key, so concurrent changes
    # of a desk in the same hour rarely wait for each other's commit (SQLite has one writer).
    shard = random.randrange(SHARDS) if conn.dialect.name == "postgresql" else 0
    values = [
        {"desk": d, "kind": k, "hour": h, "a": a, "b": b, "shard": shard, "n": n}
        for (d, k, h, a, b), n in sorted(rows.items())  # one lock order: no deadlock
        if n
    ]
    if not values:
        return
    _ADD[conn.dialect.name].executemany(conn, values)


class TicketState(Protocol):
    id: int
    desk: str
    priority: str | None
    status: str
    created_at: datetime


def follow(
    session: Session,
    ticket: TicketState,
    was: tuple[str, str | None, str] | None,
    events: Sequence[EventLike],
) -> None:
    """After a change to ``ticket`` that wrote ``events``: the rows follow. ``was`` is the
    ticket's (desk, priority, status) before the change, None for a ticket just created
    (``events`` then being its whole history)."""
    if was is None:
        add(
            session,
            ticket_rows(ticket.desk, ticket.priority, ticket.status, ticket.created_at, events),
        )
        return
    desk, priority = ticket.desk, ticket.priority
    if (was[0], was[1]) == (desk, priority):
        out: Counter[Key] = Counter()
        for e in events:
            out.update(_event_rows(desk, priority, ticket.created_at, e))
        add(session, out)
        return
    # Another desk or priority: everything the ticket counted moves to the new keys.
    stored = list(
        session.execute(
            select(
                Event.seq,
                Event.at,
                Event.actor_id,
                Event.type,
                Event.field,
                Event.before,
                Event.after,
            )
            .where(Event.ticket_id == ticket.id)
            .order_by(Event.seq)
        )
    )
    fresh = {getattr(e, "seq", None) for e in events}
    before = [e for e in stored if e.seq not in fresh]
    out = ticket_rows(desk, priority, ticket.status, ticket.created_at, stored)
    out.subtract(ticket_rows(was[0], was[1], was[2], ticket.created_at, before))
    add(session, out)


# ----------------------------------------------------------------------------- rebuilding


def _sql(dialect: str) -> dict[str, str]:
    if dialect == "postgresql":
        return {
            "hour": "date_trunc('hour', {})",
            "later": "greatest({}, {})",
            "json": "({} #>> '{{}}')",
            "int": "CAST({} AS TEXT)",
        }
    return {
        "hour": "strftime('%Y-%m-%d %H:00:00.000000', {})",
        "later": "max({}, {})",
        "json": "json_extract({}, '$')",
        "int": "CAST({} AS TEXT)",
    }


def rebuild(session: Session, desks: Sequence[str] | None = None) -> dict[str, int]:
    """Recount every row of ``desks`` (all when None) from the tickets and events, in SQL:
    after a bulk load, an upgrade, or to check the kept rows. Per desk, rows written."""
    conn = session.connection()
    q = _sql(conn.dialect.name)
    if desks is None:
        names = sorted(session.scalars(select(Ticket.desk).distinct()))
        session.execute(delete(ReportTally))
    else:
        names = list(desks)
        session.execute(delete(ReportTally).where(ReportTally.desk.in_(names)))
    written: dict[str, int] = {}
    for desk in names:
        after, before = q["json"].format("e.after"), q["json"].format("e.before")
        created_hour = q["hour"].format("t.created_at")
        moved_hour = q["hour"].format(q["later"].format("e.at", "t.created_at"))
        prio = "COALESCE(t.priority, '')"
        status = "e.type = 'changed' AND e.field = 'status'"
        flow = f"""
            SELECT {created_hour} AS hour, COALESCE(t.status, '') AS a, {prio} AS b, 1 AS n
              FROM tickets t WHERE t.desk = :desk
            UNION ALL
            SELECT {created_hour}, COALESCE({after}, ''), {prio}, -1
              FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.desk = :desk AND {status}
            UNION ALL
            SELECT {created_hour}, COALESCE({before}, ''), {prio}, 1
              FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.desk = :desk AND {status}
            UNION ALL
            SELECT {moved_hour}, COALESCE({after}, ''), {prio}, 1
              FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.desk = :desk AND {status}
            UNION ALL
            SELECT {moved_hour}, COALESCE({before}, ''), {prio}, -1
              FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.desk = :desk AND {status}
        """
        what = (
            "CASE WHEN e.type IN ('triaged', 'commented') THEN e.type"
            " WHEN e.field = 'assignee' THEN 'assignee'"
            f" ELSE 'status:' || COALESCE({after}, '') END"
        )
        did = f"""
            SELECT {q["hour"].format("e.at")} AS hour, COALESCE({q["int"].format("e.actor_id")}, '') AS a,
                   {what} AS b, 1 AS n
              FROM events e JOIN tickets t ON t.id = e.ticket_id
             WHERE t.desk = :desk AND (e.type IN ('triaged', 'commented')
                   OR (e.type = 'changed' AND e.field IN ('status', 'assignee')))
        """
        n = 0
        for kind, body in ((FLOW, flow), (DID, did)):
            result = session.execute(
                text(
                    "INSERT INTO report_tallies (desk, kind, hour, a, b, n) "
                    f"SELECT :desk, '{kind}', x.hour, x.a, x.b, sum(x.n) FROM ({body}) x "
                    "GROUP BY x.hour, x.a, x.b HAVING sum(x.n) != 0"
                ),
                {"desk": desk},
            )
            n += max(0, int(getattr(result, "rowcount", 0) or 0))
        written[desk] = n
    return written


# ----------------------------------------------------------------------------- reading


def split_hours(edges: Sequence[datetime]) -> list[datetime]:
    """The hours an edge falls inside (not on their start): their rows cannot be sorted
    between the edges, so :func:`summed` leaves them out for the caller to count."""
    return sorted({hour_of(e) for e in edges if hour_of(e) != e})


def summed(
    session: Session,
    desk: str,
    kind: str,
    edges: Sequence[datetime],
    *,
    a: Sequence[str] | None = None,
    b: Sequence[str] | None = None,
    open_end: bool = False,
) -> list[tuple[int, str, str, int]]:
    """(i, a, b, sum) over the rows of the hours wholly inside [edges[i], edges[i+1]), and
    with ``open_end`` those from edges[-1] on as i = len(edges) - 1; the hours of
    :func:`split_hours` left out. ``a`` and ``b`` narrow the keys."""
    if not edges:
        return []
    dialect = session.get_bind().dialect.name
    bucket = bucket_index(ReportTally.hour, edges, dialect)
    where = [
        ReportTally.desk == desk,
        ReportTally.kind == kind,
        ReportTally.hour >= hour_of(edges[0]),
    ]
    if not open_end:
        where.append(ReportTally.hour < edges[-1])
    split = split_hours(edges)
    if split:
        where.append(ReportTally.hour.not_in(split))
    if a is not None:
        where.append(ReportTally.a.in_(list(a)))
    if b is not None:
        where.append(ReportTally.b.in_(list(b)))
    rows = session.execute(
        select(bucket, ReportTally.a, ReportTally.b, func.sum(ReportTally.n))
        .where(*where)
        .group_by(bucket, ReportTally.a, ReportTally.b)
    ).all()
    return [(int(i), x, y, int(n)) for i, x, y, n in rows if n]
