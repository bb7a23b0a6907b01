"""How fair a rotation was: on-call hours, weekend and holiday hours per person (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dutydesk.oncall.shifts import Shift
from dutydesk.oncall.wallclock import aware_utc, local_to_utc
from dutydesk.policy.rotations import LEAD


@dataclass(frozen=True, slots=True)
class FairnessStats:
    """On-call load of one person over a period (hours are clipped to the period)."""

    hours: float = 0.0
    shifts: int = 0
    weekend_hours: float = 0.0
    holiday_hours: float = 0.0


def fairness(
    shifts: Iterable[Shift],
    calendar_holidays: Collection[date],
    start: datetime,
    end: datetime,
    tz: str | tzinfo,
) -> dict[str, FairnessStats]:
    """On-call load per person over [start, end), shifts clipped to it.

    Weekend (Saturday/Sunday) and holiday hours are counted by local date in ``tz``; an hour on
    a holiday that falls on a weekend counts in both. Shifts are summed as given: pass one
    layer's shifts to compare members of that layer.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    s0, e0 = aware_utc(start, "start"), aware_utc(end, "end")
    acc: dict[str, list[float]] = {}
    hour = 3600.0
    for shift in shifts:
        s, e = max(shift.utc_start, s0), min(shift.utc_end, e0)
        if e <= s:
            continue
        row = acc.setdefault(shift.person, [0.0, 0.0, 0.0, 0.0])
        row[0] += (e - s).total_seconds() / hour
        row[1] += 1
        day = s.astimezone(zone).date()
        cursor = s
        while cursor < e:
            nxt = min(e, local_to_utc(datetime.combine(day + timedelta(days=1), time()), zone))
            part = (nxt - cursor).total_seconds() / hour
            if day.weekday() >= 5:
                row[2] += part
            if day in calendar_holidays:
                row[3] += part
            cursor, day = nxt, day + timedelta(days=1)
    return {
        person: FairnessStats(hours=r[0], shifts=int(r[1]), weekend_hours=r[2], holiday_hours=r[3])
        for person, r in sorted(acc.items())
    }


@dataclass(frozen=True, slots=True)
class PersonTotal:
    """One person's on-call time over a period across every layer of a rotation."""

    person: str
    hours: float  # time on any layer, overlaps counted once (a lead also serves their team)
    lead_hours: float
    layers: tuple[str, ...]


def person_totals(shifts: Iterable[Shift], start: datetime, end: datetime) -> list[PersonTotal]:
    """Per person, hours on call across layers over [start, end), by hours (most first)."""
    s0, e0 = aware_utc(start, "start"), aware_utc(end, "end")
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    lead: dict[str, float] = {}
    layers: dict[str, set[str]] = {}
    for shift in shifts:
        s, e = max(shift.utc_start, s0), min(shift.utc_end, e0)
        if e <= s:
            continue
        spans.setdefault(shift.person, []).append((s, e))
        layers.setdefault(shift.person, set()).add(shift.layer)
        if shift.layer == LEAD:
            lead[shift.person] = lead.get(shift.person, 0.0) + (e - s).total_seconds() / 3600
    out = []
    for person, items in spans.items():
        items.sort()
        total, cur_s, cur_e = 0.0, items[0][0], items[0][1]
        for s, e in items[1:]:
            if s > cur_e:
                total += (cur_e - cur_s).total_seconds()
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        total += (cur_e - cur_s).total_seconds()
        out.append(
            PersonTotal(person, total / 3600, lead.get(person, 0.0), tuple(sorted(layers[person])))
        )
    out.sort(key=lambda t: (-t.hours, t.person))
    return out
