"""SLO routes: parse, call the service, return. No rules live here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from starlette.concurrency import run_in_threadpool

from dutydesk.auth.leads import refuse_unless_leading
from dutydesk.context import desk_policy
from dutydesk.errors import field_error
from dutydesk.http.deps import Actor, NoBody, State
from dutydesk.slo import attainment as attainment_reads
from dutydesk.slo import explain as calendar_explain
from dutydesk.slo import service
from dutydesk.slo.schemas import AttainmentOut, DeskSloOut, ExplainOut, RecomputeOut
from dutydesk.state import AppState

log = logging.getLogger("dutydesk.slo")


@asynccontextmanager
async def _recompute_changed_desks(app: FastAPI) -> AsyncIterator[None]:
    """On start-up, bring clocks in line with an edited calendar or SLO policy.

    A failure is logged, not fatal: the server still serves, and `dutydesk slo recompute`
    repeats the work with its error shown.
    """
    state: AppState | None = getattr(app.state, "dutydesk", None)
    if state is not None:
        try:
            await run_in_threadpool(service.sync, state.db, state.policy, state.now())
        except Exception:
            log.exception("recomputing SLO clocks at start-up failed")
    yield


router = APIRouter(prefix="/api/v1", tags=["slo"], lifespan=_recompute_changed_desks)


@router.get("/desks/{desk}/slo", response_model=DeskSloOut)
def desk_slo(desk: str, state: State, actor: Actor, limit: int = 100) -> DeskSloOut:
    """Open tickets' clocks by nearest due (overdue first), with breached/at-risk counts."""
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        return service.desk_view(s, state.policy, desk, state.now(), limit)


@router.get("/desks/{desk}/slo/attainment", response_model=AttainmentOut)
def attainment(desk: str, state: State, actor: Actor, weeks: int = 8) -> AttainmentOut:
    """Met / breached and median business hours per ISO week, priority and clock."""
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        return attainment_reads.attainment(s, state.policy, desk, state.now(), weeks)


@router.post("/desks/{desk}/slo/recompute", response_model=RecomputeOut, dependencies=[NoBody])
def recompute(desk: str, state: State, actor: Actor, full: bool = True) -> RecomputeOut:
    """Reconcile open tickets' clocks with the current policy (also a backfill); leads only.

    ``full=false`` lets the server pick: only move due times when no rule's structure changed.
    """
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        refuse_unless_leading(s, state.policy, actor, desk, state.now(), "recompute SLO clocks")
    with state.db.write() as s:
        return service.recompute(s, state.policy, desk, state.now(), full=full or None)


@router.get("/calendars/{name}/explain", response_model=ExplainOut)
def explain(
    name: str,
    state: State,
    actor: Actor,
    from_: Annotated[str | None, Query(alias="from", description="ISO 8601 with offset")] = None,
    add: Annotated[str, Query(description="4h, 1h30m, 2d or '4 business hours'")] = "4h",
    filed: Annotated[
        str | None, Query(description="triage due if filed at this instant (ISO 8601)")
    ] = None,
    desk: Annotated[str | None, Query(description="whose triage SLO (with `filed`)")] = None,
) -> ExplainOut:
    """Why a due time is what it is: each business interval that `add` consumes; with
    `filed`, when a ticket filed then must be triaged and which rule applied."""
    if filed is not None:
        if from_ is not None:
            raise field_error("from", "give either 'from' (with 'add') or 'filed', not both")
        at = calendar_explain.parse_instant(filed, "filed")
        return calendar_explain.explain_triage(state.policy, name, at, desk)
    if desk is not None:
        raise field_error("desk", "'desk' picks the triage SLO for 'filed'; give 'filed' too")
    start = calendar_explain.parse_instant(from_) if from_ is not None else state.now()
    return calendar_explain.explain(state.policy, name, start, add)
