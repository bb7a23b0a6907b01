"""On-call routes: parse, call the service, present. No rules live here.

Query times (``at``, ``from``, ``to``) take ISO 8601 with an offset, a naive time (wall clock
in the rotation's zone), a date (local midnight) or ``now``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import Field

from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import field_error
from dutydesk.http.deps import Actor, NoBody, State, write
from dutydesk.inputs import PageLimit, RowId
from dutydesk.oncall import (
    availability,
    handoff,
    ical_import,
    membership,
    overrides,
    reads,
    swaps,
    time_off,
)
from dutydesk.oncall.api_params import At, From, To, parse_when, rotation_zone, time_span
from dutydesk.oncall.schemas import (
    FairnessOut,
    FreeOut,
    GapsOut,
    HistoryOut,
    ImportIn,
    ImportOut,
    In,
    MemberLoadOut,
    MembershipIn,
    MembershipOut,
    OnCallAll,
    OnCallOut,
    OverrideChange,
    OverrideIn,
    OverrideOut,
    PersonShiftOut,
    RotationOut,
    ShiftOut,
    SwapIn,
    SwapOut,
    TakeIn,
    TimeOffIn,
    TimeOffOut,
)

router = APIRouter(prefix="/api/v1", tags=["on-call"])


# ----------------------------------------------------------------------------- who is on call


@router.get("/oncall", response_model=OnCallOut | OnCallAll)
def on_call(
    state: State,
    actor: Actor,
    desk: str | None = None,
    rotation: str | None = None,
    at: At = None,
) -> OnCallOut | OnCallAll:
    """Who is on call, per layer, for a desk (or a rotation) at an instant; every desk if
    neither is given."""
    policy = state.policy
    if rotation is not None:
        when = parse_when(state, at, rotation_zone(state, rotation), "at", state.now())
        with state.db.read() as s:
            return reads.on_call(s, policy, rotation, when, desk)
    if desk is not None:
        rot = desk_policy(policy, desk).rotation
        zone = rotation_zone(state, rot) if rot else ZoneInfo("UTC")
        when = parse_when(state, at, zone, "at", state.now())
        with state.db.read() as s:
            return reads.on_call_desk(s, policy, desk, when)
    when = parse_when(state, at, ZoneInfo("UTC"), "at", state.now())
    with state.db.read() as s:
        desks = [
            reads.on_call_desk(s, policy, name, when)
            for name, d in policy.desks.items()
            if d.rotation
        ]
    return OnCallAll(at=when, desks=desks)


@router.get("/oncall/free", response_model=FreeOut)
def free(state: State, actor: Actor, desk: str) -> FreeOut:
    """Who is on call for ``desk`` now, with their open assigned tickets: those with none are
    free to take feature-team work."""
    desk_policy(state.policy, desk)
    now = state.now()
    with state.db.read() as s:
        loads = availability.member_loads(s, state.policy, desk, now)
    return FreeOut(
        desk=desk,
        at=now,
        members=[
            MemberLoadOut(
                person=m.person, layers=list(m.layers), open_tickets=m.open_tickets, free=m.free
            )
            for m in loads
        ],
        free=[m.person for m in loads if m.free],
    )


@router.get("/oncall/gaps", response_model=GapsOut)
def gaps(state: State, actor: Actor, days: int = 90, rotation: str | None = None) -> GapsOut:
    """Stretches of the next ``days`` where a layer of a rotation has nobody on call, and
    people booked twice (two layers at once, or on call during their own time off)."""
    if not 1 <= days <= 3 * 366:
        raise field_error("days", "use 1 to 1098")
    now = state.now()
    with state.db.read() as s:
        return reads.gaps(s, state.policy, now, now + timedelta(days=days), rotation)


@router.get("/rotations", response_model=list[RotationOut])
def rotations(state: State, actor: Actor) -> list[RotationOut]:
    now = state.now()
    with state.db.read() as s:
        return [reads.rotation_out(s, state.policy, name, now) for name in state.policy.rotations]


@router.get("/rotations/{name}", response_model=RotationOut)
def rotation(name: str, state: State, actor: Actor, at: At = None) -> RotationOut:
    when = parse_when(state, at, rotation_zone(state, name), "at", state.now())
    with state.db.read() as s:
        return reads.rotation_out(s, state.policy, name, when)


@router.get("/rotations/{name}/shifts", response_model=list[ShiftOut])
def shifts(
    name: str,
    state: State,
    actor: Actor,
    start: From = None,
    end: To = None,
    layer: str | None = None,
    person: str | None = None,
) -> list[ShiftOut]:
    """Shifts overlapping [from, to) with overrides, swaps and time off applied (default: the
    next 28 days)."""
    s, e = time_span(
        state, rotation_zone(state, name), start, end, timedelta(0), timedelta(days=28)
    )
    with state.db.read() as session:
        return reads.shifts(session, state.policy, name, s, e, layer, person)


@router.get("/rotations/{name}/next", response_model=list[ShiftOut])
def next_shifts(
    name: str,
    state: State,
    actor: Actor,
    n: int = 3,
    after: At = None,
    person: str | None = None,
) -> list[ShiftOut]:
    """The next ``n`` shifts per layer (or of one person) starting after ``after``."""
    when = parse_when(state, after, rotation_zone(state, name), "after", state.now())
    with state.db.read() as s:
        return reads.next_shifts(s, state.policy, name, when, n, person)


@router.get("/people/{name}/shifts", response_model=list[PersonShiftOut])
def person_shifts(
    name: str, state: State, actor: Actor, start: From = None, end: To = None
) -> list[PersonShiftOut]:
    """One person's shifts in every rotation (default: the next 90 days)."""
    zone = time_off.person_zone(state.policy, name)
    s, e = time_span(state, zone, start, end, timedelta(0), timedelta(days=90))
    with state.db.read() as session:
        return reads.person_shifts(session, state.policy, name, s, e)


