"""Toil report routes: the report (JSON or one table as CSV) and the clusters a desk follows."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from dutydesk.context import Ctx, desk_policy
from dutydesk.http.deps import Actor, NoBody, State, write
from dutydesk.inputs import Day, RowId
from dutydesk.reports import recurring
from dutydesk.reports.period import Period, resolve
from dutydesk.reports.schemas import Followed, FollowIn, ToilReport
from dutydesk.reports.tables import neutralised
from dutydesk.reports.toil import CSV_TABLES, StaleTimes, csv_table, in_period, toil_report
from dutydesk.slo.policy import desk_zone
from dutydesk.state import AppState
from dutydesk.tickets import moves
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.times import refresh_where

router = APIRouter(prefix="/api/v1", tags=["reports"])

Table = Literal["categories", "kinds", "category_kinds", "weeks", "clusters", "summary"]
assert set(Table.__args__) == set(CSV_TABLES)  # type: ignore[attr-defined]


def toil_for(
    state: AppState, desk: str, start: date | None, end: date | None, clusters: bool = True
) -> ToilReport:
    """The report as every way in reads it: the API, the CLI (through the API) and the page."""
    desk_policy(state.policy, desk)
    now = state.now()
    period: Period = resolve(start, end, now, desk_zone(state.policy, desk))
    with state.db.read() as s:
        found = (
            recurring.recurring_requests(s, state.policy, desk, period, now) if clusters else None
        )
        try:
            return toil_report(s, state.policy, desk, period, found)
        except StaleTimes:
            pass
    # Tickets done in the period without valid stored times (resolved before the upgrade,
    # bulk-loaded, or the desk's calendar changed), or re-opens and bounces not derived under
    # the desk's present columns: store them once, then read again.
    with state.db.write() as s:
        refresh_where(s, state.policy, desk, *in_period(Ticket.resolved_at, period))
        if not moves.is_current(s, state.policy, desk):
            moves.rebuild_desk(s, state.policy, desk, now)
    with state.db.read() as s:
        return toil_report(s, state.policy, desk, period, found)


@router.get(
    "/desks/{desk}/reports/toil",
    response_model=ToilReport,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_toil(
    desk: str,
    state: State,
    actor: Actor,
    start: Annotated[Day | None, Query(alias="from", description="first day YYYY-MM-DD")] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day YYYY-MM-DD")] = None,
    clusters: Annotated[bool, Query(description="include the recurring requests")] = True,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    table: Annotated[Table, Query(description="with format=csv: which table")] = "categories",
) -> Response:
    """Tickets by category and kind, week by week, time to done and in progress (business
    hours), re-opened and bounced tickets, and the recurring requests (clusters of similar
    tickets ranked by count × effort), over whole local days ``from`` … ``to`` (default: the
    twelve weeks ending today)."""
    if format_ == "csv":  # one table: the clusters only when that table is asked for
        clusters = table == "clusters"
    report = toil_for(state, desk, start, end, clusters=clusters)
    if format_ == "csv":
        name = f"toil-{desk}-{report.period.from_}-{report.period.to}-{table}.csv"
        return Response(
            neutralised(csv_table(report, table)),  # cluster names are users' text
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


@router.post("/desks/{desk}/reports/toil/followed", status_code=201, response_model=Followed)
async def follow_cluster(
    desk: str, body: FollowIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Follow a recurring request under a name (responders): its weekly counts appear in the
    toil report from then on, for any period."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, recurring.follow(ctx, desk, body), None),
    )


def _unfollow(ctx: Ctx, desk: str, cluster_id: int) -> tuple[int, None, None]:
    recurring.unfollow(ctx, desk, cluster_id)
    return 204, None, None


@router.delete(
    "/desks/{desk}/reports/toil/followed/{cluster_id}", status_code=204, dependencies=[NoBody]
)
async def unfollow_cluster(
    desk: str, cluster_id: RowId, request: Request, state: State, actor: Actor
) -> Response:
    """Stop following a recurring request (responders)."""
    await write(
        state,
        actor,
        request,
        "",
        partial(_unfollow, desk=desk, cluster_id=cluster_id),
    )
    return Response(status_code=204)
