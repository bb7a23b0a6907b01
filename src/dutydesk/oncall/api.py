"""On-call routes: parse, call the service, present. No rules live here.

Query times (``at``, ``from``, ``to``) take ISO 8601 with an offset, a naive time (wall clock
in the rotation's zone), a date (local midnight) or ``now``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import Unauthorized, field_error
from dutydesk.http.deps import Actor, NoBody, State, authenticate, write
from dutydesk.oncall import handoff, rules, service
from dutydesk.oncall.schemas import (
    ChangeOut,
    FairnessOut,
    FeedTokenOut,
    GapsOut,
    HistoryOut,
    ImportIn,
    ImportOut,
    MembershipIn,
    MembershipOut,
    OnCallAll,
    OnCallOut,
    OverrideChange,
    OverrideIn,
    OverrideOut,
    RotationOut,
    ShiftOut,
    SwapIn,
    SwapOut,
    TakeIn,
    TimeOffIn,
    TimeOffOut,
)
from dutydesk.state import AppState

router = APIRouter(prefix="/api/v1", tags=["on-call"])
_ = ChangeOut  # documented through HistoryOut

From = Annotated[str | None, Query(alias="from", description="default depends on the route")]
To = Annotated[str | None, Query(alias="to")]
At = Annotated[str | None, Query(description="default: now")]


def parse_when(
    state: AppState, text: str | None, zone: ZoneInfo, fld: str, default: datetime
) -> datetime:
    if text is None or not text.strip():
        return default
    raw = text.strip()
    if raw.lower() == "now":
        return state.now()
    try:
        value: datetime | date = (
            date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw)
        )
    except ValueError:
        raise field_error(
            fld, f"{raw!r} is not a time; write it like 2026-11-30T10:00-08:00, 2026-11-30 or now"
        ) from None
    return rules.to_utc(value, zone)


def _zone(state: AppState, rotation: str) -> ZoneInfo:
    """The rotation's zone, from policy alone (no database read on the hot path)."""
    rot = state.policy.rotations.get(rotation)
    if rot is None:
        return service.loaded(state, rotation).zone  # raises the NotFound naming the choices
    return ZoneInfo(rot.timezone)


def _span(
    state: AppState,
    zone: ZoneInfo,
    start: str | None,
    end: str | None,
    before: timedelta,
    after: timedelta,
) -> tuple[datetime, datetime]:
    """[from, to): by default ``before`` now to ``after`` now; a window that long from ``from``."""
    s = parse_when(state, start, zone, "from", state.now() - before)
    return s, parse_when(state, end, zone, "to", s + before + after)


# ----------------------------------------------------------------------------- who is on call


@router.get("/oncall", response_model=OnCallOut | OnCallAll)
def on_call(
    state: State,
    actor: Actor,
    desk: str | None = None,
    rotation: str | None = None,
    at: At = None,
) -> dict[str, Any]:
    """Who is on call, per layer, for a desk (or a rotation) at an instant; every desk if
    neither is given."""
    if rotation is not None:
        when = parse_when(state, at, _zone(state, rotation), "at", state.now())
        return service.on_call(state, rotation, when, desk)
    if desk is not None:
        rot = desk_policy(state.policy, desk).rotation
        zone = _zone(state, rot) if rot else ZoneInfo("UTC")
        return service.on_call_desk(state, desk, parse_when(state, at, zone, "at", state.now()))
    when = parse_when(state, at, ZoneInfo("UTC"), "at", state.now())
    desks = [
        service.on_call_desk(state, name, when)
        for name, d in state.policy.desks.items()
        if d.rotation
    ]
    return {"at": when.isoformat(), "desks": desks}


@router.get("/oncall/gaps", response_model=GapsOut)
def gaps(state: State, actor: Actor, days: int = 90, rotation: str | None = None) -> dict[str, Any]:
    """Stretches of the next ``days`` where a layer of a rotation has nobody on call."""
    if not 1 <= days <= 3 * 366:
        raise field_error("days", "use 1 to 1098")
    now = state.now()
    return service.gaps(state, now, now + timedelta(days=days), rotation)


