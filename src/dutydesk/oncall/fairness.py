"""How fair a rotation was: on-call hours, weekend and holiday hours per person (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dutydesk.oncall.shifts import Shift
from dutydesk.oncall.wallclock import aware_utc, local_to_utc


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
