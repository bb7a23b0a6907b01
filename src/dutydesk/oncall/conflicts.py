"""Where a person is double-booked: on call on two layers at once (within one rotation or
across rotations), or on call during their own time off. Pure: it reads compiled schedules.

The derived lead layer is left out of the layer count: its lead is, by design, one of the
team engineers on call at the same time, so leading and serving a team is one booking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Shift
from dutydesk.oncall.wallclock import fmt_instant
from dutydesk.policy.rotations import LEAD

Kind = Literal["double-booked", "time-off"]
TIME_OFF_WARNING = "on call during their time off"


@dataclass(frozen=True, slots=True)
class Conflict:
    """``person`` is booked twice over [start, end) (UTC): ``where`` names the bookings."""

    kind: Kind
    person: str
    start: datetime
    end: datetime
    where: tuple[str, ...]
    detail: str


def _label(rotation: str, shift: Shift) -> str:
    return f"{rotation}/{shift.layer}"


def conflicts(
    schedules: Sequence[tuple[str, Schedule]], start: datetime, end: datetime
) -> list[Conflict]:
    """Every double booking over [start, end) across ``schedules`` (name, schedule), by start."""
    per_person: dict[str, list[tuple[str, Shift]]] = {}
    out: list[Conflict] = []
    for name, sched in schedules:
        for shift in sched.shifts(start, end):
            for w in shift.warnings:
                if TIME_OFF_WARNING in w:
                    s, e = max(shift.utc_start, start), min(shift.utc_end, end)
                    out.append(
                        Conflict(
                            "time-off", shift.person, s, e, (_label(name, shift),), f"{name}: {w}"
                        )
                    )
            if shift.layer != LEAD:
                per_person.setdefault(shift.person, []).append((name, shift))
    for person, booked in per_person.items():
        zone = booked[0][1].start.tzinfo or UTC
        for s, e, where in _overlaps(booked, start, end):
            places = " and ".join(where)
            detail = (
                f"{person} is on call on {places} at once "
                f"({fmt_instant(s, zone)} – {fmt_instant(e, zone)})"
            )
            out.append(Conflict("double-booked", person, s, e, where, detail))
    out.sort(key=lambda c: (c.start, c.person, c.kind))
    return out


def _overlaps(
    booked: Iterable[tuple[str, Shift]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, tuple[str, ...]]]:
    """Stretches where one person holds two or more layers (a sweep over their shifts);
    adjacent stretches with the same bookings are merged."""
    marks: list[tuple[datetime, int, str]] = []
    for name, shift in booked:
        s, e = max(shift.utc_start, start), min(shift.utc_end, end)
        if s < e:
            marks.append((s, 1, _label(name, shift)))
            marks.append((e, -1, _label(name, shift)))
    marks.sort(key=lambda m: (m[0], m[1]))  # ends before starts at the same instant
    found: list[tuple[datetime, datetime, tuple[str, ...]]] = []
    active: list[str] = []
    since: datetime | None = None
    for at, step, label in marks:
        if len(set(active)) >= 2 and since is not None and at > since:
            where = tuple(sorted(set(active)))
            if found and found[-1][2] == where and found[-1][1] == since:
                found[-1] = (found[-1][0], at, where)
            else:
                found.append((since, at, where))
        if step > 0:
            active.append(label)
        else:
            active.remove(label)
        since = at
    return found
