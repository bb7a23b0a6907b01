"""Outbox rows: writing them (deduplicated), claiming them, recording what happened.

Claiming a message moves its ``due_at`` to the end of a lease (``claimed_until``): the only
query the worker runs to find work is ``state = 'pending' AND due_at <= now`` on the
``(state, due_at)`` index, and a worker killed mid-delivery simply lets the lease run out.
On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED`` so workers never wait on each other; on
SQLite the write transaction (``BEGIN IMMEDIATE``) is the single writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dutydesk.db import Database, Prepared
from dutydesk.errors import NotFound, field_error
from dutydesk.notify.models import (
    DEAD,
    DELIVERED,
    EXPIRED,
    MESSAGE,
    PARKED,
    PENDING,
    SKIPPED,
    STATES,
    OutboxMessage,
)
from dutydesk.notify.rows import OutboxRow

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
TOO_OLD = "older than notify.expire_after"


def dialect_insert(session: Session, table: Any) -> Any:
    """INSERT with ON CONFLICT support, for whichever engine the session is on."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


_ROW_COLUMNS = (
    "kind",
    "dedupe_key",
    "due_at",
    "payload",
    "attempts",
    "created_at",
    "state",
    "channel",
    "recipient",
    "desk",
    "delivery_id",
)
_INSERT_IGNORE = {
    name: Prepared(
        insert_(OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]), _ROW_COLUMNS
    )
    for name, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def insert_ignore(session: Session, rows: Sequence[OutboxRow]) -> int:
    """Insert rows whose dedupe_key is new; rows already there are left alone (same period)."""
    if not rows:
        return 0
    # Core executemany on the table: no ORM bookkeeping in the hot (ticket) transaction, and
    # one statement object per dialect, so every filing reuses its compiled form.
    conn = session.connection()
    result = _INSERT_IGNORE[conn.dialect.name].executemany(conn, [r.params() for r in rows])
    return max(0, int(getattr(result, "rowcount", 0) or 0))


def _locking(session: Session, stmt: Select[Any], *, skip_locked: bool) -> Select[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=skip_locked)
    return stmt


def due(session: Session, kind: str, now: datetime, limit: int) -> list[OutboxMessage]:
    """Pending rows of one kind due by ``now``, locked for this transaction (others skip them)."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.state == PENDING,
            OutboxMessage.due_at <= now,
            OutboxMessage.kind == kind,
        )
        .order_by(OutboxMessage.due_at)  # the index order: a LIMIT stops early on every engine
        .limit(limit)
    )
    return list(session.scalars(_locking(session, stmt, skip_locked=True)))


def due_recipients(session: Session, kind: str, now: datetime, limit: int) -> list[str]:
    stmt = (
        select(OutboxMessage.recipient)
        .where(
            OutboxMessage.state == PENDING,
            OutboxMessage.due_at <= now,
            OutboxMessage.kind == kind,
        )
        .order_by(OutboxMessage.due_at)
        .limit(limit)
    )
    return list(dict.fromkeys(r for r in session.scalars(stmt) if r is not None))


def pending_for(session: Session, recipient: str, kind: str, now: datetime) -> list[OutboxMessage]:
    """Every pending row of one recipient, locked in id order (two folders queue, no deadlock)."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.recipient == recipient,
            OutboxMessage.state == PENDING,
            OutboxMessage.kind == kind,
            OutboxMessage.created_at <= now,
        )
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(_locking(session, stmt, skip_locked=False)))


@dataclass(frozen=True)
class Claim:
    id: int
    kind: str
    channel: str | None
    recipient: str | None
    desk: str | None
    payload: dict[str, Any]
    attempts: int
    delivery_id: str
    token: datetime  # our lease; results are written only while we still hold it
    created_at: datetime


