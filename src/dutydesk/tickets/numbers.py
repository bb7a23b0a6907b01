"""Ticket numbers per desk: where they come from on each engine.

SQLite has one writer, so the `desk_counters` row is the source and numbers never skip.
On PostgreSQL a counter row would be locked from the moment a number is taken until the
filing commits, and every other filing on the desk would queue behind it (intake did not
grow with a second replica). There each desk has its own sequence: `nextval` holds no lock,
at the price that a filing rolled back after taking its number leaves a gap — the trade-off
every database-backed tracker makes.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, text, update

from dutydesk.db import Prepared
from dutydesk.tickets.models import DeskCounter, Ticket

_COUNTERS: Table = DeskCounter.__table__  # type: ignore[assignment]
_TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
_TAKE_NUMBER = Prepared(
    update(_COUNTERS)
    .where(_COUNTERS.c.desk == bindparam("for_desk"))
    .values(next_number=_COUNTERS.c.next_number + 1)
    .returning(_COUNTERS.c.next_number)
)
# Per database, the desks whose sequence this process has made sure of (policy desks are
# synced at start-up).
_SEQUENCE_LOCK = 0x6475747964657331  # pg_advisory_xact_lock key of sequence creation
_SEQUENCED: WeakKeyDictionary[Engine, set[str]] = WeakKeyDictionary()


def _known(conn: Connection, desk: str) -> bool:
    return desk in _SEQUENCED.get(conn.engine, ())


def sequence_name(desk: str) -> str:
    """Desk names are `[a-z][a-z0-9_-]{0,39}` (policy), so the name is short and safe once
    quoted."""
    return f'"desk_number_{desk}"'


def take_number(conn: Connection, desk: str) -> int:
    """The desk's next ticket number, in one statement."""
    if conn.dialect.name == "postgresql":
        if not _known(conn, desk):
            ensure_sequence(conn, desk)
        return int(conn.execute(text(f"SELECT nextval('{sequence_name(desk)}')")).scalar_one())
    taken = _TAKE_NUMBER.execute(conn, {"for_desk": desk}).scalar()
    if taken is None:  # a desk added to the policy since the server synced it
        conn.execute(insert(_COUNTERS), {"desk": desk, "next_number": 2})
        return 1
    return int(taken) - 1


def take_numbers(conn: Connection, desk: str, count: int) -> list[int]:
    """`count` numbers for a bulk insert (demo data): consecutive on SQLite; on PostgreSQL
    unique and increasing, though concurrent filings may interleave."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        if not _known(conn, desk):
            ensure_sequence(conn, desk)
        rows = conn.execute(
            text(f"SELECT nextval('{sequence_name(desk)}') FROM generate_series(1, :n)"),
            {"n": count},
        )
        return sorted(int(r[0]) for r in rows)
    first = take_number(conn, desk)
    conn.execute(
        update(_COUNTERS)
        .where(_COUNTERS.c.desk == desk)
        .values(next_number=_COUNTERS.c.next_number + count - 1)
    )
    return list(range(first, first + count))


def ensure_sequence(conn: Connection, desk: str) -> None:
    """Create the desk's sequence if missing and move it past every number in use (a copy,
    restore or bulk insert may have written numbers without it). It only ever moves forward,
    and only when it is behind the data, so live filings are never handed a used number."""
    seq = sequence_name(desk)
    _one_at_a_time(conn)
    # Owned by the counter column, so it goes with the table (drop, TRUNCATE … RESTART IDENTITY).
    conn.execute(
        text(
            f"CREATE SEQUENCE IF NOT EXISTS {seq} MINVALUE 1 START 1 "
            "OWNED BY desk_counters.next_number"
        )
    )
    used = conn.execute(select(func.max(_TICKETS.c.number)).where(_TICKETS.c.desk == desk)).scalar()
    counted = conn.execute(select(_COUNTERS.c.next_number).where(_COUNTERS.c.desk == desk)).scalar()
    floor = max(int(used or 0), int(counted or 1) - 1)
    if floor > 0:
        conn.execute(
            text(
                f"SELECT setval('{seq}', :floor) FROM {seq} "
                "WHERE NOT is_called OR last_value < :floor"
            ),
            {"floor": floor},
        )
    _SEQUENCED.setdefault(conn.engine, set()).add(desk)


def _one_at_a_time(conn: Connection) -> None:
    """Replicas starting together would race to create the same counter row or sequence
    (CREATE … IF NOT EXISTS is not safe against a concurrent creator): one at a time, until
    the transaction ends."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEQUENCE_LOCK})


def sync_counters(conn: Connection, desks: list[str]) -> None:
    """At start-up: every policy desk has its counter row, and (PostgreSQL) its sequence,
    ahead of every number already in use (copies, restores)."""
    if conn.dialect.name == "postgresql":
        _one_at_a_time(conn)
    for desk in desks:
        used = conn.execute(
            select(func.max(_TICKETS.c.number)).where(_TICKETS.c.desk == desk)
        ).scalar()
        need = int(used or 0) + 1
        counted = conn.execute(
            select(_COUNTERS.c.next_number).where(_COUNTERS.c.desk == desk)
        ).scalar()
        if counted is None:
            conn.execute(insert(_COUNTERS), {"desk": desk, "next_number": need})
        elif int(counted) < need:
            conn.execute(update(_COUNTERS).where(_COUNTERS.c.desk == desk).values(next_number=need))
        if conn.dialect.name == "postgresql":
            ensure_sequence(conn, desk)
