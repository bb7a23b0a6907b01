"""When meetings happen: declared weekdays, daily before a release, never on a closed day."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from dutydesk.policy.notify import MeetingPolicy
from dutydesk.reports.meetings import meets_on, occurrences, release_on_or_after

TRIAGE = MeetingPolicy(
    name="triage",
    agenda="triage",
    days=["tue", "thu"],
    at=time(10, 0),
    daily_before_release="5 business days",
    release_day=16,
)


def weekdays(d: date) -> bool:
    return d.weekday() < 5


def test_set_triage_is_tue_thu_and_daily_in_the_five_business_days_before_the_16th() -> None:
    days = [
        o.day
        for o in occurrences(
            "set",
            TRIAGE,
            ZoneInfo("America/Toronto"),
            weekdays,
            date(2026, 12, 1),
            date(2026, 12, 18),
        )
    ]
    assert [d.day for d in days] == [
        1,
        3,
        8,
        9,
        10,
        11,
        14,
        15,
        17,
    ]  # the 16th (Wed) is release day


def test_a_holiday_cancels_the_meeting() -> None:
    thanksgiving = date(2026, 11, 26)  # a Thursday
    assert meets_on(TRIAGE, thanksgiving, weekdays)
    assert not meets_on(TRIAGE, thanksgiving, lambda d: weekdays(d) and d != thanksgiving)


def test_release_day_is_clamped_to_the_month_and_rolls_over() -> None:
    assert release_on_or_after(date(2027, 2, 1), 31) == date(2027, 2, 28)
    assert release_on_or_after(date(2026, 12, 17), 16) == date(2027, 1, 16)
    assert release_on_or_after(date(2026, 12, 16), 16) == date(2026, 12, 16)


def test_occurrences_carry_local_wall_time_across_dst() -> None:
    weekly = MeetingPolicy(name="handoff", agenda="handoff", days=["mon"], at=time(10, 0))
    zone = ZoneInfo("America/Los_Angeles")
    occ = occurrences("infra", weekly, zone, weekdays, date(2026, 10, 26), date(2026, 11, 9))
    assert [(o.start.hour, o.start.utcoffset().total_seconds() / 3600) for o in occ] == [  # type: ignore[union-attr]
        (10, -7.0),
        (10, -8.0),
        (10, -8.0),
    ]
    assert occ[0].post_at.minute == 45  # 15 minutes before, by default


def test_the_release_calendar_replaces_the_day_of_the_month() -> None:
    from dutydesk.reports.meetings import next_release

    calendar = [date(2026, 12, 4), date(2027, 1, 20)]
    assert next_release(date(2026, 12, 1), calendar, 16) == date(2026, 12, 4)
    assert next_release(date(2026, 12, 5), calendar, 16) == date(2027, 1, 20)
    assert next_release(date(2027, 2, 1), calendar, 16) is None  # nothing planned: no dailies
    assert next_release(date(2026, 12, 5), [], 16) == date(2026, 12, 16)  # empty: the policy's
