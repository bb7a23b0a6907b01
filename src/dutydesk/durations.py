"""Spans of time as people write and read them: the one grammar every span in the policy, the
API and the CLI is written in, and the formatters every page, message and report shows.

Grammar: one or more terms, each a number, an optional ``business`` and a unit —
``4 business hours``, ``1 business day``, ``30 seconds``, ``500 ms``, ``7d``, ``1h30m``,
``2 weeks``. Units: ``ms``/``millisecond(s)``, ``s``/``sec(s)``/``second(s)``,
``m``/``min(s)``/``minute(s)``, ``h``/``hour(s)``, ``d``/``day(s)``, ``w``/``week(s)``; case and
spaces do not matter. Days and weeks are kept apart from the clock part, because a business
calendar decides how long a business day is (``slo.policy.day_length``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

_UNITS: dict[str, tuple[str, float]] = {}
for _names, _part, _size in (
    (("ms", "millisecond", "milliseconds"), "clock", 0.001),
    (("s", "sec", "secs", "second", "seconds"), "clock", 1.0),
    (("m", "min", "mins", "minute", "minutes"), "clock", 60.0),
    (("h", "hour", "hours"), "clock", 3600.0),
    (("d", "day", "days"), "days", 1.0),
    (("w", "week", "weeks"), "weeks", 1.0),
):
    for _name in _names:
        _UNITS[_name] = (_part, _size)

_TERM = re.compile(
    r"\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<business>business\s+)?(?P<unit>"
    + "|".join(sorted(_UNITS, key=len, reverse=True))
    + r")(?![a-z])\s*"
)
# The widest span a request may ask to add or to list: wider ones would mean minutes of work.
MAX_SPAN = timedelta(days=3 * 366)
_LONGEST_SECONDS = 1000 * 366 * 86400  # past this a span overflows the dates it is added to
_EXAMPLES = "e.g. '4 business hours', '1 business day', '30 minutes', '500 ms', '7d' or '1h30m'"


class SpanTooLong(ValueError):
    """A span over the bound every request keeps (:data:`MAX_SPAN`)."""


@dataclass(frozen=True)
class Duration:
    """A parsed span: its clock part, and the days and weeks a business calendar may size."""

    clock: timedelta
    days: float = 0.0
    weeks: float = 0.0
    business: bool = False

    def sized(
        self, day: timedelta = timedelta(days=1), week: timedelta = timedelta(weeks=1)
    ) -> timedelta:
        """The span, with a day and a week as long as given (24 h and 7 days unless told)."""
        return self.clock + self.days * day + self.weeks * week

    @property
    def is_zero(self) -> bool:
        return not self.clock and not self.days and not self.weeks


@lru_cache(maxsize=512)  # a policy has a handful of spans, read for every notice written
def parse_duration(text: str) -> Duration:
    """``'4 business hours'`` → Duration(4 h, business=True). Raises ValueError with examples."""
    raw = text.strip().lower()
    parts = {"clock": 0.0, "days": 0.0, "weeks": 0.0}
    business: set[bool] = set()
    pos = 0
    while pos < len(raw) or pos == 0:
        match = _TERM.match(raw, pos)
        if match is None:
            raise ValueError(f"bad duration {text!r}; write {_EXAMPLES}")
        part, size = _UNITS[match["unit"]]
        parts[part] += float(match["n"]) * size
        business.add(bool(match["business"]))
        pos = match.end()
    if len(business) > 1:
        raise ValueError(
            f"bad duration {text!r}: say 'business' for every part or for none of them"
        )
    if parts["clock"] + (parts["days"] + parts["weeks"] * 7) * 86400 > _LONGEST_SECONDS:
        raise SpanTooLong(f"{text!r} is too long: no span reaches a thousand years")
    return Duration(
        timedelta(seconds=parts["clock"]), parts["days"], parts["weeks"], business.pop()
    )


def bounded(found: Duration, text: str) -> Duration:
    """Refuse a span a request may not ask for: longer than :data:`MAX_SPAN` (a day counted
    as 24 h), so no request can ask for years of calendar arithmetic."""
    if found.clock / timedelta(days=1) + found.days + found.weeks * 7 > MAX_SPAN.days:
        raise SpanTooLong(f"{text!r} is too long: a span may cover at most {MAX_SPAN.days} days")
    return found


def parse_span(text: str) -> timedelta:
    """A wall-clock span (no business time): ``'30 seconds'`` → 30 s, ``'7d'`` → 7 days."""
    found = parse_duration(text)
    if found.business:
        raise ValueError(
            f"bad duration {text!r}: this is elapsed time, not business time; drop 'business'"
        )
    return found.sized()


# ----------------------------------------------------------------------------- formatting


def format_span(delta: timedelta) -> str:
    """Two units for people: ``3d 4h``, ``5h 10m``, ``12m``; negative (overdue) spans keep
    their sign, ``-3d 4h``, and never grow into hours such as ``1984h00m``."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds <= -60 else ""
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {mins}m"
    return f"{sign}{mins}m"


def format_age(delta: timedelta) -> str:
    """One unit for cards and lists: 'now', '12m', '5h', '3d', '6w', '4mo', '2y'."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h"
    days = hours // 24
    if days < 14:
        return f"{days}d"
    if days < 61:
        return f"{days // 7}w"
    if days < 730:
        return f"{days // 30}mo"
    return f"{days // 365}y"


def format_age_since(at: datetime | None, now: datetime) -> str:
    return "" if at is None else format_age(now - at)


def format_ago(at: datetime | None, now: datetime) -> str:
    """'5m ago', 'just now' (never 'now ago'); 'never' for no instant."""
    if at is None:
        return "never"
    age = format_age(now - at)
    return "just now" if age == "now" else f"{age} ago"


def parse_days(text: str) -> tuple[int, bool]:
    """A whole number of days: ``'1 business day'`` → (1, True), ``'2 days'`` → (2, False)."""
    found = parse_duration(text)
    if found.clock or found.weeks or found.days != int(found.days):
        raise ValueError(f"{text!r}: write 'N business days' or 'N days'")
    return int(found.days), found.business
