"""Queue health: how the desk's open work moved and how well its SLOs held, over a period.

Definitions (a test counts each by hand from a constructed history):

* *Flow* (cumulative flow): at the end of each week of the period (or now, for the running
  week) the open tickets in each open column, from the event history: a ticket's column at
  an instant is its current one with the later status changes undone, as the status post
  reads history. Also per (current) priority, tickets filed and closed in each week.
* *Age*: open tickets now, by how long ago they were filed (calendar time), per column.
* *Without an owner*: open tickets with no assignee, per column, oldest first.
* *Idle claims*: claimed tickets whose assignee did nothing for the desk's ``idle_after``
  (the same rule as the triage view and the handoff report: :mod:`dutydesk.tickets.idle`).
* *SLO* per week, priority and clock: *met* (stopped before its at-risk instant), *at risk*
  (met, but only after the at-risk warning), *breached* (missed its due time; a clock still
  running past due counts in the week it fell due), and the median business hours the
  stopped clocks ran: for the triage clock, the median time to triage.

Flow and closings are summed from the hourly tallies every ticket change keeps
(:mod:`dutydesk.reports.tallies`); SLO rows from one index of the clocks, which carry their
ticket's current priority.

Everything is counted in SQL; Python only adds up one row per (week, value).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, func, literal, select, tuple_
from sqlalchemy.orm import Session

from dutydesk.auth.service import user_names
from dutydesk.context import desk_policy
from dutydesk.policy.models import Policy
from dutydesk.reports.buckets import bounds, bucket_index, for_reports, weeks
from dutydesk.reports.period import Period
from dutydesk.reports.queue_flow import NO_PRIORITY, OPEN_TICKETS_INDEX, FlowPoint, flow
from dutydesk.reports.tables import Table
from dutydesk.slo.clocks import BREACHED, MET, PAUSED, RUNNING
from dutydesk.slo.models import TicketClock
from dutydesk.tickets.idle import idle_claims_page
from dutydesk.tickets.models import Ticket

LISTED = 20  # tickets a list shows (oldest first); the counts cover all of them
AGE_BANDS: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1 day", timedelta(days=1)),
    ("1-3 days", timedelta(days=3)),
    ("3-7 days", timedelta(days=7)),
    ("1-4 weeks", timedelta(days=28)),
    ("over 4 weeks", None),
)


class AgeRow(BaseModel):
    band: str
    columns: dict[str, int]
    total: int


class ListedTicket(BaseModel):
    ticket: str
    title: str
    status: str
    priority: str | None
    assignee: str | None
    filed: datetime
    age_days: float
    last_activity: datetime | None = None  # idle claims: the assignee's last event


class SloRow(BaseModel):
    week: str | None  # None: the whole period
    priority: str
    clock: str
    met: int
    at_risk: int
    breached: int
    attainment: float | None  # (met + at risk) / decided
    median_hours: float | None  # business hours the stopped clocks ran


class QueueHealth(BaseModel):
    desk: str
    period: dict[str, Any]
    now: datetime
    columns: list[str]  # the open columns, in board order
    priorities: list[str]
    flow: list[FlowPoint]
    ages: list[AgeRow]
    open_total: int
    unowned: dict[str, int]  # per column
    unowned_total: int
    unowned_oldest: list[ListedTicket]
    idle_total: int
    idle_claims: list[ListedTicket]  # the longest idle first, at most 20
    slo: list[SloRow]

    def tables(self) -> list[Table]:
        cols, prios = self.columns, self.priorities
        return [
            Table(
                "flow",
                "Open tickets by column at the end of each week",
                ("week", "at", *cols, "open", "filed", "closed"),
                tuple(
                    (
                        p.week,
                        p.at.isoformat(),
                        *(p.columns.get(c, 0) for c in cols),
                        sum(p.columns.values()),
                        p.filed,
                        p.closed,
                    )
                    for p in self.flow
                ),
            ),
            Table(
                "priorities",
                "Open tickets by priority at the end of each week",
                ("week", "at", *prios),
                tuple(
                    (p.week, p.at.isoformat(), *(p.priorities.get(x, 0) for x in prios))
                    for p in self.flow
                ),
            ),
            Table(
                "age",
                "Age of open tickets now",
                ("age", *cols, "total"),
                tuple((a.band, *(a.columns.get(c, 0) for c in cols), a.total) for a in self.ages),
            ),
            Table(
                "unowned",
                f"Open tickets without an owner ({self.unowned_total}), oldest first",
                _LISTED_COLUMNS,
                tuple(_listed_row(t) for t in self.unowned_oldest),
            ),
            Table(
                "idle",
                f"Idle claims ({self.idle_total}), longest idle first",
                (*_LISTED_COLUMNS, "last activity"),
                tuple(
                    (*_listed_row(t), t.last_activity.isoformat() if t.last_activity else None)
                    for t in self.idle_claims
                ),
            ),
            Table(
                "slo",
                "SLO attainment per week, priority and clock",
                (
                    "week",
                    "priority",
                    "clock",
                    "met",
                    "at risk",
                    "breached",
                    "attainment",
                    "median business hours",
                ),
                tuple(
                    (
                        r.week or "all",
                        r.priority,
                        r.clock,
                        r.met,
                        r.at_risk,
                        r.breached,
                        r.attainment,
                        r.median_hours,
                    )
                    for r in self.slo
                ),
            ),
        ]


_LISTED_COLUMNS = ("ticket", "title", "status", "priority", "assignee", "filed", "age days")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _listed_row(t: ListedTicket) -> tuple[Any, ...]:
    return (t.ticket, t.title, t.status, t.priority, t.assignee, t.filed.isoformat(), t.age_days)


def _listed(t: Ticket, names: dict[int, str], now: datetime) -> ListedTicket:
    return ListedTicket(
        ticket=t.key,
        title=t.title,
        status=t.status,
        priority=t.priority,
        assignee=names.get(t.assignee_id) if t.assignee_id else None,
        filed=t.created_at,
        age_days=round((now - t.created_at).total_seconds() / 86400, 2),
    )


# ----------------------------------------------------------------------------- now


def ages(
    session: Session, desk: str, open_columns: list[str], now: datetime
) -> tuple[list[AgeRow], int]:
    whens = []
    for i, (_label, span) in enumerate(AGE_BANDS):
        if span is not None:
            whens.append((Ticket.created_at > now - span, literal(i)))
    band = _first_match(whens, len(AGE_BANDS) - 1)
    rows = session.execute(
        select(band, Ticket.status, func.count())
        .where(Ticket.desk == desk, Ticket.is_open.is_(True))
        .group_by(band, Ticket.status)
        .with_hint(Ticket, OPEN_TICKETS_INDEX, "sqlite")
    ).all()
    grid: dict[int, dict[str, int]] = defaultdict(dict)
    for i, status, n in rows:
        grid[i][status] = grid[i].get(status, 0) + n
    out = [
        AgeRow(
            band=label,
            columns={c: grid[i].get(c, 0) for c in open_columns},
            total=sum(grid[i].values()),
        )
        for i, (label, _span) in enumerate(AGE_BANDS)
    ]
    return out, sum(r.total for r in out)


def _first_match(whens: list[tuple[Any, Any]], default: int) -> Any:
    return case(*whens, else_=literal(default))


def unowned(
    session: Session, desk: str, open_columns: list[str], now: datetime
) -> tuple[dict[str, int], list[ListedTicket]]:
    base = (Ticket.desk == desk, Ticket.is_open.is_(True), Ticket.assignee_id.is_(None))
    counts = dict(
        session.execute(
            select(Ticket.status, func.count())
            .where(*base)
            .group_by(Ticket.status)
            .with_hint(Ticket, OPEN_TICKETS_INDEX, "sqlite")
        ).all()
    )
    oldest = list(
        session.scalars(select(Ticket).where(*base).order_by(Ticket.created_at).limit(LISTED))
    )
    return (
        {c: counts.get(c, 0) for c in open_columns},
        [_listed(t, {}, now) for t in oldest],
    )


def idle(
    session: Session, policy: Policy, desk: str, now: datetime
) -> tuple[int, list[ListedTicket]]:
    """Claimed tickets idle at ``now`` (:mod:`dutydesk.tickets.idle`'s rule), longest idle
    first: how many, and the first ``LISTED``."""
    total, claims = idle_claims_page(session, policy, desk, now, LISTED)
    names = user_names(session, [c.ticket.assignee_id for c in claims])
    out = []
    for c in claims:
        row = _listed(c.ticket, names, now)
        row.last_activity = c.last_activity
        out.append(row)
    return total, out


# ----------------------------------------------------------------------------- SLO


Cell = tuple[int | None, str, str]  # (week index or None for the period, priority, clock)


def _decided(desk: str, period: Period, now: datetime) -> tuple[Any, ...]:
    """The clocks decided (met or breached) in the period, up to now."""
    return (
        TicketClock.desk == desk,
        TicketClock.decided_at >= period.since,
        TicketClock.decided_at < min(period.until, now),
        TicketClock.outcome.in_([MET, BREACHED]),
    )


def _late_met() -> Any:
    """Met, but only after the at-risk warning."""
    return and_(
        TicketClock.at_risk_at.is_not(None), TicketClock.stopped_at >= TicketClock.at_risk_at
    )


def slo_rows(session: Session, desk: str, period: Period, now: datetime) -> list[SloRow]:
    edges = bounds(period)
    dialect = _dialect(session)
    if dialect == "postgresql":
        cells, medians = _outcomes_and_medians_in_sql(session, desk, period, now)
    else:
        cells, medians = _outcomes_and_medians(session, desk, period, now)
    due_b = bucket_index(TicketClock.due_at, edges, dialect)
    running_late = session.execute(
        select(due_b, TicketClock.priority, TicketClock.name, func.count())
        .select_from(TicketClock)
        .where(
            TicketClock.desk == desk,
            TicketClock.state.in_([RUNNING, PAUSED]),
            TicketClock.due_at >= period.since,
            TicketClock.due_at < min(period.until, now),
        )
        .group_by(due_b, TicketClock.priority, TicketClock.name)
    ).all()
    for k, priority, name, n in running_late:
        for week in (k, None):
            cells[(week, priority or NO_PRIORITY, name)][2] += n
    labels = [w.label for w in weeks(period)]
    out = []
    for key in sorted(cells, key=lambda x: (x[0] is None, x[0] or 0, x[1], x[2])):
        met, risk, breached = cells[key]
        decided = met + risk + breached
        week, priority, name = key
        out.append(
            SloRow(
                week=labels[week] if week is not None else None,
                priority=priority,
                clock=name,
                met=met,
                at_risk=risk,
                breached=breached,
                attainment=round((met + risk) / decided, 4) if decided else None,
                median_hours=medians.get(key),
            )
        )
    return out


def _cells() -> defaultdict[Cell, list[int]]:
    return defaultdict(lambda: [0, 0, 0])  # met, at risk, breached


def _outcomes_and_medians_in_sql(
    session: Session, desk: str, period: Period, now: datetime
) -> tuple[defaultdict[Cell, list[int]], dict[Cell, float]]:
    """PostgreSQL: one pass over the decided clocks, grouped per week and over the period at
    once (grouping sets), counting each outcome and picking the two middle values of the
    stopped clocks' business time with an ordered-set aggregate (NULLs are left out)."""
    decided_b = bucket_index(TicketClock.decided_at, bounds(period), _dialect(session))
    breached = TicketClock.outcome == BREACHED
    late = and_(~breached, _late_met())
    elapsed = TicketClock.elapsed_seconds
    rows = session.execute(
        select(
            func.grouping(decided_b),
            decided_b,
            TicketClock.priority,
            TicketClock.name,
            func.count(),
            func.count().filter(late),  # NULL (no at-risk instant) is not late
            func.count().filter(breached),
            # The mean of the two middle values (the middle one when odd): one sort per group.
            func.percentile_cont(0.5).within_group(elapsed),
        )
        .where(*_decided(desk, period, now))
        .group_by(
            func.grouping_sets(
                tuple_(decided_b, TicketClock.priority, TicketClock.name),
                tuple_(TicketClock.priority, TicketClock.name),
            )
        )
    ).all()
    cells = _cells()
    medians: dict[Cell, float] = {}
    for whole_period, k, priority, name, decided, risk, breaches, middle in rows:
        key = (None if whole_period else k, priority or NO_PRIORITY, name)
        cells[key] = [decided - risk - breaches, risk, breaches]
        if middle is not None:
            medians[key] = round(float(middle) / 3600, 2)
    return cells, medians


def _outcomes_and_medians(
    session: Session, desk: str, period: Period, now: datetime
) -> tuple[defaultdict[Cell, list[int]], dict[Cell, float]]:
    """SQLite has no ordered-set aggregates (its window functions sort twice), so the decided
    clocks are read once from their covering index and both the counts and the medians
    (the mean of the two middle values) are taken here."""
    decided_b = bucket_index(TicketClock.decided_at, bounds(period), _dialect(session))
    slot = case((TicketClock.outcome == BREACHED, 2), (_late_met(), 1), else_=0)
    # Core, not the ORM: some 20k plain rows for a quarter of a busy desk.
    rows = session.connection().execute(
        select(decided_b, TicketClock.priority, TicketClock.name, slot, TicketClock.elapsed_seconds)
        .where(*_decided(desk, period, now))
        .with_hint(TicketClock, "INDEXED BY ix_ticket_clocks_report", "sqlite")
    )
    per_week: dict[Cell, tuple[list[int], list[float]]] = {}
    for k, priority, name, outcome, elapsed in rows:
        cell = per_week.get((k, priority, name))
        if cell is None:
            cell = per_week[(k, priority, name)] = ([0, 0, 0], [])
        cell[0][outcome] += 1
        if elapsed is not None:
            cell[1].append(elapsed)
    cells = _cells()
    groups: defaultdict[Cell, list[float]] = defaultdict(list)
    for (k, priority, name), (counts, values) in per_week.items():
        shown = priority or NO_PRIORITY
        for key in ((k, shown, name), (None, shown, name)):
            into = cells[key]
            for i in range(3):
                into[i] += counts[i]
            groups[key].extend(values)
    medians: dict[Cell, float] = {}
    for key, values in groups.items():
        values.sort()
        n = len(values)
        medians[key] = round((values[(n - 1) // 2] + values[n // 2]) / 2 / 3600, 2)
    return cells, medians


# ----------------------------------------------------------------------------- the report


def queue_health(
    session: Session, policy: Policy, desk: str, period: Period, now: datetime
) -> QueueHealth:
    spec = desk_policy(policy, desk)
    for_reports(session)
    open_columns = [c for c in spec.columns if c != spec.done_column]
    age_rows, open_total = ages(session, desk, open_columns, now)
    by_column, oldest = unowned(session, desk, open_columns, now)
    idle_total, idle_list = idle(session, policy, desk, now)
    return QueueHealth(
        desk=desk,
        period=period.as_json(),
        now=now,
        columns=open_columns,
        priorities=[*spec.priorities, NO_PRIORITY],
        flow=flow(session, desk, open_columns, spec.done_column, period, now),
        ages=age_rows,
        open_total=open_total,
        unowned=by_column,
        unowned_total=sum(by_column.values()),
        unowned_oldest=oldest,
        idle_total=idle_total,
        idle_claims=idle_list,
        slo=slo_rows(session, desk, period, now),
    )
