"""Weekly opening hours as a calendar reads them: "HH:MM" boundaries per weekday, validated
and turned into microseconds after local midnight (see :mod:`dutydesk.slo.calendar`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import time
from itertools import pairwise

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

HoursSpec = Mapping[str, Iterable[tuple[str | time, str | time]] | None]
"""Weekly hours: day name → (start, end) pairs of "HH:MM" strings or times; absent = closed."""

_US_PER_MINUTE = 60_000_000
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _parse_clock(value: object, *, day: str, end: bool) -> int:
    """Microseconds after local midnight for "HH:MM" (or a time); "24:00" only as an end."""
    what = "end" if end else "start"
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"hours[{day!r}]: {what} time {value} must not carry a tzinfo")
        return (
            (value.hour * 60 + value.minute) * _US_PER_MINUTE
            + value.second * 1_000_000
            + value.microsecond
        )
    if not isinstance(value, str):
        raise ValueError(
            f"hours[{day!r}]: {what} must be an 'HH:MM' string or datetime.time, got {value!r}"
        )
    match = _CLOCK_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"hours[{day!r}]: {what} {value!r} is not a time of the form 'HH:MM'")
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    if minute > 59 or second > 59 or hour > 24 or (hour == 24 and (minute or second)):
        raise ValueError(f"hours[{day!r}]: {what} {value!r} is not a valid time of day")
    if hour == 24 and not end:
        raise ValueError(f"hours[{day!r}]: an interval cannot start at {value!r}")
    return (hour * 60 + minute) * _US_PER_MINUTE + second * 1_000_000


def format_clock(micros: int) -> str:
    seconds, rest = divmod(micros, 1_000_000)
    minutes, sec = divmod(seconds, 60)
    text = f"{minutes // 60:02d}:{minutes % 60:02d}"
    if sec or rest:
        text += f":{sec:02d}"
    if rest:
        text += f".{rest:06d}"
    return text


def parse_hours(hours: HoursSpec) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Validate the weekly hours; returns, per weekday (Monday first), sorted intervals."""
    if not isinstance(hours, Mapping):
        raise ValueError(f"hours must be a mapping of day name to intervals, got {hours!r}")
    week: list[tuple[tuple[int, int], ...]] = [()] * 7
    seen: set[int] = set()
    for key, value in hours.items():
        name = key.strip().lower() if isinstance(key, str) else key
        if name not in DAY_NAMES:
            raise ValueError(f"hours: unknown day {key!r}; use one of {', '.join(DAY_NAMES)}")
        index = DAY_NAMES.index(name)
        if index in seen:
            raise ValueError(f"hours: day {key!r} is given more than once")
        seen.add(index)
        if value is None:
            continue
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ValueError(f"hours[{key!r}] must be a list of (start, end) pairs, got {value!r}")
        parsed: list[tuple[int, int]] = []
        for pair in value:
            if isinstance(pair, str | bytes) or not isinstance(pair, Iterable):
                raise ValueError(f"hours[{key!r}]: {pair!r} is not a (start, end) pair")
            items = list(pair)
            if len(items) != 2:
                raise ValueError(f"hours[{key!r}]: {pair!r} is not a (start, end) pair")
            start = _parse_clock(items[0], day=name, end=False)
            stop = _parse_clock(items[1], day=name, end=True)
            if stop <= start:
                raise ValueError(
                    f"hours[{key!r}]: interval {items[0]}-{items[1]} ends at or before it starts "
                    "(write an overnight shift as two intervals, e.g. 22:00-24:00 and "
                    "00:00-06:00 the next day)"
                )
            parsed.append((start, stop))
        parsed.sort()
        for (s1, e1), (s2, e2) in pairwise(parsed):
            if s2 < e1:
                raise ValueError(
                    f"hours[{key!r}]: intervals {format_clock(s1)}-{format_clock(e1)} and "
                    f"{format_clock(s2)}-{format_clock(e2)} overlap"
                )
        week[index] = tuple(parsed)
    return tuple(week)
