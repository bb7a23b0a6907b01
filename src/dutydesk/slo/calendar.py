"""Business-hours calendar: the arithmetic behind every SLO due time.

Opening hours are local wall-clock intervals per weekday; holidays are local dates.  Each
local interval is turned into a pair of real instants once, per year, so that the hot
operations (``is_open``, ``add``, ``between``) are a couple of binary searches over
precomputed arrays instead of a walk through days.  Instants are kept internally as integer
microseconds since the Unix epoch so that arithmetic is exact and cheap.

Rules for wall times that do not map to exactly one instant (see ``BusinessCalendar``):

* a wall time inside a spring-forward gap means the instant the clocks jump;
* a wall time inside a repeated (fall-back) hour means its first occurrence (fold=0).

Equivalently: a wall time W means the first instant at which the local clock reads W or later.
Business time is the union of the resulting half-open intervals ``[open, close)``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dutydesk.slo.hours import DAY_NAMES, HoursSpec, format_clock, parse_hours

__all__ = [
    "DAY_NAMES",
    "TRIAGE_WINDOW",
    "BusinessCalendar",
    "CalendarError",
    "Deadline",
    "HolidayProvider",
    "HoursSpec",
    "deadline",
    "triage_due",
]

TRIAGE_WINDOW = timedelta(hours=4)

HolidayProvider = Callable[[int], Iterable[date]]
"""Returns the holiday dates of one calendar year; called lazily, once per year."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_US_PER_DAY = 86_400_000_000
_US_PER_AVG_YEAR = 31_556_952_000_000  # 365.2425 days: good enough to guess a year
_FAR = 1 << 62  # beyond any instant a datetime can represent
# How long a search may find no business time at all before declaring the calendar dead:
# stops a calendar whose configured days are all holidays from spinning forever.
_MAX_EMPTY_YEARS = 10


class CalendarError(ValueError):
    """A calendar cannot answer: bad configuration, or no business time to be found."""


# --------------------------------------------------------------------------- conversions


def _to_us(t: datetime, name: str) -> int:
    """Instant of an aware datetime as epoch microseconds; naive input is a caller bug."""
    if not isinstance(t, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, got naive {t.isoformat()}; "
            "attach a tzinfo (e.g. ZoneInfo or timezone.utc)"
        )
    return (t - _EPOCH) // _ONE_US


def _from_us(x: int) -> datetime:
    return _EPOCH + timedelta(microseconds=x)


def _delta_us(delta: timedelta, name: str = "delta") -> int:
    if not isinstance(delta, timedelta):
        raise TypeError(f"{name} must be a timedelta, not {type(delta).__name__}")
    value = delta // _ONE_US
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {delta}")
    return value


