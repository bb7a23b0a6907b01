"""Ticket use cases. One function per user action; the caller provides one transaction.

Every change goes through :class:`_Change`, which writes the ticket row, one event per
changed field and the derived columns (queue membership, order key, search index) together,
so nothing is ever half-written and the history always explains the current state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from dutydesk import markdown
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, require, user_by_name
from dutydesk.context import Ctx
from dutydesk.db import Prepared
from dutydesk.errors import NotFound, RuleViolation, StaleVersion, field_error
from dutydesk.policy.models import DeskPolicy
from dutydesk.slo import service as slo_service
from dutydesk.slo.clocks import Facts
from dutydesk.tickets import ordering, search, workflow
from dutydesk.tickets.changes import record_change
from dutydesk.tickets.models import Comment, DeskCounter, Event, Ticket, TicketLabel, Watcher
from dutydesk.tickets.results import Filed
from dutydesk.tickets.schemas import (
    FileTicket,
    TicketPatch,
    TriageIn,
)

CONVERSION_KINDS = ("story", "feature-request")

_TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_LABELS: Table = TicketLabel.__table__  # type: ignore[assignment]
_WATCHERS: Table = Watcher.__table__  # type: ignore[assignment]
_COUNTERS: Table = DeskCounter.__table__  # type: ignore[assignment]
_EVENT_COLUMNS = ("ticket_id", "seq", "at", "actor_id", "type", "field", "before", "after", "data")
_TICKET_COLUMNS = tuple(c.name for c in _TICKETS.columns if c.name != "id")
_COMMENT_COLUMNS = ("ticket_id", "author_id", "body", "body_html", "public", "created_at")
# Hot-path statements, compiled once per dialect (see ``Prepared``).
_INSERT_TICKET = Prepared(insert(_TICKETS).returning(_TICKETS.c.id), _TICKET_COLUMNS)
_INSERT_EVENTS = Prepared(insert(_EVENTS), _EVENT_COLUMNS)
_INSERT_LABEL = Prepared(insert(_LABELS), ("ticket_id", "label"))
_INSERT_WATCHER = Prepared(insert(_WATCHERS), ("ticket_id", "user_id"))
_INSERT_COMMENT = Prepared(insert(Comment).returning(Comment.id), _COMMENT_COLUMNS)
_TAKE_NUMBER = Prepared(
    update(_COUNTERS)
    .where(_COUNTERS.c.desk == bindparam("for_desk"))
    .values(next_number=_COUNTERS.c.next_number + 1)
    .returning(_COUNTERS.c.next_number)
)


# ----------------------------------------------------------------------------- lookups


def parse_key(key: str) -> tuple[str, int]:
    desk, sep, number = key.strip().rpartition("-")
    if not sep or not desk or not number.isdigit():
        raise NotFound(f"{key!r} is not a ticket key; keys look like INFRA-42")
    return desk.lower(), int(number)


def get_ticket(session: Session, key: str, *, for_update: bool = False) -> Ticket:
    desk, number = parse_key(key)
    stmt = select(Ticket).where(Ticket.desk == desk, Ticket.number == number)
    if for_update:
        stmt = stmt.with_for_update()
    ticket = session.scalar(stmt)
    if ticket is None:
        raise NotFound(f"no ticket {key.upper()}")
    return ticket


def _for_change(ctx: Ctx, key: str, if_version: int | None) -> tuple[Ticket, DeskPolicy]:
    ticket = get_ticket(ctx.session, key, for_update=True)
    if if_version is not None and ticket.version != if_version:
        raise StaleVersion(
            f"{ticket.key} is at version {ticket.version}, you sent If-Match for version "
            f"{if_version}; read it again and reapply your change",
            current_version=ticket.version,
        )
    return ticket, ctx.desk(ticket.desk)


def _facts(t: Ticket) -> workflow.TicketFacts:
    return workflow.TicketFacts(
        key=t.key,
        desk=t.desk,
        status=t.status,
        assigned=t.assignee_id is not None,
        is_open=t.is_open,
        blocked=t.blocked,
    )


def _refuse(refusal: workflow.Refusal | None) -> None:
    if refusal is not None:
        raise refusal.error()


def queue_class(desk: DeskPolicy, t: Ticket) -> str | None:
    return ordering.class_of(desk, t.orderable())[2]


# ----------------------------------------------------------------------------- validation


def _check_choice(field: str, value: str | None, allowed: Sequence[str], desk: str) -> None:
    if value is not None and value not in allowed:
        choices = ", ".join(allowed) if allowed else "(none declared)"
        raise field_error(
            field, f"{value!r} is not one of desk {desk!r}'s {field} values: {choices}"
        )


def _check_labels(labels: Iterable[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        label = label.strip()
        if not label or len(label) > 60:
            raise field_error("labels", "each label needs 1 to 60 characters")
        if label not in out:
            out.append(label)
    return out


def _assignable(ctx: Ctx, desk_name: str, name: str | None) -> User | None:
    if name is None:
        return None
    try:
        user = user_by_name(ctx.session, name)
    except NotFound as exc:
        raise field_error("assignee", f"no user named {name!r}") from exc
    if not user.active or not has_role(user, "responder", desk_name):
        raise field_error(
            "assignee", f"{name!r} cannot work on desk {desk_name!r}: assign a responder or lead"
        )
    return user


# ----------------------------------------------------------------------------- the change recorder


@dataclass
class _Change:
    """Collects field changes on one ticket and writes them with their events."""

    ctx: Ctx
    ticket: Ticket
    desk: DeskPolicy
    reindex: bool = False
    touched: bool = False
    events: list[Event] = dc_field(default_factory=list)  # what this change wrote, in order
    written: int = 0  # how many of ``events`` are in the database already
    clock_facts: Facts | None = None  # what the SLO clocks read, before this change

    def __post_init__(self) -> None:
        self.clock_facts = slo_service.facts(self.ticket)

    def event(
        self,
        type_: str,
        field: str | None = None,
        before: Any = None,
        after: Any = None,
        **data: Any,
    ) -> None:
        t = self.ticket
        t.event_seq += 1
        before, after = _jsonable(before), _jsonable(after)
        ev = Event(
            ticket_id=t.id,
            seq=t.event_seq,
            at=self.ctx.now,
            actor_id=self.ctx.actor.id,
            type=type_,
            field=field,
            before=before,
            after=after,
            data=data,
        )
        self.events.append(ev)
        self.touched = True

    def write_events(self) -> None:
        """Insert the events recorded since the last call (Core: they are never updated)."""
        fresh = self.events[self.written :]
        if fresh:
            _INSERT_EVENTS.executemany(
                self.ctx.session.connection(),
                [{c: getattr(e, c) for c in _EVENT_COLUMNS} for e in fresh],
            )
            self.written = len(self.events)

    def set(self, field: str, value: Any, *, shown: Any = None, shown_before: Any = None) -> bool:
        """Set a column; record before/after (``shown*`` replaces ids by names)."""
        before = getattr(self.ticket, field)
        if before == value:
            return False
        setattr(self.ticket, field, value)
        name = field.removesuffix("_id")
        self.event(
            "changed",
            name,
            shown_before if shown_before is not None else before,
            shown if shown is not None else value,
        )
        if field in ("title", "description"):
            self.reindex = True
        return True

    def finish(self) -> Ticket:
        """Derived columns, version bump, search index; call once at the end of a use case."""
        t = self.ticket
        if not self.touched:
            return t
        was_in_queue = t.in_queue
        t.is_open = t.status != self.desk.done_column
        t.in_queue = t.is_open and self.desk.admits(t.priority)
        if was_in_queue != t.in_queue and t.is_open:
            # Not lost: the ticket leaves for (or returns from) the desk's backlog, visibly.
            self.event(
                "admission",
                "in_queue",
                was_in_queue,
                t.in_queue,
                reason=f"priority {t.priority}",
                to="queue" if t.in_queue else "backlog",
            )
        t.order_key = ordering.order_key(self.desk, t.orderable(), t.rank)
        t.version += 1
        t.updated_at = self.ctx.now
        self.write_events()
        # SLO clocks follow, in this transaction. They are a function of the facts they read,
        # so a change that leaves those alone (a rank, a title, a reporter's comment) skips it.
        if slo_service.facts(t) != self.clock_facts:
            slo_service.on_change(self.ctx, t)
        record_change(self.ctx, t, self.events)  # queued, same transaction
        if self.reindex:
            self.ctx.session.flush()
            search.reindex(self.ctx.session, t)
        return t


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _set_labels(session: Session, ticket: Ticket, labels: list[str]) -> None:
    current = set(ticket.labels or [])
    for gone in current - set(labels):
        session.execute(
            delete(TicketLabel).where(TicketLabel.ticket_id == ticket.id, TicketLabel.label == gone)
        )
    for new in [label for label in labels if label not in current]:
        session.add(TicketLabel(ticket_id=ticket.id, label=new))


def _mark_update(ctx: Ctx, ticket: Ticket) -> None:
    """An update for cadences: a public comment or status change by a responder."""
    if has_role(ctx.actor, "responder", ticket.desk):
        ticket.last_update_at = ctx.now


# ----------------------------------------------------------------------------- use cases


def file_ticket(ctx: Ctx, desk_name: str, data: FileTicket) -> Ticket:
    return file(ctx, desk_name, data).ticket


def file(ctx: Ctx, desk_name: str, data: FileTicket) -> Filed:
    desk = ctx.desk(desk_name)
    require(ctx.actor, "reporter", desk_name, "file tickets")
    responder_fields = [f for f in workflow.RESPONDER_FILING_FIELDS if getattr(data, f) is not None]
    _refuse(workflow.filing_refusal(has_role(ctx.actor, "responder", desk_name), responder_fields))
    kind = data.kind or desk.kinds[0]
    _check_choice("kind", kind, desk.kinds, desk_name)
    _check_choice("category", data.category, desk.categories, desk_name)
    _check_choice("priority", data.priority, desk.priorities, desk_name)
    _check_choice("team", data.team, desk.teams, desk_name)
    for criterion in data.criteria:
        _check_choice("criteria", criterion, desk.criteria, desk_name)
    labels = _check_labels(data.labels)
    assignee = _assignable(ctx, desk_name, data.assignee)

    s = ctx.session
    conn = s.connection()
    number = _take_number(conn, desk_name)
    rank = ordering.rank_for_time(ctx.now)
    row: dict[str, Any] = {
        "desk": desk_name,
        "number": number,
        "title": data.title,
        "description": data.description,
        "description_html": markdown.render(data.description),
        "kind": kind,
        "category": data.category,
        "priority": data.priority,
        "status": desk.intake_column,
        "resolution": None,
        "duplicate_of_id": None,
        "assignee_id": assignee.id if assignee else None,
        "team": data.team,
        "labels": labels,
        "criteria": list(dict.fromkeys(data.criteria)),
        "reporter_id": ctx.actor.id,
        "customer_reported": data.customer_reported,
        "fix_target": data.fix_target or "none",
        "pr_links": [],
        "blocked": False,
        "blocked_reason": None,
        "blocked_at": None,
        "blocked_by_id": None,
        "rank": rank,
        "order_key": "",
        "in_queue": desk.admits(data.priority),
        "is_open": True,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "triaged_at": None,
        "triaged_by_id": None,
        "started_at": None,
        "resolved_at": None,
        "last_update_at": None,
        "version": 1,
        "event_seq": 0,
    }
    ticket = Ticket(**row)
    ticket.order_key = row["order_key"] = ordering.order_key(desk, ticket.orderable(), rank)
    change = _Change(ctx, ticket, desk)
    change.event("filed", None, None, ticket.key, title=ticket.title, criteria=ticket.criteria)
    row["event_seq"] = ticket.event_seq
    # Core inserts, not the ORM unit of work: filing is the hottest write, and every row it
    # needs is known up front. The ticket then joins the session as a clean, loaded object.
    ticket.id = _INSERT_TICKET.execute(conn, row).scalar_one()
    make_transient_to_detached(ticket)
    s.add(ticket)
    for ev in change.events:
        ev.ticket_id = ticket.id
    change.write_events()
    if labels:
        _INSERT_LABEL.executemany(conn, [{"ticket_id": ticket.id, "label": x} for x in labels])
    _INSERT_WATCHER.execute(conn, {"ticket_id": ticket.id, "user_id": ctx.actor.id})
    search.index_new(s, ticket)
    clocks = slo_service.on_change(ctx, ticket, new=True)
    record_change(ctx, ticket, change.events, watcher_ids={ctx.actor.id})
    return Filed(ticket, clocks, reporter=ctx.actor.name, assignee=assignee)


def _take_number(conn: Connection, desk_name: str) -> int:
    """The desk's next ticket number, taken under the write lock in one statement."""
    taken = _TAKE_NUMBER.execute(conn, {"for_desk": desk_name}).scalar()
    if taken is None:  # a desk added to the policy since the server synced it
        conn.execute(insert(_COUNTERS), {"desk": desk_name, "next_number": 2})
        return 1
    return int(taken) - 1


