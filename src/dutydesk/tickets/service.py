"""Ticket use cases after filing: one function per user action; the caller provides one
transaction. Each goes through the change recorder (:mod:`dutydesk.tickets.recorder`)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from dutydesk import markdown
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, require, user_by_name
from dutydesk.context import Ctx
from dutydesk.db import Prepared
from dutydesk.errors import NotFound, RuleViolation, field_error
from dutydesk.policy.models import DeskPolicy
from dutydesk.tickets import ordering, search, workflow
from dutydesk.tickets.models import Comment, Event, Ticket, Watcher
from dutydesk.tickets.recorder import (
    TicketChange,
    assignable,
    check_choice,
    check_labels,
    for_change,
    get_ticket,
    mark_update,
    refuse,
    set_labels,
    workflow_facts,
)
from dutydesk.tickets.schemas import (
    TicketPatch,
    TriageIn,
)

PR_LINK = re.compile(r"^https?://[^\s/]+\S{0,1990}$")

_COMMENT_COLUMNS = ("ticket_id", "author_id", "body", "body_html", "public", "created_at")
# Hot-path statement, compiled once per dialect (see ``Prepared``).
_INSERT_COMMENT = Prepared(insert(Comment).returning(Comment.id), _COMMENT_COLUMNS)


def patch_ticket(ctx: Ctx, key: str, patch: TicketPatch, if_version: int | None) -> Ticket:
    ticket, desk = for_change(ctx, key, if_version)
    fields = patch.model_fields_set
    refuse(
        workflow.edit_refusal(
            ctx.actor.name,
            ticket.desk,
            is_responder=has_role(ctx.actor, "responder", ticket.desk),
            is_reporter=ticket.reporter_id == ctx.actor.id,
            fields=fields,
        )
    )
    change = TicketChange(ctx, ticket, desk)
    if "title" in fields and patch.title is not None:
        change.set("title", patch.title)
    if (
        "description" in fields
        and patch.description is not None
        and change.set("description", patch.description)
    ):
        ticket.description_html = markdown.render(patch.description, ctx.policy.web.image_hosts)
    if "kind" in fields:
        if patch.kind is None:
            raise field_error("kind", "a ticket always has a kind")
        check_choice("kind", patch.kind, desk.kinds, ticket.desk)
        change.set("kind", patch.kind)
    if "category" in fields:
        check_choice("category", patch.category, desk.categories, ticket.desk)
        change.set("category", patch.category)
    if "priority" in fields:
        check_choice("priority", patch.priority, desk.priorities, ticket.desk)
        if patch.priority is None:
            refuse(workflow.priority_clear_refusal(desk, workflow_facts(ticket)))
        change.set("priority", patch.priority)
    if "team" in fields:
        check_choice("team", patch.team, desk.teams, ticket.desk)
        change.set("team", patch.team)
    if "labels" in fields:
        labels = check_labels(patch.labels or [])
        set_labels(ctx.session, ticket, labels)
        change.set("labels", labels)
    if "criteria" in fields:
        for criterion in patch.criteria or []:
            check_choice("criteria", criterion, desk.criteria, ticket.desk)
        change.set("criteria", list(dict.fromkeys(patch.criteria or [])))
    if "customer_reported" in fields and patch.customer_reported is not None:
        change.set("customer_reported", patch.customer_reported)
    if "fix_target" in fields:
        change.set("fix_target", patch.fix_target or "none")
    if "pr_links" in fields:
        change.set("pr_links", [str(u) for u in patch.pr_links or []])
    if "watchers" in fields:
        _set_watchers(ctx, ticket, change, patch.watchers or [])
    return change.finish()


def _set_watchers(ctx: Ctx, ticket: Ticket, change: TicketChange, names: list[str]) -> None:
    wanted = {user_by_name(ctx.session, n).id: n for n in dict.fromkeys(names)}
    rows = ctx.session.execute(
        select(Watcher.user_id, User.name)
        .join(User, User.id == Watcher.user_id)
        .where(Watcher.ticket_id == ticket.id)
    ).all()
    current = {uid: name for uid, name in rows}
    for uid in current.keys() - wanted.keys():
        ctx.session.execute(
            delete(Watcher).where(Watcher.ticket_id == ticket.id, Watcher.user_id == uid)
        )
    for uid in wanted.keys() - current.keys():
        ctx.session.add(Watcher(ticket_id=ticket.id, user_id=uid))
    if set(current) != set(wanted):
        change.event("changed", "watchers", sorted(current.values()), sorted(wanted.values()))


def watch(ctx: Ctx, key: str, on: bool) -> Ticket:
    """Watch (or stop watching) a ticket: anyone who may read it, for themselves only. The
    watchers list itself is a responder's edit (``patch_ticket``)."""
    ticket, desk = for_change(ctx, key, None)
    require(ctx.actor, "reporter", ticket.desk, "watch tickets")
    current = ctx.session.get(Watcher, (ticket.id, ctx.actor.id))
    if (current is not None) == on:
        return ticket  # already as asked: nothing written
    change = TicketChange(ctx, ticket, desk)
    if on:
        ctx.session.add(Watcher(ticket_id=ticket.id, user_id=ctx.actor.id))
        change.event("watched", "watchers", None, ctx.actor.name)
    else:
        ctx.session.delete(current)
        change.event("unwatched", "watchers", ctx.actor.name, None)
    return change.finish()


