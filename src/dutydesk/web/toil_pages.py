"""The toil report page, ``/desks/{desk}/reports/toil``: charts with their tables, the
recurring requests, and the forms that follow (name) a cluster or stop following it."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from dutydesk.errors import field_error
from dutydesk.http.deps import State
from dutydesk.inputs import RowId
from dutydesk.reports import recurring
from dutydesk.reports.schemas import FollowIn, ToilReport
from dutydesk.reports.toil_api import toil_for
from dutydesk.web import present
from dutydesk.web.charts import Chart, Series
from dutydesk.web.deps import PageRoute, PageViewer, WriteViewer, render
from dutydesk.web.report_pages import FromDay, ToDay, page_context, period_of, report_path

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TOP_CLUSTERS = 12


def _week(d: date) -> str:
    return d.strftime("%-d %b")


def charts(r: ToilReport) -> dict[str, Chart]:
    """The page's charts, each with the numbers its table shows."""
    weeks = [_week(w.week) for w in r.weeks]
    cats = [c.category for c in r.categories if c.filed]
    by_cat = Chart(
        "toil-filed-by-category",
        "Tickets filed per week, by category",
        "stacked",
        weeks,
        [
            Series(c or "(none)", [w.filed_by_category.get(c or "", 0) for w in r.weeks])
            for c in cats
        ],
        x_title="week of",
        y_title="tickets",
    )
    flow = Chart(
        "toil-flow",
        "Filed, done, re-opened and bounced per week",
        "line",
        weeks,
        [
            Series("filed", [w.filed for w in r.weeks]),
            Series("done", [w.done for w in r.weeks]),
            Series("re-opened", [w.reopened for w in r.weeks]),
            Series("bounced", [w.bounced for w in r.weeks]),
        ],
        x_title="week of",
        y_title="tickets",
    )
    unit = "business hours" if r.business_hours else "hours"
    time_cat = Chart(
        "toil-time-by-category",
        f"Time spent per category ({unit}, tickets done in the period)",
        "hbar",
        [c.category or "(none)" for c in r.categories if c.done],
        [
            Series("filed → done", [c.total_to_done_hours for c in r.categories if c.done]),
            Series("in progress", [c.total_in_progress_hours for c in r.categories if c.done]),
        ],
        x_title="category",
        y_title=unit,
        unit="h",
        decimals=1,
    )
    out = {"by_category": by_cat, "flow": flow, "time_by_category": time_cat}
    rec = r.recurring
    if rec is not None:
        top = rec.clusters[:TOP_CLUSTERS]
        out["clusters"] = Chart(
            "toil-recurring",
            "Recurring requests by cost (count × effort)",
            "hbar",
            [c.name or " ".join(c.words[:4]) for c in top],
            [
                Series("hours (count × effort)", [c.score for c in top]),
                Series("tickets", [c.count for c in top]),
            ],
            x_title="cluster",
            y_title="hours · tickets",
            decimals=1,
            links=[f"#cluster-{i + 1}" for i in range(len(top))],
        )
        if rec.followed:
            out["followed"] = Chart(
                "toil-followed",
                "Followed requests per week",
                "line",
                weeks,
                [Series(f.name, [w.count for w in f.weeks]) for f in rec.followed],
                x_title="week of",
                y_title="tickets",
            )
    return out


@router.get("/desks/{desk}/reports/toil", name="report-toil")
def toil_page(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    start: FromDay = None,
    end: ToDay = None,
) -> Response:
    period = period_of(state, desk, start, end)
    report = toil_for(state, desk, period.start, period.end)
    ctx = page_context(
        request, state, desk, "toil", period, api_path=f"/api/v1/desks/{desk}/reports/toil"
    )
    ctx.update(
        {
            "toil": report,
            "charts": charts(report),
            "can_follow": present.abilities(viewer.user, desk).respond,
            "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
            "followed_ok": request.query_params.get("followed"),
        }
    )
    return render(request, "reports/toil.html", ctx, viewer=viewer)


def _back(desk: str, back: str, note: str) -> str:
    """The report the form was on (its period kept), with a note on what was done."""
    home = report_path(desk, "toil")
    parts = urlsplit(present.safe_next(back, home))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "followed"]
    path = parts.path if parts.path == home else home
    return f"{path}?{urlencode([*query, ('followed', note)])}"


@router.post("/desks/{desk}/reports/toil/follow")
async def follow_page(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    name: Annotated[str, Form(max_length=200)] = "",
    words: Annotated[str, Form(max_length=400)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Follow a cluster under a name, then back to the report."""
    try:
        body = FollowIn(name=name, words=words.split())
    except ValidationError as exc:
        e = exc.errors()[0]
        raise field_error(str(e["loc"][0]), present.in_words(e)) from exc
    await state.run(viewer.user, lambda ctx: recurring.follow(ctx, desk, body))
    return RedirectResponse(_back(desk, back, f"now following “{body.name}”"), status_code=303)


@router.post("/desks/{desk}/reports/toil/unfollow/{cluster_id}")
async def unfollow_page(
    desk: str,
    cluster_id: RowId,
    request: Request,
    state: State,
    viewer: WriteViewer,
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    await state.run(viewer.user, lambda ctx: recurring.unfollow(ctx, desk, cluster_id))
    return RedirectResponse(_back(desk, back, "stopped following"), status_code=303)
