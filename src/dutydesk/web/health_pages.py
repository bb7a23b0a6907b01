"""Report pages: queue health, on-call load and SET figures, each chart beside its table.

Each page reads its period (and filters) from the URL, asks the same service the API and the
CLI ask, and turns the report's figures into :class:`~dutydesk.web.charts.Chart` s; nothing
here counts anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dutydesk.context import desk_policy
from dutydesk.http.deps import State
from dutydesk.reports.oncall_load import OncallLoad, oncall_load
from dutydesk.reports.period import Period
from dutydesk.reports.queue_health import QueueHealth, queue_health
from dutydesk.reports.set_figures import SetFigures, set_figures
from dutydesk.web.charts import Chart, Series
from dutydesk.web.deps import PageRoute, PageViewer, render
from dutydesk.web.report_pages import FromDay, ToDay, page_context, period_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AreaParam = Annotated[Literal["team", "category", "label"], Query()]


# ----------------------------------------------------------------------------- queue health


def queue_charts(r: QueueHealth) -> dict[str, Chart]:
    weeks = [p.week for p in r.flow]
    triage = [row for row in r.slo if row.clock == "triage" and row.week is not None]
    slo_weeks = sorted({row.week for row in triage if row.week})
    outcome: dict[str, list[int]] = {w: [0, 0, 0] for w in slo_weeks}
    medians: dict[str, dict[str, float | None]] = defaultdict(dict)
    for row in triage:
        assert row.week is not None
        cell = outcome[row.week]
        cell[0] += row.met
        cell[1] += row.at_risk
        cell[2] += row.breached
        medians[row.priority][row.week] = row.median_hours
    return {
        "flow": Chart(
            "queue-flow",
            "Open tickets by column (cumulative flow)",
            "stacked",
            weeks,
            [Series(c, [p.columns.get(c, 0) for p in r.flow]) for c in r.columns],
            x_title="week",
            y_title="open tickets",
            description="At the end of each week (the running week: now).",
        ),
        "priorities": Chart(
            "queue-priorities",
            "Open tickets by priority",
            "line",
            weeks,
            [
                Series(x, [p.priorities.get(x, 0) for p in r.flow])
                for x in r.priorities
                if any(p.priorities.get(x) for p in r.flow)
            ],
            x_title="week",
            y_title="open tickets",
            description="By each ticket's current priority; “none”: not triaged yet.",
        ),
        "arrivals": Chart(
            "queue-arrivals",
            "Filed and closed per week",
            "bar",
            weeks,
            [
                Series("filed", [p.filed for p in r.flow]),
                Series("closed", [p.closed for p in r.flow]),
            ],
            x_title="week",
            y_title="tickets",
        ),
        "ages": Chart(
            "queue-ages",
            "Age of open tickets now",
            "stacked",
            [a.band for a in r.ages],
            [Series(c, [a.columns.get(c, 0) for a in r.ages]) for c in r.columns],
            x_title="filed",
            y_title="open tickets",
        ),
        "slo": Chart(
            "queue-slo",
            "Triage SLO per week",
            "stacked",
            slo_weeks,
            [
                Series(name, [outcome[w][i] for w in slo_weeks])
                for i, name in enumerate(("met", "at risk", "breached"))
            ],
            x_title="week",
            y_title="clocks",
            description="At risk: met, but only after the at-risk warning.",
        ),
        "triage_time": Chart(
            "queue-triage-time",
            "Median time to triage",
            "line",
            slo_weeks,
            [
                Series(p, [medians[p].get(w) for w in slo_weeks])
                for p in sorted(medians)
                if any(v is not None for v in medians[p].values())
            ],
            x_title="week",
            y_title="business hours",
            unit="h",
            decimals=2,
        ),
    }


def _report_page(
    request: Request,
    state: State,
    viewer: PageViewer,
    desk: str,
    slug: str,
    period_args: tuple[date | None, date | None],
    build: Callable[[Session, Period, datetime], Any],
    charts: Callable[[Any], dict[str, Chart]],
    name: str,
    context: dict[str, Any] | None = None,
    **query: str | None,
) -> Response:
    """One report page: the period from the URL, the report read in one transaction, its
    charts beside its tables (``name`` is what the template calls the report)."""
    desk_policy(state.policy, desk)  # an unknown desk is a 404 naming the desks
    period = period_of(state, desk, *period_args)
    now = state.now()
    with state.db.read() as s:
        report = build(s, period, now)
    ctx = page_context(
        request, state, desk, slug, period, api_path=f"/api/v1/desks/{desk}/reports/{slug}", **query
    )
    ctx.update({name: report, "charts": charts(report), **(context or {})})
    return render(request, f"reports/{slug}.html", ctx, viewer=viewer)


@router.get("/desks/{desk}/reports/queue", name="report-queue")
def queue_page(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    start: FromDay = None,
    end: ToDay = None,
) -> Response:
    return _report_page(
        request,
        state,
        viewer,
        desk,
        "queue",
        (start, end),
        lambda s, period, now: queue_health(s, state.policy, desk, period, now),
        queue_charts,
        "q",
    )


# ----------------------------------------------------------------------------- on-call load


def oncall_charts(r: OncallLoad) -> dict[str, Chart]:
    people = [p.person for p in r.people]
    return {
        "work": Chart(
            "oncall-work",
            "Work per person during their shifts",
            "bar",
            people,
            [
                Series("triaged", [p.triaged for p in r.people]),
                Series("served", [p.served for p in r.people]),
                Series("comments", [p.comments for p in r.people]),
            ],
            x_title="person",
            y_title="count",
        ),
        "hours": Chart(
            "oncall-hours",
            "On-call hours per person (fairness)",
            "bar",
            people,
            [
                Series("hours", [p.hours for p in r.people]),
                Series("weekend", [p.weekend_hours for p in r.people]),
                Series("holiday", [p.holiday_hours for p in r.people]),
            ],
            x_title="person",
            y_title="hours",
            unit="h",
            decimals=1,
        ),
        "interruptions": Chart(
            "oncall-interruptions",
            "Notifications and SLO breaches per person",
            "bar",
            people,
            [
                Series("notifications", [p.notifications for p in r.people]),
                Series("outside office hours", [p.outside_hours for p in r.people]),
                Series("SLO breaches", [p.slo_breaches for p in r.people]),
            ],
            x_title="person",
            y_title="count",
        ),
        "shifts": Chart(
            "oncall-shifts",
            "Work per shift",
            "stacked",
            [f"{s.person} {s.start:%d %b %H:%M}" for s in r.shifts],
            [
                Series("triaged", [s.triaged for s in r.shifts]),
                Series("served", [s.served for s in r.shifts]),
                Series("comments", [s.comments for s in r.shifts]),
            ],
            x_title="shift",
            y_title="count",
        ),
    }


@router.get("/desks/{desk}/reports/oncall", name="report-oncall")
def oncall_page(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    start: FromDay = None,
    end: ToDay = None,
) -> Response:
    return _report_page(
        request,
        state,
        viewer,
        desk,
        "oncall",
        (start, end),
        lambda s, period, now: oncall_load(s, state.policy, desk, period, now),
        oncall_charts,
        "o",
    )


# ----------------------------------------------------------------------------- SET figures


def set_charts(r: SetFigures) -> dict[str, Chart]:
    weeks = [w.week for w in r.weeks]
    return {
        "resolved": Chart(
            "set-resolved",
            "Bugs resolved per week",
            "bar",
            weeks,
            [
                Series("bugs resolved", [w.bugs_resolved for w in r.weeks]),
                Series("reported by customers", [w.customer_resolved for w in r.weeks]),
            ],
            x_title="week",
            y_title="bugs",
        ),
        "share": Chart(
            "set-share",
            "Customer-reported share of bugs resolved",
            "line",
            weeks,
            [
                Series(
                    "customer share",
                    [
                        None if w.customer_share is None else round(w.customer_share * 100, 1)
                        for w in r.weeks
                    ],
                )
            ],
            x_title="week",
            y_title="%",
            unit="%",
            decimals=1,
        ),
        "submitted": Chart(
            "set-submitted",
            "Fixes submitted per week",
            "bar",
            weeks,
            [
                Series("fixes submitted", [w.fixes_submitted for w in r.weeks]),
                Series("reported by customers", [w.customer_submitted for w in r.weeks]),
            ],
            x_title="week",
            y_title="bugs",
        ),
        "columns": Chart(
            "set-columns",
            "Average days in each column, tickets resolved that week",
            "stacked",
            weeks,
            [Series(c, [w.days_in_column.get(c) for w in r.weeks]) for c in r.columns],
            x_title="week",
            y_title="days",
            unit="d",
            decimals=2,
        ),
        "escalations": Chart(
            "set-escalations",
            "Escalations: median days from filing to fix",
            "line",
            weeks,
            [Series("median days", [w.escalation_median_days for w in r.weeks])],
            x_title="week",
            y_title="days",
            unit="d",
            decimals=2,
        ),
        "areas": Chart(
            "set-areas",
            f"Bugs filed per week by {r.area}",
            "stacked",
            [a.week for a in r.bugs_by_area],
            [Series(x, [a.counts.get(x, 0) for a in r.bugs_by_area]) for x in r.areas],
            x_title="week",
            y_title="bugs",
        ),
    }


@router.get("/desks/{desk}/reports/set", name="report-set")
def set_page(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    start: FromDay = None,
    end: ToDay = None,
    area: AreaParam = "team",
) -> Response:
    return _report_page(
        request,
        state,
        viewer,
        desk,
        "set",
        (start, end),
        lambda s, period, now: set_figures(s, state.policy, desk, period, now, area),
        set_charts,
        "r",
        {"area": area},
        area=area if area != "team" else None,
    )