def patch_ticket(ctx: Ctx, key: str, patch: TicketPatch, if_version: int | None) -> Ticket:
    ticket, desk = _for_change(ctx, key, if_version)
    fields = patch.model_fields_set
    _refuse(
        workflow.edit_refusal(
            ctx.actor.name,
            ticket.desk,
            is_responder=has_role(ctx.actor, "responder", ticket.desk),
            is_reporter=ticket.reporter_id == ctx.actor.id,
            fields=fields,
        )
    )
    change = _Change(ctx, ticket, desk)
    if "title" in fields and patch.title is not None:
        change.set("title", patch.title)
    if (
        "description" in fields
        and patch.description is not None
        and change.set("description", patch.description)
    ):
        ticket.description_html = markdown.render(patch.description)
    if "kind" in fields:
        if patch.kind is None:
            raise field_error("kind", "a ticket always has a kind")
        _check_choice("kind", patch.kind, desk.kinds, ticket.desk)
        change.set("kind", patch.kind)
    if "category" in fields:
        _check_choice("category", patch.category, desk.categories, ticket.desk)
        change.set("category", patch.category)
    if "priority" in fields:
        _check_choice("priority", patch.priority, desk.priorities, ticket.desk)
        change.set("priority", patch.priority)
    if "team" in fields:
        _check_choice("team", patch.team, desk.teams, ticket.desk)
        change.set("team", patch.team)
    if "labels" in fields:
        labels = _check_labels(patch.labels or [])
        _set_labels(ctx.session, ticket, labels)
        change.set("labels", labels)
    if "criteria" in fields:
        for criterion in patch.criteria or []:
            _check_choice("criteria", criterion, desk.criteria, ticket.desk)
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


