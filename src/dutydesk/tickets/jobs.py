"""The tickets domain's scheduled job: the end-of-day nudge.

``eod``: ``notify.eod_nudge`` before the close of each business day of the desk's calendar,
each assignee of an open urgent ticket (the desk's ``urgent`` priorities) whose update is due
that day and who has not updated it since the day opened is asked for a final status update.
"Due that day" follows the ticket's update cadence clock (P0 daily, P1 on the day its weekly
update falls due, or any day once overdue); a blocked ticket's paused cadence is not due; a
ticket with no cadence clock is due every business day. Notify's registry runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.durations import parse_span
from dutydesk.notify.rows import Job, JobRow, Planned, in_window, local_days, notice_row
from dutydesk.policy.models import Policy
from dutydesk.slo.models import TicketClock
from dutydesk.slo.policy import desk_calendar, desk_slo
from dutydesk.tickets.models import Ticket, ticket_key


def plan(policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    """Before the close of each business day: open urgent tickets without an update."""
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        before = desk.notify.eod_nudge
        cal = desk_calendar(policy, name)
        if before is None or cal is None:
            continue
        for d in local_days(start, end, cal.timezone):
            if not cal.is_business_day(d):
                continue
            when = cal.closing_time(d) - parse_span(before)
            if in_window(start, end, when):
                out.append(
                    Planned(
                        f"job:eod:{name}:{d}",
                        when,
                        {"job": "eod", "desk": name, "date": str(d)},
                        name,
                    )
                )
    return out


def run_eod(session: Session, policy: Policy, job: Job, now: datetime) -> Sequence[JobRow]:
    desk_name = job.payload["desk"]
    desk = policy.desks[desk_name]
    cal = desk_calendar(policy, desk_name)
    day = date.fromisoformat(str(job.payload["date"]))
    if cal is None or not cal.is_business_day(day):
        return []
    opened = cal.next_open(datetime.combine(day, time(0)).replace(tzinfo=cal.timezone))
    close = cal.closing_time(day)
    closes = close.astimezone(cal.timezone).strftime("%H:%M %Z")
    # The running or paused update cadence of each ticket (a paused one has no due instant).
    cadence = (
        select(
            TicketClock.ticket_id,
            func.count(TicketClock.id).label("clocks"),
            func.min(TicketClock.due_at, type_=TicketClock.due_at.type).label("due_at"),
        )
        .where(
            TicketClock.desk == desk_name,
            TicketClock.cadence.is_(True),
            TicketClock.state != "stopped",
        )
        .group_by(TicketClock.ticket_id)
        .subquery()
    )
    # Columns, not ORM tickets: a desk may hold thousands of assigned urgent tickets, and
    # only those without an update since the day opened get a nudge.
    candidates = session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.priority,
            Ticket.title,
            Ticket.assignee_id,
            Ticket.kind,
            cadence.c.clocks,
            cadence.c.due_at,
        )
        .outerjoin(cadence, cadence.c.ticket_id == Ticket.id)
        .where(
            Ticket.desk == desk_name,
            Ticket.is_open.is_(True),
            Ticket.priority.in_(desk.urgent_priorities),
            Ticket.assignee_id.is_not(None),
            or_(Ticket.last_update_at.is_(None), Ticket.last_update_at < opened),
        )
        .order_by(Ticket.order_key)
    ).all()
    rules = desk_slo(policy, desk_name).rules
    stale = [
        t
        for t in candidates
        if update_due_by(
            any(r.cadence and r.applies(t.priority, t.kind) for r in rules),
            t.clocks,
            t.due_at,
            close,
        )
    ]
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({t.assignee_id for t in stale}), User.active.is_(True))
        )
    }
    rows = []
    for t in stale:
        user = users.get(t.assignee_id)
        if user is None:
            continue
        ticket_ref = ticket_key(desk_name, t.number)
        rows.append(
            notice_row(
                policy,
                user,
                "end-of-day",
                f"notice:eod:{desk_name}:{day}:{t.id}",
                [
                    f"{ticket_ref} ({t.priority}) has no update today: leave a final status "
                    f"update before {closes}"
                ],
                now,
                ticket=ticket_ref,
                title=t.title,
                desk=desk_name,
                urgent=True,
            )
        )
    return rows


def update_due_by(
    has_cadence: bool, clocks: int | None, due_at: datetime | None, close: datetime
) -> bool:
    """Whether a ticket's update falls due by `close` (today's close): its cadence clock is
    due by then (or overdue); a paused cadence is not due; without a cadence rule, daily."""
    if not has_cadence:
        return True
    return bool(clocks) and due_at is not None and due_at <= close
