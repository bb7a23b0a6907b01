"""SLO attainment: met and breached clocks per week, priority and clock, read from history."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.errors import field_error
from dutydesk.policy.models import Policy
from dutydesk.slo.clocks import BREACHED, MET, PAUSED, RUNNING
from dutydesk.slo.models import TicketClock
from dutydesk.slo.policy import desk_slo
from dutydesk.slo.schemas import (
    AttainmentOut,
    AttainmentRow,
    WeekOut,
)
from dutydesk.tickets.models import Ticket

MAX_WEEKS = 104


def _week_of(t: datetime, tz: Any) -> str:
    year, week, _ = t.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def attainment(
    session: Session, policy: Policy, desk: str, now: datetime, weeks: int = 8
) -> AttainmentOut:
    """Met and breached clocks per ISO week (desk's time zone), priority and clock name.

    A clock counts in the week its outcome was decided: a met clock when it stopped, a
    breached one at its due instant — including clocks still running past due, so a week's
    figures are final once the week is over.  The median is of business hours run by stopped
    clocks (for the triage clock: time to triage).  Priority is the ticket's current one.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise field_error("weeks", f"use 1 to {MAX_WEEKS}")
    slo = desk_slo(policy, desk)
    tz: Any = slo.calendar.timezone if slo.calendar else UTC
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    week_list = [first + timedelta(weeks=i) for i in range(weeks)]
    decided = session.execute(
        select(
            TicketClock.name,
            TicketClock.outcome,
            TicketClock.decided_at,
            TicketClock.elapsed_seconds,
            Ticket.priority,
        )
        .join(Ticket, Ticket.id == TicketClock.ticket_id)
        .where(
            TicketClock.desk == desk,
            TicketClock.decided_at >= since,
            TicketClock.outcome.in_([MET, BREACHED]),
        )
    ).all()
    late = session.execute(
        select(TicketClock.name, TicketClock.due_at, Ticket.priority)
        .join(Ticket, Ticket.id == TicketClock.ticket_id)
        .where(
            TicketClock.desk == desk,
            TicketClock.state.in_([RUNNING, PAUSED]),
            TicketClock.due_at >= since,
            TicketClock.due_at < now,
        )
    ).all()
    cells: dict[tuple[str | None, str, str], dict[str, Any]] = {}

    def cell(week: str | None, priority: str | None, name: str) -> dict[str, Any]:
        key = (week, priority or "none", name)
        found = cells.get(key)
        if found is None:
            found = cells[key] = {"met": 0, "breached": 0, "open": 0, "elapsed": []}
        return found

    for name, outcome, at, elapsed, priority in decided:
        if at is None:  # excluded by the query; keeps the types honest
            continue
        for week in (_week_of(at, tz), None):
            c = cell(week, priority, name)
            c["met" if outcome == MET else "breached"] += 1
            if elapsed is not None:
                c["elapsed"].append(elapsed)
    for name, due, priority in late:
        if due is None:
            continue
        for week in (_week_of(due, tz), None):
            c = cell(week, priority, name)
            c["breached"] += 1
            c["open"] += 1

    def row(key: tuple[str | None, str, str], c: dict[str, Any]) -> AttainmentRow:
        decided_n = c["met"] + c["breached"]
        return AttainmentRow(
            week=key[0],
            priority=key[1],
            clock=key[2],
            met=c["met"],
            breached=c["breached"],
            still_open_breached=c["open"],
            attainment=round(c["met"] / decided_n, 4) if decided_n else None,
            median_business_hours=(
                round(statistics.median(c["elapsed"]) / 3600, 2) if c["elapsed"] else None
            ),
        )

    ordered = sorted(cells.items(), key=lambda kv: (kv[0][0] or "", kv[0][1], kv[0][2]))
    return AttainmentOut(
        desk=desk,
        timezone=str(getattr(tz, "key", "UTC")),
        weeks=[
            WeekOut(week=f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}", starts=d)
            for d in week_list
        ],
        rows=[row(k, c) for k, c in ordered if k[0] is not None],
        totals=[row(k, c) for k, c in ordered if k[0] is None],
    )
