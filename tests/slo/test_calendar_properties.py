"""Property tests, and a check against a deliberately naive minute-by-minute reference.

The reference never converts a wall time to an instant.  It only reads the clock: it walks
UTC minutes, notes what the local clock shows at each, and opens an interval at the first
minute whose clock reads the opening time or later (and likewise for closing).  That is
the spec's rule in its plainest form (skipped times → the jump, repeated times → the first
pass), reached by a different road than the implementation's, so agreement means something.
It is exact for calendars whose boundaries and zone transitions fall on whole minutes.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dutydesk.slo.calendar import DAY_NAMES, BusinessCalendar, triage_due

# DUTYDESK_SLO_SCALE=20 multiplies the example counts for a long hunt for bugs.
SCALE = int(os.environ.get("DUTYDESK_SLO_SCALE", "1"))
MINUTE = timedelta(minutes=1)
US = timedelta(microseconds=1)

ZONES = [
    "America/Los_Angeles",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
    "UTC",
    "America/Santiago",
]

Hours = Mapping[str, list[tuple[str, str]]]

HOUR_SETS: dict[str, Hours] = {
    "office": {d: [("09:00", "17:00")] for d in DAY_NAMES[:5]},
    "split": {
        **{d: [("09:00", "12:00"), ("13:00", "17:00")] for d in DAY_NAMES[:5]},
        "sat": [("10:00", "14:00")],
    },
    "night": {
        "mon": [("22:00", "24:00")],
        **{d: [("00:00", "06:00"), ("22:00", "24:00")] for d in DAY_NAMES[1:5]},
        "sat": [("00:00", "06:00")],
    },
    "always": {d: [("00:00", "24:00")] for d in DAY_NAMES},
    # Boundaries inside the gaps and repeated hours of most zones above.
    "hostile": {
        d: [("00:00", "01:45"), ("02:15", "02:50"), ("03:10", "06:00"), ("23:30", "24:00")]
        for d in DAY_NAMES
    },
    "sparse": {"wed": [("12:00", "12:30")], "sun": [("01:00", "03:30")]},
}


@functools.cache
def transitions(zone: str, year: int = 2026) -> tuple[datetime, ...]:
    """UTC instants in `year` at which the zone's offset changes (found by scanning)."""
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=15)
    previous = t.astimezone(tz).utcoffset()
    while t.year == year:
        t += step
        offset = t.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(t)
            previous = offset
    if not found:  # no DST: still look at the same kind of dates
        found = [datetime(year, 3, 8, 12, tzinfo=UTC), datetime(year, 11, 1, 12, tzinfo=UTC)]
    return tuple(found)


@functools.cache
def windows(zone: str) -> tuple[datetime, ...]:
    """Starts of 8-day windows centred on each of the zone's 2026 clock changes."""
    return tuple(t - timedelta(days=4) for t in transitions(zone))


WINDOW_MINUTES = 8 * 1440


def holidays_for(zone: str) -> frozenset[date]:
    """The local day after each clock change: a holiday right next to the awkward days."""
    tz = ZoneInfo(zone)
    return frozenset(t.astimezone(tz).date() + timedelta(days=1) for t in transitions(zone))


@functools.cache
def calendar(zone: str, hours_name: str) -> BusinessCalendar:
    return BusinessCalendar(zone, HOUR_SETS[hours_name], sorted(holidays_for(zone)))


# --------------------------------------------------------------------------- the reference


@functools.cache
def clock_readings(zone: str, start: datetime) -> tuple[list[datetime], list[datetime]]:
    """Local wall clock at each minute of a window, and its running maximum."""
    tz = ZoneInfo(zone)
    walls = [
        (start + k * MINUTE).astimezone(tz).replace(tzinfo=None) for k in range(WINDOW_MINUTES)
    ]
    return walls, list(itertools.accumulate(walls, max))


