"""Hand-computed cases for BusinessCalendar and triage_due (every expected value worked out
by hand from the wall clock, so a regression shows up as a concrete, readable date)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dutydesk.slo.calendar import (
    BusinessCalendar,
    CalendarError,
    triage_due,
)
from dutydesk.slo.holidays import holiday_dates

from ._helpers import ALL_DAYS, WEEKDAYS, every_day, local, nine_to_five

LA = "America/Los_Angeles"
BERLIN = "Europe/Berlin"
SYDNEY = "Australia/Sydney"
H = timedelta(hours=1)
M = timedelta(minutes=1)


def la(*parts: int, fold: int = 0) -> datetime:
    return local(LA, *parts, fold=fold)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def assert_utc(value: datetime, expected: datetime) -> None:
    """Same instant, and returned as an aware UTC datetime."""
    assert value == expected, f"{value.astimezone(expected.tzinfo)} != {expected}"
    assert value.utcoffset() == timedelta(0)
    assert value.tzinfo is UTC


THANKSGIVING = [date(2026, 11, 26), date(2026, 11, 27)]


# --------------------------------------------------------------------------- add


class TestAdd:
    def test_monday_16_plus_1h_is_monday_17(self) -> None:
        assert_utc(nine_to_five().add(la(2026, 11, 23, 16), H), la(2026, 11, 23, 17))

    def test_closing_instant_plus_zero_is_next_opening(self) -> None:
        cal = nine_to_five()
        assert_utc(cal.add(la(2026, 11, 23, 17), timedelta(0)), la(2026, 11, 24, 9))
        assert_utc(cal.add(la(2026, 11, 23, 16), H * 0), la(2026, 11, 23, 16))

    def test_opening_instant_is_open(self) -> None:
        cal = nine_to_five()
        assert cal.is_open(la(2026, 11, 23, 9))
        assert not cal.is_open(la(2026, 11, 23, 17))
        assert cal.is_open(la(2026, 11, 23, 16, 59, 59))
        assert not cal.is_open(la(2026, 11, 23, 8, 59, 59))

    def test_friday_afternoon_across_weekend(self) -> None:
        assert_utc(nine_to_five().add(la(2026, 11, 20, 16, 30), 4 * H), la(2026, 11, 23, 12, 30))

    def test_from_weekend_starts_monday(self) -> None:
        assert_utc(nine_to_five().add(la(2026, 11, 21, 12), 4 * H), la(2026, 11, 23, 13))

    def test_exact_day_lands_on_close(self) -> None:
        assert_utc(nine_to_five().add(la(2026, 11, 23, 9), 8 * H), la(2026, 11, 23, 17))
        assert_utc(nine_to_five().add(la(2026, 11, 23, 8), 8 * H), la(2026, 11, 23, 17))

    def test_thanksgiving_and_day_after(self) -> None:
        cal = nine_to_five(holidays=THANKSGIVING)
        assert_utc(cal.add(la(2026, 11, 25, 16), 4 * H), la(2026, 11, 30, 12))

    def test_thanksgiving_only(self) -> None:
        cal = nine_to_five(holidays=[date(2026, 11, 26)])
        assert_utc(cal.add(la(2026, 11, 25, 16), 4 * H), la(2026, 11, 27, 12))

    def test_christmas(self) -> None:
        cal = nine_to_five(holidays=[date(2026, 12, 25)])
        assert_utc(cal.add(la(2026, 12, 24, 15), 4 * H), la(2026, 12, 28, 11))

    def test_long_delta_skips_weeks(self) -> None:
        cal = nine_to_five()
        # 10 weeks of 40h from a Monday opening: ten weeks later, Friday close.
        assert_utc(cal.add(la(2026, 1, 5, 9), 400 * H), la(2026, 3, 13, 17))
        assert_utc(cal.add(la(2026, 1, 5, 9), 400 * H + M), la(2026, 3, 16, 9, 1))

    def test_across_year_end(self) -> None:
        cal = nine_to_five(holidays=[date(2026, 12, 25), date(2027, 1, 1)])
        # Thu 31 Dec 16:00: 1h, Fri 1 Jan holiday, Mon 4 Jan 3h.
        assert_utc(cal.add(la(2026, 12, 31, 16), 4 * H), la(2027, 1, 4, 12))

    def test_argument_in_any_zone(self) -> None:
        cal = nine_to_five()
        start = la(2026, 11, 23, 16).astimezone(ZoneInfo("Asia/Tokyo"))
        assert_utc(cal.add(start, H), la(2026, 11, 23, 17))

    def test_microseconds_kept(self) -> None:
        cal = nine_to_five()
        got = cal.add(la(2026, 11, 23, 16, 59, 59, 500_000), timedelta(seconds=1))
        assert_utc(got, la(2026, 11, 24, 9, 0, 0, 500_000))

    def test_negative_delta_rejected(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            nine_to_five().add(la(2026, 11, 23, 10), -H)

    def test_across_la_spring_forward_weekend(self) -> None:
        cal = nine_to_five()
        got = cal.add(la(2026, 3, 6, 16), 2 * H)
        assert_utc(got, la(2026, 3, 9, 10))
        assert_utc(got, utc(2026, 3, 9, 17))  # PDT now


class TestBetween:
    def test_same_day(self) -> None:
        assert nine_to_five().between(la(2026, 11, 23, 8), la(2026, 11, 23, 12)) == 3 * H

    def test_reversed_or_equal_is_zero(self) -> None:
        cal = nine_to_five()
        assert cal.between(la(2026, 11, 23, 12), la(2026, 11, 23, 10)) == timedelta(0)
        assert cal.between(la(2026, 11, 23, 12), la(2026, 11, 23, 12)) == timedelta(0)

    def test_week_with_thanksgiving(self) -> None:
        cal = nine_to_five(holidays=THANKSGIVING)
        assert cal.between(la(2026, 11, 23), la(2026, 11, 30)) == 24 * H

    def test_dst_weekend_counts_business_hours_only(self) -> None:
        cal = nine_to_five()
        assert cal.between(la(2026, 3, 6, 9), la(2026, 3, 9, 17)) == 16 * H

    def test_whole_year(self) -> None:
        # 2026 has 261 weekdays.
        assert nine_to_five().between(la(2026, 1, 1), la(2027, 1, 1)) == 261 * 8 * H

    def test_multi_year(self) -> None:
        cal = nine_to_five()
        two = cal.between(la(2026, 6, 1), la(2028, 6, 1))
        assert two == cal.between(la(2026, 6, 1), la(2027, 6, 1)) + cal.between(
            la(2027, 6, 1), la(2028, 6, 1)
        )


class TestNextOpen:
    def test_open_returns_itself(self) -> None:
        t = la(2026, 11, 23, 10, 15, 7)
        assert_utc(nine_to_five().next_open(t), t)

    def test_evening_returns_next_morning(self) -> None:
        assert_utc(nine_to_five().next_open(la(2026, 11, 23, 17)), la(2026, 11, 24, 9))

    def test_friday_evening_returns_monday(self) -> None:
        cal = nine_to_five(holidays=[date(2026, 11, 30)])
        assert_utc(cal.next_open(la(2026, 11, 27, 18)), la(2026, 12, 1, 9))


# --------------------------------------------------------------------------- shapes


class TestSplitDay:
    cal = BusinessCalendar(LA, {d: [("09:00", "12:00"), ("13:00", "17:00")] for d in WEEKDAYS}, [])

    def test_lunch_is_closed(self) -> None:
        assert not self.cal.is_open(la(2026, 11, 23, 12, 30))
        assert self.cal.is_open(la(2026, 11, 23, 13))

    def test_add_over_lunch(self) -> None:
        assert_utc(self.cal.add(la(2026, 11, 23, 11), 2 * H), la(2026, 11, 23, 14))

    def test_add_to_lunch_stops_at_noon(self) -> None:
        assert_utc(self.cal.add(la(2026, 11, 23, 11), H), la(2026, 11, 23, 12))
        assert_utc(self.cal.add(la(2026, 11, 23, 12), timedelta(0)), la(2026, 11, 23, 13))

    def test_between_over_lunch(self) -> None:
        assert self.cal.between(la(2026, 11, 23, 10), la(2026, 11, 23, 14)) == 3 * H

    def test_intervals(self) -> None:
        got = list(self.cal.intervals(la(2026, 11, 23, 10), la(2026, 11, 24, 10)))
        assert got == [
            (la(2026, 11, 23, 10), la(2026, 11, 23, 12)),
            (la(2026, 11, 23, 13), la(2026, 11, 23, 17)),
            (la(2026, 11, 24, 9), la(2026, 11, 24, 10)),
        ]
        assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in got)

    def test_explain_add(self) -> None:
        got = self.cal.explain_add(la(2026, 11, 23, 15), 4 * H)
        assert got == [
            (la(2026, 11, 23, 15), la(2026, 11, 23, 17), 2 * H),
            (la(2026, 11, 24, 9), la(2026, 11, 24, 11), 2 * H),
        ]

    def test_touching_intervals_are_one_stretch(self) -> None:
        cal = BusinessCalendar(LA, {"mon": [("09:00", "12:00"), ("12:00", "17:00")]})
        assert cal.is_open(la(2026, 11, 23, 12))
        got = list(cal.intervals(la(2026, 11, 23), la(2026, 11, 24)))
        assert got == [(la(2026, 11, 23, 9), la(2026, 11, 23, 17))]


class TestOvernightShift:
    """Night desk: 22:00 to 06:00, written as 22:00-24:00 plus 00:00-06:00 next day."""

    cal = BusinessCalendar(
        LA,
        {
            "mon": [("22:00", "24:00")],
            **{d: [("00:00", "06:00"), ("22:00", "24:00")] for d in ("tue", "wed", "thu", "fri")},
            "sat": [("00:00", "06:00")],
        },
    )

    def test_midnight_is_open(self) -> None:
        assert self.cal.is_open(la(2026, 11, 24, 0))
        assert self.cal.is_open(la(2026, 11, 23, 23, 59))

    def test_add_across_midnight(self) -> None:
        assert_utc(self.cal.add(la(2026, 11, 23, 23), 3 * H), la(2026, 11, 24, 2))
        assert_utc(self.cal.add(la(2026, 11, 23, 22), 2 * H), la(2026, 11, 24, 0))

    def test_add_from_morning(self) -> None:
        # Tue 05:00: 1h to 06:00, then Tue 22:00 + 3h.
        assert_utc(self.cal.add(la(2026, 11, 24, 5), 4 * H), la(2026, 11, 25, 1))

    def test_intervals_merge_across_midnight(self) -> None:
        got = list(self.cal.intervals(la(2026, 11, 23, 20), la(2026, 11, 24, 8)))
        assert got == [(la(2026, 11, 23, 22), la(2026, 11, 24, 6))]

    def test_explain_merges_across_midnight(self) -> None:
        got = self.cal.explain_add(la(2026, 11, 23, 23), 3 * H)
        assert got == [(la(2026, 11, 23, 23), la(2026, 11, 24, 2), 3 * H)]

    def test_weekend_gap(self) -> None:
        # Sat 06:00 closes until Mon 22:00.
        assert_utc(self.cal.add(la(2026, 11, 28, 5), 2 * H), la(2026, 11, 30, 23))

    def test_between_one_night(self) -> None:
        assert self.cal.between(la(2026, 11, 23, 12), la(2026, 11, 24, 12)) == 8 * H


class Test24x7:
    cal = every_day(LA, ("00:00", "24:00"))

    def test_always_open(self) -> None:
        for t in (la(2026, 3, 8, 2), la(2026, 11, 1, 1, 30), la(2026, 12, 31, 23, 59)):
            assert self.cal.is_open(t)

    def test_add_is_wall_free(self) -> None:
        t = la(2026, 3, 7, 12)
        # 24 real hours, not 24 wall-clock hours: the night of 8 March is 23h long.
        assert_utc(self.cal.add(t, 24 * H), t.astimezone(UTC) + 24 * H)
        assert_utc(self.cal.add(t, 24 * H), la(2026, 3, 8, 13))

    def test_spring_forward_day_has_23_hours(self) -> None:
        assert self.cal.between(la(2026, 3, 8), la(2026, 3, 9)) == 23 * H

    def test_fall_back_day_has_25_hours(self) -> None:
        assert self.cal.between(la(2026, 11, 1), la(2026, 11, 2)) == 25 * H

    def test_one_interval_over_new_year(self) -> None:
        got = list(self.cal.intervals(la(2026, 12, 20), la(2027, 1, 10)))
        assert got == [(la(2026, 12, 20), la(2027, 1, 10))]

    def test_explain_over_new_year_is_one_stretch(self) -> None:
        got = self.cal.explain_add(la(2026, 12, 31, 20), 10 * H)
        assert got == [(la(2026, 12, 31, 20), la(2027, 1, 1, 6), 10 * H)]

    def test_long_add(self) -> None:
        t = la(2026, 1, 1)
        assert_utc(self.cal.add(t, timedelta(days=1000)), t.astimezone(UTC) + timedelta(days=1000))


# --------------------------------------------------------------------------- DST


class TestDstIntervals:
    def test_la_night_shift_spring_forward_is_5h(self) -> None:
        cal = every_day(LA, ("00:00", "06:00"))
        assert cal.between(la(2026, 3, 8), la(2026, 3, 9)) == 5 * H
        assert cal.between(la(2026, 3, 7), la(2026, 3, 8)) == 6 * H

    def test_la_night_shift_fall_back_is_7h(self) -> None:
        cal = every_day(LA, ("00:00", "06:00"))
        assert cal.between(la(2026, 11, 1), la(2026, 11, 2)) == 7 * H

    def test_la_office_hours_keep_wall_clock(self) -> None:
        cal = nine_to_five()
        assert_utc(cal.next_open(la(2026, 3, 9, 6)), utc(2026, 3, 9, 16))  # 09:00 PDT
        assert_utc(cal.next_open(la(2026, 3, 6, 6)), utc(2026, 3, 6, 17))  # 09:00 PST

    def test_boundary_in_gap_is_jump_instant(self) -> None:
        cal = every_day(LA, ("02:30", "04:00"))
        assert_utc(cal.next_open(la(2026, 3, 8, 0)), utc(2026, 3, 8, 10))
        assert cal.between(la(2026, 3, 8), la(2026, 3, 9)) == H
        assert cal.between(la(2026, 3, 7), la(2026, 3, 8)) == 90 * M

    def test_interval_inside_gap_vanishes(self) -> None:
        cal = every_day(LA, ("02:10", "02:50"), ("03:00", "04:00"))
        assert cal.between(la(2026, 3, 8), la(2026, 3, 9)) == H
        got = list(cal.intervals(la(2026, 3, 8), la(2026, 3, 9)))
        assert got == [(utc(2026, 3, 8, 10), utc(2026, 3, 8, 11))]

    def test_interval_ending_in_gap(self) -> None:
        cal = every_day(LA, ("01:00", "02:30"))
        assert cal.between(la(2026, 3, 8), la(2026, 3, 9)) == H
        assert_utc(cal.add(la(2026, 3, 8, 0), H), utc(2026, 3, 8, 10))

    def test_boundary_in_repeated_hour_is_first_occurrence(self) -> None:
        cal = every_day(LA, ("01:30", "03:00"))
        assert_utc(cal.next_open(la(2026, 11, 1, 0)), utc(2026, 11, 1, 8, 30))
        assert cal.between(la(2026, 11, 1), la(2026, 11, 2)) == 150 * M

    def test_interval_ending_in_repeated_hour(self) -> None:
        cal = every_day(LA, ("00:00", "01:30"))
        assert cal.between(la(2026, 11, 1), la(2026, 11, 2)) == 90 * M
        # The second 01:15 (PST) is after closing.
        assert not cal.is_open(la(2026, 11, 1, 1, 15, fold=1))
        assert cal.is_open(la(2026, 11, 1, 1, 15, fold=0))

    def test_interval_wholly_inside_repeated_hour_counts_once(self) -> None:
        cal = every_day(LA, ("01:10", "01:40"))
        assert cal.between(la(2026, 11, 1), la(2026, 11, 2)) == 30 * M

    def test_berlin(self) -> None:
        cal = every_day(BERLIN, ("00:00", "24:00"))
        b = lambda *p: local(BERLIN, *p)  # noqa: E731
        assert cal.between(b(2026, 3, 29), b(2026, 3, 30)) == 23 * H
        assert cal.between(b(2026, 10, 25), b(2026, 10, 26)) == 25 * H
        night = every_day(BERLIN, ("00:00", "06:00"))
        assert night.between(b(2026, 3, 29), b(2026, 3, 30)) == 5 * H
        assert night.between(b(2026, 10, 25), b(2026, 10, 26)) == 7 * H
        # 02:30 does not exist on 29 March: the jump is 01:00 UTC.
        gap = every_day(BERLIN, ("02:30", "05:00"))
        assert_utc(gap.next_open(b(2026, 3, 29)), utc(2026, 3, 29, 1))
        # 02:30 happens twice on 25 October: first at 00:30 UTC (CEST).
        assert_utc(gap.next_open(b(2026, 10, 25)), utc(2026, 10, 25, 0, 30))
        office = nine_to_five(BERLIN)
        assert_utc(office.add(b(2026, 10, 23, 16), 2 * H), b(2026, 10, 26, 10))
        assert_utc(office.add(b(2026, 10, 23, 16), 2 * H), utc(2026, 10, 26, 9))

    def test_sydney_southern_hemisphere(self) -> None:
        s = lambda *p: local(SYDNEY, *p)  # noqa: E731
        night = every_day(SYDNEY, ("00:00", "06:00"))
        assert night.between(s(2026, 4, 5), s(2026, 4, 6)) == 7 * H
        assert night.between(s(2026, 10, 4), s(2026, 10, 5)) == 5 * H
        gap = every_day(SYDNEY, ("02:30", "05:00"))
        assert_utc(gap.next_open(s(2026, 10, 4)), utc(2026, 10, 3, 16))
        assert_utc(gap.next_open(s(2026, 4, 5)), utc(2026, 4, 4, 15, 30))
        office = nine_to_five(SYDNEY)
        assert_utc(office.add(s(2026, 10, 2, 16), 2 * H), s(2026, 10, 5, 10))
        assert_utc(office.add(s(2026, 10, 2, 16), 2 * H), utc(2026, 10, 4, 23))


# --------------------------------------------------------------------------- days


class TestTriageDue:
    cal = nine_to_five(holidays=[date(2026, 11, 16)])

    def test_open_monday_morning(self) -> None:
        assert_utc(triage_due(self.cal, la(2026, 11, 23, 10)), la(2026, 11, 23, 14))

    def test_open_monday_afternoon_spills(self) -> None:
        assert_utc(triage_due(self.cal, la(2026, 11, 23, 15)), la(2026, 11, 24, 11))

    def test_before_opening_gets_the_day(self) -> None:
        assert_utc(triage_due(self.cal, la(2026, 11, 23, 8)), la(2026, 11, 23, 17))

    def test_saturday_gets_monday(self) -> None:
        assert_utc(triage_due(self.cal, la(2026, 11, 21, 11)), la(2026, 11, 23, 17))

    def test_friday_evening_before_monday_holiday_gets_tuesday(self) -> None:
        assert_utc(triage_due(self.cal, la(2026, 11, 13, 17, 30)), la(2026, 11, 17, 17))

    def test_friday_1630_before_monday_holiday_is_open_so_4h(self) -> None:
        # Open when filed: 30 min on Friday, Monday is a holiday, 3.5h on Tuesday.
        assert_utc(triage_due(self.cal, la(2026, 11, 13, 16, 30)), la(2026, 11, 17, 12, 30))

    def test_at_closing_instant_is_closed(self) -> None:
        assert_utc(triage_due(self.cal, la(2026, 11, 23, 17)), la(2026, 11, 24, 17))

    def test_night_shift_takes_the_opening_day(self) -> None:
        cal = BusinessCalendar(LA, {"mon": [("22:00", "24:00")], "tue": [("00:00", "06:00")]})
        assert_utc(triage_due(cal, la(2026, 11, 23, 12)), la(2026, 11, 24, 0))
        assert_utc(triage_due(cal, la(2026, 11, 23, 23)), la(2026, 11, 24, 3))

    def test_naive_created_rejected(self) -> None:
        with pytest.raises(ValueError, match="created"):
            triage_due(self.cal, datetime(2026, 11, 23, 10))


# --------------------------------------------------------------------------- holidays package


class TestHolidayDates:
    def test_us_thanksgiving_and_christmas(self) -> None:
        days = holiday_dates("US", None, [], [], range(2026, 2027))
        assert date(2026, 11, 26) in days
        assert date(2026, 12, 25) in days
        assert date(2026, 11, 27) not in days

    def test_extra_and_remove(self) -> None:
        days = holiday_dates("US", None, [date(2026, 11, 27)], [date(2026, 12, 25)], [2026])
        assert date(2026, 11, 27) in days
        assert date(2026, 12, 25) not in days

    def test_no_country(self) -> None:
        assert holiday_dates(None, None, [date(2026, 1, 2)], [], range(2026, 2027)) == {
            date(2026, 1, 2)
        }

    def test_unknown_country(self) -> None:
        with pytest.raises(ValueError, match="XX"):
            holiday_dates("XX", None, [], [], range(2026, 2027))

    def test_unknown_subdivision(self) -> None:
        with pytest.raises(ValueError, match="ZZ"):
            holiday_dates("US", "ZZ", [], [], range(2026, 2027))

    def test_berlin_easter(self) -> None:
        days = holiday_dates("DE", "BE", [], [], range(2026, 2027))
        assert {date(2026, 4, 3), date(2026, 4, 6)} <= days  # Good Friday, Easter Monday
        cal = nine_to_five(BERLIN, holidays=sorted(days))
        b = lambda *p: local(BERLIN, *p)  # noqa: E731
        # Thu 2 April 16:00: 1h, then Fri and Mon are holidays, Tue 7 April 1h.
        assert_utc(cal.add(b(2026, 4, 2, 16), 2 * H), b(2026, 4, 7, 10))

    def test_lazy_provider(self) -> None:
        from dutydesk.slo.holidays import country_holiday_provider

        cal = BusinessCalendar(
            LA,
            {d: [("09:00", "17:00")] for d in WEEKDAYS},
            holiday_provider=country_holiday_provider("US", extra=[date(2031, 11, 28)]),
        )
        # Thanksgiving 2031 is Thursday 27 November; Friday 28 added explicitly.
        assert cal.is_holiday(date(2031, 11, 27))
        assert_utc(cal.add(local(LA, 2031, 11, 26, 16), 2 * H), local(LA, 2031, 12, 1, 10))

    def test_provider_rejects_unknown_country_early(self) -> None:
        from dutydesk.slo.holidays import country_holiday_provider

        with pytest.raises(ValueError, match="XX"):
            country_holiday_provider("XX")


# --------------------------------------------------------------------------- validation


class TestValidation:
    @pytest.mark.parametrize("method", ["is_open", "next_open", "business_day_at"])
    def test_naive_rejected_single(self, method: str) -> None:
        with pytest.raises(ValueError, match=r"\bt\b.*timezone-aware"):
            getattr(nine_to_five(), method)(datetime(2026, 11, 23, 10))

    def test_naive_rejected_add(self) -> None:
        with pytest.raises(ValueError, match=r"\bt\b"):
            nine_to_five().add(datetime(2026, 11, 23, 10), H)
        with pytest.raises(ValueError, match=r"\bt\b"):
            nine_to_five().explain_add(datetime(2026, 11, 23, 10), H)

    def test_naive_rejected_between(self) -> None:
        cal = nine_to_five()
        with pytest.raises(ValueError, match=r"\ba\b"):
            cal.between(datetime(2026, 11, 23, 10), la(2026, 11, 23, 10))
        with pytest.raises(ValueError, match=r"\bb\b"):
            cal.between(la(2026, 11, 23, 10), datetime(2026, 11, 23, 10))
        with pytest.raises(ValueError, match=r"\bb\b"):
            list(cal.intervals(la(2026, 11, 23, 10), datetime(2026, 11, 23, 10)))

    @pytest.mark.parametrize(
        "hours, message",
        [
            ({"monday": [("09:00", "17:00")]}, "unknown day"),
            ({"xyz": [("09:00", "17:00")]}, "unknown day"),
            ({"mon": [("25:00", "26:00")]}, "not a valid time"),
            ({"mon": [("09:60", "17:00")]}, "not a valid time"),
            ({"mon": [("09:00", "24:30")]}, "not a valid time"),
            ({"mon": [("9am", "5pm")]}, "HH:MM"),
            ({"mon": [("", "17:00")]}, "HH:MM"),
            ({"mon": [(9, 17)]}, "HH:MM"),
            ({"mon": [("17:00", "09:00")]}, "ends at or before"),
            ({"mon": [("09:00", "09:00")]}, "ends at or before"),
            ({"mon": [("24:00", "24:00")]}, "cannot start"),
            ({"mon": [("22:00", "06:00")]}, "two intervals"),
            ({"mon": [("09:00", "13:00"), ("12:00", "17:00")]}, "overlap"),
            ({"mon": [("12:00", "17:00"), ("09:00", "12:30")]}, "overlap"),
            ({"mon": [("09:00", "17:00", "x")]}, "pair"),
            ({"mon": "09:00-17:00"}, "pairs"),
            ({"mon": [("09:00", "17:00")], "Mon": []}, "more than once"),
        ],
    )
    def test_bad_hours(self, hours: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            BusinessCalendar(LA, hours)  # type: ignore[arg-type]

    def test_time_objects_and_24_00(self) -> None:
        cal = BusinessCalendar(LA, {"mon": [(time(9), time(17, 30))], "tue": [("00:00", "24:00")]})
        assert cal.hours == {"mon": [("09:00", "17:30")], "tue": [("00:00", "24:00")]}
        assert cal.between(la(2026, 11, 23), la(2026, 11, 25)) == timedelta(hours=32, minutes=30)

    def test_unknown_timezone(self) -> None:
        with pytest.raises(ValueError, match="timezone"):
            BusinessCalendar("Mars/Olympus_Mons", {"mon": [("09:00", "17:00")]})

    def test_zoneinfo_accepted(self) -> None:
        cal = BusinessCalendar(ZoneInfo(LA), {"mon": [("09:00", "17:00")]})
        assert cal.timezone.key == LA

    def test_no_hours_raises_instead_of_looping(self) -> None:
        cal = BusinessCalendar(LA, {})
        t = la(2026, 11, 23, 10)
        assert not cal.is_open(t)
        assert cal.between(t, t + 1000 * H) == timedelta(0)
        assert list(cal.intervals(t, t + 1000 * H)) == []
        for call in (
            lambda: cal.next_open(t),
            lambda: cal.add(t, H),
            lambda: cal.add(t, timedelta(0)),
            lambda: cal.explain_add(t, H),
            lambda: triage_due(cal, t),
        ):
            with pytest.raises(CalendarError, match="no opening hours"):
                call()

    def test_all_days_holidays_raises_instead_of_looping(self) -> None:
        cal = BusinessCalendar(
            LA, {"mon": [("09:00", "17:00")]}, holiday_provider=lambda y: _mondays(y)
        )
        with pytest.raises(CalendarError, match="no business time"):
            cal.add(la(2026, 11, 23, 10), H)
        with pytest.raises(CalendarError, match="no business time"):
            cal.next_open(la(2026, 11, 23, 10))

    def test_calendar_error_is_value_error(self) -> None:
        assert issubclass(CalendarError, ValueError)

    def test_sat_sun_keys_and_repr(self) -> None:
        cal = BusinessCalendar(LA, {d: [("10:00", "11:00")] for d in ALL_DAYS})
        assert "America/Los_Angeles" in repr(cal)
        assert cal.is_open(la(2026, 11, 22, 10, 30))  # a Sunday


def _mondays(year: int) -> list[date]:
    days = (date(year, 1, 1) + timedelta(days=i) for i in range(366))
    return [d for d in days if d.weekday() == 0]