def _set_watchers(ctx: Ctx, ticket: Ticket, change: _Change, names: list[str]) -> None:
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


def _move(
    ctx: Ctx, change: _Change, to: str, resolution: str | None, duplicate_of: str | None
) -> None:
    """Shared by move and triage; enforces the workflow rules."""
    ticket, desk = change.ticket, change.desk
    _refuse(workflow.move_refusal(desk, _facts(ticket), to, resolution, duplicate_of))
    done = to == desk.done_column
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
    _mark_update(ctx, ticket)


def _key_of(session: Session, ticket_id: int) -> str:
    t = session.get(Ticket, ticket_id)
    return t.key if t else str(ticket_id)


def _close_as_duplicate(ctx: Ctx, change: _Change, original_key: str) -> None:
    ticket = change.ticket
    try:
        original: Ticket | None = get_ticket(ctx.session, original_key)
    except NotFound:
        original = None
    _refuse(
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
    other = _Change(
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
) -> Ticket:
    ticket, desk = _for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "move tickets")
    change = _Change(ctx, ticket, desk)
    _move(ctx, change, to, resolution, duplicate_of)
    return change.finish()


def _assign(ctx: Ctx, change: _Change, name: str | None) -> None:
    ticket, desk = change.ticket, change.desk
    user = _assignable(ctx, ticket.desk, name)
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
    ticket, desk = _for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "assign tickets")
    _refuse(workflow.assign_refusal(desk, _facts(ticket)))
    change = _Change(ctx, ticket, desk)
    _assign(ctx, change, assignee)
    return change.finish()


