"""Report routes: the weekly status post and the notes leads add for it, posting it now,
meeting agendas (next and past), the release calendar."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import or_, select

from dutydesk.auth.models import User
from dutydesk.context import desk_policy
from dutydesk.http.deps import Actor, NoBody, State, write
from dutydesk.inputs import Day, Input, RowId
from dutydesk.notify.posts import post_status_now
from dutydesk.reports import agenda as agendas
from dutydesk.reports import notes, releases
from dutydesk.reports.meetings import meetings_of, occurrences
from dutydesk.reports.models import StatusNote
from dutydesk.reports.status_post import post_day, post_window, status_post
from dutydesk.slo.policy import desk_calendar, desk_zone, is_business_day

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/desks/{desk}/status-post")
def get_status_post(
    desk: str, state: State, actor: Actor, date_: Annotated[Day | None, Query(alias="date")] = None
) -> dict[str, Any]:
    """The weekly status post of ``date`` (default: this week's, the next one to be made).

    Its window ends at that day's post time (the end of the status meeting) and starts at
    the post time a week before, whatever the date asked; ``text`` is exactly the DESIGN.md
    §6 template; ``explain`` lists every ticket behind every number; ``made`` is false while
    the post time is still ahead."""
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        return status_post(s, state.policy, desk, state.now(), date_).as_json()


class PostNowIn(Input):
    date: Day | None = None


@router.post("/desks/{desk}/status-post/publish", status_code=200)
async def publish_status_post(
    desk: str, body: PostNowIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Post the week's status post to the desk's channels now (leads); once per week."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (200, post_status_now(ctx, desk, body.date).as_json(), None),
    )


class NoteIn(Input):
    text: str = Field(min_length=1, max_length=2000)


@router.post("/desks/{desk}/status-notes", status_code=201)
async def add_note(
    desk: str, body: NoteIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """A note for this week's status post (leads)."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, notes.add_note(ctx, desk, body.text), None),
    )


@router.post("/desks/{desk}/status-notes/{note_id}/remove", status_code=200, dependencies=[NoBody])
async def remove_note(
    desk: str, note_id: RowId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Take a note out of the posts still to be made (leads); a post made keeps it."""
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: (200, notes.remove_note(ctx, desk, note_id), None),
    )


@router.get("/desks/{desk}/status-notes")
def list_notes(
    desk: str, state: State, actor: Actor, date_: Annotated[Day | None, Query(alias="date")] = None
) -> list[dict[str, Any]]:
    """Notes of the post of ``date`` (default: this week's), as that post shows them."""
    desk_policy(state.policy, desk)
    day = date_ or post_day(state.policy, desk, state.now())
    start, end = post_window(state.policy, desk, day)
    with state.db.read() as s:
        rows = s.execute(
            select(StatusNote, User.name)
            .outerjoin(User, User.id == StatusNote.author_id)
            .where(
                StatusNote.desk == desk,
                StatusNote.created_at > start,
                StatusNote.created_at <= end,
                or_(StatusNote.removed_at.is_(None), StatusNote.removed_at > end),
            )
            .order_by(StatusNote.created_at, StatusNote.id)
        ).all()
        return [notes.note_out(n, name) for n, name in rows]


# ----------------------------------------------------------------------------- releases


class ReleaseIn(Input):
    name: str = Field(min_length=1, max_length=60, pattern=r"^\S(.*\S)?$")
    date: Day
    note: str | None = Field(None, max_length=500)


class MoveReleaseIn(Input):
    date: Day
    note: str | None = Field(None, max_length=500)


ReleaseName = Annotated[str, Path(min_length=1, max_length=60)]


@router.get("/desks/{desk}/releases")
def get_releases(desk: str, state: State, actor: Actor) -> dict[str, Any]:
    """The desk's release calendar, and who added or moved what (newest first)."""
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        return {
            "releases": [r.as_json() for r in releases.list_releases(s, desk)],
            "history": [h.as_json() for h in releases.history(s, desk)],
        }


@router.post("/desks/{desk}/releases", status_code=201)
async def add_release(
    desk: str, body: ReleaseIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Put a release on the desk's calendar (leads)."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (
            201,
            releases.add_release(ctx, desk, body.name, body.date, body.note).as_json(),
            None,
        ),
    )


@router.post("/desks/{desk}/releases/{name}/move")
async def move_release(
    desk: str, name: ReleaseName, body: MoveReleaseIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Move a slipped release to its new date (leads)."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (
            200,
            releases.move_release(ctx, desk, name, body.date, body.note).as_json(),
            None,
        ),
    )


@router.post("/desks/{desk}/releases/{name}/remove", dependencies=[NoBody])
async def remove_release(
    desk: str, name: ReleaseName, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Take a release off the calendar (leads); the history keeps it."""
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: (200, releases.remove_release(ctx, desk, name).as_json(), None),
    )


# ----------------------------------------------------------------------------- agendas


@router.get("/desks/{desk}/agenda", tags=["desks"])
def agenda(
    desk: str,
    state: State,
    actor: Actor,
    date_: Annotated[Day | None, Query(alias="date")] = None,
    meeting: str | None = None,
) -> dict[str, Any]:
    """The agenda of the desk's meeting on ``date`` (default: its next meeting)."""
    desk_policy(state.policy, desk)
    now = state.now()
    with state.db.read() as s:
        occ = agendas.occurrence_on(s, state.policy, desk, date_, meeting, now)
        return agendas.build(s, state.policy, occ, now).as_json()


@router.get("/desks/{desk}/meetings", tags=["desks"])
def meetings(
    desk: str,
    state: State,
    actor: Actor,
    days: Annotated[int, Query(ge=1, le=92)] = 14,
    past: Annotated[int, Query(ge=0, le=92)] = 0,
) -> list[dict[str, Any]]:
    """The desk's meetings from ``past`` days ago to ``days`` days ahead (the release
    calendar decides the daily ones before a release)."""
    spec = desk_policy(state.policy, desk)
    zone = desk_zone(state.policy, desk)
    cal = desk_calendar(state.policy, desk)
    first = state.now().astimezone(zone).date() - timedelta(days=past)
    with state.db.read() as s:
        calendar = releases.release_dates(s, desk)
    found = [
        o
        for m in meetings_of(spec)
        for o in occurrences(
            desk,
            m,
            zone,
            partial(is_business_day, cal),
            first,
            first + timedelta(days=days + past),
            calendar,
        )
    ]
    return [
        {
            "meeting": o.meeting.name,
            "agenda": o.meeting.agenda,
            "start": o.start.isoformat(),
            "end": o.end.isoformat(),
            "agenda_posted_at": o.post_at.isoformat(),
        }
        for o in sorted(found, key=lambda o: o.start)
    ]