def claim_messages(db: Database, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    """Claim up to ``limit`` due messages for ``lease``; each claim counts as an attempt.

    Two statements whatever the batch size: the locking SELECT and one UPDATE. Core rows,
    not ORM objects: the worker needs the values, not identity-mapped entities.
    """
    token = now + lease
    t = OUTBOX.c
    with db.write() as s:
        stmt = (
            select(
                t.id,
                t.kind,
                t.channel,
                t.recipient,
                t.desk,
                t.payload,
                t.attempts,
                t.delivery_id,
                t.created_at,
            )
            .where(t.state == PENDING, t.due_at <= now, t.kind == MESSAGE)
            .order_by(t.due_at)  # the index order: a LIMIT stops early on every engine
            .limit(limit)
        )
        conn = s.connection()
        rows = conn.execute(_locking(s, stmt, skip_locked=True)).all()
        if not rows:
            return []
        ids = {r.id: r.delivery_id for r in rows}
        for rid, did in ids.items():
            if did is None:  # rows written before delivery ids existed
                ids[rid] = str(uuid.uuid4())
                conn.execute(update(OUTBOX).where(t.id == rid).values(delivery_id=ids[rid]))
        conn.execute(
            update(OUTBOX)
            .where(t.id.in_(list(ids)))
            .values(due_at=token, claimed_until=token, attempts=t.attempts + 1)
        )
        return [
            Claim(
                r.id,
                r.kind,
                r.channel,
                r.recipient,
                r.desk,
                dict(r.payload),
                r.attempts + 1,
                ids[r.id],
                token,
                r.created_at,
            )
            for r in rows
        ]


def park_unconfigured(
    session: Session, now: datetime, reasons: Mapping[str, str], limit: int
) -> tuple[int, int]:
    """Park up to ``limit`` due messages whose channel is not configured here, unclaimed.

    ``reasons`` maps such a channel to why. Claiming these rows only to park them one by one
    would cost a lease, a thread hand-off and an UPDATE per row; here it is one SELECT and an
    UPDATE per reason, with the same result: parked (or expired, if too old to be worth
    sending, as a delivery attempt would have found), the attempt count untouched, until an
    admin retries them. Rows another worker holds are not due (their ``due_at`` is their
    lease), and on PostgreSQL rows being claimed right now are skipped, as a claim would.
    Returns (parked, expired).
    """
    if not reasons:
        return 0, 0
    t = OUTBOX.c
    stmt = (
        select(t.id, t.channel, t.payload)
        .where(t.state == PENDING, t.due_at <= now, t.kind == MESSAGE, t.channel.in_(list(reasons)))
        .order_by(t.due_at)
        .limit(limit)
    )
    conn = session.connection()
    expired: list[int] = []
    by_reason: dict[str, list[int]] = {}
    for r in conn.execute(_locking(session, stmt, skip_locked=True)):
        raw = (r.payload or {}).get("expires_at")
        if raw is not None and datetime.fromisoformat(str(raw)) < now:
            expired.append(r.id)
        else:
            by_reason.setdefault(reasons[r.channel], []).append(r.id)
    for state, note, ids in [(EXPIRED, TOO_OLD, expired)] + [
        (PARKED, reason, ids) for reason, ids in by_reason.items()
    ]:
        if ids:
            conn.execute(
                update(OUTBOX)
                .where(t.id.in_(ids))
                .values(state=state, claimed_until=None, last_error=note[:2000])
            )
    return sum(len(ids) for ids in by_reason.values()), len(expired)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to; :func:`record` writes a batch of them in one transaction."""

    claim: Claim
    state: str  # DELIVERED, PENDING (retry at ``retry_at``), DEAD, PARKED or EXPIRED
    at: datetime
    error: str | None = None
    retry_at: datetime | None = None


def record(db: Database, outcomes: Sequence[Outcome]) -> None:
    """Write what happened to a batch of claimed messages.

    Delivered is delivered: recorded even if our lease ran out meanwhile. Anything else is
    written only while we still hold the lease (another worker may have the row by now).
    Parking and expiry give the attempt back: they are not delivery failures. At most one
    statement per kind of outcome (an executemany for the others): a batch of failures
    costs no more round trips than a batch of successes.
    """
    if not outcomes:
        return
    t = OUTBOX.c
    done = [o for o in outcomes if o.state == DELIVERED]
    held = and_(
        t.id == bindparam("o_id", type_=t.id.type),
        t.state == PENDING,
        t.claimed_until == bindparam("o_token", type_=t.claimed_until.type),
    )
    error = bindparam("o_error", type_=t.last_error.type)
    statements = {
        PENDING: update(OUTBOX)
        .where(held)
        .values(
            claimed_until=None, last_error=error, due_at=bindparam("o_at", type_=t.due_at.type)
        ),
        DEAD: update(OUTBOX)
        .where(held)
        .values(
            claimed_until=None,
            last_error=error,
            state=DEAD,
            dead_at=bindparam("o_at", type_=t.dead_at.type),
        ),
    }
    for given_back in (PARKED, EXPIRED):
        statements[given_back] = (
            update(OUTBOX)
            .where(held)
            .values(claimed_until=None, last_error=error, state=given_back, attempts=t.attempts - 1)
        )
    params: dict[str, list[dict[str, Any]]] = {}
    for o in outcomes:
        if o.state == DELIVERED:
            continue
        p = {"o_id": o.claim.id, "o_token": o.claim.token, "o_error": (o.error or "")[:2000]}
        if o.state in (PENDING, DEAD):
            p["o_at"] = (o.retry_at or o.at) if o.state == PENDING else o.at
        params.setdefault(o.state, []).append(p)
    with db.write() as s:
        conn = s.connection()
        if done:  # the common case, in one statement
            conn.execute(
                update(OUTBOX)
                .where(t.id.in_([o.claim.id for o in done]), t.state == PENDING)
                .values(
                    state=DELIVERED,
                    delivered_at=max(o.at for o in done),
                    claimed_until=None,
                    last_error=None,
                )
            )
        for state, rows in params.items():
            conn.execute(statements[state], rows)


# ----------------------------------------------------------------------------- admin


def listing(
    session: Session, state: str | None, limit: int, cursor: int | None, kind: str | None = None
) -> tuple[list[OutboxMessage], int | None]:
    if state is not None and state not in STATES:
        raise field_error("state", f"use one of {', '.join(STATES)}")
    if not 1 <= limit <= 200:
        raise field_error("limit", "use 1 to 200")
    stmt = select(OutboxMessage)
    if state is not None:
        stmt = stmt.where(OutboxMessage.state == state)
    if kind is not None:
        stmt = stmt.where(OutboxMessage.kind == kind)
    if cursor is not None:
        stmt = stmt.where(OutboxMessage.id < cursor)
    rows = list(session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit + 1)))
    nxt = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], nxt


def counts(session: Session) -> dict[str, int]:
    found = dict(
        session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        ).all()
    )
    return {state: int(found.get(state, 0)) for state in STATES}


def count_of(session: Session, states: Sequence[str]) -> dict[str, int]:
    """Rows in each of a few states, one index range each: the small states (dead, parked,
    pending) are counted without walking the delivered history."""
    return {
        st: int(
            session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == st)
            )
            or 0
        )
        for st in states
    }


def retry(
    session: Session,
    now: datetime,
    *,
    ids: Sequence[int] = (),
    state: str | None = None,
    channel: str | None = None,
) -> int:
    """Put dead or parked messages back in line, now, with a fresh retry budget."""
    if state is not None and state not in (DEAD, PARKED):
        raise field_error("state", "only dead or parked messages can be retried")
    cond = [OutboxMessage.state.in_([DEAD, PARKED]), OutboxMessage.kind == MESSAGE]
    if ids:
        cond.append(OutboxMessage.id.in_(list(ids)))
    if state is not None:
        cond.append(OutboxMessage.state == state)
    if channel is not None:
        cond.append(OutboxMessage.channel == channel)
    rows = list(session.scalars(select(OutboxMessage).where(*cond)))
    if ids and not rows:
        raise NotFound(
            f"no dead or parked message with id {', '.join(map(str, ids))}; "
            "`dutydesk notify outbox --state dead` lists them"
        )
    for r in rows:
        r.state, r.due_at, r.attempts, r.dead_at, r.claimed_until = PENDING, now, 0, None, None
        payload = dict(r.payload)
        payload.pop("expires_at", None)  # a person asked for it: send even if old
        r.payload = payload
    return len(rows)


__all__ = [
    "DEAD",
    "DELIVERED",
    "EXPIRED",
    "PARKED",
    "PENDING",
    "SKIPPED",
    "TOO_OLD",
    "Claim",
    "Outcome",
    "claim_messages",
    "count_of",
    "counts",
    "due",
    "insert_ignore",
    "listing",
    "park_unconfigured",
    "pending_for",
    "record",
    "retry",
]