def triage(ctx: Ctx, key: str, data: TriageIn, if_version: int | None) -> Ticket:
    """The triage checklist in one transaction: duplicate?, clarify, prioritise, route, assign."""
    ticket, desk = _for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "triage tickets")
    _refuse(workflow.triage_refusal(desk, _facts(ticket)))
    change = _Change(ctx, ticket, desk)
    if data.title:
        change.set("title", data.title)
    if data.kind is not None:
        _check_choice("kind", data.kind, desk.kinds, ticket.desk)
        if ticket.kind == "bug" and data.kind in CONVERSION_KINDS:
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
            _check_choice(field, value, allowed, ticket.desk)
            change.set(field, value)
    if data.fix_target is not None:
        change.set("fix_target", data.fix_target)
    if data.labels is not None:
        labels = _check_labels(data.labels)
        _set_labels(ctx.session, ticket, labels)
        change.set("labels", labels)
    if data.note:
        _comment(ctx, change, data.note, kind="comment")
    if ticket.triaged_at is None:
        change.set("triaged_at", ctx.now)
    change.set(
        "triaged_by_id",
        ctx.actor.id,
        shown=ctx.actor.name,
        shown_before=_name_of(ctx.session, ticket.triaged_by_id),
    )
    change.event("triaged", None, None, data.priority, triager=ctx.actor.name)
    if data.duplicate_of is not None:
        _move(ctx, change, desk.done_column, "duplicate", data.duplicate_of)
        return change.finish()
    if data.assignee is not None:
        _assign(ctx, change, data.assignee)
    if desk.triaged_column and ticket.status == desk.intake_column:
        change.set("status", desk.triaged_column)
    _mark_update(ctx, ticket)
    return change.finish()