def _move(
    ctx: Ctx, change: TicketChange, to: str, resolution: str | None, duplicate_of: str | None
) -> None:
    """Shared by move and triage; enforces the workflow rules."""
    ticket, desk = change.ticket, change.desk
    facts = workflow_facts(ticket)
    refuse(workflow.move_refusal(desk, facts, to, resolution, duplicate_of))
    done = to == desk.done_column
    if workflow.returns_to_intake(desk, facts, to):
        _undo_triage(ctx, change)
    elif to == desk.triaged_column and ticket.triaged_at is None:
        _stamp_triage(ctx, change)  # with a priority set, this move is the triage
    if done:
        if resolution == "duplicate":
            assert duplicate_of is not None  # the workflow asks for it
            _close_as_duplicate(ctx, change, duplicate_of)
        change.set("resolution", resolution)
        change.set("resolved_at", ctx.now)
    elif ticket.status == desk.done_column:  # reopened: the old outcome no longer holds
        change.set("resolution", None)
        change.set("resolved_at", None)
        if ticket.duplicate_of_id is not None:
            change.set(
                "duplicate_of_id",
                None,
                shown_before=_key_of(ctx.session, ticket.duplicate_of_id),
            )
        if ticket.blocked:
            _unblock(ctx, change)
    if to == desk.started_column and ticket.started_at is None:
        change.set("started_at", ctx.now)
    change.set("status", to)
    if done and ticket.blocked:
        _unblock(ctx, change)
    mark_update(ctx, ticket)


def _stamp_triage(
    ctx: Ctx, change: TicketChange, suggestions: dict[str, Any] | None = None
) -> None:
    """Triaged now, by the actor: stops the triage clock and tells the reporter.
    ``suggestions``: what triage assistance suggested and whether it was taken."""
    ticket = change.ticket
    if ticket.triaged_at is None:
        change.set("triaged_at", ctx.now)
    change.set(
        "triaged_by_id",
        ctx.actor.id,
        shown=ctx.actor.name,
        shown_before=_name_of(ctx.session, ticket.triaged_by_id),
    )
    extra = {"suggestions": suggestions} if suggestions else {}
    change.event("triaged", None, None, ticket.priority, triager=ctx.actor.name, **extra)


def _undo_triage(ctx: Ctx, change: TicketChange) -> None:
    """Back to the intake column: untriaged and unowned, waiting for triage again."""
    ticket = change.ticket
    if ticket.triaged_at is not None:
        change.set("triaged_at", None)
        change.set("triaged_by_id", None, shown_before=_name_of(ctx.session, ticket.triaged_by_id))
    if ticket.assignee_id is not None:
        change.set("assignee_id", None, shown_before=_name_of(ctx.session, ticket.assignee_id))


def _key_of(session: Session, ticket_id: int) -> str:
    t = session.get(Ticket, ticket_id)
    return t.key if t else str(ticket_id)


