"""Report routes: queue health, on-call load and SET figures, as JSON or one table as CSV.

``GET /api/v1/desks/{desk}/reports/queue|oncall|set?from=&to=`` (local days of the desk,
twelve weeks ending today by default); ``format=csv`` answers one of the report's tables
(``table=``, the first by default) as a spreadsheet reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dutydesk.context import desk_policy
from dutydesk.errors import field_error
from dutydesk.http.deps import Actor, State
from dutydesk.inputs import Day
from dutydesk.reports.oncall_load import OncallLoad, oncall_load
from dutydesk.reports.period import Period, resolve
from dutydesk.reports.queue_health import QueueHealth, queue_health
from dutydesk.reports.set_figures import SetFigures, set_figures
from dutydesk.reports.tables import Table, pick, to_csv
from dutydesk.slo.policy import desk_zone
from dutydesk.state import AppState

router = APIRouter(prefix="/api/v1", tags=["reports"])

FromDay = Annotated[Day | None, Query(alias="from", description="first day, YYYY-MM-DD")]
ToDay = Annotated[Day | None, Query(alias="to", description="last day, YYYY-MM-DD")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: one table, see table=")]
TableName = Annotated[
    str | None, Query(max_length=40, description="with format=csv: which table (default the first)")
]


def report_period(state: AppState, desk: str, start: date | None, end: date | None) -> Period:
    desk_policy(state.policy, desk)
    return resolve(start, end, state.now(), desk_zone(state.policy, desk))


def _answer(
    model: BaseModel,
    tables: Callable[[], list[Table]],
    fmt: str,
    table: str | None,
    filename: str,
) -> BaseModel | Response:
    if fmt == "json":
        if table is not None:
            raise field_error("table", "table= picks a table for format=csv")
        return model
    try:
        chosen = pick(tables(), table)
    except ValueError as exc:
        raise field_error("table", str(exc)) from None
    return Response(
        to_csv(chosen),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}-{chosen.name}.csv"'},
    )


def _read(state: AppState, use: Callable[[Session], BaseModel]) -> BaseModel:
    with state.db.read() as s:
        return use(s)


@router.get("/desks/{desk}/reports/queue", response_model=QueueHealth)
def queue(
    desk: str,
    state: State,
    actor: Actor,
    start: FromDay = None,
    end: ToDay = None,
    format: Format = "json",
    table: TableName = None,
) -> BaseModel | Response:
    """Queue health: cumulative flow, ages, unowned tickets, idle claims, SLO attainment."""
    p = report_period(state, desk, start, end)
    now = state.now()
    report = _read(state, lambda s: queue_health(s, state.policy, desk, p, now))
    assert isinstance(report, QueueHealth)
    return _answer(report, report.tables, format, table, f"{desk}-queue-{p.start}-{p.end}")


@router.get("/desks/{desk}/reports/oncall", response_model=OncallLoad)
def oncall(
    desk: str,
    state: State,
    actor: Actor,
    start: FromDay = None,
    end: ToDay = None,
    format: Format = "json",
    table: TableName = None,
) -> BaseModel | Response:
    """On-call load per shift and per person, beside the rotation's fairness hours."""
    p = report_period(state, desk, start, end)
    now = state.now()
    report = _read(state, lambda s: oncall_load(s, state.policy, desk, p, now))
    assert isinstance(report, OncallLoad)
    return _answer(report, report.tables, format, table, f"{desk}-oncall-{p.start}-{p.end}")


@router.get("/desks/{desk}/reports/set", response_model=SetFigures)
def set_report(
    desk: str,
    state: State,
    actor: Actor,
    start: FromDay = None,
    end: ToDay = None,
    area: Annotated[
        Literal["team", "category", "label"], Query(description="what bugs are grouped by")
    ] = "team",
    format: Format = "json",
    table: TableName = None,
) -> BaseModel | Response:
    """SET figures: bugs resolved and customer share, fixes submitted, time in each column,
    escalations' time to fix, bugs by area."""
    p = report_period(state, desk, start, end)
    now = state.now()
    report = _read(state, lambda s: set_figures(s, state.policy, desk, p, now, area))
    assert isinstance(report, SetFigures)
    return _answer(report, report.tables, format, table, f"{desk}-set-{p.start}-{p.end}")
