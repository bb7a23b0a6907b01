"""Wall time → instant rules, checked in zones with unusual offsets and DST rules.

Each row opens a calendar at one wall time every day and reads back the instant it opens on
a DST-change date: skipped wall times open at the jump, repeated ones at the first pass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dutydesk.slo.calendar import DAY_NAMES, BusinessCalendar

from ._helpers import every_day, local

H = timedelta(hours=1)

CASES = [
    # zone, date, opening wall time, expected UTC opening, why
    ("America/Los_Angeles", date(2026, 3, 8), "02:30", (2026, 3, 8, 10, 0), "gap 02→03"),
    ("America/Los_Angeles", date(2026, 3, 8), "02:00", (2026, 3, 8, 10, 0), "gap start"),
    ("America/Los_Angeles", date(2026, 3, 8), "03:00", (2026, 3, 8, 10, 0), "gap end"),
    ("America/Los_Angeles", date(2026, 3, 8), "01:59", (2026, 3, 8, 9, 59), "before gap"),
    ("America/Los_Angeles", date(2026, 11, 1), "01:30", (2026, 11, 1, 8, 30), "first 01:30"),
    ("America/Los_Angeles", date(2026, 11, 1), "02:00", (2026, 11, 1, 10, 0), "after fold"),
    ("Europe/Berlin", date(2026, 3, 29), "02:30", (2026, 3, 29, 1, 0), "gap 02→03"),
    ("Europe/Berlin", date(2026, 10, 25), "02:30", (2026, 10, 25, 0, 30), "first 02:30"),
    ("Europe/Berlin", date(2026, 10, 25), "03:00", (2026, 10, 25, 2, 0), "after fold"),
    ("Australia/Sydney", date(2026, 10, 4), "02:30", (2026, 10, 3, 16, 0), "gap 02→03"),
    ("Australia/Sydney", date(2026, 4, 5), "02:30", (2026, 4, 4, 15, 30), "first 02:30"),
    ("Australia/Lord_Howe", date(2026, 10, 4), "02:10", (2026, 10, 3, 15, 30), "30 min gap"),
    ("Australia/Lord_Howe", date(2026, 10, 4), "02:30", (2026, 10, 3, 15, 30), "gap end"),
    ("Australia/Lord_Howe", date(2026, 4, 5), "01:45", (2026, 4, 4, 14, 45), "30 min fold"),
    ("Australia/Lord_Howe", date(2026, 4, 5), "02:00", (2026, 4, 4, 15, 30), "after fold"),
    ("Pacific/Chatham", date(2026, 9, 27), "03:00", (2026, 9, 26, 14, 0), "gap 02:45→03:45"),
    ("Pacific/Chatham", date(2026, 4, 5), "03:00", (2026, 4, 4, 13, 15), "first 03:00"),
    ("America/St_Johns", date(2026, 3, 8), "02:30", (2026, 3, 8, 5, 30), "gap -03:30"),
    ("America/St_Johns", date(2026, 11, 1), "01:30", (2026, 11, 1, 4, 0), "first 01:30"),
    ("Asia/Kolkata", date(2026, 3, 8), "02:30", (2026, 3, 7, 21, 0), "+05:30, no DST"),
    ("UTC", date(2026, 3, 8), "02:30", (2026, 3, 8, 2, 30), "UTC"),
    # Chile changes clocks at midnight: the day itself starts at 01:00.
    ("America/Santiago", date(2026, 9, 6), "00:00", (2026, 9, 6, 4, 0), "midnight gap"),
    ("America/Santiago", date(2026, 9, 6), "00:30", (2026, 9, 6, 4, 0), "midnight gap"),
    # ... and falls back from 4 April 24:00 to 23:00: the 5th's 00:00 happens once, at -04.
    ("America/Santiago", date(2026, 4, 5), "00:00", (2026, 4, 5, 4, 0), "midnight fold"),
]


@pytest.mark.parametrize("zone, day, wall, expected, why", CASES)
def test_opening_instant(
    zone: str, day: date, wall: str, expected: tuple[int, ...], why: str
) -> None:
    cal = every_day(zone, (wall, "23:00"))
    start = local(zone, day.year, day.month, day.day)  # the previous day closed at 23:00
    got = cal.next_open(start)
    assert got == datetime(*expected, tzinfo=UTC), why  # type: ignore[misc]
    assert got.tzinfo is UTC


@pytest.mark.parametrize(
    "zone, day, hours",
    [
        ("America/Los_Angeles", date(2026, 3, 8), 23),
        ("America/Los_Angeles", date(2026, 11, 1), 25),
        ("Australia/Lord_Howe", date(2026, 10, 4), 23.5),
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),
        ("Pacific/Chatham", date(2026, 9, 27), 23),
        ("Pacific/Chatham", date(2026, 4, 5), 25),
        ("America/St_Johns", date(2026, 11, 1), 25),
        ("Asia/Kolkata", date(2026, 3, 8), 24),
        ("UTC", date(2026, 3, 8), 24),
        ("America/Santiago", date(2026, 9, 6), 23),
        # Chile falls back at the end of 4 April: its 23:00-24:00 happens twice.
        ("America/Santiago", date(2026, 4, 4), 25),
        ("America/Santiago", date(2026, 4, 5), 24),
    ],
)
def test_length_of_change_days(zone: str, day: date, hours: float) -> None:
    """A calendar open 00:00-24:00 on one weekday only: that date's real length."""
    cal = BusinessCalendar(zone, {DAY_NAMES[day.weekday()]: [("00:00", "24:00")]})
    noon = local(zone, day.year, day.month, day.day, 12).astimezone(UTC)  # real-time math
    assert cal.between(noon - 72 * H, noon + 72 * H) == timedelta(hours=hours)
    whole_week = every_day(zone, ("00:00", "24:00"))
    assert whole_week.between(noon - 72 * H, noon + 72 * H) == 144 * H
