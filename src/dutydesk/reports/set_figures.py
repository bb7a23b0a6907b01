"""SET figures: what a sustained engineering team reports on, week by week.

Definitions (the desk's ``status_post`` settings name the fix resolutions and the submitted
column, as for the weekly status post):

* *Bugs resolved* per week: bugs (the kinds the status post counts as bugs, ``bug_kinds``:
  bug and escalation in the example policy) whose resolution is a fix resolution, by the week
  of their last resolution; *customer* counts those reported by customers.
* *Fixes submitted* per week: bugs moved into the submitted column in that week (a ticket
  counts once per week, whatever it did next); *customer* likewise. Counted from the moves
  kept per change (``ticket_moves``), or from the events while a desk's are not derived.
* *Time in each column*: for the tickets resolved in each week (any kind), the average days a
  ticket spent in each open column over its life, from the event history (a ticket that
  visited a column twice counts both stays); summed from the stays stored per done ticket
  with its business times (``ticket_stays``), or from the events while some are missing.
* *Escalations' time to fix*: escalations (kind ``escalation``) resolved with a fix resolution,
  by week: how many and the median days from filing to resolution; the slowest are listed.
* *Bugs by area*: bugs (``bug_kinds``) filed per week, per owning team, category or label (``area=``); the 10
  largest areas of the period are named, the rest summed as ``other``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import String, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from dutydesk.context import desk_policy
from dutydesk.policy.models import Policy
from dutydesk.reports.buckets import (
    bounds,
    bucket_index,
    decode,
    for_reports,
    json_text,
    seconds,
    weeks,
)
from dutydesk.reports.models import TicketMove, TicketStay, TicketTimes
from dutydesk.reports.period import Period
from dutydesk.reports.status_post import settings
from dutydesk.reports.tables import Table
from dutydesk.tickets import moves, times
from dutydesk.tickets.models import Event, Ticket, TicketLabel

Area = Literal["team", "category", "label"]
AREAS = 10
LISTED = 20
DAY = 86400.0


class SetWeek(BaseModel):
    week: str
    bugs_resolved: int
    customer_resolved: int
    customer_share: float | None  # of bugs resolved
    fixes_submitted: int
    customer_submitted: int
    resolved_tickets: int  # any kind: what time_in_column averages over
    days_in_column: dict[str, float | None]
    escalations_fixed: int
    escalation_median_days: float | None


class SlowEscalation(BaseModel):
    ticket: str
    title: str
    filed: datetime
    resolved: datetime
    days: float


class AreaWeek(BaseModel):
    week: str
    counts: dict[str, int]


class SetFigures(BaseModel):
    desk: str
    period: dict[str, Any]
    now: datetime
    area: Area
    columns: list[str]  # the open columns time is measured in
    weeks: list[SetWeek]
    total: SetWeek  # the whole period (week "all")
    escalations: list[SlowEscalation]
    areas: list[str]
    bugs_by_area: list[AreaWeek]

    def tables(self) -> list[Table]:
        cols = self.columns
        every = [*self.weeks, self.total]
        return [
            Table(
                "weekly",
                "Bugs resolved, fixes submitted and escalations per week",
                (
                    "week",
                    "bugs resolved",
                    "customer reported",
                    "customer share",
                    "fixes submitted",
                    "customer fixes submitted",
                    "escalations fixed",
                    "escalation median days",
                ),
                tuple(
                    (
                        w.week,
                        w.bugs_resolved,
                        w.customer_resolved,
                        w.customer_share,
                        w.fixes_submitted,
                        w.customer_submitted,
                        w.escalations_fixed,
                        w.escalation_median_days,
                    )
                    for w in every
                ),
            ),
            Table(
                "columns",
                "Average days in each column, tickets resolved per week",
                ("week", "tickets resolved", *cols),
                tuple(
                    (w.week, w.resolved_tickets, *(w.days_in_column.get(c) for c in cols))
                    for w in every
                ),
            ),
            Table(
                "escalations",
                "Slowest escalations fixed in the period",
                ("ticket", "title", "filed", "resolved", "days"),
                tuple(
                    (e.ticket, e.title, e.filed.isoformat(), e.resolved.isoformat(), e.days)
                    for e in self.escalations
                ),
            ),
            Table(
                "areas",
                f"Bugs filed per week by {self.area}",
                ("week", *self.areas),
                tuple(
                    (a.week, *(a.counts.get(x, 0) for x in self.areas)) for a in self.bugs_by_area
                ),
            ),
        ]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def set_figures(
    session: Session, policy: Policy, desk: str, period: Period, now: datetime, area: Area
) -> SetFigures:
    spec = desk_policy(policy, desk)
    for_reports(session)
    sp = settings(spec, desk)
    dialect = session.get_bind().dialect.name
    edges = bounds(period)
    labels = [w.label for w in weeks(period)]
    open_columns = [c for c in spec.columns if c != spec.done_column]
    fixed = list(sp.resolutions)
    in_period = (Ticket.desk == desk, Ticket.resolved_at >= period.since)
    resolved_b = bucket_index(Ticket.resolved_at, edges, _dialect(session))

    # Bugs resolved (and customer-reported), escalations fixed, tickets resolved: one pass.
    is_fix = Ticket.resolution.in_(fixed)
    is_bug = Ticket.kind.in_(sp.bug_kinds)
    bug_fix = is_bug & is_fix
    rows = session.execute(
        select(
            resolved_b,
            func.sum(case((bug_fix, 1), else_=0)),
            func.sum(case((bug_fix & Ticket.customer_reported.is_(True), 1), else_=0)),
            func.sum(case(((Ticket.kind == "escalation") & is_fix, 1), else_=0)),
            func.count(),
        )
        .where(*in_period, Ticket.resolved_at < period.until, Ticket.is_open.is_(False))
        .group_by(resolved_b)
    ).all()
    resolved = {k: (int(a or 0), int(c or 0), int(e or 0), n) for k, a, c, e, n in rows}

    # Fixes submitted: bugs moved into the submitted column, once per ticket and week — from
    # the moves kept with each change (``ticket_moves``), or the events while not derived.
    if moves.is_current(session, policy, desk):
        M = TicketMove
        move_b = bucket_index(M.at, edges, dialect)
        sub_rows = session.execute(
            select(
                move_b,
                func.count(func.distinct(M.ticket_id)),
                func.count(func.distinct(case((M.customer.is_(True), M.ticket_id)))),
            )
            .where(
                M.desk == desk,
                M.submitted == 1,
                M.at >= period.since,
                M.at < period.until,
                M.kind.in_(sp.bug_kinds),  # kept with the move: no ticket is read
            )
            .group_by(move_b)
        ).all()
    else:
        event_b = bucket_index(Event.at, edges, dialect)
        sub_rows = session.execute(
            select(
                event_b,
                func.count(func.distinct(Event.ticket_id)),
                func.count(
                    func.distinct(case((Ticket.customer_reported.is_(True), Event.ticket_id)))
                ),
            )
            .select_from(Event)
            .join(Ticket, Ticket.id == Event.ticket_id)
            .where(
                Event.field == "status",
                Event.type == "changed",
                Event.at >= period.since,
                Event.at < period.until,
                Ticket.desk == desk,
                is_bug,
                cast(Event.after, String) == json_text(sp.submitted),
            )
            .group_by(event_b)
        ).all()
    submitted = {k: (n, c) for k, n, c in sub_rows}

    closed = sum(v[3] for v in resolved.values())
    spent = _time_in_columns(session, policy, desk, period, edges, closed)

    medians = _escalation_medians(session, desk, fixed, edges, period, dialect)

    def week(k: int | None, label: str) -> SetWeek:
        if k is None:
            a, c, e, n = (sum(v[i] for v in resolved.values()) for i in range(4))
            s, sc = (sum(v[i] for v in submitted.values()) for i in range(2))
        else:
            a, c, e, n = resolved.get(k, (0, 0, 0, 0))
            s, sc = submitted.get(k, (0, 0))
        return SetWeek(
            week=label,
            bugs_resolved=a,
            customer_resolved=c,
            customer_share=round(c / a, 4) if a else None,
            fixes_submitted=s,
            customer_submitted=sc,
            resolved_tickets=n,
            days_in_column={
                col: round(spent[k].get(col, 0.0) / n / DAY, 2) if n else None
                for col in open_columns
            },
            escalations_fixed=e,
            escalation_median_days=medians.get(k),
        )

    names, by_area = _areas(session, desk, area, edges, period, sp.bug_kinds)
    return SetFigures(
        desk=desk,
        period=period.as_json(),
        now=now,
        area=area,
        columns=open_columns,
        weeks=[week(k, label) for k, label in enumerate(labels)],
        total=week(None, "all"),
        escalations=_slowest(session, desk, fixed, period, dialect),
        areas=names,
        bugs_by_area=[
            AreaWeek(week=label, counts=by_area.get(k, {})) for k, label in enumerate(labels)
        ],
    )


def _time_in_columns(
    session: Session, policy: Policy, desk: str, period: Period, edges: list[datetime], closed: int
) -> dict[int | None, dict[str, float]]:
    """Seconds the period's resolved tickets spent in each column, per week of resolution and
    (None) over the period: Σ over their status changes of (at − filed) · ([from C] − [into
    C]), which the ``ticket_stays`` rows hold per ticket. When some resolved ticket has no
    valid stored row (before ``dutydesk report rebuild``, after a bulk load or a calendar
    change), the sums come from the status changes themselves, as the stays are defined."""
    spent: dict[int | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    dialect = _dialect(session)
    S = TicketStay
    stored = session.scalar(
        select(func.count())
        .select_from(TicketTimes)
        .where(
            TicketTimes.desk == desk,
            TicketTimes.resolved_at >= period.since,
            TicketTimes.resolved_at < period.until,
            TicketTimes.basis == times.basis(policy, desk),
        )
    )
    if stored == closed:
        b = bucket_index(S.resolved_at, edges, dialect)
        for k, column, total in session.execute(
            select(b, S.column, func.sum(S.seconds))
            .where(S.desk == desk, S.resolved_at >= period.since, S.resolved_at < period.until)
            .group_by(b, S.column)
        ):
            for key in (k, None):
                spent[key][column] += float(total or 0)
        return spent
    resolved_b = bucket_index(Ticket.resolved_at, edges, dialect)
    stay = seconds(Event.at, dialect) - seconds(Ticket.created_at, dialect)
    before_t, after_t = cast(Event.before, String), cast(Event.after, String)
    col_rows = session.execute(
        select(resolved_b, before_t, after_t, func.sum(stay))
        .select_from(Event)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(
            Ticket.desk == desk,
            Ticket.resolved_at >= period.since,
            Ticket.resolved_at < period.until,
            Ticket.is_open.is_(False),
            Event.field == "status",
            Event.type == "changed",
        )
        .group_by(resolved_b, before_t, after_t)
    ).all()
    for k, before, after, total in col_rows:
        for key in (k, None):
            spent[key][decode(before)] += float(total or 0)
            spent[key][decode(after)] -= float(total or 0)
    return spent


def _escalation_medians(
    session: Session,
    desk: str,
    fixed: list[str],
    edges: list[datetime],
    period: Period,
    dialect: str,
) -> dict[int | None, float]:
    """Median days from filing to fix of escalations, per week and (None) over the period."""
    found: dict[int | None, float] = {}
    b = bucket_index(Ticket.resolved_at, edges, _dialect(session))
    took = seconds(Ticket.resolved_at, dialect) - seconds(Ticket.created_at, dialect)
    for by_week in (True, False):
        part = b if by_week else literal(-9)
        ranked = (
            select(
                part.label("k"),
                took.label("took"),
                func.row_number().over(partition_by=part, order_by=took).label("rn"),
                func.count().over(partition_by=part).label("n"),
            )
            .where(
                Ticket.desk == desk,
                Ticket.kind == "escalation",
                Ticket.is_open.is_(False),
                Ticket.resolution.in_(fixed),
                Ticket.resolved_at >= period.since,
                Ticket.resolved_at < period.until,
            )
            .subquery()
        )
        middle = or_(
            ranked.c.rn == (ranked.c.n + 1) // 2,
            ranked.c.rn == (ranked.c.n + 2) // 2,
        )
        for k, avg in session.execute(
            select(ranked.c.k, func.avg(ranked.c.took)).where(middle).group_by(ranked.c.k)
        ).all():
            found[k if by_week else None] = round(float(avg) / DAY, 2)
    return found


def _slowest(
    session: Session, desk: str, fixed: list[str], period: Period, dialect: str
) -> list[SlowEscalation]:
    took = seconds(Ticket.resolved_at, dialect) - seconds(Ticket.created_at, dialect)
    # The slowest ids from the covering index first; only those tickets are read whole.
    ids = session.scalars(
        select(Ticket.id)
        .where(
            Ticket.desk == desk,
            Ticket.kind == "escalation",
            Ticket.is_open.is_(False),
            Ticket.resolution.in_(fixed),
            Ticket.resolved_at >= period.since,
            Ticket.resolved_at < period.until,
        )
        .order_by(took.desc(), Ticket.id)
        .limit(LISTED)
    ).all()
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    rows = [found[i] for i in ids]
    out = []
    for t in rows:
        assert t.resolved_at is not None  # the query asks for it
        out.append(
            SlowEscalation(
                ticket=t.key,
                title=t.title,
                filed=t.created_at,
                resolved=t.resolved_at,
                days=round((t.resolved_at - t.created_at).total_seconds() / DAY, 2),
            )
        )
    return out


def _areas(
    session: Session,
    desk: str,
    area: Area,
    edges: list[datetime],
    period: Period,
    bug_kinds: Sequence[str],
) -> tuple[list[str], dict[int, dict[str, int]]]:
    b = bucket_index(Ticket.created_at, edges, _dialect(session))
    key: Any
    stmt: Any
    if area == "label":
        key = TicketLabel.label
        stmt = (
            select(b, key, func.count())
            .select_from(Ticket)
            .join(TicketLabel, TicketLabel.ticket_id == Ticket.id)
        )
    else:
        key = Ticket.team if area == "team" else Ticket.category
        stmt = select(b, key, func.count())
    rows = session.execute(
        stmt.where(
            Ticket.desk == desk,
            Ticket.kind.in_(bug_kinds),
            Ticket.created_at >= period.since,
            Ticket.created_at < period.until,
        ).group_by(b, key)
    ).all()
    totals: dict[str, int] = defaultdict(int)
    for _k, name, n in rows:
        totals[name or "none"] += n
    ranked = sorted(totals, key=lambda x: (-totals[x], x))
    named = ranked[:AREAS]
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for k, name, n in rows:
        shown = (name or "none") if (name or "none") in named else "other"
        out[k][shown] = out[k].get(shown, 0) + n
    return named + (["other"] if len(ranked) > AREAS else []), out