class Reference:
    """Minute-resolution model of one calendar over one window (minute index k = start + k)."""

    def __init__(self, zone: str, hours: Hours, holidays: frozenset[date], start: datetime):
        self.start = start
        self.walls, self.reach = clock_readings(zone, start)
        self.hours = hours
        self.holidays = holidays
        n = WINDOW_MINUTES
        self.owner: list[date | None] = [None] * n
        day = self.walls[0].date() - timedelta(days=1)
        while day <= self.reach[-1].date() + timedelta(days=1):
            for s, e in self.spans(day):
                for k in range(self.first_reading(s), self.first_reading(e)):
                    self.owner[k] = day
            day += timedelta(days=1)
        self.open = [o is not None for o in self.owner]
        self.prefix = [0, *itertools.accumulate(self.open)]

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        midnight = datetime(day.year, day.month, day.day)
        return [
            (midnight + _clock(s), midnight + _clock(e))
            for s, e in self.hours.get(DAY_NAMES[day.weekday()], [])
        ]

    def first_reading(self, wall: datetime) -> int:
        """First minute whose clock reads `wall` or later (n when beyond the window)."""
        return bisect.bisect_left(self.reach, wall)

    def at(self, k: int) -> datetime:
        return self.start + k * MINUTE

    def next_open(self, k: int) -> int | None:
        for j in range(k, WINDOW_MINUTES):
            if self.open[j]:
                return j
        return None

    def add(self, k: int, minutes: int) -> int | None:
        if minutes == 0:
            return self.next_open(k)
        j = bisect.bisect_left(self.prefix, self.prefix[k] + minutes, lo=k)
        return j if j < len(self.prefix) else None

    def between(self, i: int, j: int) -> int:
        return self.prefix[j] - self.prefix[i] if j > i else 0

    def close_of(self, day: date) -> int | None:
        spans = self.spans(day)
        if not spans:
            return None
        k = self.first_reading(max(e for _, e in spans))
        return k if k < WINDOW_MINUTES else None

    def triage(self, k: int) -> int | None:
        if self.open[k]:
            return self.add(k, 240)
        # Closed: the close of the first business day whose opening is after minute k.
        day = self.walls[k].date() - timedelta(days=1)
        while day <= self.reach[-1].date() + timedelta(days=1):
            opening = self.opening(day)
            if opening is not None and opening > k:
                return self.close_of(day) if opening < WINDOW_MINUTES else None
            day += timedelta(days=1)
        return None

    def opening(self, day: date) -> int | None:
        """The first minute of `day`'s business time (beyond the window: WINDOW_MINUTES)."""
        for s, e in self.spans(day):
            if s < self.walls[0]:
                return -1  # opened before the window, so before any minute of it
            first, end = self.first_reading(s), self.first_reading(e)
            if first < end or first >= WINDOW_MINUTES:
                return first
        return None


def _clock(text: str) -> timedelta:
    hh, mm = text.split(":")
    return timedelta(hours=int(hh), minutes=int(mm))


@functools.cache
def reference(zone: str, hours_name: str, window: int) -> Reference:
    return Reference(zone, HOUR_SETS[hours_name], holidays_for(zone), windows(zone)[window])


# --------------------------------------------------------------------------- vs reference

index = st.integers(0, WINDOW_MINUTES - 1)


@pytest.mark.parametrize("hours_name", sorted(HOUR_SETS))
@pytest.mark.parametrize("zone", ZONES)
@settings(max_examples=40 * SCALE, deadline=None)
@given(
    window=st.integers(0, 1),
    k=index,
    k2=index,
    minutes=st.one_of(st.integers(0, 600), st.integers(0, 6000)),
    other_zone=st.sampled_from(["UTC", "Asia/Tokyo", "America/New_York", *ZONES]),
)
def test_matches_minute_reference(
    zone: str, hours_name: str, window: int, k: int, k2: int, minutes: int, other_zone: str
) -> None:
    ref = reference(zone, hours_name, window)
    cal = calendar(zone, hours_name)
    # Arguments may carry any zone: only the instant matters.
    t = ref.at(k).astimezone(ZoneInfo(other_zone))
    assert cal.is_open(t) == ref.open[k]

    i, j = sorted((k, k2))
    assert cal.between(ref.at(i), ref.at(j)) == ref.between(i, j) * MINUTE

    expected = ref.add(k, minutes)
    if expected is not None:
        assert cal.add(t, minutes * MINUTE) == ref.at(expected)
    expected = ref.next_open(k)
    if expected is not None:
        assert cal.next_open(t) == ref.at(expected)
    expected = ref.triage(k)
    if expected is not None:
        assert triage_due(cal, t) == ref.at(expected)


# --------------------------------------------------------------------------- properties

CALENDARS = [(z, h) for z in ZONES for h in HOUR_SETS]
LO = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
HI = int(datetime(2028, 12, 31, tzinfo=UTC).timestamp() * 1_000_000)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """Anywhere in 2025-2028, or within three days of one of the zone's clock changes."""
    if draw(st.booleans()):
        micros = draw(st.integers(LO, HI))
        if draw(st.booleans()):
            micros -= micros % 60_000_000  # on a whole minute, where boundaries are
        return EPOCH + timedelta(microseconds=micros)
    change = draw(st.sampled_from(transitions(zone)))
    seconds = draw(st.integers(-3 * 86_400, 3 * 86_400))
    return change + timedelta(seconds=seconds)


deltas = st.one_of(
    st.integers(0, 60 * 60).map(lambda m: m * MINUTE),
    st.integers(0, 500 * 3_600_000_000).map(lambda u: u * US),
)
positive_deltas = deltas.filter(lambda d: d > timedelta(0))


@st.composite
def case(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime, datetime]:
    zone, hours_name = draw(st.sampled_from(CALENDARS))
    return calendar(zone, hours_name), draw(instants(zone)), draw(instants(zone))


PROPS = settings(max_examples=300 * SCALE, deadline=None)


@PROPS
@given(case(), deltas)
def test_between_measures_what_add_adds(
    c: tuple[BusinessCalendar, datetime, datetime], d: timedelta
) -> None:
    cal, t, _ = c
    end = cal.add(t, d)
    assert end >= t
    assert end.tzinfo is UTC
    assert cal.between(t, end) == d
    if d > timedelta(0):
        # Earliest: the last microsecond before `end` was open and still needed.
        assert cal.is_open(end - US)
        assert cal.between(t, end - US) < d


