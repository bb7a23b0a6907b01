"""The toil report: what a desk's requests were, how many, how long they took, week by week.

Definitions (every figure can be counted by hand from the event history):

* **filed**: tickets whose ``filed`` instant lies in the period; by category, kind, week.
* **done**: tickets resolved in the period and still done (``resolved_at`` in the period).
* **filed → done**: business time of the desk's calendar from filing to resolution (wall-clock
  when the desk keeps no calendar), over the done tickets: median and total hours.
* **in progress**: time the done tickets spent in the desk's started column (from each move
  into it to the next status move), in the same business time.
* **re-opened**: moves out of the done column that happened in the period.
* **bounced**: a ticket handed back in the period: a move to an earlier column that is not a
  re-open (e.g. In progress → Triaged, or unassigned and returned to the intake), or a change of
  team from one team to another.

Every figure is an SQL aggregate: counts ``GROUP BY`` over the desk's indexes (weeks as a
balanced ``CASE`` tree over the week starts); durations sum and rank the business seconds
stored per done ticket when it was resolved (``ticket_times``, which carries the ticket's desk,
category and kind: the calendar is walked once per resolution, not per report; exact medians
read from indexes ordered by the value); re-opens and bounces count the ``ticket_moves`` rows
written with each such move. A report that finds done tickets without valid stored times, or
a desk whose moves were not derived under its present columns, raises :class:`StaleTimes`;
the caller stores them and asks again.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dutydesk.errors import field_error
from dutydesk.policy.models import Policy
from dutydesk.reports.buckets import bucket_index, for_reports
from dutydesk.reports.models import TicketMove, TicketTimes
from dutydesk.reports.period import Period
from dutydesk.reports.schemas import (
    CategoryKindCell,
    CategoryRow,
    Durations,
    KindRow,
    PeriodOut,
    Recurring,
    ToilReport,
    ToilSummary,
    WeekRow,
)
from dutydesk.slo.policy import desk_calendar
from dutydesk.tickets import moves, times
from dutydesk.tickets.models import Ticket

CSV_TABLES = ("categories", "kinds", "category_kinds", "weeks", "clusters", "summary")


def hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


def median_hours(values: Sequence[float]) -> float | None:
    return hours(statistics.median(values)) if values else None


def _week(column: Any, period: Period, session: Session) -> ColumnElement[Any]:
    """The index of the period's week an instant of the period falls in (SQL: a balanced tree
    of comparisons, a few per row whatever the number of weeks)."""
    starts = [since for _, since, _ in period.week_bounds()]
    return bucket_index(column, starts, session.get_bind().dialect.name)


def in_period(column: Any, period: Period) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (column >= period.since, column < period.until)


def _in_period(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(*in_period(column, period))


# ----------------------------------------------------------------------------- durations


class StaleTimes(Exception):
    """Some tickets done in the period have no (valid) stored business times, or the desk's
    re-opens and bounces are not derived under its present columns: refresh them
    (``tickets.times.refresh_where``, ``tickets.moves.rebuild_desk``) in a write transaction
    and ask again."""


def _no_durations() -> dict[str, Any]:
    return {
        "done": 0,
        "median_to_done_hours": None,
        "total_to_done_hours": 0.0,
        "median_in_progress_hours": None,
        "total_in_progress_hours": 0.0,
    }


_DIMS = ("all", "category", "kind")


def _middle(n: int) -> tuple[int, int]:
    """(OFFSET, LIMIT) of the one or two middle values of ``n`` sorted values (a median
    averages what they hold)."""
    return (n - 1) // 2, 2 - n % 2


def _durations(
    session: Session, policy: Policy, desk: str, period: Period
) -> dict[tuple[str, Any], dict[str, Any]]:
    """Count, medians and totals of the stored times over all done tickets, per category and
    per kind — keyed ``("all", None)``, ``("category", c)``, ``("kind", k)`` — in SQL, from
    ``ticket_times`` alone (it carries each ticket's desk, category and kind).

    Totals and counts: one ``GROUP BY category, kind`` over the period's range of the desk's
    index. Medians (exact): knowing each group's count, its one or two middle values are read
    from an index ordered by that value (``ORDER BY … LIMIT 2 OFFSET middle``: the rows outside
    the period are skipped inside the index, nothing is sorted), all groups in one statement
    (in progress: over the tickets that spent time in progress)."""
    T = TicketTimes
    mine = (
        T.desk == desk,
        *in_period(T.resolved_at, period),
        T.basis == times.basis(policy, desk),
    )
    sums = session.execute(
        select(
            T.category,
            T.kind,
            func.count(),
            func.sum(T.to_done_seconds),
            func.sum(T.in_progress_seconds),
            func.sum(case((T.in_progress_seconds > 0, 1), else_=0)),
        )
        .where(*mine)
        .group_by(T.category, T.kind)
    ).all()
    acc: dict[tuple[str, Any], list[float]] = {}
    for cat, kind, n, to_done, progress, positive in sums:
        for key in (("all", None), ("category", cat), ("kind", kind)):
            a = acc.setdefault(key, [0, 0.0, 0.0, 0])
            a[0] += int(n)
            a[1] += float(to_done or 0)
            a[2] += float(progress or 0)
            a[3] += int(positive or 0)
    if not acc:
        return {}
    column: dict[str, Any] = {"category": T.category, "kind": T.kind}
    parts: list[Any] = []
    asked: list[tuple[str, str, Any]] = []
    for (dim, group), (n, _, _, positive) in acc.items():
        # ``= value`` or ``IS NULL``: PostgreSQL cannot search an index by IS NOT DISTINCT FROM.
        same = (
            []
            if dim == "all"
            else [column[dim].is_(None) if group is None else column[dim] == group]
        )
        for measure, value, count, extra in (
            ("to_done", T.to_done_seconds, int(n), []),
            ("in_progress", T.in_progress_seconds, int(positive), [T.in_progress_seconds > 0]),
        ):
            if not count:
                continue
            offset, limit = _middle(count)
            # SQLite's planner would sort the period's range instead (fine for a week, several
            # times slower for a year): name the ordered index. PostgreSQL chooses by its costs.
            ordered = (
                "ix_ticket_times_"
                + ("" if dim == "all" else f"{dim}_")
                + ("done" if measure == "to_done" else "progress")
            )
            middle = (
                select(value.label("v"))
                .with_hint(T, f"INDEXED BY {ordered}", "sqlite")
                .where(*mine, *same, *extra)
                .order_by(value)
                .limit(limit)
                .offset(offset)
                .subquery()
            )
            parts.append(select(literal(len(asked)).label("i"), middle.c.v))
            asked.append((measure, dim, group))
    middle_values: dict[tuple[str, str, Any], list[float]] = defaultdict(list)
    for i, v in session.execute(union_all(*parts)) if len(parts) > 1 else session.execute(parts[0]):
        middle_values[asked[int(i)]].append(float(v))
    figures = {}
    for (dim, group), (n, to_done, progress, _) in acc.items():
        mid_done = middle_values.get(("to_done", dim, group))
        mid_progress = middle_values.get(("in_progress", dim, group))
        figures[(dim, group)] = {
            "done": int(n),
            "median_to_done_hours": median_hours(mid_done) if mid_done else None,
            "total_to_done_hours": hours(to_done),
            "median_in_progress_hours": median_hours(mid_progress) if mid_progress else None,
            "total_in_progress_hours": hours(progress),
        }
    return figures


# ----------------------------------------------------------------------------- counts


def _status_moves(session: Session, desk: str, period: Period) -> Any:
    """Re-opens and bounces of the desk's tickets in the period, per ticket and week: rows
    (ticket id, week index, re-open moves, bounce moves), from the ``ticket_moves`` rows the
    recorder wrote with each such move (:mod:`dutydesk.tickets.moves` classifies them)."""
    M = TicketMove
    week = _week(M.at, period, session).label("week")
    return (
        select(M.ticket_id, week, func.sum(M.reopen), func.sum(M.bounce))
        .where(M.desk == desk, *in_period(M.at, period), (M.reopen + M.bounce) > 0)
        .group_by(M.ticket_id, week)
    )


def _filed(session: Session, desk: str, period: Period) -> list[tuple[str | None, str, int, int]]:
    """(category, kind, week index, count) of the tickets filed in the period."""
    week = _week(Ticket.created_at, period, session).label("week")
    rows = session.execute(
        select(Ticket.category, Ticket.kind, week, func.count())
        .where(Ticket.desk == desk, _in_period(Ticket.created_at, period))
        .group_by(Ticket.category, Ticket.kind, week)
    )
    return [(c, k, int(w), int(n)) for c, k, w, n in rows]


def _done_per_week(session: Session, desk: str, period: Period) -> dict[int, int]:
    week = _week(Ticket.resolved_at, period, session).label("week")
    rows = session.execute(
        select(week, func.count())
        .where(Ticket.desk == desk, _in_period(Ticket.resolved_at, period))
        .group_by(week)
    )
    return {int(w): int(n) for w, n in rows}


# ----------------------------------------------------------------------------- the report


def toil_report(
    session: Session,
    policy: Policy,
    desk: str,
    period: Period,
    recurring: Recurring | None = None,
) -> ToilReport:
    """The toil report of ``desk`` over ``period`` (``recurring``: the clusters, computed by
    ``reports.recurring`` on the same period, or None)."""
    spec = policy.desks[desk]
    for_reports(session)
    cal = desk_calendar(policy, desk)
    weeks = period.weeks()

    filed = _filed(session, desk, period)
    by_cat: dict[str | None, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    cells: dict[tuple[str | None, str], int] = defaultdict(int)
    week_filed: dict[int, int] = defaultdict(int)
    week_cat: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cat, kind, w, n in filed:
        by_cat[cat] += n
        by_kind[kind] += n
        cells[(cat, kind)] += n
        week_filed[w] += n
        week_cat[w][cat or ""] += n

    done_week = _done_per_week(session, desk, period)
    if not moves.is_current(session, policy, desk):
        raise StaleTimes(f"re-opens and bounces of desk {desk!r} are not derived yet")
    durations = _durations(session, policy, desk, period)
    all_out = durations.get(("all", None), _no_durations())
    if all_out["done"] != sum(done_week.values()):
        raise StaleTimes(f"stored times of desk {desk!r} are missing or stale for the period")
    cat_out = {g: d for (dim, g), d in durations.items() if dim == "category"}
    kind_out = {g: d for (dim, g), d in durations.items() if dim == "kind"}

    # One pass over the period's moves: per ticket and week, its re-opens and bounces (a few
    # rows: most tickets neither re-open nor bounce), then counted per period and per week.
    per_ticket_week = session.execute(_status_moves(session, desk, period)).all()
    reopen_moves = bounce_moves = 0
    reopened_ids: set[int] = set()
    bounced_ids: set[int] = set()
    week_sets: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for tid, w, reopens, bounces in per_ticket_week:
        reopen_moves += int(reopens)
        bounce_moves += int(bounces)
        if reopens:
            reopened_ids.add(tid)
            week_sets[int(w)][0].add(tid)
        if bounces:
            bounced_ids.add(tid)
            week_sets[int(w)][1].add(tid)
    totals = (reopen_moves, len(reopened_ids), bounce_moves, len(bounced_ids))
    week_moves = {w: (len(r), len(b)) for w, (r, b) in week_sets.items()}

    cat_order: list[str | None] = [
        *spec.categories,
        *sorted(c for c in by_cat.keys() | cat_out.keys() if c and c not in spec.categories),
    ]
    if None in by_cat or None in cat_out:
        cat_order.append(None)
    kind_order = [
        *spec.kinds,
        *sorted(k for k in by_kind.keys() | kind_out.keys() if k not in spec.kinds),
    ]

    return ToilReport(
        desk=desk,
        period=PeriodOut(from_=period.start, to=period.end, zone=period.zone.key, weeks=weeks),
        business_hours=cal is not None,
        summary=ToilSummary(
            filed=sum(by_cat.values()),
            reopened=int(totals[1]),
            reopen_moves=int(totals[0]),
            bounced=int(totals[3]),
            bounce_moves=int(totals[2]),
            **all_out,
        ),
        categories=[
            CategoryRow(category=c, filed=by_cat.get(c, 0), **cat_out.get(c, _no_durations()))
            for c in cat_order
            if by_cat.get(c) or c in cat_out or c in spec.categories
        ],
        kinds=[
            KindRow(kind=k, filed=by_kind.get(k, 0), **kind_out.get(k, _no_durations()))
            for k in kind_order
            if by_kind.get(k) or k in kind_out
        ],
        category_kinds=[
            CategoryKindCell(category=c, kind=k, filed=n)
            for (c, k), n in sorted(cells.items(), key=lambda x: (-x[1], x[0][0] or "", x[0][1]))
        ],
        weeks=[
            WeekRow(
                week=monday,
                filed=week_filed.get(i, 0),
                done=done_week.get(i, 0),
                reopened=week_moves.get(i, (0, 0))[0],
                bounced=week_moves.get(i, (0, 0))[1],
                filed_by_category=dict(week_cat.get(i, {})),
            )
            for i, monday in enumerate(weeks)
        ],
        recurring=recurring,
    )


def durations_of(d: Durations) -> list[Any]:
    return [
        d.done,
        d.median_to_done_hours,
        d.total_to_done_hours,
        d.median_in_progress_hours,
        d.total_in_progress_hours,
    ]


DURATION_HEADERS = [
    "done",
    "median_filed_to_done_hours",
    "total_filed_to_done_hours",
    "median_in_progress_hours",
    "total_in_progress_hours",
]


def csv_table(report: ToilReport, table: str) -> str:
    """One table of the report as CSV (RFC 4180, a header row; empty cell: no value)."""
    if table not in CSV_TABLES:
        raise field_error("table", f"{table!r} is not a table; one of {', '.join(CSV_TABLES)}")
    rows: list[list[Any]]
    if table == "categories":
        rows = [["category", "filed", *DURATION_HEADERS]]
        rows += [[c.category or "", c.filed, *durations_of(c)] for c in report.categories]
    elif table == "kinds":
        rows = [["kind", "filed", *DURATION_HEADERS]]
        rows += [[k.kind, k.filed, *durations_of(k)] for k in report.kinds]
    elif table == "category_kinds":
        rows = [["category", "kind", "filed"]]
        rows += [[c.category or "", c.kind, c.filed] for c in report.category_kinds]
    elif table == "weeks":
        cats = sorted({c for w in report.weeks for c in w.filed_by_category})
        rows = [
            ["week", "filed", "done", "reopened", "bounced"]
            + [f"filed:{c or '(none)'}" for c in cats]
        ]
        rows += [
            [w.week.isoformat(), w.filed, w.done, w.reopened, w.bounced]
            + [w.filed_by_category.get(c, 0) for c in cats]
            for w in report.weeks
        ]
    elif table == "clusters":
        rows = [["rank", "words", "count", "effort_hours", "score", "name", "members"]]
        clusters = report.recurring.clusters if report.recurring else []
        rows += [
            [
                i + 1,
                " ".join(c.words),
                c.count,
                c.effort_hours,
                c.score,
                c.name or "",
                " ".join(m.key for m in c.members),
            ]
            for i, c in enumerate(clusters)
        ]
    else:
        s = report.summary
        rows = [["measure", "value"]]
        rows += [[k, "" if v is None else v] for k, v in s.model_dump().items()]
    return _csv(rows)


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()