# ----------------------------------------------------------------------------- overrides


@router.get("/rotations/{name}/overrides", response_model=list[OverrideOut])
def list_overrides(
    name: str,
    state: State,
    actor: Actor,
    start: From = None,
    end: To = None,
    all: bool = False,
) -> list[OverrideOut]:
    """Stored overrides (``all=true`` adds undone ones and the pins that keep the past)."""
    zone = rotation_zone(state, name)
    s = parse_when(state, start, zone, "from", state.now()) if start or not all else None
    e = parse_when(state, end, zone, "to", state.now()) if end else None
    with state.db.read() as session:
        return overrides.list_overrides(session, state.policy, name, s, e, all_=all)


@router.post("/rotations/{name}/overrides", status_code=201, response_model=OverrideOut)
async def create_override(
    name: str, body: OverrideIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Someone covers a layer over a time range (from now on)."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, overrides.create_override(ctx, name, body), None),
    )


@router.patch("/rotations/{name}/overrides/{override_id}", response_model=OverrideOut)
async def change_override(
    name: str,
    override_id: RowId,
    body: OverrideChange,
    request: Request,
    state: State,
    actor: Actor,
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (200, overrides.change_override(ctx, name, override_id, body), None),
    )


@router.delete(
    "/rotations/{name}/overrides/{override_id}", response_model=OverrideOut, dependencies=[NoBody]
)
async def undo_override(
    name: str, override_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Undo an override: cancelled if it has not started, cut at now if it is under way."""
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: (200, overrides.undo_override(ctx, name, override_id), None),
    )


@router.post(
    "/rotations/{name}/overrides/{override_id}/undo",
    response_model=OverrideOut,
    dependencies=[NoBody],
)
async def undo_override_post(
    name: str, override_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await undo_override(name, override_id, request, state, actor)


@router.post("/rotations/{name}/take", status_code=201, response_model=OverrideOut)
async def take(
    name: str, body: TakeIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Take the current shift of a layer from whoever holds it, until the next handoff."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, overrides.take(ctx, name, body), None),
    )


# ----------------------------------------------------------------------------- swaps


@router.get("/rotations/{name}/swaps", response_model=list[SwapOut])
def list_swaps(name: str, state: State, actor: Actor, all: bool = False) -> list[SwapOut]:
    with state.db.read() as s:
        return swaps.list_swaps(s, state.policy, name, all_=all)


@router.post("/rotations/{name}/swaps", status_code=201, response_model=SwapOut)
async def create_swap(
    name: str, body: SwapIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Two people exchange two whole shifts that have not started."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, swaps.create_swap(ctx, name, body), None),
    )


@router.delete("/rotations/{name}/swaps/{swap_id}", response_model=SwapOut, dependencies=[NoBody])
async def undo_swap(
    name: str, swap_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state, actor, request, "", lambda ctx: (200, swaps.undo_swap(ctx, name, swap_id), None)
    )


@router.post(
    "/rotations/{name}/swaps/{swap_id}/undo", response_model=SwapOut, dependencies=[NoBody]
)
async def undo_swap_post(
    name: str, swap_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await undo_swap(name, swap_id, request, state, actor)


# ----------------------------------------------------------------------------- time off


@router.get("/time-off", response_model=list[TimeOffOut])
def list_time_off(
    state: State,
    actor: Actor,
    person: str | None = None,
    rotation: str | None = None,
    all: bool = False,
) -> list[TimeOffOut]:
    """Time off that is not over yet (``all=true``: everything, cancelled included); the
    reason shows to the person and to leads."""
    with state.db.read() as s:
        return time_off.list_time_off(
            s, state.policy, actor, person, rotation, state.now(), all_=all
        )


@router.post("/time-off", status_code=201, response_model=TimeOffOut)
async def add_time_off(
    body: TimeOffIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Declare time off (yours, or anyone's as a lead); rotations work around it."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, time_off.add_time_off(ctx, body), None),
    )


@router.delete("/time-off/{time_off_id}", response_model=TimeOffOut, dependencies=[NoBody])
async def cancel_time_off(
    time_off_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: (200, time_off.cancel_time_off(ctx, time_off_id), None),
    )


@router.post("/time-off/{time_off_id}/cancel", response_model=TimeOffOut, dependencies=[NoBody])
async def cancel_time_off_post(
    time_off_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await cancel_time_off(time_off_id, request, state, actor)


# ----------------------------------------------------------------------------- membership


@router.get("/rotations/{name}/members", response_model=list[MembershipOut])
def memberships(name: str, state: State, actor: Actor) -> list[MembershipOut]:
    """Joins and leaves recorded at run time (the declared lists are in GET /rotations/{name})."""
    with state.db.read() as s:
        return membership.list_memberships(s, state.policy, name)


@router.post("/rotations/{name}/members", status_code=201, response_model=MembershipOut)
async def change_membership(
    name: str, body: MembershipIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Someone joins or leaves a layer from a date (shifts already started never move)."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, membership.change_membership(ctx, name, body), None),
    )


@router.delete(
    "/rotations/{name}/members/{membership_id}", response_model=MembershipOut, dependencies=[NoBody]
)
async def cancel_membership(
    name: str, membership_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: (200, membership.cancel_membership(ctx, name, membership_id), None),
    )


# ----------------------------------------------------------------------------- import


@router.post("/rotations/{name}/import", response_model=ImportOut)
async def import_ics(
    name: str, body: ImportIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Store an iCalendar export's shifts (from now on) as overrides; ``dry_run`` to preview."""

    def produce(ctx: Ctx) -> tuple[int, ImportOut, None]:
        return (200 if body.dry_run else 201), ical_import.import_calendar(ctx, name, body), None

    return await write(state, actor, request, body.model_dump_json(), produce)


# ----------------------------------------------------------------------------- reports


@router.get("/rotations/{name}/fairness", response_model=FairnessOut)
def fairness(
    name: str,
    state: State,
    actor: Actor,
    start: From = None,
    end: To = None,
    layer: str | None = None,
) -> FairnessOut:
    """On-call hours, shifts, weekend and holiday hours per person (default: the past year)."""
    zone = rotation_zone(state, name)
    now = state.now()
    s = parse_when(state, start, zone, "from", now - timedelta(days=365))
    e = parse_when(state, end, zone, "to", now if start is None else s + timedelta(days=365))
    with state.db.read() as session:
        return reads.fairness_report(session, state.policy, name, s, e, layer)


@router.get("/rotations/{name}/history", response_model=HistoryOut)
def history(
    name: str, state: State, actor: Actor, limit: PageLimit = 50, cursor: str | None = None
) -> HistoryOut:
    """Every change to the schedule, newest first: who, when, and the shifts it moved."""
    with state.db.read() as s:
        return reads.history(s, state.policy, name, limit, cursor)


@router.get(
    "/desks/{desk}/handoff",
    tags=["desks"],
    response_model=None,
    responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}},
)
def desk_handoff(
    desk: str,
    state: State,
    actor: Actor,
    at: At = None,
    format: Literal["json", "markdown"] = "json",
) -> Any:
    """The handoff report (``format=markdown``: ready to post). With ``at`` in the past, the
    report of the handoff nearest to it, its tickets as they were at that handoff (``as_of``)."""
    with state.db.read() as s:
        zone = handoff.desk_rotation(s, state.policy, desk)[1].zone
        now = state.now()
        when = parse_when(state, at, zone, "at", now)
        # an instant in the past: that handoff's tickets as they were then
        report = handoff.handoff_report(s, state.policy, desk, when, now=now)
    if format == "markdown":
        return PlainTextResponse(
            handoff.render_markdown(report), media_type="text/markdown; charset=utf-8"
        )
    return report


class HandoffNoteIn(In):
    text: str = Field(min_length=1, max_length=10_000)


@router.post("/tickets/{key}/handoff-note", status_code=201, tags=["tickets"])
async def handoff_note(
    key: str, body: HandoffNoteIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """The outgoing on-call's note on a ticket for the handoff (responders): in the handoff
    report and, as an internal comment marked "handoff note", in the ticket's timeline."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, handoff.add_handoff_note(ctx, key, body.text), None),
    )


@router.get("/desks/{desk}/triage", tags=["desks"])
def desk_triage(desk: str, state: State, actor: Actor, at: At = None) -> dict[str, Any]:
    """The on-call's view: new tickets, tickets awaiting an owner, claimed but idle tickets."""
    with state.db.read() as s:
        zone = handoff.desk_rotation(s, state.policy, desk)[1].zone
        when = parse_when(state, at, zone, "at", state.now())
        return handoff.triage_view(s, state.policy, desk, when)
