"""Why a due instant is what it is: the business intervals a span consumes on a calendar,
and when a ticket filed at a given instant must be triaged (the clock's own rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dutydesk.errors import field_error
from dutydesk.inputs import in_calendar
from dutydesk.policy.models import Policy
from dutydesk.slo.calendar import DAY_NAMES, TRIAGE_WINDOW, BusinessCalendar, deadline
from dutydesk.slo.clocks import Facts, Rule, applicable, start_clock
from dutydesk.slo.policy import business_span, calendar, desk_slo
from dutydesk.slo.schemas import (
    ClosedDay,
    ExplainInterval,
    ExplainOut,
    TriageExplain,
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
    return _explained(cal, name, start, add, business_span(add, cal))


def explain_triage(policy: Policy, name: str, filed: datetime, desk: str | None) -> ExplainOut:
    """When a ticket filed at `filed` must be triaged, and which rule says so.

    The due instant is the one a ticket's triage clock gets (the clock is started here, from
    the desk's own triage SLO), and the rule is the one the clock asks.
    """
    cal = calendar(policy, name)
    rule, desk_name = _triage_rule(policy, name, desk, filed)
    clock = start_clock(rule, cal, filed)
    assert clock.due_at is not None  # a business calendar always answers
    found = deadline(
        cal, filed, rule.target, outside_hours=rule.outside_hours == "end of next business day"
    )
    tz = cal.timezone
    if found.rule == "open":
        reason = f"filed while open: {rule.label} later"
    else:
        assert found.day is not None
        reason = (
            f"filed while closed: the close of the first business day that opens after filing, "
            f"{DAY_NAMES[found.day.weekday()].title()} {found.day.isoformat()}"
        )
    out = _explained(
        cal, name, filed, rule.label, timedelta(seconds=clock.target_seconds), due=clock.due_at
    )
    out.triage = TriageExplain(
        desk=desk_name,
        within=rule.label,
        outside_hours=rule.outside_hours,
        filed=filed.astimezone(UTC),
        filed_local=_local(filed, tz),
        open_at_filing=cal.is_open(filed),
        rule=found.rule,
        reason=reason,
        business_day=found.day,
        opens_local=_local(found.opens, tz) if found.opens else None,
        due=clock.due_at,
        due_local=_local(clock.due_at, tz),
    )
    return out


DEFAULT_TRIAGE = Rule(
    key="triage",
    name="triage",
    cadence=False,
    starts="filed",
    stops="triaged",
    target=TRIAGE_WINDOW,
    label="4 business hours",
    business=True,
    outside_hours="end of next business day",
)


def _triage_rule(
    policy: Policy, name: str, desk: str | None, filed: datetime
) -> tuple[Rule, str | None]:
    """The triage SLO of `desk` (or of the first desk on calendar `name` that has one)."""
    if desk is not None:
        spec = policy.desks.get(desk)
        if spec is None:
            raise field_error("desk", f"no desk {desk!r}; desks are {', '.join(policy.desks)}")
        if spec.calendar != name:
            raise field_error(
                "desk", f"desk {desk!r} keeps calendar {spec.calendar!r}, not {name!r}"
            )
        candidates = [desk]
    else:
        candidates = [d for d, spec in policy.desks.items() if spec.calendar == name]
    for d in candidates:
        found = applicable(desk_slo(policy, d).rules, "triage", Facts(created_at=filed))
        if found is not None and not found.cadence and found.business:
            return found, d
    if desk is not None:
        raise field_error("desk", f"desk {desk!r} has no triage SLO in business time")
    return DEFAULT_TRIAGE, None


def _explained(
    cal: BusinessCalendar,
    name: str,
    start: datetime,
    add: str,
    span: timedelta,
    due: datetime | None = None,
) -> ExplainOut:
    tz = cal.timezone
    used = cal.explain_add(start, span)
    due = due or cal.add(start, span)
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
