"""What notifications ask other domains: who is on call, which business calendar a desk keeps.

One module so the rest of ``notify`` does not care where the answers come from: on-call
questions go to the on-call domain (its compiled schedule, with overrides, swaps, time off
and membership changes applied), calendars to the SLO domain's cached builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dutydesk.oncall.schedule import Schedule, Shift
from dutydesk.policy.models import Policy
from dutydesk.slo.calendar import BusinessCalendar

if TYPE_CHECKING:
    from dutydesk.state import AppState


def desk_calendar(policy: Policy, desk: str) -> BusinessCalendar | None:
    spec = policy.desks[desk]
    if spec.calendar is None:
        return None
    from dutydesk.slo.policy import calendar

    return calendar(policy, spec.calendar)


def desk_zone(policy: Policy, desk: str) -> ZoneInfo:
    cal = desk_calendar(policy, desk)
    if cal is not None:
        return cal.timezone
    rot = policy.desks[desk].rotation
    if rot and rot in policy.rotations:
        return ZoneInfo(policy.rotations[rot].timezone)
    return ZoneInfo("UTC")


def is_business_day(cal: BusinessCalendar | None, day: date) -> bool:
    return cal.is_business_day(day) if cal is not None else day.weekday() < 5


def business_days_before(
    cal: BusinessCalendar | None, at: datetime, n: int, zone: ZoneInfo
) -> datetime:
    """The same local wall time ``n`` business days earlier (Monday 10:00 → Friday 10:00)."""
    local = at.astimezone(zone)
    day = local.date()
    while n > 0:
        day -= timedelta(days=1)
        if is_business_day(cal, day):
            n -= 1
    wall = datetime.combine(day, local.timetz().replace(tzinfo=None))
    return wall.replace(tzinfo=zone)


def schedule(session: Session, policy: Policy, rotation: str) -> Schedule:
    """The rotation's schedule with its run-time edits (overrides, swaps, time off, members),
    read inside the caller's transaction through the on-call service's versioned cache."""
    from dutydesk.oncall.loading import loaded_in

    return loaded_in(session, policy, rotation).schedule


@dataclass(frozen=True)
class OnCall:
    rotation: str
    now: dict[str, Shift]  # layer → shift
    next: dict[str, Shift]  # layer → the next shift

    def people(self) -> list[str]:
        return list(dict.fromkeys(s.person for s in self.now.values()))


def oncall(session: Session, policy: Policy, desk: str, at: datetime) -> OnCall | None:
    rotation = policy.desks[desk].rotation
    if not rotation or rotation not in policy.rotations:
        return None
    sched = schedule(session, policy, rotation)
    now = sched.on_call(at)
    upcoming: dict[str, Shift] = {}
    for shift in sched.next_shifts(at, 1):
        upcoming.setdefault(shift.layer, shift)
    return OnCall(rotation, now, upcoming)


def oncall_people(session: Session, policy: Policy, desk: str, at: datetime) -> list[str]:
    """Who is on call for ``desk`` at ``at`` (every layer), without the next shifts."""
    rotation = policy.desks[desk].rotation
    if not rotation or rotation not in policy.rotations:
        return []
    now = schedule(session, policy, rotation).on_call(at)
    return list(dict.fromkeys(s.person for s in now.values()))


def shift_starts(
    session: Session, policy: Policy, rotation: str, start: datetime, end: datetime
) -> list[Shift]:
    """Shifts of every layer that start in [start, end)."""
    sched = schedule(session, policy, rotation)
    return [s for s in sched.shifts(start, end) if start <= s.utc_start < end]


def handoff_report_markdown(state: AppState, desk: str, at: datetime) -> str:
    """The on-call domain's handoff report, as the markdown it posts."""
    from dutydesk.oncall.handoff import handoff_report, render_markdown

    return render_markdown(handoff_report(state, desk, at))