@PROPS
@given(case(), deltas, deltas)
def test_add_is_monotonic(
    c: tuple[BusinessCalendar, datetime, datetime], d1: timedelta, d2: timedelta
) -> None:
    cal, t1, t2 = c
    t1, t2 = sorted((t1, t2))
    d1, d2 = sorted((d1, d2))
    assert cal.add(t1, d1) <= cal.add(t2, d1)
    assert cal.add(t1, d1) <= cal.add(t1, d2)


@PROPS
@given(case(), positive_deltas, positive_deltas)
def test_add_composes(
    c: tuple[BusinessCalendar, datetime, datetime], d1: timedelta, d2: timedelta
) -> None:
    cal, t, _ = c
    assert cal.add(t, d1 + d2) == cal.add(cal.add(t, d1), d2)


@PROPS
@given(case(), st.integers(0, 10**12).map(lambda u: u * US))
def test_between_is_additive_and_bounded(
    c: tuple[BusinessCalendar, datetime, datetime], gap: timedelta
) -> None:
    cal, a, c_ = c
    a, c_ = sorted((a, c_))
    b = a + gap if a + gap < c_ else c_
    total = cal.between(a, c_)
    assert cal.between(a, b) + cal.between(b, c_) == total
    assert timedelta(0) <= total <= c_ - a
    assert cal.between(c_, a) == timedelta(0) or a == c_


@PROPS
@given(case())
def test_next_open(c: tuple[BusinessCalendar, datetime, datetime]) -> None:
    cal, t, _ = c
    n = cal.next_open(t)
    assert n >= t
    assert cal.is_open(n)
    assert cal.between(t, n) == timedelta(0)
    assert n == cal.add(t, timedelta(0))
    if cal.is_open(t):
        assert n == t


@PROPS
@given(case(), deltas)
def test_explain_add_accounts_for_everything(
    c: tuple[BusinessCalendar, datetime, datetime], d: timedelta
) -> None:
    cal, t, _ = c
    steps = cal.explain_add(t, d)
    assert sum((used for _, _, used in steps), timedelta(0)) == d
    if d:
        assert steps[-1][1] == cal.add(t, d)
        assert steps[0][0] == cal.next_open(t)
    for (a, b, used), nxt in itertools.zip_longest(steps, steps[1:]):
        assert used == b - a > timedelta(0)
        assert cal.between(a, b) == used
        if nxt is not None:
            assert b < nxt[0]  # merged: a gap of closed time between stretches


@settings(max_examples=200 * SCALE, deadline=None)
@given(case(), st.integers(0, 30 * 86_400_000_000).map(lambda u: u * US))
def test_intervals_cover_between(
    c: tuple[BusinessCalendar, datetime, datetime], span: timedelta
) -> None:
    cal, a, _ = c
    b = a + span
    got = list(cal.intervals(a, b))
    assert sum((e - s for s, e in got), timedelta(0)) == cal.between(a, b)
    for (s, e), nxt in itertools.zip_longest(got, got[1:]):
        assert a <= s < e <= b
        assert cal.is_open(s)
        assert cal.is_open(e - US)
        if nxt is not None:
            assert e < nxt[0]
            assert not cal.is_open(e)


@PROPS
@given(case())
def test_day_level_answers(c: tuple[BusinessCalendar, datetime, datetime]) -> None:
    cal, t, _ = c
    due = triage_due(cal, t)
    assert due > t
    if cal.is_open(t):
        assert due == cal.add(t, timedelta(hours=4))
    else:
        day = cal.first_day_opening_after(t)
        opens = cal.opening_time(day)
        assert opens is not None and opens > t
        assert due == cal.closing_time(day)
        assert cal.is_open(due - US)
        # No business day between: every day that opens in (t, opens) is none.
        assert cal.business_day_at(cal.next_open(t)) in (day, *_days_opened_before(cal, t))


def _days_opened_before(cal: BusinessCalendar, t: datetime) -> list[date]:
    """Days still open (or open again after a break) after `t` that opened at or before it."""
    local = t.astimezone(cal.timezone).date()
    out = []
    for day in (local - timedelta(days=1), local):
        opens = cal.opening_time(day)
        if opens is not None and opens <= t:
            out.append(day)
    return out


def test_reference_sanity() -> None:
    """The reference itself: LA's spring-forward night with 00:00-06:00 is 5 hours."""
    ref = Reference(
        "America/Los_Angeles",
        {d: [("00:00", "06:00")] for d in DAY_NAMES},
        frozenset(),
        datetime(2026, 3, 4, 10, tzinfo=UTC),
    )
    sunday = datetime(2026, 3, 8, 8, tzinfo=UTC)  # local midnight
    k = int((sunday - ref.start) / MINUTE)
    assert ref.between(k, k + 23 * 60) == 5 * 60  # that Sunday is 23 hours long
