"""The SLO domain's timers: notices when a clock becomes at risk or breaches.

Timers read due instants from indexed rows, never all tickets: the clocks of a desk that
became at risk (or breached) in a window, through ``(desk, state, at_risk_at)`` /
``(desk, state, due_at)``. Notify's worker keeps the window's cursor and delivers what
:func:`run_timers` returns: an update-due clock tells the ticket's assignee, any other clock
(or an unassigned ticket) whoever is on call; a breach of a target SLO is also posted to the
desk's channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.notify.rows import JobRow, OnCallNotice, desk_messages, notice_row
from dutydesk.policy.models import Policy
from dutydesk.slo.models import TicketClock
from dutydesk.slo.policy import desk_zone
from dutydesk.tickets.models import Ticket

Timer = Literal["at-risk", "breach"]
TIMERS: tuple[Timer, ...] = ("at-risk", "breach")


def slo_timer_query(
    what: Timer, desk: str, start: datetime, end: datetime
) -> Select[TicketClock, Ticket]:
    """A desk's running clocks that became at risk (or breached) in (start, end]: one range
    scan on ``(desk, state, at_risk_at)`` / ``(desk, state, due_at)``, whatever the number of
    open tickets."""
    col = TicketClock.at_risk_at if what == "at-risk" else TicketClock.due_at
    return (
        select(TicketClock, Ticket)
        .join(Ticket, Ticket.id == TicketClock.ticket_id)
        .where(TicketClock.desk == desk, TicketClock.state == "running", col > start, col <= end)
        .order_by(col)
        .limit(5000)
    )


def run_timers(
    session: Session, policy: Policy, what: Timer, start: datetime, now: datetime
) -> list[JobRow]:
    """The notices (and breach posts) for clocks of every desk that became ``what`` in
    (start, now]."""
    rows: list[JobRow] = []
    for desk in policy.desks:
        for clock, ticket in session.execute(slo_timer_query(what, desk, start, now)).all():
            rows += _timer_rows(session, policy, clock, ticket, what, now)
    return rows


def _timer_rows(
    session: Session, policy: Policy, clock: TicketClock, ticket: Ticket, what: Timer, now: datetime
) -> Sequence[JobRow]:
    zone = desk_zone(policy, ticket.desk)
    assert clock.due_at is not None  # a running clock has a due instant
    due = clock.due_at.astimezone(zone).strftime("%a %H:%M %Z")
    cadence = bool(clock.cadence)
    prio = f" ({ticket.priority})" if ticket.priority else ""
    if cadence:
        reason = "update-due"
        line = (
            f"{ticket.key}{prio} needs an update by {due}: {ticket.title}"
            if what == "at-risk"
            else f"{ticket.key}{prio} is overdue for an update (was due {due}): {ticket.title}"
        )
    else:
        reason = "slo"
        line = (
            f"{ticket.key} is at risk of missing its {clock.name} SLO (due {due}): {ticket.title}"
            if what == "at-risk"
            else f"{ticket.key} missed its {clock.name} SLO (due {due}): {ticket.title}"
        )
    key = f"notice:slo:{clock.id}:{what}"
    rows: list[JobRow] = []
    if cadence and ticket.assignee_id:
        assignee = session.get(User, ticket.assignee_id)
        if assignee is not None and assignee.active:
            rows.append(
                notice_row(
                    policy,
                    assignee,
                    reason,
                    f"{key}:{assignee.id}",
                    [line],
                    now,
                    ticket=ticket.key,
                    title=ticket.title,
                    desk=ticket.desk,
                    urgent=what == "breach",
                )
            )
    else:
        rows.append(
            OnCallNotice(
                ticket.desk,
                reason,
                key,
                (line,),
                ticket=ticket.key,
                title=ticket.title,
                urgent=what == "breach",
            )
        )
    if what == "breach" and not cadence:
        rows += desk_messages(
            policy,
            ticket.desk,
            "slo-breach",
            f"post:slo-breach:{clock.id}",
            f"{ticket.key} missed its {clock.name} SLO",
            line,
            now,
            data={"ticket": ticket.key, "slo": clock.name, "due": clock.due_at.isoformat()},
        )
    return rows
