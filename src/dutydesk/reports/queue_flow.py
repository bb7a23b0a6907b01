"""Queue health's cumulative flow: open tickets per column and priority at the end of each
week, and tickets filed and closed per week (:mod:`dutydesk.reports.queue_health`).

A ticket's column at an instant is its current one with the later status changes undone.
The count at T is the tickets in each column now less the net arrivals from T on, which the
``flow`` tallies hold per hour (:mod:`dutydesk.reports.tallies`): a few rows per hour of the
period, whatever the number of tickets. An instant inside an hour (now, or a week's end in a
zone with a half-hour offset) splits it; that hour is counted from the events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import String, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from dutydesk.reports import tallies
from dutydesk.reports.buckets import bounds, bucket_index, decode, json_text, weeks
from dutydesk.reports.period import Period
from dutydesk.tickets.models import Event, Ticket

NO_PRIORITY = "none"
# SQLite's statistics see two values of ``is_open`` and expect half the desk's tickets, so it
# would rather walk the desk by status; this index holds everything asked of open tickets.
OPEN_TICKETS_INDEX = "INDEXED BY ix_tickets_open_owner"


class FlowPoint(BaseModel):
    week: str
    at: datetime  # the instant the counts hold at: the week's end, or now
    columns: dict[str, int]  # open tickets per open column
    priorities: dict[str, int]  # open tickets per current priority ("none": untriaged)
    filed: int  # in this week
    closed: int  # moved to the done column in this week


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _desk_is(desk: str) -> Any:
    """The ticket's desk, as a filter the planner does not start from: a few minutes of
    events are the selective side, not the desk's 100k tickets."""
    return Ticket.desk.concat("") == desk


def samples(period: Period, now: datetime) -> list[tuple[str, datetime]]:
    """(week, instant) the flow is read at: each week's end, the running week's now."""
    return [(w.label, min(w.end, now)) for w in weeks(period) if w.start <= now]


TICK = timedelta(microseconds=1)  # "at now" includes what happened at now


def flow(
    session: Session,
    desk: str,
    open_columns: list[str],
    done: str,
    period: Period,
    now: datetime,
) -> list[FlowPoint]:
    points = samples(period, now)
    if not points:
        return []
    at = [t + TICK if t == now else t for _, t in points]
    m = len(at)
    # count(C, k) = the tickets in C now - the net arrivals in C from T_k on: the flow
    # tallies (:mod:`dutydesk.reports.tallies`) sorted into [T_j, T_j+1) (the last from
    # T_m-1 on), hours that a T_k splits counted from the events.
    now_rows = session.execute(
        select(Ticket.status, Ticket.priority, func.count())
        .where(Ticket.desk == desk, Ticket.is_open.is_(True))
        .group_by(Ticket.status, Ticket.priority)
        .with_hint(Ticket, OPEN_TICKETS_INDEX, "sqlite")
    ).all()
    wanted = set(open_columns)
    after: list[Counter[tuple[str, str]]] = [Counter() for _ in range(m)]  # per [T_j, T_j+1)
    for j, column, priority, n in tallies.summed(session, desk, tallies.FLOW, at, open_end=True):
        if j >= 0 and column in wanted:
            after[j][(column, priority or NO_PRIORITY)] += n
    for j, column, priority, n in _flow_in_split_hours(session, desk, at):
        if j >= 0 and column in wanted:
            after[j][(column, priority or NO_PRIORITY)] += n
    cols: list[list[defaultdict[str, int]]] = [
        [defaultdict(int) for _ in range(m)] for _ in range(2)
    ]
    tail: Counter[tuple[str, str]] = Counter()
    for k in range(m - 1, -1, -1):
        tail.update(after[k])
        for current, current_priority, n in now_rows:
            if current in wanted:
                cols[0][k][current] += n
                cols[1][k][current_priority or NO_PRIORITY] += n
        for (column, priority), n in tail.items():
            cols[0][k][column] -= n
            cols[1][k][priority] -= n
    filed = _per_week(session, Ticket.created_at, desk, period)
    closed = _closed_per_week(session, desk, done, period)
    return [
        FlowPoint(
            week=label,
            at=t,
            columns={c: cols[0][k].get(c, 0) for c in open_columns},
            priorities=dict(sorted((p, n) for p, n in cols[1][k].items() if n)),
            filed=filed.get(k, 0),
            closed=closed.get(k, 0),
        )
        for k, (label, t) in enumerate(points)
    ]


