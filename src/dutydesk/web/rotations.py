"""The on-call page's questions, asked of compiled rotations (:mod:`dutydesk.oncall.schedule`).

Routes get the schedules, with their stored overrides, swaps and time off, from
:func:`dutydesk.oncall.loading.all_loaded_in`; everything here is pure arithmetic on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dutydesk.oncall import schedule as sched
from dutydesk.oncall.shifts import Shift
from dutydesk.policy.models import Policy
from dutydesk.policy.rotations import LEAD, PRIMARY
from dutydesk.web import present

Schedules = Mapping[str, sched.Schedule | str]  # rotation -> schedule, or why it cannot be built


def schedules_of(loaded: Iterable[Any]) -> dict[str, sched.Schedule | str]:
    """Rotation name -> schedule from the on-call service's compiled rotations."""
    out: dict[str, sched.Schedule | str] = {}
    for item in loaded:
        problems = "; ".join(item.problems) if item.problems else ""
        out[item.name] = item.schedule if not problems or item.schedule else problems
    return out


@dataclass(frozen=True)
class Duty:
    """One person on one layer of a rotation over [start, end)."""

    layer: str
    person: str
    team: str | None
    start: datetime
    end: datetime
    source: str
    override_id: str | None = None

    @property
    def label(self) -> str:
        if self.layer == PRIMARY:
            return "on call"
        if self.layer == LEAD:
            return f"lead ({self.team})" if self.team else "lead"
        return self.layer


def _duty(s: Shift) -> Duty:
    return Duty(s.layer, s.person, s.team, s.start, s.end, s.source, s.override_id)


@dataclass
class DeskRotation:
    desk: str
    title: str
    rotation: str
    timezone: str
    now: list[Duty]
    upcoming: list[Duty]
    error: str | None = None
    overrides: list[Duty] = field(default_factory=list)


def desk_rotations(
    policy: Policy, compiled: Schedules, at: datetime, upcoming: int = 3
) -> list[DeskRotation]:
    """For each desk with a rotation: who is on call now, the next shifts, current overrides."""
    out = []
    for desk_name, desk in policy.desks.items():
        if not desk.rotation:
            continue
        found = compiled.get(desk.rotation)
        rot = policy.rotations.get(desk.rotation)
        tz = rot.timezone if rot else "UTC"
        title = desk.title or desk_name
        if not isinstance(found, sched.Schedule):
            out.append(
                DeskRotation(desk_name, title, desk.rotation, tz, [], [], found or "not declared")
            )
            continue
        now = [_duty(s) for s in found.on_call(at).values()]
        layers = len(found.spec.layers)
        order = {layer.name: i for i, layer in enumerate(found.spec.layers)}
        shifts = found.next_shifts(at, upcoming if layers == 1 else max(1, upcoming - 1))
        # By handoff, then layer: one handoff's new people read together.
        nxt = [_duty(s) for s in sorted(shifts, key=lambda s: (s.utc_start, order[s.layer]))]
        covering = [
            _duty(s)
            for s in found.shifts(at, at + timedelta(days=62))
            if s.source in ("override", "cover") and s.utc_end > at
        ]
        out.append(DeskRotation(desk_name, title, desk.rotation, tz, now, nxt, None, covering))
    return out


def on_call_desks(policy: Policy, compiled: Schedules, person: str, at: datetime) -> list[str]:
    """Desks whose rotation has ``person`` on call at ``at`` (any layer)."""
    out = []
    for desk_name, desk in policy.desks.items():
        found = compiled.get(desk.rotation or "")
        if isinstance(found, sched.Schedule) and any(
            s.person == person for s in found.on_call(at).values()
        ):
            out.append(desk_name)
    return out


@dataclass(frozen=True)
class DayDuty:
    person: str
    handoff_at: str | None  # local time when someone new takes over that day
    source: str


def month_days(
    schedule: sched.Schedule, year: int, month: int, layers: Iterable[str] | None = None
) -> dict[date, list[DayDuty]]:
    """Who holds the main layer on each day of a month, and where a handoff happens.

    A day shows the person on call at its end of business (17:00 local) and, on a handoff day,
    the time the new person takes over.
    """
    zone = ZoneInfo(schedule.spec.timezone)
    names = list(layers) if layers is not None else [main_layer(schedule)]
    first = date(year, month, 1)
    last = first.replace(day=28) + timedelta(days=4)
    last = last - timedelta(days=last.day)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    shifts = schedule.shifts(start, end, names)
    days: dict[date, list[DayDuty]] = {}
    d = first
    while d <= last:
        noonish = datetime.combine(d, time(17), zone)
        for s in shifts:
            if s.start <= noonish < s.end:
                starts_today = s.start.astimezone(zone).date() == d
                days.setdefault(d, []).append(
                    DayDuty(
                        s.person,
                        s.start.astimezone(zone).strftime("%H:%M") if starts_today else None,
                        s.source,
                    )
                )
        d += timedelta(days=1)
    return days


def main_layer(schedule: sched.Schedule) -> str:
    """The layer a calendar shows: the lead of a one-per-team rotation, else the primary."""
    names = [layer.name for layer in schedule.spec.layers]
    return LEAD if LEAD in names else names[0]


def calendar_weeks(
    days: Mapping[date, list[DayDuty]], year: int, month: int
) -> list[list[tuple[date | None, list[DayDuty]]]]:
    return [
        [(d, list(days.get(d, [])) if d else []) for d in week]
        for week in present.month_grid(year, month)
    ]