@router.get("/rotations", response_model=list[RotationOut])
def rotations(state: State, actor: Actor) -> list[dict[str, Any]]:
    return [service.rotation_out(state, name, state.now()) for name in state.policy.rotations]


@router.get("/rotations/{name}", response_model=RotationOut)
def rotation(name: str, state: State, actor: Actor, at: At = None) -> dict[str, Any]:
    when = parse_when(state, at, _zone(state, name), "at", state.now())
    return service.rotation_out(state, name, when)


@router.get("/rotations/{name}/shifts", response_model=list[ShiftOut])
def shifts(
    name: str,
    state: State,
    actor: Actor,
    start: From = None,
    end: To = None,
    layer: str | None = None,
    person: str | None = None,
) -> list[dict[str, Any]]:
    """Shifts overlapping [from, to) with overrides, swaps and time off applied (default: the
    next 28 days)."""
    s, e = _span(state, _zone(state, name), start, end, timedelta(0), timedelta(days=28))
    return service.shifts(state, name, s, e, layer, person)


@router.get("/rotations/{name}/next", response_model=list[ShiftOut])
def next_shifts(
    name: str,
    state: State,
    actor: Actor,
    n: int = 3,
    after: At = None,
    person: str | None = None,
) -> list[dict[str, Any]]:
    """The next ``n`` shifts per layer (or of one person) starting after ``after``."""
    when = parse_when(state, after, _zone(state, name), "after", state.now())
    return service.next_shifts(state, name, when, n, person)


@router.get("/people/{name}/shifts")
def person_shifts(
    name: str, state: State, actor: Actor, start: From = None, end: To = None
) -> list[dict[str, Any]]:
    """One person's shifts in every rotation (default: the next 90 days)."""
    zone = service.person_zone(state.policy, name)
    s, e = _span(state, zone, start, end, timedelta(0), timedelta(days=90))
    return service.person_shifts(state, name, s, e)


# ----------------------------------------------------------------------------- overrides


def _created(body: Any, model: type[BaseModel]) -> tuple[int, Any, None]:
    return 201, model.model_validate(body).model_dump(mode="json"), None


def _ok(body: Any, model: type[BaseModel]) -> tuple[int, Any, None]:
    return 200, model.model_validate(body).model_dump(mode="json"), None


@router.get("/rotations/{name}/overrides", response_model=list[OverrideOut])
def overrides(
    name: str,
    state: State,
    actor: Actor,
    start: From = None,
    end: To = None,
    all: bool = False,
) -> list[dict[str, Any]]:
    """Stored overrides (``all=true`` adds undone ones and the pins that keep the past)."""
    zone = _zone(state, name)
    s = parse_when(state, start, zone, "from", state.now()) if start or not all else None
    e = parse_when(state, end, zone, "to", state.now()) if end else None
    return service.list_overrides(state, name, s, e, all_=all)


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
        lambda ctx: _created(service.create_override(ctx, name, body), OverrideOut),
    )


@router.patch("/rotations/{name}/overrides/{override_id}", response_model=OverrideOut)
async def change_override(
    name: str,
    override_id: int,
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
        lambda ctx: _ok(service.change_override(ctx, name, override_id, body), OverrideOut),
    )