def _flow_in_split_hours(
    session: Session, desk: str, at: list[datetime]
) -> list[tuple[int, str, str, int]]:
    """The flow rows of the hours an instant splits, counted from the tickets and events
    there: (j, column, priority, net arrivals) with j the [T_j, T_j+1) holding them."""
    out: Counter[tuple[int, str, str]] = Counter()
    dialect = _dialect(session)
    for hour in tallies.split_hours(at):
        lo, hi = hour, hour + tallies.HOUR
        # Tickets filed in the hour: their first column there (current, status changes undone).
        filed_b = bucket_index(Ticket.created_at, at, dialect)
        for j, status, priority, n in session.execute(
            select(filed_b, Ticket.status, Ticket.priority, func.count())
            .where(Ticket.desk == desk, Ticket.created_at >= lo, Ticket.created_at < hi)
            .group_by(filed_b, Ticket.status, Ticket.priority)
        ):
            out[(j, status, priority or "")] += n
        before_t, after_t = cast(Event.before, String), cast(Event.after, String)
        status_change = (Event.field == "status", Event.type == "changed", _desk_is(desk))
        for j, before, after, priority, n in session.execute(
            select(filed_b, before_t, after_t, Ticket.priority, func.count())
            .join(Ticket, Ticket.id == Event.ticket_id)
            .where(*status_change, Ticket.desk == desk)
            .where(Ticket.created_at >= lo, Ticket.created_at < hi)
            .group_by(filed_b, before_t, after_t, Ticket.priority)
        ):
            out[(j, decode(after) or "", priority or "")] -= n
            out[(j, decode(before) or "", priority or "")] += n
        # Status changes placed in the hour: at max(event, filing).
        moved_b = bucket_index(Event.at, at, dialect)
        for j, before, after, priority, n in session.execute(
            select(moved_b, before_t, after_t, Ticket.priority, func.count())
            .join(Ticket, Ticket.id == Event.ticket_id)
            .where(*status_change, Event.at >= lo, Event.at < hi, Ticket.created_at <= Event.at)
            .group_by(moved_b, before_t, after_t, Ticket.priority)
        ):
            out[(j, decode(after) or "", priority or "")] += n
            out[(j, decode(before) or "", priority or "")] -= n
        for j, before, after, priority, n in session.execute(
            select(filed_b, before_t, after_t, Ticket.priority, func.count())
            .join(Ticket, Ticket.id == Event.ticket_id)
            .where(
                *status_change,
                Ticket.desk == desk,
                Ticket.created_at >= lo,
                Ticket.created_at < hi,
                Event.at < Ticket.created_at,
            )
            .group_by(filed_b, before_t, after_t, Ticket.priority)
        ):
            out[(j, decode(after) or "", priority or "")] += n
            out[(j, decode(before) or "", priority or "")] -= n
    return [(j, c, p, n) for (j, c, p), n in out.items() if n]


def _per_week(session: Session, column: Any, desk: str, period: Period) -> dict[int, int]:
    b = bucket_index(column, bounds(period), _dialect(session))
    rows = session.execute(
        select(b, func.count())
        .where(Ticket.desk == desk, column >= period.since, column < period.until)
        .group_by(b)
    ).all()
    return {k: n for k, n in rows}


def _closed_per_week(session: Session, desk: str, done: str, period: Period) -> dict[int, int]:
    """Moves into the done column per week (a ticket closed twice counts twice): the ``did``
    tallies, and the events of the hours a week's edge splits."""
    edges = bounds(period)
    out: dict[int, int] = defaultdict(int)
    for k, _actor, _what, n in tallies.summed(
        session, desk, tallies.DID, edges, b=[f"status:{done}"]
    ):
        if k >= 0:
            out[k] += n
    split = tallies.split_hours(edges)
    if split:
        b = bucket_index(Event.at, edges, _dialect(session))
        rows = session.execute(
            select(b, func.count())
            .select_from(Event)
            .join(Ticket, Ticket.id == Event.ticket_id)
            .where(
                Event.field == "status",
                Event.type == "changed",
                or_(*(and_(Event.at >= h, Event.at < h + tallies.HOUR) for h in split)),
                Event.at >= period.since,
                Event.at < period.until,
                _desk_is(desk),
                cast(Event.after, String) == literal(json_text(done)),
            )
            .group_by(b)
        ).all()
        for k, n in rows:
            out[k] += n
    return dict(out)
