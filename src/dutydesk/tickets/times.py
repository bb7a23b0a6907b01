"""Each done ticket's business time, stored for the reports (the ``ticket_times`` rows).

* **filed → done**: business seconds of the desk's calendar (wall-clock without one) from the
  ticket's ``created_at`` to its ``resolved_at``.
* **in progress**: business seconds in the desk's started column, from each move into it to
  the next status move (a stint still running counts nothing).

The recorder refreshes a ticket's row in the transaction of any change to its status (resolved:
written; re-opened: removed; resolved again: rewritten), the importer for the done tickets it
creates. A row holds while its ``resolved_at`` equals the ticket's and its ``basis`` the
desk's — a fingerprint of the calendar and the started column, so a policy that changes either
makes the rows stale and :func:`refresh_where` recomputes them (the toil report does, for its
period, before it reads them; ``dutydesk report rebuild`` does for every desk).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, exists, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dutydesk.policy.models import DeskPolicy, Policy
from dutydesk.reports.models import TicketStay, TicketTimes
from dutydesk.slo.calendar import BusinessCalendar
from dutydesk.slo.policy import desk_calendar
from dutydesk.tickets.models import Event, Ticket

_CHUNK = 2000  # rows per insert while rebuilding
_TIMES: Table = TicketTimes.__table__  # type: ignore[assignment]
_STAYS: Table = TicketStay.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Clock:
    """Business time of the desk (or wall-clock time without a calendar), in seconds."""

    calendar: BusinessCalendar | None

    def seconds(self, a: datetime, b: datetime) -> float:
        if b <= a:
            return 0.0
        if self.calendar is None:
            return (b - a).total_seconds()
        return self.calendar.between(a, b).total_seconds()


def basis(policy: Policy, desk: str) -> str:
    """What a desk's stored times depend on: its calendar and its started column."""
    spec = policy.desks[desk]
    cal = policy.calendars.get(spec.calendar) if spec.calendar is not None else None
    text = "|".join(
        [cal.model_dump_json() if cal is not None else "wall-clock", spec.started_column or ""]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Histories:
    """Per ticket: business seconds in progress, and wall-clock seconds in each column."""

    in_progress: dict[int, float]
    stays: dict[int, dict[str, float]]


def histories(
    session: Session, desk: str, spec: DeskPolicy, clock: Clock, *where: ColumnElement[bool]
) -> Histories:
    """One pass over the status moves of the desk's tickets matching ``where`` (over
    ``Ticket``): business seconds in the started column, from each move into it to the next
    status move (a stint still running counts nothing yet), and each column's stays —
    the SET figures' Σ over moves of (move − filed) × ([from the column] − [into it]), i.e.
    from each move into a column to the move out of it, the first column from filing."""
    rows = session.execute(
        select(Event.ticket_id, Event.at, Event.before, Event.after, Ticket.created_at)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Ticket.desk == desk, *where, Event.type == "changed", Event.field == "status")
        .order_by(Event.ticket_id, Event.seq)
    )
    started = spec.started_column
    progress: dict[int, float] = defaultdict(float)
    stays: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    prev: tuple[int, datetime, Any] | None = None
    for tid, at, before, after, created in rows:
        if prev is not None and prev[0] == tid and started is not None and prev[2] == started:
            progress[tid] += clock.seconds(prev[1], at)
        since_filed = (at - created).total_seconds()
        stay = stays[tid]
        stay[str(before)] += since_filed
        stay[str(after)] -= since_filed
        prev = (tid, at, after)
    return Histories(dict(progress), {t: dict(v) for t, v in stays.items()})


def _stay_rows(
    spec: DeskPolicy, tid: int, desk: str, resolved: datetime, stays: dict[str, float]
) -> list[Any]:
    """The rows of a done ticket's stays: the open columns only (the done column's "stay" is
    the negative of the rest, which no report reads)."""
    return [
        {"ticket_id": tid, "column": c, "desk": desk, "resolved_at": resolved, "seconds": v}
        for c, v in stays.items()
        if c != spec.done_column
    ]