@router.delete(
    "/rotations/{name}/overrides/{override_id}", response_model=OverrideOut, dependencies=[NoBody]
)
async def undo_override(
    name: str, override_id: int, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Undo an override: cancelled if it has not started, cut at now if it is under way."""
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: _ok(service.undo_override(ctx, name, override_id), OverrideOut),
    )


@router.post(
    "/rotations/{name}/overrides/{override_id}/undo",
    response_model=OverrideOut,
    dependencies=[NoBody],
)
async def undo_override_post(
    name: str, override_id: int, request: Request, state: State, actor: Actor
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
        lambda ctx: _created(service.take(ctx, name, body), OverrideOut),
    )


# ----------------------------------------------------------------------------- swaps


@router.get("/rotations/{name}/swaps", response_model=list[SwapOut])
def swaps(name: str, state: State, actor: Actor, all: bool = False) -> list[dict[str, Any]]:
    return service.list_swaps(state, name, all_=all)


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
        lambda ctx: _created(service.create_swap(ctx, name, body), SwapOut),
    )


@router.delete("/rotations/{name}/swaps/{swap_id}", response_model=SwapOut, dependencies=[NoBody])
async def undo_swap(
    name: str, swap_id: int, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state, actor, request, "", lambda ctx: _ok(service.undo_swap(ctx, name, swap_id), SwapOut)
    )


@router.post(
    "/rotations/{name}/swaps/{swap_id}/undo", response_model=SwapOut, dependencies=[NoBody]
)
async def undo_swap_post(
    name: str, swap_id: int, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await undo_swap(name, swap_id, request, state, actor)


# ----------------------------------------------------------------------------- time off


@router.get("/time-off", response_model=list[TimeOffOut])
def time_off(
    state: State,
    actor: Actor,
    person: str | None = None,
    rotation: str | None = None,
    all: bool = False,
) -> list[dict[str, Any]]:
    """Time off that is not over yet (``all=true``: everything, cancelled included); the
    reason shows to the person and to leads."""
    return service.list_time_off(state, actor, person, rotation, all_=all)


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
        lambda ctx: _created(service.add_time_off(ctx, body), TimeOffOut),
    )


@router.delete("/time-off/{time_off_id}", response_model=TimeOffOut, dependencies=[NoBody])
async def cancel_time_off(
    time_off_id: int, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: _ok(service.cancel_time_off(ctx, time_off_id), TimeOffOut),
    )


@router.post("/time-off/{time_off_id}/cancel", response_model=TimeOffOut, dependencies=[NoBody])
async def cancel_time_off_post(
    time_off_id: int, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await cancel_time_off(time_off_id, request, state, actor)


# ----------------------------------------------------------------------------- membership


@router.get("/rotations/{name}/members", response_model=list[MembershipOut])
def memberships(name: str, state: State, actor: Actor) -> list[dict[str, Any]]:
    """Joins and leaves recorded at run time (the declared lists are in GET /rotations/{name})."""
    return service.list_memberships(state, name)


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
        lambda ctx: _created(service.change_membership(ctx, name, body), MembershipOut),
    )


@router.delete(
    "/rotations/{name}/members/{membership_id}", response_model=MembershipOut, dependencies=[NoBody]
)
async def cancel_membership(
    name: str, membership_id: int, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: _ok(service.cancel_membership(ctx, name, membership_id), MembershipOut),
    )


# ----------------------------------------------------------------------------- import


@router.post("/rotations/{name}/import", response_model=ImportOut)
async def import_ics(
    name: str, body: ImportIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Store an iCalendar export's shifts (from now on) as overrides; ``dry_run`` to preview."""

    def produce(ctx: Ctx) -> tuple[int, Any, None]:
        out = ImportOut.model_validate(service.import_calendar(ctx, name, body))
        return (200 if body.dry_run else 201), out.model_dump(mode="json"), None

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
) -> dict[str, Any]:
    """On-call hours, shifts, weekend and holiday hours per person (default: the past year)."""
    zone = _zone(state, name)
    now = state.now()
    s = parse_when(state, start, zone, "from", now - timedelta(days=365))
    e = parse_when(state, end, zone, "to", now if start is None else s + timedelta(days=365))
    return service.fairness_report(state, name, s, e, layer)