def block(ctx: Ctx, key: str, reason: str, if_version: int | None) -> Ticket:
    ticket, desk = _for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "block tickets")
    _refuse(workflow.block_refusal(_facts(ticket)))
    change = _Change(ctx, ticket, desk)
    if ticket.blocked:
        change.set("blocked_reason", reason)
    else:
        change.set("blocked", True)
        ticket.blocked_reason, ticket.blocked_at = reason, ctx.now
        ticket.blocked_by_id = ctx.actor.id
        change.event("blocked", "blocked_reason", None, reason)
    return change.finish()


def _unblock(ctx: Ctx, change: _Change) -> None:
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
    ticket, desk = _for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "unblock tickets")
    _refuse(workflow.unblock_refusal(_facts(ticket)))
    change = _Change(ctx, ticket, desk)
    _unblock(ctx, change)
    return change.finish()


def rank(
    ctx: Ctx, key: str, before: str | None, after: str | None, if_version: int | None
) -> Ticket:
    """Move a ticket just before or after another of the same class; one row changes."""
    ticket, desk = _for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "reorder the queue")
    target_key = before or after
    assert target_key is not None
    target = get_ticket(ctx.session, target_key)
    if target.id == ticket.id:
        raise field_error("before" if before else "after", "a ticket cannot move next to itself")
    prefix = ordering.prefix_of(ticket.order_key)
    if (
        target.desk != ticket.desk
        or not ticket.is_open
        or not target.is_open
        or ordering.prefix_of(target.order_key) != prefix
    ):
        raise RuleViolation(
            f"{ticket.key} and {target.key} are not in the same class of the queue "
            f"(class {queue_class(desk, ticket)!r}, priority {ticket.priority}); manual order "
            "applies within a class — change priority, kind or labels to move across classes",
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
    change = _Change(ctx, ticket, desk)
    change.set("rank", new_rank)
    change.event("ranked", None, None, None, before_key=before, after_key=after)
    return change.finish()


def _comment(ctx: Ctx, change: _Change, body: str, *, kind: str, public: bool = True) -> Comment:
    row = {
        "ticket_id": change.ticket.id,
        "author_id": ctx.actor.id,
        "body": body,
        "body_html": markdown.render(body),
        "public": public,
        "created_at": ctx.now,
    }
    # A Core insert (no flush of the whole session for one id); the comment then joins the
    # session as a loaded object, so the notification hook finds it without a query.
    c = Comment(id=_INSERT_COMMENT.execute(ctx.session.connection(), row).scalar_one(), **row)
    make_transient_to_detached(c)
    ctx.session.add(c)
    change.event("commented", None, None, None, comment_id=c.id, kind=kind, public=public)
    search.index_comment(ctx.session, change.ticket.id, body)
    return c


def add_comment(ctx: Ctx, key: str, body: str, public: bool) -> tuple[Ticket, Comment]:
    ticket, desk = _for_change(ctx, key, None)
    is_responder = has_role(ctx.actor, "responder", ticket.desk)
    _refuse(
        workflow.comment_refusal(
            ctx.actor.name,
            is_responder=is_responder,
            filed_or_watches=is_responder  # a responder's own standing needs no lookup
            or ticket.reporter_id == ctx.actor.id
            or ctx.session.get(Watcher, (ticket.id, ctx.actor.id)) is not None,
            public=public,
        )
    )
    change = _Change(ctx, ticket, desk)
    comment = _comment(ctx, change, body, kind="comment", public=public)
    if public:
        _mark_update(ctx, ticket)
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
        in_queue = desk.admits(t.priority)
        if key != t.order_key or in_queue != t.in_queue:
            session.execute(
                update(Ticket).where(Ticket.id == t.id).values(order_key=key, in_queue=in_queue)
            )
            n += 1
    return n