def _close_as_duplicate(ctx: Ctx, change: TicketChange, original_key: str) -> None:
    ticket = change.ticket
    try:
        original: Ticket | None = get_ticket(ctx.session, original_key)
    except NotFound:
        original = None
    refuse(
        workflow.duplicate_refusal(
            workflow.TicketRef(ticket.id, ticket.key),
            original_key,
            workflow.TicketRef(original.id, original.key) if original else None,
            _duplicate_chain(ctx.session, original) if original else [],
        )
    )
    assert original is not None
    change.set("duplicate_of_id", original.id, shown=original.key)
    _comment(ctx, change, f"Closed as a duplicate of {original.key}.", kind="reference")
    # The original hears of it in its own history, as a comment and an event.
    other = TicketChange(
        ctx, get_ticket(ctx.session, original.key, for_update=True), ctx.desk(original.desk)
    )
    _comment(
        ctx, other, f"{ticket.key} was closed as a duplicate of this ticket.", kind="reference"
    )
    other.event("duplicate_linked", "duplicates", None, ticket.key)
    other.finish()


def _duplicate_chain(session: Session, original: Ticket) -> list[int]:
    """What ``original`` is a duplicate of, and so on, up to the end or a ticket seen twice."""
    chain: list[int] = []
    cursor: Ticket | None = original
    while cursor is not None and cursor.duplicate_of_id is not None:
        if cursor.duplicate_of_id in chain:
            break
        chain.append(cursor.duplicate_of_id)
        cursor = session.get(Ticket, cursor.duplicate_of_id)
    return chain


def move(
    ctx: Ctx,
    key: str,
    to: str,
    resolution: str | None,
    duplicate_of: str | None,
    if_version: int | None,
    *,
    pr_link: str | None = None,
) -> Ticket:
    """Move to column ``to``; ``pr_link`` joins the ticket's PR links in the same change
    (a column listed in the workflow's ``requires_pr_link`` refuses tickets without one)."""
    ticket, desk = for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "move tickets")
    change = TicketChange(ctx, ticket, desk)
    if pr_link and not PR_LINK.match(pr_link):
        raise field_error("pr_link", "write the pull request's address, https://…")
    if pr_link and pr_link not in (ticket.pr_links or []):
        change.set("pr_links", [*(ticket.pr_links or []), pr_link])
    _move(ctx, change, to, resolution, duplicate_of)
    return change.finish()


def _assign(ctx: Ctx, change: TicketChange, name: str | None) -> None:
    ticket, desk = change.ticket, change.desk
    user = assignable(ctx, ticket.desk, name)
    before = _name_of(ctx.session, ticket.assignee_id)
    new_id = user.id if user else None
    if new_id == ticket.assignee_id:
        return
    change.set("assignee_id", new_id, shown=name, shown_before=before)
    if user is not None:
        exists = ctx.session.get(Watcher, (ticket.id, user.id))
        if exists is None:
            ctx.session.add(Watcher(ticket_id=ticket.id, user_id=user.id))
    elif ticket.status in desk.assignee_columns:
        # Nobody owns it any more: back to the intake column to find a new owner.
        change.set("status", desk.intake_column)
        change.event(
            "returned", "status", None, desk.intake_column, reason="unassigned while in progress"
        )


def _name_of(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.name if user else None


def assign(ctx: Ctx, key: str, assignee: str | None, if_version: int | None) -> Ticket:
    ticket, desk = for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "assign tickets")
    refuse(workflow.assign_refusal(desk, workflow_facts(ticket)))
    change = TicketChange(ctx, ticket, desk)
    _assign(ctx, change, assignee)
    return change.finish()


