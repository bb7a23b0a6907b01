"""Shared helpers for the calendar tests: aware local datetimes and standard calendars."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dutydesk.slo.calendar import BusinessCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def local(zone: str, *parts: int, fold: int = 0) -> datetime:
    """An aware datetime on the wall clock of `zone`."""
    return datetime(*parts, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[misc]


def nine_to_five(
    zone: str = "America/Los_Angeles", holidays: list[date] | None = None
) -> BusinessCalendar:
    return BusinessCalendar(zone, {d: [("09:00", "17:00")] for d in WEEKDAYS}, holidays or [])


def every_day(zone: str, *spans: tuple[str, str]) -> BusinessCalendar:
    return BusinessCalendar(zone, {d: list(spans) for d in ALL_DAYS})
