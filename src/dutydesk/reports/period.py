"""A report's period: whole local days of the desk, cut into ISO weeks (pure, no database).

Every report (toil, queue health, on-call load, SET figures) reads the same ``from`` and ``to``
days, in the API, the CLI and the page URL, so a link shares exactly what one person saw. Days
are the desk's local days (its calendar's zone): a ticket filed at 23:30 in Los Angeles on a
Sunday belongs to Sunday's week there, whatever UTC says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dutydesk.errors import field_error

DEFAULT_DAYS = 12 * 7  # twelve weeks, ending today: a quarter at a glance
MAX_DAYS = 2 * 366  # two years; longer periods are two reports


@dataclass(frozen=True)
class Period:
    """``start`` … ``end`` inclusive, local days in ``zone``."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def since(self) -> datetime:
        """The first instant (UTC) of ``start`` in the desk's zone."""
        return local_midnight(self.start, self.zone)

    @property
    def until(self) -> datetime:
        """The first instant (UTC) after ``end``: the period is ``since <= at < until``."""
        return local_midnight(self.end + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def weeks(self) -> list[date]:
        """The Mondays of every ISO week the period touches, oldest first."""
        first = week_of(self.start)
        return [
            first + timedelta(weeks=i) for i in range((week_of(self.end) - first).days // 7 + 1)
        ]

    def week_bounds(self) -> list[tuple[date, datetime, datetime]]:
        """Each week's Monday and its instants, clipped to the period."""
        out = []
        for monday in self.weeks():
            lo = max(monday, self.start)
            hi = min(monday + timedelta(days=6), self.end)
            out.append(
                (
                    monday,
                    local_midnight(lo, self.zone),
                    local_midnight(hi + timedelta(1), self.zone),
                )
            )
        return out

    def as_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "zone": self.zone.key}


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def resolve(start: date | None, end: date | None, now: datetime, zone: ZoneInfo) -> Period:
    """The period a request names; missing ends default to the twelve weeks ending today.

    Refusals name the field: ``from`` after ``to``, or a period longer than two years.
    """
    today = now.astimezone(zone).date()
    if end is None:
        end = today if start is None else min(start + timedelta(days=DEFAULT_DAYS - 1), today)
        end = max(end, start) if start is not None else end
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise field_error("from", f"{start.isoformat()} is after to ({end.isoformat()})")
    if (end - start).days + 1 > MAX_DAYS:
        raise field_error(
            "to", f"the period spans {(end - start).days + 1} days; at most {MAX_DAYS} days"
        )
    return Period(start, end, zone)
