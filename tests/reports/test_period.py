"""Report periods: local days of the desk, ISO weeks, defaults and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dutydesk.errors import Invalid
from dutydesk.reports.period import DEFAULT_DAYS, MAX_DAYS, resolve, week_of

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)  # Mon 9 Nov, 22:00 in Los Angeles


def test_defaults_are_twelve_weeks_ending_today_in_the_desk_zone() -> None:
    p = resolve(None, None, NOW, LA)
    assert p.end == date(2026, 11, 9)
    assert p.days == DEFAULT_DAYS
    assert p.since == datetime(2026, 8, 18, 7, 0, tzinfo=UTC)  # PDT midnight
    assert p.until == datetime(2026, 11, 10, 8, 0, tzinfo=UTC)  # PST midnight


def test_only_from_gives_twelve_weeks_from_it_but_never_past_today() -> None:
    assert resolve(date(2026, 1, 1), None, NOW, LA).end == date(2026, 3, 25)
    assert resolve(date(2026, 11, 1), None, NOW, LA).end == date(2026, 11, 9)
    assert resolve(date(2027, 1, 1), None, NOW, LA).end == date(2027, 1, 1)


def test_weeks_are_iso_weeks_clipped_to_the_period() -> None:
    p = resolve(date(2026, 11, 4), date(2026, 11, 17), NOW, LA)  # Wed .. Tue
    assert p.weeks() == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    bounds = p.week_bounds()
    assert bounds[0][1] == p.since and bounds[-1][2] == p.until
    assert bounds[1][1] == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    assert week_of(date(2026, 11, 15)) == date(2026, 11, 9)


def test_refusals_name_the_field() -> None:
    with pytest.raises(Invalid) as e:
        resolve(date(2026, 2, 1), date(2026, 1, 1), NOW, LA)
    assert e.value.errors[0]["field"] == "from"
    with pytest.raises(Invalid) as e:
        resolve(date(2020, 1, 1), date(2026, 1, 1), NOW, LA)
    assert e.value.errors[0]["field"] == "to"
    assert str(MAX_DAYS) in e.value.detail
