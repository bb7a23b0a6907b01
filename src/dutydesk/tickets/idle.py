"""Claimed but idle: one rule for the triage view, the handoff report, the agenda and the
on-call's idle notice.

A claimed ticket (open, with an assignee) is idle once its assignee has done nothing on it
for the desk's ``idle_after`` ("3 business days" by default, counted in the desk's calendar
when it says "business"). Activity means an event by the assignee, or the assignment itself:
a reporter asking "any news?" does not make a dropped ticket less dropped. A ticket with
neither counts from its filing.

:func:`is_idle` and :class:`IdleRule` are pure; :func:`last_assignee_activity` is the one
query every view asks for the instant they compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dutydesk.policy.models import Policy
from dutydesk.slo.calendar import BusinessCalendar
from dutydesk.slo.policy import desk_calendar, duration
from dutydesk.tickets.models import Event, Ticket

CLAIMS_SCANNED = 5000  # a desk's open claimed tickets looked at, at most


@dataclass(frozen=True)
class IdleRule:
    """How long a claim may rest: ``span`` of business time in ``calendar``, or of wall-clock
    time when ``calendar`` is None."""

    span: timedelta
    calendar: BusinessCalendar | None = None

    def idle_since(self, last_activity: datetime) -> datetime:
        """When a claim last active at ``last_activity`` becomes idle."""
        if self.calendar is not None:
            return self.calendar.add(last_activity, self.span)
        return last_activity + self.span


def is_idle(
    rule: IdleRule, *, is_open: bool, assigned: bool, last_activity: datetime, now: datetime
) -> bool:
    """Whether a ticket counts as claimed but idle at ``now``.

    ``last_activity`` is the assignee's last event on it or its last assignment, whichever
    is later (its filing when it has neither): see :func:`last_assignee_activity`.
    """
    return is_open and assigned and rule.idle_since(last_activity) <= now


def idle_rule(policy: Policy, desk: str) -> IdleRule:
    """The desk's ``idle_after`` as a rule (business time when it says so)."""
    cal = desk_calendar(policy, desk)
    span, business = duration(policy.desks[desk].idle_after, cal)
    return IdleRule(span, cal if business else None)


def last_assignee_activity(session: Session, tickets: Sequence[Ticket]) -> dict[int, datetime]:
    """Per ticket id: the last event by its assignee, or its last assignment if later; the
    filing instant for a ticket with neither. One query, whatever the number of tickets."""
    assigned = [t for t in tickets if t.assignee_id is not None]
    found: dict[int, datetime] = {}
    if assigned:
        rows = session.execute(
            select(Event.ticket_id, func.max(Event.at))
            .join(Ticket, Ticket.id == Event.ticket_id)
            .where(
                Event.ticket_id.in_([t.id for t in assigned]),
                or_(Event.actor_id == Ticket.assignee_id, Event.field == "assignee"),
            )
            .group_by(Event.ticket_id)
        ).all()
        found = {tid: at for tid, at in rows}
    return {t.id: found.get(t.id, t.created_at) for t in tickets}


@dataclass(frozen=True)
class IdleClaim:
    ticket: Ticket
    last_activity: datetime  # by the assignee (or the assignment)
    idle_since: datetime


def idle_claims(session: Session, policy: Policy, desk: str, at: datetime) -> list[IdleClaim]:
    """The desk's claimed tickets idle at ``at``, longest idle first."""
    rule = idle_rule(policy, desk)
    assigned = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.desk == desk, Ticket.is_open.is_(True), Ticket.assignee_id.is_not(None))
            .order_by(Ticket.id)
            .limit(CLAIMS_SCANNED)
        )
    )
    last = last_assignee_activity(session, assigned)
    found = [
        IdleClaim(t, last[t.id], rule.idle_since(last[t.id]))
        for t in assigned
        if is_idle(rule, is_open=True, assigned=True, last_activity=last[t.id], now=at)
    ]
    found.sort(key=lambda c: (c.last_activity, c.ticket.id))
    return found
