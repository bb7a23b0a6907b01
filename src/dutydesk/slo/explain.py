"""Why a due instant is what it is: the business intervals a span consumes on a calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dutydesk.errors import field_error
from dutydesk.inputs import in_calendar
from dutydesk.policy.models import Policy
from dutydesk.slo.calendar import DAY_NAMES
from dutydesk.slo.policy import business_span, calendar
from dutydesk.slo.schemas import (
    ClosedDay,
    ExplainInterval,
    ExplainOut,
)


def parse_instant(text: str, field: str = "from") -> datetime:
    """ISO 8601 with a UTC offset; a naive time is ambiguous, so it is refused."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise field_error(
            field, f"{text!r} is not an ISO 8601 time; write it like 2026-11-27T16:30-08:00"
        ) from exc
    try:
        in_calendar(value)
    except ValueError as exc:
        raise field_error(field, str(exc)) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise field_error(
            field,
            f"{text!r} has no UTC offset; write it like {value.isoformat(timespec='minutes')}"
            "-08:00 or with a Z for UTC",
        )
    return value


def _local(t: datetime, tz: Any) -> str:
    return t.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")


def explain(policy: Policy, name: str, start: datetime, add: str) -> ExplainOut:
    """Every business interval `add` consumes from `start`, and the resulting due instant."""
    cal = calendar(policy, name)
    span = business_span(add, cal)
    tz = cal.timezone
    used = cal.explain_add(start, span)
    due = cal.add(start, span)
    total = timedelta(0)
    intervals = []
    for a, b, took in used:
        total += took
        intervals.append(
            ExplainInterval(
                start=a,
                end=b,
                start_local=_local(a, tz),
                end_local=_local(b, tz),
                seconds=took.total_seconds(),
                total_seconds=total.total_seconds(),
            )
        )
    closed: list[ClosedDay] = []
    day, last = start.astimezone(tz).date(), due.astimezone(tz).date()
    while day <= last and len(closed) < 366:
        if not cal.is_business_day(day):
            reason = "holiday" if cal.is_holiday(day) else "no hours"
            closed.append(ClosedDay(date=day, weekday=DAY_NAMES[day.weekday()], reason=reason))
        day += timedelta(days=1)
    return ExplainOut(
        calendar=name,
        timezone=tz.key,
        start=start.astimezone(UTC),
        start_local=_local(start, tz),
        open_at_start=cal.is_open(start),
        add=add,
        add_seconds=span.total_seconds(),
        due=due,
        due_local=_local(due, tz),
        intervals=intervals,
        closed_days=closed,
    )