@router.get("/rotations/{name}/history", response_model=HistoryOut)
def history(
    name: str, state: State, actor: Actor, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """Every change to the schedule, newest first: who, when, and the shifts it moved."""
    return service.history(state, name, limit, cursor)


@router.get("/desks/{desk}/handoff", tags=["desks"], response_model=None)
def desk_handoff(
    desk: str,
    state: State,
    actor: Actor,
    at: At = None,
    format: Literal["json", "markdown"] = "json",
) -> Any:
    """The handoff report (``format=markdown``: ready to post)."""
    with state.db.read() as s:
        zone = handoff.desk_rotation(s, state.policy, desk)[1].zone
        when = parse_when(state, at, zone, "at", state.now())
        report = handoff.handoff_report(s, state.policy, desk, when)
    if format == "markdown":
        return PlainTextResponse(
            handoff.render_markdown(report), media_type="text/markdown; charset=utf-8"
        )
    return report


@router.get("/desks/{desk}/triage", tags=["desks"])
def desk_triage(desk: str, state: State, actor: Actor, at: At = None) -> dict[str, Any]:
    """The on-call's view: new tickets, tickets awaiting an owner, claimed but idle tickets."""
    with state.db.read() as s:
        zone = handoff.desk_rotation(s, state.policy, desk)[1].zone
        when = parse_when(state, at, zone, "at", state.now())
        return handoff.triage_view(s, state.policy, desk, when)


# ----------------------------------------------------------------------------- calendars


def _feed_auth(
    request: Request, state: AppState, token: str | None, kind: str, subject: str
) -> None:
    """Calendar clients send a secret ``?token=``; people and scripts may use their bearer."""
    if token is not None:
        if service.feed_token_subject(state, token) != (kind, subject):
            raise Unauthorized(
                "the calendar token is unknown, revoked, or for another calendar; "
                "create a new link with POST .../feed-tokens"
            )
        return
    authenticate(request, state)


def _ics(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{filename}.ics"',
            "Cache-Control": "private, max-age=300",
        },
    )


@router.get("/rotations/{name}/calendar.ics", response_class=Response)
def rotation_calendar(
    name: str,
    request: Request,
    state: State,
    token: str | None = None,
    start: From = None,
    end: To = None,
) -> Response:
    """The whole team's shifts as iCalendar (default: 90 days back to a year ahead)."""
    zone = _zone(state, name)
    _feed_auth(request, state, token, "rotation", name)
    s, e = _span(state, zone, start, end, service.FEED_PAST, service.FEED_FUTURE)
    return _ics(service.rotation_ics(state, name, s, e), name)


@router.get("/people/{name}/calendar.ics", response_class=Response)
def person_calendar(
    name: str,
    request: Request,
    state: State,
    token: str | None = None,
    start: From = None,
    end: To = None,
) -> Response:
    """One person's shifts in every rotation, as iCalendar."""
    _feed_auth(request, state, token, "person", name)
    zone = service.person_zone(state.policy, name)
    s, e = _span(state, zone, start, end, service.FEED_PAST, service.FEED_FUTURE)
    return _ics(service.person_ics(state, name, s, e), f"oncall-{name}")


@router.post(
    "/rotations/{name}/feed-tokens",
    status_code=201,
    response_model=FeedTokenOut,
    dependencies=[NoBody],
)
async def rotation_feed_token(
    name: str, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """A secret calendar link for the rotation (shown once; revoke with DELETE)."""
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: _created(service.create_feed_token(ctx, "rotation", name), FeedTokenOut),
    )


@router.post(
    "/people/{name}/feed-tokens",
    status_code=201,
    response_model=FeedTokenOut,
    dependencies=[NoBody],
)
async def person_feed_token(
    name: str, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """A secret calendar link for one person's shifts (theirs, or anyone's for a lead)."""
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: _created(service.create_feed_token(ctx, "person", name), FeedTokenOut),
    )


@router.get("/feed-tokens", response_model=list[FeedTokenOut])
def feed_tokens(state: State, actor: Actor) -> list[dict[str, Any]]:
    """Calendar links you created (an admin sees all); the secrets themselves are not kept."""
    return service.list_feed_tokens(state, actor)


@router.delete("/feed-tokens/{token_id}", response_model=FeedTokenOut, dependencies=[NoBody])
async def revoke_feed_token(
    token_id: int, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: _ok(service.revoke_feed_token(ctx, token_id), FeedTokenOut),
    )
