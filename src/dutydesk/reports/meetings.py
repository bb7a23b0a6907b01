"""When a desk's meetings happen (pure): declared weekdays, daily before a release, never on a
holiday or weekend of the desk's calendar.

Rules: a meeting happens on a business day whose weekday it declares; with
``daily_before_release = "N business days"`` it also happens on each business day ``D`` before
the next release date ``R`` such that the business days in ``[D, R)`` number at most N. The
release dates are the desk's release calendar (leads enter and move them:
:mod:`dutydesk.reports.releases`); only a desk whose calendar is empty falls back to day
``release_day`` of every month (clamped to the month's last day). The release day itself only
has the meetings its weekday declares. Times are local wall-clock in the desk's zone.
"""

from __future__ import annotations

import calendar as pycal
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dutydesk.durations import parse_span
from dutydesk.policy.models import DeskPolicy
from dutydesk.policy.notify import WEEKDAYS, MeetingPolicy

IsBusinessDay = Callable[[date], bool]


@dataclass(frozen=True)
class Occurrence:
    desk: str
    meeting: MeetingPolicy
    start: datetime  # aware, in the meeting's zone
    end: datetime

    @property
    def post_at(self) -> datetime:
        """When its agenda goes to the desk channel."""
        return self.start - parse_span(self.meeting.post_before)

    @property
    def day(self) -> date:
        return self.start.date()


def meetings_of(desk: DeskPolicy) -> list[MeetingPolicy]:
    """Declared meetings, plus the older ``triage_meetings`` form when no triage is declared."""
    out = list(desk.meetings)
    tm = desk.triage_meetings
    if tm is not None and not any(m.agenda == "triage" for m in out):
        out.append(
            MeetingPolicy(
                name="triage",
                agenda="triage",
                days=list(tm.days),
                at=tm.at,
                daily_before_release=tm.daily_before_release,
                release_day=tm.release_day,
            )
        )
    return out


def release_on_or_after(day: date, release_day: int) -> date:
    def in_month(y: int, m: int) -> date:
        return date(y, m, min(release_day, pycal.monthrange(y, m)[1]))

    candidate = in_month(day.year, day.month)
    if candidate >= day:
        return candidate
    y, m = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return in_month(y, m)


def business_days_until(day: date, until: date, is_business_day: IsBusinessDay) -> int:
    n, d = 0, day
    while d < until:
        n += is_business_day(d)
        d += timedelta(days=1)
    return n


def next_release(day: date, releases: Sequence[date], release_day: int) -> date | None:
    """The first release on or after ``day``: from the calendar (sorted dates) when it has
    any, else the policy's day of the month."""
    if not releases:
        return release_on_or_after(day, release_day)
    i = bisect_left(releases, day)
    return releases[i] if i < len(releases) else None


def meets_on(
    meeting: MeetingPolicy,
    day: date,
    is_business_day: IsBusinessDay,
    releases: Sequence[date] = (),
) -> bool:
    if not is_business_day(day):
        return False
    if WEEKDAYS[day.weekday()] in meeting.days:
        return True
    if meeting.daily_before_release:
        limit = int(meeting.daily_before_release.split()[0])
        release = next_release(day, releases, meeting.release_day)
        return (
            release is not None
            and day < release
            and business_days_until(day, release, is_business_day) <= limit
        )
    return False


def is_release_daily(
    meeting: MeetingPolicy, day: date, is_business_day: IsBusinessDay, releases: Sequence[date]
) -> bool:
    """The meeting happens on ``day`` only because a release is near."""
    return WEEKDAYS[day.weekday()] not in meeting.days and meets_on(
        meeting, day, is_business_day, releases
    )


def occurrences(
    desk: str,
    meeting: MeetingPolicy,
    zone: ZoneInfo,
    is_business_day: IsBusinessDay,
    first: date,
    last: date,
    releases: Sequence[date] = (),
) -> list[Occurrence]:
    """Occurrences on local dates first..last (inclusive); ``releases``: the desk's release
    calendar, sorted."""
    tz = ZoneInfo(meeting.timezone) if meeting.timezone else zone
    out, d = [], first
    while d <= last:
        if meets_on(meeting, d, is_business_day, releases):
            start = datetime.combine(d, meeting.at).replace(tzinfo=tz)
            out.append(Occurrence(desk, meeting, start, start + parse_span(meeting.duration)))
        d += timedelta(days=1)
    return out
