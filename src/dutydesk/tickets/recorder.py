"""Writing a change to one ticket: the lookups, checks and the recorder every use case shares.

Every change goes through :class:`TicketChange`, which writes the ticket row, one event per
changed field and the derived columns (queue membership, order key, search index) together,
so nothing is ever half-written and the history always explains the current state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, user_by_name
from dutydesk.context import Ctx
from dutydesk.db import Prepared
from dutydesk.errors import NotFound, StaleVersion, field_error
from dutydesk.inputs import MAX_ID
from dutydesk.policy.models import DeskPolicy
from dutydesk.reports.tallies import follow as follow_tallies
from dutydesk.slo import service as slo_service
from dutydesk.slo.clocks import Facts
from dutydesk.tickets import moves, ordering, search, times, workflow
from dutydesk.tickets.changes import record_change
from dutydesk.tickets.idle import claim_activity
from dutydesk.tickets.models import Event, Ticket, TicketLabel

_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_EVENT_COLUMNS = ("ticket_id", "seq", "at", "actor_id", "type", "field", "before", "after", "data")
# Hot-path statement, compiled once per dialect (see ``Prepared``).
_INSERT_EVENTS = Prepared(insert(_EVENTS), _EVENT_COLUMNS)
# Changes that move a ticket's stored business times (``tickets.times``).
_TIMED = frozenset({"status", "resolved_at", "desk", "category", "kind"})

# ----------------------------------------------------------------------------- lookups


def parse_key(key: str) -> tuple[str, int]:
    desk, sep, number = key.strip().rpartition("-")
    if not sep or not desk or not (number.isascii() and number.isdigit()):
        raise NotFound(f"{key!r} is not a ticket key; keys look like INFRA-42")
    if int(number) > MAX_ID:  # no such ticket, and a number the database could not compare
        raise NotFound(f"no ticket {key.strip().upper()}")
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


def for_change(ctx: Ctx, key: str, if_version: int | None) -> tuple[Ticket, DeskPolicy]:
    ticket = get_ticket(ctx.session, key, for_update=True)
    if if_version is not None and ticket.version != if_version:
        raise StaleVersion(
            f"{ticket.key} is at version {ticket.version}, you sent If-Match for version "
            f"{if_version}; read it again and reapply your change",
            current_version=ticket.version,
        )
    return ticket, ctx.desk(ticket.desk)


def workflow_facts(t: Ticket) -> workflow.TicketFacts:
    return workflow.TicketFacts(
        key=t.key,
        desk=t.desk,
        status=t.status,
        assigned=t.assignee_id is not None,
        is_open=t.is_open,
        blocked=t.blocked,
        priority=t.priority,
        triaged=t.triaged_at is not None,
        has_pr_link=bool(t.pr_links),
    )


def refuse(refusal: workflow.Refusal | None) -> None:
    if refusal is not None:
        raise refusal.error()


def queue_class(desk: DeskPolicy, t: Ticket) -> str | None:
    return ordering.class_of(desk, t.orderable())[2]


# ----------------------------------------------------------------------------- validation


def check_choice(field: str, value: str | None, allowed: Sequence[str], desk: str) -> None:
    if value is not None and value not in allowed:
        choices = ", ".join(allowed) if allowed else "(none declared)"
        raise field_error(
            field, f"{value!r} is not one of desk {desk!r}'s {field} values: {choices}"
        )


def check_labels(labels: Iterable[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        label = label.strip()
        if not label or len(label) > 60:
            raise field_error("labels", "each label needs 1 to 60 characters")
        if label not in out:
            out.append(label)
    return out


def assignable(ctx: Ctx, desk_name: str, name: str | None) -> User | None:
    if name is None:
        return None
    try:
        user = user_by_name(ctx.session, name)
    except NotFound as exc:
        raise field_error("assignee", f"no user named {name!r}") from exc
    if not user.active:
        raise field_error("assignee", f"{name} is deactivated; assign someone else")
    if not has_role(user, "responder", desk_name):
        raise field_error(
            "assignee", f"{name!r} cannot work on desk {desk_name!r}: assign a responder or lead"
        )
    return user


# ----------------------------------------------------------------------------- the change recorder


@dataclass
class TicketChange:
    """Collects field changes on one ticket and writes them with their events."""

    ctx: Ctx
    ticket: Ticket
    desk: DeskPolicy
    reindex: bool = False
    touched: bool = False
    events: list[Event] = dc_field(default_factory=list)  # what this change wrote, in order
    written: int = 0  # how many of ``events`` are in the database already
    clock_facts: Facts | None = None  # what the SLO clocks read, before this change
    # What the report tallies are keyed by, before this change: (desk, priority, status).
    tally_keys: tuple[str, str | None, str] | None = None

    def __post_init__(self) -> None:
        self.clock_facts = slo_service.facts(self.ticket)
        t = self.ticket
        self.tally_keys = (t.desk, t.priority, t.status)

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
        t.in_queue = t.is_open and self.desk.admits(t.priority, t.criteria, t.team)
        if was_in_queue != t.in_queue and t.is_open:
            # Not lost: the ticket leaves for (or returns from) the desk's backlog, visibly.
            self.event(
                "admission",
                "in_queue",
                was_in_queue,
                t.in_queue,
                reason=_admission_reason(self.desk, t),
                to="queue" if t.in_queue else _out_of_queue(self.desk, t),
            )
        t.order_key = ordering.order_key(self.desk, t.orderable(), t.rank)
        t.version += 1
        t.updated_at = self.ctx.now
        self.write_events()
        t.claim_active_at = claim_activity(
            t.assignee_id,
            t.claim_active_at,
            t.created_at,
            ((e.at, e.actor_id, e.field) for e in self.events),
        )
        follow_tallies(self.ctx.session, t, self.tally_keys, self.events)
        if any(e.field in _TIMED for e in self.events):  # resolved, re-opened, moved desk
            times.refresh_ticket(self.ctx.session, self.ctx.policy, t)
        moves.record(self.ctx.session, self.ctx.policy, t, self.events)  # re-opens, bounces
        # SLO clocks follow, in this transaction. They are a function of the facts they read,
        # so a change that leaves those alone (a rank, a title, a reporter's comment) skips it.
        if slo_service.facts(t) != self.clock_facts:
            slo_service.on_change(self.ctx, t, was=self.clock_facts)
        record_change(self.ctx, t, self.events)  # queued, same transaction
        if self.reindex:
            self.ctx.session.flush()
            search.reindex(self.ctx.session, t)
        return t


def _out_of_queue(desk: DeskPolicy, t: Ticket) -> str:
    return "backlog" if desk.routed_here(t.team) else f"team:{t.team}"


def _admission_reason(desk: DeskPolicy, t: Ticket) -> str:
    if not desk.routed_here(t.team):
        return f"routed to team {t.team}"
    if t.priority:
        return f"priority {t.priority}"
    return "queue criterion ticked" if t.criteria else "no queue criterion ticked"


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def set_labels(session: Session, ticket: Ticket, labels: list[str]) -> None:
    current = set(ticket.labels or [])
    for gone in current - set(labels):
        session.execute(
            delete(TicketLabel).where(TicketLabel.ticket_id == ticket.id, TicketLabel.label == gone)
        )
    for new in [label for label in labels if label not in current]:
        session.add(TicketLabel(ticket_id=ticket.id, label=new))


def mark_update(ctx: Ctx, ticket: Ticket) -> None:
    """An update for cadences: a public comment or status change by a responder."""
    if has_role(ctx.actor, "responder", ticket.desk):
        ticket.last_update_at = ctx.now
