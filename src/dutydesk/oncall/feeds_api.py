"""Calendar feed routes: the rotation's and each person's shifts as iCalendar, reachable by a
secret link, and the links themselves."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from dutydesk.errors import Unauthorized
from dutydesk.http.deps import Actor, NoBody, State, authenticate, write
from dutydesk.inputs import RowId
from dutydesk.oncall import feeds, time_off
from dutydesk.oncall.api_params import From, To, rotation_zone, time_span
from dutydesk.oncall.schemas import FeedTokenOut

router = APIRouter(prefix="/api/v1", tags=["on-call"])


def _feed_auth(request: Request, state: State, token: str | None, kind: str, subject: str) -> None:
    """Calendar clients send a secret ``?token=``; people and scripts may use their bearer."""
    if token is not None:
        with state.db.read() as s:
            subject_of_token = feeds.feed_token_subject(s, token)
        if subject_of_token != (kind, subject):
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
    zone = rotation_zone(state, name)
    _feed_auth(request, state, token, "rotation", name)
    s, e = time_span(state, zone, start, end, feeds.FEED_PAST, feeds.FEED_FUTURE)
    with state.db.read() as session:
        data = feeds.rotation_ics(session, state.policy, name, s, e, state.now())
    return _ics(data, name)


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
    zone = time_off.person_zone(state.policy, name)
    s, e = time_span(state, zone, start, end, feeds.FEED_PAST, feeds.FEED_FUTURE)
    with state.db.read() as session:
        data = feeds.person_ics(session, state.policy, name, s, e, state.now())
    return _ics(data, f"oncall-{name}")


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
        lambda ctx: (201, feeds.create_feed_token(ctx, "rotation", name), None),
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
        lambda ctx: (201, feeds.create_feed_token(ctx, "person", name), None),
    )


@router.get("/feed-tokens", response_model=list[FeedTokenOut])
def feed_tokens(state: State, actor: Actor) -> list[FeedTokenOut]:
    """Calendar links you created (an admin sees all); the secrets themselves are not kept."""
    with state.db.read() as s:
        return feeds.list_feed_tokens(s, actor)


@router.delete("/feed-tokens/{token_id}", response_model=FeedTokenOut, dependencies=[NoBody])
async def revoke_feed_token(
    token_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: (200, feeds.revoke_feed_token(ctx, token_id), None),
    )
