"""Claimed but idle: one rule for the triage view, the handoff report, the agenda and the
on-call's idle notice.

A claimed ticket (open, with an assignee) is idle once its assignee has done nothing on it
for the desk's ``idle_after`` ("3 business days" by default, counted in the desk's calendar
when it says "business"). Activity means an event by the assignee, or the assignment itself:
a reporter asking "any news?" does not make a dropped ticket less dropped. A ticket with
neither counts from its filing.

:func:`is_idle` and :class:`IdleRule` are pure. Each ticket keeps the instant they compare in
``tickets.claim_active_at`` (:func:`claim_activity`, applied by every change; :func:`rebuild`
recounts it from the events after a bulk load), so :func:`idle_claims_page` finds a desk's idle
claims as one range of an index (the triage view, the handoff, the notice, queue health).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from dutydesk.policy.models import Policy
from dutydesk.slo.calendar import BusinessCalendar
from dutydesk.slo.policy import desk_calendar, duration
from dutydesk.tickets.models import Event, Ticket

CLAIMS_LISTED = 500  # idle claims a notice or report lists, at most (the count covers all)
TICK = timedelta(microseconds=1)


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
    is later (its filing when it has neither): ``tickets.claim_active_at``.
    """
    return is_open and assigned and rule.idle_since(last_activity) <= now


def idle_rule(policy: Policy, desk: str) -> IdleRule:
    """The desk's ``idle_after`` as a rule (business time when it says so)."""
    cal = desk_calendar(policy, desk)
    span, business = duration(policy.desks[desk].idle_after, cal)
    return IdleRule(span, cal if business else None)


def claim_activity(
    assignee_id: int | None,
    kept: datetime | None,
    filed: datetime,
    events: Iterable[tuple[datetime, int | None, str | None]],
) -> datetime | None:
    """A ticket's ``claim_active_at`` after new events (instant, actor id, field): None while
    nobody is assigned; else the latest of what was kept (the filing when nothing was), the
    assignee's events and any assignment."""
    if assignee_id is None:
        return None
    latest = kept or filed
    for at, actor_id, field in events:
        if (actor_id == assignee_id or field == "assignee") and at > latest:
            latest = at
    return latest


def activity_from_events() -> Any:
    """The claim's last activity counted from the events (SQL over ``Ticket``): what
    ``claim_active_at`` keeps, for a rebuild or a check."""
    last = (
        select(func.max(Event.at))
        .where(
            Event.ticket_id == Ticket.id,
            or_(Event.actor_id == Ticket.assignee_id, Event.field == "assignee"),
        )
        .correlate(Ticket)
        .scalar_subquery()
    )
    return func.coalesce(last, Ticket.created_at)


def rebuild(session: Session, desks: Sequence[str] | None = None) -> int:
    """Recount every claimed ticket's ``claim_active_at`` from its events (after a bulk load
    that wrote tickets and events directly); returns how many tickets were claimed."""
    where = [Ticket.assignee_id.is_not(None)]
    if desks is not None:
        where.append(Ticket.desk.in_(list(desks)))
    session.execute(
        update(Ticket)
        .where(Ticket.assignee_id.is_(None), Ticket.claim_active_at.is_not(None))
        .values(claim_active_at=None)
        .execution_options(synchronize_session=False)
    )
    done = session.execute(
        update(Ticket)
        .where(*where)
        .values(claim_active_at=activity_from_events())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


@dataclass(frozen=True)
class IdleClaim:
    ticket: Ticket
    last_activity: datetime  # by the assignee (or the assignment)
    idle_since: datetime


def idle_cutoff(rule: IdleRule, now: datetime) -> datetime:
    """The latest last activity whose claim is idle at ``now``: ``idle_since`` never
    decreases as the activity moves later, so the idle claims are exactly those last active
    at or before one instant, found by bisection (to the microsecond) and handed to SQL."""
    lo = now - rule.span * 8 - timedelta(days=60)  # idle at now, whatever the calendar
    hi = now + TICK
    while rule.idle_since(lo) > now:  # a calendar closed for months
        lo -= timedelta(days=365)
    while hi - lo > TICK:
        mid = lo + (hi - lo) / 2
        if rule.idle_since(mid) <= now:
            lo = mid
        else:
            hi = mid
    return lo


def idle_claims_page(
    session: Session, policy: Policy, desk: str, at: datetime, limit: int
) -> tuple[int, list[IdleClaim]]:
    """How many of the desk's claimed tickets are idle at ``at`` (now: the kept
    ``claim_active_at`` is today's), and the ``limit`` longest idle: a count and a page of one
    index range up to :func:`idle_cutoff`."""
    rule = idle_rule(policy, desk)
    claims = (
        Ticket.desk == desk,
        Ticket.is_open.is_(True),
        Ticket.claim_active_at <= idle_cutoff(rule, at),
        Ticket.assignee_id.is_not(None),
    )
    total = int(session.scalar(select(func.count()).select_from(Ticket).where(*claims)) or 0)
    top = session.scalars(
        select(Ticket).where(*claims).order_by(Ticket.claim_active_at, Ticket.id).limit(limit)
    ).all()
    out = []
    for ticket in top:
        last_activity = ticket.claim_active_at
        assert last_activity is not None  # the query compares it
        out.append(IdleClaim(ticket, last_activity, rule.idle_since(last_activity)))
    return total, out


def idle_claims(
    session: Session, policy: Policy, desk: str, at: datetime, limit: int = CLAIMS_LISTED
) -> list[IdleClaim]:
    """The desk's claimed tickets idle at ``at``, longest idle first (at most ``limit``)."""
    return idle_claims_page(session, policy, desk, at, limit)[1]
