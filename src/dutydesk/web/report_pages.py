"""The reports area of a desk: the index page and what every report page shares.

A report page is ``/desks/{desk}/reports/{slug}``, a route named ``report-{slug}``; it reads its period from ``?from=&to=``
(:data:`FromDay`, :data:`ToDay`, resolved by ``reports.period.resolve`` exactly as the API
and the CLI resolve them), builds its figures with the report's service, and renders a
template extending ``reports/base.html`` with :func:`page_context` (tabs, period form,
downloads) plus its own charts (``web.charts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.routing import NoMatchFound

from dutydesk.context import desk_policy
from dutydesk.http.deps import State
from dutydesk.inputs import Day
from dutydesk.reports.period import Period, resolve
from dutydesk.slo.policy import desk_zone
from dutydesk.web.deps import PageRoute, PageViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FromDay = Annotated[Day | None, Query(alias="from", description="first day, YYYY-MM-DD")]
ToDay = Annotated[Day | None, Query(alias="to", description="last day, YYYY-MM-DD")]


@dataclass(frozen=True)
class ReportKind:
    slug: str
    title: str
    summary: str


#: Every report of a desk, in the order the tabs show them. A report's page route is
#: ``/desks/{desk}/reports/{slug}``; the index lists the ones this server routes.
REPORTS = (
    ReportKind(
        "toil",
        "Toil",
        "Tickets by category and kind, week by week; time from filed to done in business hours "
        "and in progress; re-opened and bounced tickets; recurring requests worth automating.",
    ),
    ReportKind(
        "queue",
        "Queue health",
        "Open tickets by column and priority over time, age of open tickets, tickets without "
        "an owner, idle claims, SLO attainment per priority and week.",
    ),
    ReportKind(
        "oncall",
        "On-call load",
        "Per shift and per person: tickets triaged and served, comments, notifications outside "
        "office hours, SLO breaches during the shift.",
    ),
    ReportKind(
        "set",
        "SET figures",
        "Bugs resolved and the customer-reported share per week, fixes submitted, time in each "
        "column, escalations' time to fix, bugs by component over time.",
    ),
)


@dataclass(frozen=True)
class ReportLink:
    slug: str
    title: str
    summary: str
    href: str
    available: bool


@dataclass
class ReportHead:
    """What ``reports/base.html`` shows above a report: its title, form target, downloads."""

    slug: str
    title: str
    path: str
    downloads: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def report_path(desk: str, slug: str) -> str:
    return f"/desks/{desk}/reports/{slug}"


def links(request: Request, desk: str, query: str = "") -> list[ReportLink]:
    """Each report's link (carrying the period along), and whether this server routes it:
    a report page's route is named ``report-{slug}`` (``@router.get(..., name=...)``)."""
    suffix = f"?{query}" if query else ""
    out = []
    for r in REPORTS:
        try:
            request.app.url_path_for(f"report-{r.slug}", desk=desk)
            routed = True
        except NoMatchFound:
            routed = False
        out.append(
            ReportLink(r.slug, r.title, r.summary, report_path(desk, r.slug) + suffix, routed)
        )
    return out


def period_of(state: State, desk: str, start: date | None, end: date | None) -> Period:
    """The period a page's ``from``/``to`` name, in the desk's zone (refusals name the field)."""
    desk_policy(state.policy, desk)
    return resolve(start, end, state.now(), desk_zone(state.policy, desk))


def period_query(period: Period, **filters: str | None) -> str:
    """The query string that names this period and these filters (empty filters left out)."""
    pairs = [("from", period.start.isoformat()), ("to", period.end.isoformat())]
    pairs += [(k, v) for k, v in filters.items() if v]
    return urlencode(pairs)


def page_context(
    request: Request,
    state: State,
    desk: str,
    slug: str,
    period: Period,
    *,
    api_path: str | None = None,
    **filters: str | None,
) -> dict[str, Any]:
    """The context ``reports/base.html`` needs; a report page adds its own figures to it.

    ``api_path`` (the report's JSON route) adds JSON and CSV download links for the same
    period and filters.
    """
    kind = next(r for r in REPORTS if r.slug == slug)
    query = period_query(period, **filters)
    head = ReportHead(slug, kind.title, report_path(desk, slug))
    if api_path:
        head.downloads = [
            ("JSON", f"{api_path}?{query}"),
            ("CSV", f"{api_path}?{query}&format=csv"),
        ]
    return {
        "desk": desk,
        "policy": desk_policy(state.policy, desk),
        "period": period,
        "report": head,
        "reports": links(request, desk, query),
        "filters": filters,
    }


@router.get("/desks/{desk}/reports")
def reports_index(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    """The desk's reports, each linked with the default period."""
    policy = desk_policy(state.policy, desk)
    ctx = {
        "desk": desk,
        "policy": policy,
        "reports": links(request, desk),
        "zone": desk_zone(state.policy, desk).key,
    }
    return render(request, "reports/index.html", ctx, viewer=viewer)
