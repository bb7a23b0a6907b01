"""Report routes: the weekly status post and the notes leads add for it, meeting agendas."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.context import desk_policy
from dutydesk.http.deps import Actor, State, write
from dutydesk.inputs import Day, Input
from dutydesk.reports import agenda as agendas
from dutydesk.reports import notes
from dutydesk.reports.meetings import meetings_of, occurrences
from dutydesk.reports.models import StatusNote
from dutydesk.reports.status_post import WINDOW, post_instant, status_post
from dutydesk.slo.policy import desk_calendar, desk_zone, is_business_day

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/desks/{desk}/status-post")
def get_status_post(
    desk: str, state: State, actor: Actor, date_: Annotated[Day | None, Query(alias="date")] = None
) -> dict[str, Any]:
    """The weekly status post as of ``date`` (its post time: the end of the status meeting),
    or as of now; ``text`` is exactly the DESIGN.md §6 template."""
    desk_policy(state.policy, desk)
    now = state.now()
    end = min(post_instant(state.policy, desk, date_), now) if date_ else now
    with state.db.read() as s:
        return status_post(s, state.policy, desk, end, date_).as_json()


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


@router.get("/desks/{desk}/status-notes")
def list_notes(desk: str, state: State, actor: Actor) -> list[dict[str, Any]]:
    """Notes of the current window (the last 7 days)."""
    desk_policy(state.policy, desk)
    since = state.now() - WINDOW
    with state.db.read() as s:
        rows = s.execute(
            select(StatusNote, User.name)
            .outerjoin(User, User.id == StatusNote.author_id)
            .where(StatusNote.desk == desk, StatusNote.created_at > since)
            .order_by(StatusNote.created_at)
        ).all()
        return [notes.note_out(n, name) for n, name in rows]


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
        occ = agendas.next_occurrence(state.policy, desk, date_, meeting, now)
        return agendas.build(s, state.policy, occ, now).as_json()


@router.get("/desks/{desk}/meetings", tags=["desks"])
def meetings(
    desk: str, state: State, actor: Actor, days: Annotated[int, Query(ge=1, le=92)] = 14
) -> list[dict[str, Any]]:
    """The desk's meetings over the next ``days`` days."""
    spec = desk_policy(state.policy, desk)
    zone = desk_zone(state.policy, desk)
    cal = desk_calendar(state.policy, desk)
    first = state.now().astimezone(zone).date()
    found = [
        o
        for m in meetings_of(spec)
        for o in occurrences(
            desk,
            m,
            zone,
            partial(is_business_day, cal),
            first,
            first + timedelta(days=days),
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
