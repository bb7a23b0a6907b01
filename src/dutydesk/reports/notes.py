"""Notes leads add for the weekly status post."""

from __future__ import annotations

from typing import Any

from dutydesk.auth.leads import require_desk_lead
from dutydesk.context import Ctx
from dutydesk.reports.models import StatusNote


def note_out(n: StatusNote, author: str | None) -> dict[str, Any]:
    return {
        "id": n.id,
        "desk": n.desk,
        "text": n.text,
        "author": author,
        "created_at": n.created_at.isoformat(),
    }


def add_note(ctx: Ctx, desk: str, text: str) -> dict[str, Any]:
    ctx.desk(desk)
    require_desk_lead(ctx, desk, "add status notes")
    note = StatusNote(desk=desk, text=text, author_id=ctx.actor.id, created_at=ctx.now)
    ctx.session.add(note)
    ctx.session.flush()
    return note_out(note, ctx.actor.name)
