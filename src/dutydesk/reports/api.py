"""Report routes: the weekly status post and the notes leads add for it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.auth.service import require
from dutydesk.context import desk_policy
from dutydesk.http.deps import Actor, State
from dutydesk.reports.models import StatusNote
from dutydesk.reports.status_post import WINDOW, post_instant, status_post

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/desks/{desk}/status-post")
def get_status_post(
    desk: str, state: State, actor: Actor, date_: Annotated[date | None, Query(alias="date")] = None
) -> dict[str, Any]:
    """The weekly status post as of ``date`` (its post time: the end of the status meeting),
    or as of now; ``text`` is exactly the DESIGN.md §6 template."""
    desk_policy(state.policy, desk)
    now = state.now()
    end = min(post_instant(state.policy, desk, date_), now) if date_ else now
    with state.db.read() as s:
        return status_post(s, state.policy, desk, end, date_).as_json()


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=2000)


def _note_out(n: StatusNote, author: str | None) -> dict[str, Any]:
    return {
        "id": n.id,
        "desk": n.desk,
        "text": n.text,
        "author": author,
        "created_at": n.created_at.isoformat(),
    }


@router.post("/desks/{desk}/status-notes", status_code=201)
def add_note(desk: str, body: NoteIn, state: State, actor: Actor) -> dict[str, Any]:
    """A note for this week's status post (leads)."""
    desk_policy(state.policy, desk)
    require(actor, "lead", desk, "add status notes")
    with state.db.write() as s:
        note = StatusNote(desk=desk, text=body.text, author_id=actor.id, created_at=state.now())
        s.add(note)
        s.flush()
        return _note_out(note, actor.name)


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
        return [_note_out(n, name) for n, name in rows]
