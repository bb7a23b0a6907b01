"""Local wall-clock time: the instant of a local time, and the clock that numbers shifts.

A handoff is a local time in the rotation's zone, so shift ``k`` starts ``k * count`` days,
weeks or months after shift 0 on the local calendar; the rules for spring-forward gaps,
ambiguous times and short months are in :mod:`dutydesk.oncall.schedule`'s module doc.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from dutydesk.policy.rotations import Handoff, ScheduleError, Unit


def _month_len(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def local_to_utc(naive: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a local wall-clock time, by the handoff rules of the module doc.

    Ambiguous times take their first occurrence; times inside a gap take the instant the clocks
    jump (the first valid instant after the gap).
    """
    naive = naive.replace(tzinfo=None)
    utc = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == naive:
        return utc
    # In a gap: fold=1 reads it with the offset after the jump (an earlier instant), fold=0 with
    # the offset before it; the transition lies between, found by bisection on whole seconds.
    early = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = int(early.timestamp()), int(utc.timestamp())
    if hi <= lo:
        return utc
    after = utc.astimezone(zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def aware_utc(value: datetime, what: str) -> datetime:
    """``value`` in UTC; a naive time is refused (an instant needs its zone)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError([f"{what} must be timezone-aware, got {value.isoformat()}"])
    return value.astimezone(UTC)


def fmt_instant(value: datetime, zone: tzinfo) -> str:
    """``2026-11-23 10:00 PST``: how instants appear in the arithmetic's error messages."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


class HandoffClock:
    """Shift index ↔ handoff instant, by local-calendar arithmetic so DST never drifts it."""

    __slots__ = (
        "_starts",
        "at",
        "count",
        "dom",
        "first_date",
        "m0",
        "origin",
        "period",
        "unit",
        "zone",
    )

    def __init__(self, timezone: str, unit: Unit, count: int, handoff: Handoff, a: date) -> None:
        self.zone = ZoneInfo(timezone)
        self.unit = unit
        self.count = count
        self.at = handoff.at
        self.dom = handoff.day or 1
        self.period = count * (7 if unit == "week" else 1)
        if unit == "week":
            first = a + timedelta(days=((handoff.weekday or 0) - a.weekday()) % 7)
        elif unit == "month":
            first = date(a.year, a.month, min(self.dom, _month_len(a.year, a.month)))
            if first < a:
                y, m = divmod(a.year * 12 + a.month, 12)
                first = date(y, m + 1, min(self.dom, _month_len(y, m + 1)))
        else:
            first = a
        self.first_date = first
        self.m0 = first.year * 12 + first.month - 1
        self._starts: dict[int, datetime] = {}
        self.origin = self.start(0)

    def local_date(self, k: int) -> date:
        if self.unit == "month":
            y, m = divmod(self.m0 + k * self.count, 12)
            return date(y, m + 1, min(self.dom, _month_len(y, m + 1)))
        return self.first_date + timedelta(days=k * self.period)

    def start(self, k: int) -> datetime:
        """UTC start of shift ``k`` (memoised: a year of weekly shifts is 53 entries)."""
        hit = self._starts.get(k)
        if hit is None:
            if len(self._starts) > 200_000:
                self._starts.clear()
            hit = local_to_utc(datetime.combine(self.local_date(k), self.at), self.zone)
            self._starts[k] = hit
        return hit

    def index_at(self, t: datetime) -> int:
        """The shift containing UTC instant ``t``; -1 before the first shift."""
        if t < self.origin:
            return -1
        ld = t.astimezone(self.zone).date()
        if self.unit == "month":
            k = (ld.year * 12 + ld.month - 1 - self.m0) // self.count
        else:
            k = (ld - self.first_date).days // self.period
        if t < self.start(k):
            k -= 1
        return k

    def first_index_on_or_after(self, d: date) -> int:
        """The first shift whose local start date is on or after ``d`` (0 at the earliest)."""
        if d <= self.first_date:
            return 0
        if self.unit == "month":
            k = (d.year * 12 + d.month - 1 - self.m0) // self.count
        else:
            k = (d - self.first_date).days // self.period
        while self.local_date(k) < d:
            k += 1
        return k

    def nominal(self) -> timedelta:
        return timedelta(days=self.period if self.unit != "month" else 31 * self.count)


@lru_cache(maxsize=512)
def handoff_clock(
    timezone: str, unit: Unit, count: int, handoff: Handoff, anchor: date
) -> HandoffClock:
    """Clocks are pure in these fields; sharing them lets every Schedule of a rotation (one per
    request, typically) reuse the handoff instants already computed."""
    return HandoffClock(timezone, unit, count, handoff, anchor)


def range_errors(kind: str, ident: str, start: datetime, end: datetime) -> list[str]:
    label = f"{kind} {ident}".strip()
    errors = []
    for what, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            errors.append(f"{label}: {what} {value.isoformat()} has no time zone")
    if not errors and end <= start:
        errors.append(f"{label}: end {end.isoformat()} is not after start {start.isoformat()}")
    return errors