def triage(
    ctx: Ctx,
    key: str,
    data: TriageIn,
    if_version: int | None,
    *,
    suggestions: dict[str, Any] | None = None,
) -> Ticket:
    """The triage checklist in one transaction: duplicate?, clarify, prioritise, route, assign.

    ``suggestions`` (what triage assistance suggested and whether it was taken) is kept on
    the ``triaged`` event, where the desk's suggestion accuracy is read from.
    """
    ticket, desk = for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "triage tickets")
    refuse(workflow.triage_refusal(desk, workflow_facts(ticket)))
    change = TicketChange(ctx, ticket, desk)
    if data.title:
        change.set("title", data.title)
    if data.kind is not None:
        check_choice("kind", data.kind, desk.kinds, ticket.desk)
        if ticket.kind == "bug" and data.kind in workflow.CONVERSION_KINDS:
            change.event("converted", "kind", ticket.kind, data.kind)
        change.set("kind", data.kind)
    for field in ("priority", "team", "category"):
        value = getattr(data, field)
        if value is not None:
            allowed = {
                "priority": desk.priorities,
                "team": desk.teams,
                "category": desk.categories,
            }[field]
            check_choice(field, value, allowed, ticket.desk)
            change.set(field, value)
    if data.fix_target is not None:
        change.set("fix_target", data.fix_target)
    if data.labels is not None:
        labels = check_labels(data.labels)
        set_labels(ctx.session, ticket, labels)
        change.set("labels", labels)
    if data.note:
        _comment(ctx, change, data.note, kind="comment")
    _stamp_triage(ctx, change, suggestions)
    if data.duplicate_of is not None:
        _move(ctx, change, desk.done_column, "duplicate", data.duplicate_of)
        return change.finish()
    if data.assignee is not None:
        _assign(ctx, change, data.assignee)
    if desk.triaged_column and ticket.status == desk.intake_column:
        change.set("status", desk.triaged_column)
    mark_update(ctx, ticket)
    return change.finish()


def block(ctx: Ctx, key: str, reason: str, if_version: int | None) -> Ticket:
    ticket, desk = for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "block tickets")
    refuse(workflow.block_refusal(workflow_facts(ticket)))
    change = TicketChange(ctx, ticket, desk)
    if ticket.blocked:
        change.set("blocked_reason", reason)
    else:
        change.set("blocked", True)
        ticket.blocked_reason, ticket.blocked_at = reason, ctx.now
        ticket.blocked_by_id = ctx.actor.id
        change.event("blocked", "blocked_reason", None, reason)
    return change.finish()


def _unblock(ctx: Ctx, change: TicketChange) -> None:
    t = change.ticket
    spell = (ctx.now - t.blocked_at).total_seconds() if t.blocked_at else None
    change.event(
        "unblocked",
        "blocked",
        True,
        False,
        reason=t.blocked_reason,
        blocked_since=t.blocked_at.isoformat() if t.blocked_at else None,
        seconds_blocked=spell,
    )
    t.blocked, t.blocked_reason, t.blocked_at, t.blocked_by_id = False, None, None, None


def unblock(ctx: Ctx, key: str, if_version: int | None) -> Ticket:
    ticket, desk = for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "unblock tickets")
    refuse(workflow.unblock_refusal(workflow_facts(ticket)))
    change = TicketChange(ctx, ticket, desk)
    _unblock(ctx, change)
    return change.finish()


def rank(
    ctx: Ctx, key: str, before: str | None, after: str | None, if_version: int | None
) -> Ticket:
    """Move a ticket just before or after another of the same class; one row changes."""
    ticket, desk = for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "reorder the queue")
    target_key = before or after
    assert target_key is not None
    target = get_ticket(ctx.session, target_key)
    if target.id == ticket.id:
        raise field_error("before" if before else "after", "a ticket cannot move next to itself")
    prefix = ordering.prefix_of(ticket.order_key)
    if target.desk != ticket.desk:
        reason = f"{target.key} is on another desk; each desk has its own order"
    elif not ticket.is_open or not target.is_open:
        closed = ticket if not ticket.is_open else target
        reason = f"{closed.key} is closed; only open tickets are ordered"
    elif ordering.prefix_of(target.order_key) != prefix:
        reason = ordering.order_refusal(desk, ticket.orderable(), target.orderable()) or (
            "the two are in different groups of the desk's order"
        )
    else:
        reason = None
    if reason is not None:
        raise RuleViolation(
            f"{ticket.key} cannot move next to {target.key}: {reason}.",
            rule="rank-within-class",
            allowed=[],
        )
    same_class = (
        Ticket.desk == ticket.desk,
        Ticket.is_open.is_(True),
        Ticket.order_key.like(prefix + "~%"),
        Ticket.id != ticket.id,
    )
    if before:
        neighbour = ctx.session.scalar(
            select(Ticket.rank)
            .where(*same_class, Ticket.rank < target.rank)
            .order_by(Ticket.rank.desc())
            .limit(1)
        )
        new_rank = ordering.rank_between(neighbour, target.rank)
    else:
        neighbour = ctx.session.scalar(
            select(Ticket.rank)
            .where(*same_class, Ticket.rank > target.rank)
            .order_by(Ticket.rank.asc())
            .limit(1)
        )
        new_rank = ordering.rank_between(target.rank, neighbour)
    change = TicketChange(ctx, ticket, desk)
    change.set("rank", new_rank)
    change.event("ranked", None, None, None, before_key=before, after_key=after)
    return change.finish()


