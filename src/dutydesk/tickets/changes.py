"""The record of a ticket change that notifications fan out.

Tickets sit below notifications, so a change does not call them: it writes one
``notify_changes`` row, in the change's own transaction, and notify's worker reads it later
(``notify.service.expand``) to work out who hears what. The change and the record that it
must be heard of are committed together or not at all, and the request never waits for
on-call lookups, preferences or rendering.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from dutydesk.context import Ctx
from dutydesk.db import Prepared
from dutydesk.notify.models import NotifyChange
from dutydesk.notify.queued import QueuedChange, QueuedComment, QueuedTicket
from dutydesk.notify.rules import Change
from dutydesk.telemetry import count_on_commit
from dutydesk.tickets.models import Comment, Event, Ticket, Watcher

# Built once: every ticket transaction writes one.
_INSERT_CHANGE = Prepared(insert(NotifyChange), ("payload", "created_at"))


def record_change(
    ctx: Ctx,
    ticket: Ticket,
    events: Sequence[Event],
    *,
    watcher_ids: set[int] | None = None,
) -> None:
    """Queue one ticket change for the notify worker to fan out (same transaction).

    It records only what the change knew: the ticket's fields as they now are, its events,
    the comments they name, the watchers and who acted. A caller that already knows the
    ticket's watchers (filing does) passes them and saves the query.
    """
    if not events:
        return
    s = ctx.session
    for e in events:  # the /metrics counters, applied when this transaction commits
        if e.type in ("filed", "triaged"):
            count_on_commit(s, e.type, ticket.desk)
        elif e.field == "resolution" and e.after is not None:
            count_on_commit(s, "resolved", ticket.desk)
    comments: dict[int, QueuedComment] = {}
    for e in events:
        data = e.data or {}
        if e.type == "commented" and data.get("comment_id") and data.get("kind") != "reference":
            comment = s.get(Comment, int(data["comment_id"]))
            if comment is not None:
                comments[comment.id] = QueuedComment(comment.body, comment.public)
    # No autoflush: the use case's own writes are flushed once, at commit.
    with s.no_autoflush:
        if watcher_ids is None:
            watcher_ids = set(
                s.scalars(select(Watcher.user_id).where(Watcher.ticket_id == ticket.id))
            )
            watcher_ids |= {
                w.user_id for w in s.new if isinstance(w, Watcher) and w.ticket_id == ticket.id
            }
    queued = QueuedChange(
        ticket=QueuedTicket(
            id=ticket.id,
            key=ticket.key,
            desk=ticket.desk,
            title=ticket.title,
            priority=ticket.priority,
            status=ticket.status,
            reporter_id=ticket.reporter_id,
            assignee_id=ticket.assignee_id,
        ),
        seq=max(e.seq for e in events),
        actor_id=ctx.actor.id,
        actor_name=ctx.actor.name,
        at=ctx.now,
        changes=tuple(Change(e.type, e.field, e.before, e.after, e.data or {}) for e in events),
        comments=comments,
        watchers=frozenset(watcher_ids),
    )
    payload = queued.to_json()
    _INSERT_CHANGE.execute(s.connection(), {"payload": payload, "created_at": ctx.now})
