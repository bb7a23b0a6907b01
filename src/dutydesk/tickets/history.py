"""A ticket's history as the API lists it: events and comments, a page at a time.

Pages follow the list conventions: a ``limit`` (1 to ``MAX_LIMIT``) and an opaque cursor that
continues after the last item shown, in the order the history was written.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.errors import field_error
from dutydesk.inputs import decode_cursor, encode_cursor
from dutydesk.tickets.models import Comment, Event
from dutydesk.tickets.queries import MAX_LIMIT
from dutydesk.tickets.recorder import get_ticket
from dutydesk.tickets.schemas import CommentOut, CommentPage, EventOut, EventPage


def _after(cursor: str | None, limit: int) -> int | None:
    if not 1 <= limit <= MAX_LIMIT:
        raise field_error("limit", f"use 1 to {MAX_LIMIT}")
    if cursor is None:
        return None
    [last] = decode_cursor(cursor, (int,))
    return int(last)


def events_page(session: Session, key: str, limit: int, cursor: str | None) -> EventPage:
    """The ticket's events in order (by ``seq``), ``limit`` of them after ``cursor``."""
    after = _after(cursor, limit)
    ticket = get_ticket(session, key)
    stmt = (
        select(Event, User.name)
        .outerjoin(User, User.id == Event.actor_id)
        .where(Event.ticket_id == ticket.id)
        .order_by(Event.seq)
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(Event.seq > after)
    rows = session.execute(stmt).all()
    items = [
        EventOut(
            seq=e.seq,
            at=e.at,
            actor=name,
            type=e.type,
            field=e.field,
            before=e.before,
            after=e.after,
            data=e.data or {},
        )
        for e, name in rows[:limit]
    ]
    nxt = encode_cursor([items[-1].seq]) if len(rows) > limit else None
    return EventPage(items=items, next_cursor=nxt)


def comments_page(
    session: Session, key: str, include_internal: bool, limit: int, cursor: str | None
) -> CommentPage:
    """The ticket's comments oldest first (internal ones for responders only)."""
    after = _after(cursor, limit)
    ticket = get_ticket(session, key)
    stmt = (
        select(Comment, User.name)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.ticket_id == ticket.id)
        .order_by(Comment.id)
        .limit(limit + 1)
    )
    if not include_internal:
        stmt = stmt.where(Comment.public.is_(True))
    if after is not None:
        stmt = stmt.where(Comment.id > after)
    rows = session.execute(stmt).all()
    items = [
        CommentOut(
            id=c.id,
            author=name,
            body=c.body,
            body_html=c.body_html,
            public=c.public,
            created_at=c.created_at,
        )
        for c, name in rows[:limit]
    ]
    nxt = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return CommentPage(items=items, next_cursor=nxt)
