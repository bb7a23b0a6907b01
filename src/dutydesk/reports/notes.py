"""Notes leads add for the weekly status post."""

from __future__ import annotations

from typing import Any

from dutydesk.auth.leads import require_desk_lead
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, NotFound
from dutydesk.reports.models import StatusNote


def note_out(n: StatusNote, author: str | None) -> dict[str, Any]:
    return {
        "id": n.id,
        "desk": n.desk,
        "text": n.text,
        "author": author,
        "created_at": n.created_at.isoformat(),
        "removed_at": n.removed_at.isoformat() if n.removed_at else None,
    }


def add_note(ctx: Ctx, desk: str, text: str) -> dict[str, Any]:
    ctx.desk(desk)
    require_desk_lead(ctx, desk, "add status notes")
    note = StatusNote(desk=desk, text=text, author_id=ctx.actor.id, created_at=ctx.now)
    ctx.session.add(note)
    ctx.session.flush()
    return note_out(note, ctx.actor.name)


def remove_note(ctx: Ctx, desk: str, note_id: int) -> dict[str, Any]:
    """Take a note out of the posts still to be made (a post already made keeps it)."""
    ctx.desk(desk)
    require_desk_lead(ctx, desk, "remove status notes")
    note = ctx.session.get(StatusNote, note_id, with_for_update=True)
    if note is None or note.desk != desk:
        raise NotFound(f"desk {desk!r} has no status note {note_id}")
    if note.removed_at is not None:
        raise Conflict(f"status note {note_id} was removed already")
    note.removed_at, note.removed_by_id = ctx.now, ctx.actor.id
    ctx.session.flush()
    return note_out(note, None)