def valid(policy: Policy, desk: str) -> ColumnElement[bool]:
    """A ticket (``Ticket``) whose stored times hold."""
    return exists().where(
        TicketTimes.ticket_id == Ticket.id,
        TicketTimes.resolved_at == Ticket.resolved_at,
        TicketTimes.basis == basis(policy, desk),
        TicketTimes.desk == Ticket.desk,
        TicketTimes.category.is_not_distinct_from(Ticket.category),
        TicketTimes.kind == Ticket.kind,
    )


def stale(policy: Policy, desk: str, *where: ColumnElement[bool]) -> ColumnElement[bool]:
    """Done tickets of ``desk`` matching ``where`` whose stored times are missing or stale."""
    return and_(
        Ticket.desk == desk,
        Ticket.resolved_at.is_not(None),
        *where,
        ~valid(policy, desk),
    )


def refresh_where(session: Session, policy: Policy, desk: str, *where: ColumnElement[bool]) -> int:
    """(Re)compute the stored times of the desk's done tickets matching ``where`` that are
    missing or stale; returns how many were written."""
    cond = stale(policy, desk, *where)
    rows = session.execute(
        select(Ticket.id, Ticket.created_at, Ticket.resolved_at, Ticket.category, Ticket.kind)
        .where(cond)
        .order_by(Ticket.id)
    ).all()
    if not rows:
        return 0
    clock = Clock(desk_calendar(policy, desk))
    walked = histories(session, desk, policy.desks[desk], clock, cond)
    stints = walked.in_progress
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(delete(TicketTimes).where(TicketTimes.ticket_id.in_(chunk)))
        session.execute(delete(TicketStay).where(TicketStay.ticket_id.in_(chunk)))
    key = basis(policy, desk)
    spec = policy.desks[desk]
    values = [
        {
            "ticket_id": tid,
            "resolved_at": resolved,
            "basis": key,
            "to_done_seconds": clock.seconds(created, resolved),
            "in_progress_seconds": stints.get(tid, 0.0),
            "desk": desk,
            "category": category,
            "kind": kind,
        }
        for tid, created, resolved, category, kind in rows
        if resolved is not None  # the query asks for done tickets
    ]
    stays = [
        row
        for tid, _, resolved, _, _ in rows
        if resolved is not None
        for row in _stay_rows(spec, tid, desk, resolved, walked.stays.get(tid, {}))
    ]
    conn = session.connection()  # Core inserts: no ORM bookkeeping for rows never loaded
    for start in range(0, len(values), _CHUNK):
        conn.execute(insert(_TIMES), values[start : start + _CHUNK])
    for start in range(0, len(stays), _CHUNK):
        conn.execute(insert(_STAYS), stays[start : start + _CHUNK])
    return len(values)


def refresh_ticket(session: Session, policy: Policy, ticket: Ticket) -> None:
    """After a change to the ticket's status, desk, category or kind (its events written): its
    row follows."""
    session.execute(delete(TicketTimes).where(TicketTimes.ticket_id == ticket.id))
    session.execute(delete(TicketStay).where(TicketStay.ticket_id == ticket.id))
    if ticket.is_open or ticket.resolved_at is None:
        return
    desk = ticket.desk
    clock = Clock(desk_calendar(policy, desk))
    walked = histories(session, desk, policy.desks[desk], clock, Ticket.id == ticket.id)
    stints = walked.in_progress
    stays = _stay_rows(
        policy.desks[desk], ticket.id, desk, ticket.resolved_at, walked.stays.get(ticket.id, {})
    )
    if stays:
        session.execute(insert(TicketStay), stays)
    session.execute(
        insert(TicketTimes),
        [
            {
                "ticket_id": ticket.id,
                "resolved_at": ticket.resolved_at,
                "basis": basis(policy, desk),
                "to_done_seconds": clock.seconds(ticket.created_at, ticket.resolved_at),
                "in_progress_seconds": stints.get(ticket.id, 0.0),
                "desk": desk,
                "category": ticket.category,
                "kind": ticket.kind,
            }
        ],
    )


def rebuild(session: Session, policy: Policy, desks: list[str] | None = None) -> dict[str, int]:
    """Every desk's missing or stale stored times (after an upgrade, a bulk load, or a policy
    that changed a calendar); per desk, how many rows were written."""
    return {d: refresh_where(session, policy, d) for d in desks or sorted(policy.desks)}