def _load_zone(timezone: str | ZoneInfo) -> ZoneInfo:
    if isinstance(timezone, ZoneInfo):
        return timezone
    if not isinstance(timezone, str) or not timezone.strip():
        raise ValueError(
            f"timezone must be an IANA zone name such as 'Europe/Berlin': {timezone!r}"
        )
    try:
        return ZoneInfo(timezone.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {timezone!r}") from exc


def as_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise ValueError(f"{name}: {value!r} is not a date")


# --------------------------------------------------------------------------- the calendar


@dataclass(frozen=True, slots=True)
class _Year:
    """Business intervals of one local calendar year, merged where they touch."""

    starts: list[int]
    ends: list[int]
    before: list[int]  # business time of this year before interval i
    after: list[int]  # ... up to the end of interval i
    total: int

    def elapsed(self, x: int) -> int:
        """Business time of this year before instant `x` (any instant)."""
        i = bisect.bisect_right(self.starts, x) - 1
        if i < 0:
            return 0
        start = self.starts[i]
        return self.before[i] + min(x - start, self.ends[i] - start)


class BusinessCalendar:
    """Weekly opening hours in one time zone, minus holidays.

    ``hours`` maps ``mon`` .. ``sun`` to a list of ``(start, end)`` pairs of "HH:MM" strings
    or ``datetime.time``; an absent day is closed and "24:00" ends a day at the next local
    midnight.  ``holidays`` are local dates closed all day; ``holiday_provider`` may add
    holidays per year lazily (e.g. ``country_holiday_provider("US")``).

    A calendar with no opening hours is allowed (``is_open`` is always false, ``between`` is
    zero), but asking it for a future instant (``add``, ``next_open``, ...) raises
    ``CalendarError`` instead of searching forever.
    """

    __slots__ = (
        "_day_cache",
        "_holidays",
        "_provided",
        "_provider",
        "_week",
        "_year_starts",
        "_years",
        "_zone",
    )

    def __init__(
        self,
        timezone: str | ZoneInfo,
        hours: HoursSpec,
        holidays: Iterable[date] | None = (),
        *,
        holiday_provider: HolidayProvider | None = None,
    ) -> None:
        self._zone = _load_zone(timezone)
        self._week = parse_hours(hours)
        self._holidays = frozenset(as_date(d, "holidays") for d in holidays or ())
        self._provider = holiday_provider
        self._provided: dict[int, frozenset[date]] = {}
        self._years: dict[int, _Year] = {}
        self._year_starts: dict[int, int] = {}
        self._day_cache: dict[date, tuple[tuple[int, int], ...]] = {}

    # ----------------------------------------------------------------- description

    @property
    def timezone(self) -> ZoneInfo:
        return self._zone

    @property
    def hours(self) -> dict[str, list[tuple[str, str]]]:
        """The normalised weekly hours, e.g. ``{"mon": [("09:00", "17:00")], ...}``."""
        return {
            DAY_NAMES[i]: [(format_clock(s), format_clock(e)) for s, e in spans]
            for i, spans in enumerate(self._week)
            if spans
        }

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(timezone={self._zone.key!r}, hours={self.hours!r}, "
            f"holidays=<{len(self._holidays)} dates>"
            f"{', holiday_provider=...' if self._provider else ''})"
        )

    def is_holiday(self, day: date) -> bool:
        if day in self._holidays:
            return True
        if self._provider is None:
            return False
        provided = self._provided.get(day.year)
        if provided is None:
            provided = frozenset(as_date(d, "holiday_provider") for d in self._provider(day.year))
            self._provided[day.year] = provided
        return day in provided

    def is_business_day(self, day: date) -> bool:
        """A local date that is not a holiday and has at least one opening interval."""
        return bool(self._week[day.weekday()]) and not self.is_holiday(day)

    def closing_time(self, day: date) -> datetime:
        """The instant the last interval of business day `day` (a local date) closes."""
        if not self.is_business_day(day):
            raise ValueError(f"{day.isoformat()} is not a business day")
        return _from_us(self._wall_us(day, self._week[day.weekday()][-1][1]))

    def opening_time(self, day: date) -> datetime | None:
        """The instant business day `day` (a local date) first opens; None if it does not."""
        spans = self._day_intervals(day)
        return _from_us(spans[0][0]) if spans else None

    def first_day_opening_after(self, t: datetime) -> date:
        """The first business day (a local date) whose opening instant is after `t`.

        A day that opened before `t` does not count, even if it is still open or opens again
        after a mid-day break: a ticket filed in a lunch break gets the next business day.
        """
        x = _to_us(t, "t")
        self._require_hours()
        day = _from_us(x).astimezone(self._zone).date() - _ONE_DAY
        for _ in range(366 * _MAX_EMPTY_YEARS):
            spans = self._day_intervals(day)
            if spans and spans[0][0] > x:
                return day
            day += _ONE_DAY
        raise self._dead_end(x)

    def business_day_at(self, t: datetime) -> date | None:
        """The local date whose opening interval contains `t`, or None when closed."""
        x = _to_us(t, "t")
        local = _from_us(x).astimezone(self._zone).date()
        for day in (local, local - _ONE_DAY, local + _ONE_DAY):
            for start, end in self._day_intervals(day):
                if start <= x < end:
                    return day
        return None

    # ----------------------------------------------------------------- the operations

    def is_open(self, t: datetime) -> bool:
        """Open at instant `t` (intervals are half-open: open at opening, closed at closing)."""
        x = _to_us(t, "t")
        year = self._year(self._year_of(x))
        i = bisect.bisect_right(year.starts, x) - 1
        return i >= 0 and x < year.ends[i]

    def next_open(self, t: datetime) -> datetime:
        """`t` itself when open, else the next instant the calendar opens."""
        return _from_us(self._next_open_us(_to_us(t, "t")))

    def add(self, t: datetime, delta: timedelta) -> datetime:
        """The earliest instant by which `delta` of business time has elapsed after `t`.

        ``add(t, timedelta(0))`` is ``next_open(t)``; for a positive delta the answer may be
        a closing instant (Monday 16:00 + 1h is Monday 17:00, not Tuesday 09:00).
        """
        x = _to_us(t, "t")
        d = _delta_us(delta)
        if d == 0:
            return _from_us(self._next_open_us(x))
        self._require_hours()
        y = self._year_of(x)
        year = self._year(y)
        target = year.elapsed(x) + d
        empty = 0
        while target > year.total:
            target -= year.total
            empty = empty + 1 if year.total == 0 else 0
            if empty > _MAX_EMPTY_YEARS:
                raise self._dead_end(x)
            y += 1
            year = self._year(y)
        i = bisect.bisect_left(year.after, target)
        return _from_us(year.starts[i] + (target - year.before[i]))

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Business time in ``[a, b)``; zero when ``b <= a``."""
        xa = _to_us(a, "a")
        xb = _to_us(b, "b")
        if xb <= xa:
            return timedelta(0)
        ya = self._year_of(xa)
        yb = self._year_of(xb)
        if ya == yb:
            year = self._year(ya)
            return timedelta(microseconds=year.elapsed(xb) - year.elapsed(xa))
        first = self._year(ya)
        total = first.total - first.elapsed(xa)
        for y in range(ya + 1, yb):
            total += self._year(y).total
        total += self._year(yb).elapsed(xb)
        return timedelta(microseconds=total)

    def intervals(self, a: datetime, b: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals clipped to ``[a, b)``, in order, touching intervals merged."""
        xa = _to_us(a, "a")
        xb = _to_us(b, "b")
        return self._intervals(xa, xb)

    def _intervals(self, xa: int, xb: int) -> Iterator[tuple[datetime, datetime]]:
        if xb <= xa:
            return
        pending: tuple[int, int] | None = None
        for start, end in self._pieces_from(xa, stop=xb):
            start, end = max(start, xa), min(end, xb)
            if pending is not None and start == pending[1]:
                pending = (pending[0], end)
                continue
            if pending is not None:
                yield _from_us(pending[0]), _from_us(pending[1])
            pending = (start, end)
        if pending is not None:
            yield _from_us(pending[0]), _from_us(pending[1])

    def explain_add(
        self, t: datetime, delta: timedelta
    ) -> list[tuple[datetime, datetime, timedelta]]:
        """The stretches of business time that ``add(t, delta)`` consumes, in order.

        Each entry is ``(from, to, consumed)``: the part of one open interval that was used
        (``to`` of the last entry is ``add(t, delta)``).  A zero delta consumes nothing.
        """
        x = _to_us(t, "t")
        remaining = _delta_us(delta)
        if remaining == 0:
            return []
        self._require_hours()
        used: list[list[int]] = []
        for start, end in self._pieces_from(x, stop=None):
            start = max(start, x)
            take = min(end - start, remaining)
            if used and used[-1][1] == start:
                used[-1][1] = start + take
            else:
                used.append([start, start + take])
            remaining -= take
            if remaining == 0:
                break
        return [(_from_us(s), _from_us(e), timedelta(microseconds=e - s)) for s, e in used]

    # ----------------------------------------------------------------- internals

    def _require_hours(self) -> None:
        if not any(self._week):
            raise CalendarError(
                "calendar has no opening hours at all, so no business time can ever elapse"
            )

    def _dead_end(self, x: int) -> CalendarError:
        return CalendarError(
            f"calendar has no business time for {_MAX_EMPTY_YEARS} years after "
            f"{_from_us(x).isoformat()} (are all open days holidays?)"
        )

    def _next_open_us(self, x: int) -> int:
        self._require_hours()
        y = self._year_of(x)
        year = self._year(y)
        i = bisect.bisect_right(year.ends, x)
        if i < len(year.ends):
            return max(x, year.starts[i])
        for _ in range(_MAX_EMPTY_YEARS):
            y += 1
            year = self._year(y)
            if year.starts:
                return year.starts[0]
        raise self._dead_end(x)

    def _pieces_from(self, x: int, stop: int | None) -> Iterator[tuple[int, int]]:
        """Per-year merged intervals ending after `x`; stops at `stop` or a dead calendar."""
        y = self._year_of(x)
        year = self._year(y)
        i = bisect.bisect_right(year.ends, x)
        empty = 0
        while True:
            for start, end in zip(year.starts[i:], year.ends[i:], strict=True):
                if stop is not None and start >= stop:
                    return
                yield start, end
            empty = 0 if year.starts else empty + 1
            y += 1
            if stop is not None and self._year_start(y) >= stop:
                return
            if stop is None and empty > _MAX_EMPTY_YEARS:
                raise self._dead_end(x)
            year = self._year(y)
            i = 0

    def _wall_us(self, day: date, micros: int) -> int:
        """The first instant at which the local clock reads `day` + `micros` or later."""
        wall = datetime(day.year, day.month, day.day) + timedelta(microseconds=micros)
        zone = self._zone
        guess = (wall.replace(tzinfo=zone) - _EPOCH) // _ONE_US  # fold=0: first occurrence
        if _from_us(guess).astimezone(zone).replace(tzinfo=None) == wall:
            return guess
        # `wall` was skipped.  fold=0 read it with the offset from before the jump, which
        # lands after the jump; fold=1 used the later offset, which lands before it.  The jump
        # is the first instant in between whose clock reads `wall` or later.
        other = (wall.replace(tzinfo=zone, fold=1) - _EPOCH) // _ONE_US
        lo, hi = min(guess, other), max(guess, other)
        while self._wall_of(lo) >= wall:  # defensive: widen if the bracket is off
            lo -= _US_PER_DAY
        while self._wall_of(hi) < wall:
            hi += _US_PER_DAY
        while hi - lo > 1:  # invariant: clock(lo) < wall <= clock(hi)
            mid = (lo + hi) // 2
            if self._wall_of(mid) >= wall:
                hi = mid
            else:
                lo = mid
        return hi

    def _wall_of(self, x: int) -> datetime:
        return _from_us(x).astimezone(self._zone).replace(tzinfo=None)

    def _day_intervals(self, day: date) -> tuple[tuple[int, int], ...]:
        """Cached `_compute_day` for the few dates looked at one by one."""
        cached = self._day_cache.get(day)
        if cached is None:
            if len(self._day_cache) > 4096:  # bound the memory of a long-running server
                self._day_cache.clear()
            cached = self._day_cache[day] = self._compute_day(day)
        return cached

    def _compute_day(self, day: date) -> tuple[tuple[int, int], ...]:
        """Open intervals of one local date as instants; spans swallowed by a gap vanish."""
        spans = self._week[day.weekday()]
        if not spans or self.is_holiday(day):
            return ()
        pairs = ((self._wall_us(day, s), self._wall_us(day, e)) for s, e in spans)
        return tuple((s, e) for s, e in pairs if e > s)

    def _year_start(self, y: int) -> int:
        """Instant of local midnight, January 1st of year `y`."""
        start = self._year_starts.get(y)
        if start is None:
            if y > 9999:
                start = _FAR
            elif y < 2:
                start = -_FAR
            else:
                start = self._wall_us(date(y, 1, 1), 0)
            self._year_starts[y] = start
        return start

    def _year_of(self, x: int) -> int:
        """The local year whose interval block contains instant `x`."""
        y = 1970 + x // _US_PER_AVG_YEAR
        while x < self._year_start(y):
            y -= 1
        while x >= self._year_start(y + 1):
            y += 1
        return y

    def _year(self, y: int) -> _Year:
        year = self._years.get(y)
        if year is None:
            year = self._build_year(y)
            self._years[y] = year
        return year

    def _build_year(self, y: int) -> _Year:
        if not 1 <= y <= 9999:
            raise OverflowError(f"year {y} is outside the range a datetime can represent")
        starts: list[int] = []
        ends: list[int] = []
        day = date(y, 1, 1)
        while day.year == y:
            for start, end in self._compute_day(day):
                if ends and start <= ends[-1]:  # touching (24:00 then 00:00): one stretch
                    ends[-1] = max(ends[-1], end)
                else:
                    starts.append(start)
                    ends.append(end)
            if day.month == 12 and day.day == 31:
                break
            day += _ONE_DAY
        before: list[int] = []
        after: list[int] = []
        total = 0
        for start, end in zip(starts, ends, strict=True):
            before.append(total)
            total += end - start
            after.append(total)
        return _Year(starts, ends, before, after, total)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline in business time and the rule that set it.

    ``rule`` is "open" (filed while open: the target of business time later) or "closed"
    (filed while closed: the close of ``day``, the first business day whose opening,
    ``opens``, is after the filing instant).
    """

    due: datetime
    rule: str
    day: date | None = None
    opens: datetime | None = None


def deadline(
    cal: BusinessCalendar, created: datetime, target: timedelta, *, outside_hours: bool = True
) -> Deadline:
    """When something filed at `created` is due: `target` of business time later while open;
    while closed (and `outside_hours`), by the close of the first business day whose opening
    is after `created`. SLO clocks and ``calendar explain`` both ask this one function."""
    _to_us(created, "created")  # name the caller's argument if it is naive
    if not outside_hours or cal.is_open(created):
        return Deadline(cal.add(created, target), "open")
    day = cal.first_day_opening_after(created)
    return Deadline(cal.closing_time(day), "closed", day, cal.opening_time(day))


def triage_due(cal: BusinessCalendar, created: datetime) -> datetime:
    """When a ticket filed at `created` must be triaged (see :func:`deadline`): filed while
    open, four business hours later; filed while closed, by the close of the first business
    day that opens after it (filed in a lunch break: the close of the next business day)."""
    return deadline(cal, created, TRIAGE_WINDOW).due