def _comment(
    ctx: Ctx, change: TicketChange, body: str, *, kind: str, public: bool = True
) -> Comment:
    row = {
        "ticket_id": change.ticket.id,
        "author_id": ctx.actor.id,
        "body": body,
        "body_html": markdown.render(body, ctx.policy.web.image_hosts),
        "public": public,
        "created_at": ctx.now,
    }
    # A Core insert (no flush of the whole session for one id); the comment then joins the
    # session as a loaded object, so the notification hook finds it without a query.
    c = Comment(id=_INSERT_COMMENT.execute(ctx.session.connection(), row).scalar_one(), **row)
    make_transient_to_detached(c)
    ctx.session.add(c)
    change.event("commented", None, None, None, comment_id=c.id, kind=kind, public=public)
    search.index_comment(ctx.session, change.ticket.id, body, public=public)
    return c


def add_comment(
    ctx: Ctx, key: str, body: str, public: bool, *, kind: str = "comment"
) -> tuple[Ticket, Comment]:
    """A comment; ``kind`` "handoff-note" marks the outgoing on-call's note for the handoff
    (an ``handoff_note`` event beside it lets the handoff report find it by index)."""
    ticket, desk = for_change(ctx, key, None)
    is_responder = has_role(ctx.actor, "responder", ticket.desk)
    refuse(
        workflow.comment_refusal(
            ctx.actor.name,
            is_responder=is_responder,
            filed_or_watches=is_responder  # a responder's own standing needs no lookup
            or ticket.reporter_id == ctx.actor.id
            or ctx.session.get(Watcher, (ticket.id, ctx.actor.id)) is not None,
            public=public,
        )
    )
    change = TicketChange(ctx, ticket, desk)
    comment = _comment(ctx, change, body, kind=kind, public=public)
    if kind == "handoff-note":
        change.event("handoff_note", None, None, None, comment_id=comment.id, public=public)
    if public:
        mark_update(ctx, ticket)
    return change.finish(), comment


def events(session: Session, key: str) -> list[tuple[Event, str | None]]:
    ticket = get_ticket(session, key)
    rows = session.execute(
        select(Event, User.name)
        .outerjoin(User, User.id == Event.actor_id)
        .where(Event.ticket_id == ticket.id)
        .order_by(Event.seq)
    ).all()
    return [(e, name) for e, name in rows]


def comments(
    session: Session, key: str, include_internal: bool
) -> list[tuple[Comment, str | None]]:
    ticket = get_ticket(session, key)
    stmt = (
        select(Comment, User.name)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.ticket_id == ticket.id)
        .order_by(Comment.id)
    )
    if not include_internal:
        stmt = stmt.where(Comment.public.is_(True))
    return [(c, name) for c, name in session.execute(stmt).all()]


def count_open(session: Session, desk: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.desk == desk, Ticket.is_open)
        )
        or 0
    )


def recompute_order(session: Session, desk_name: str, desk: DeskPolicy) -> int:
    """After a policy change: rewrite order keys and queue membership of open tickets."""
    n = 0
    for t in session.scalars(select(Ticket).where(Ticket.desk == desk_name, Ticket.is_open)):
        key = ordering.order_key(desk, t.orderable(), t.rank)
        in_queue = desk.admits(t.priority, t.criteria, t.team)
        if key != t.order_key or in_queue != t.in_queue:
            session.execute(
                update(Ticket).where(Ticket.id == t.id).values(order_key=key, in_queue=in_queue)
            )
            n += 1
    return n
