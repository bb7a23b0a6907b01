"""Holiday dates for business calendars: a country's public holidays (from the ``holidays``
package, loaded lazily per year) plus a policy's explicit extra and removed dates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from dutydesk.slo.calendar import HolidayProvider, as_date


def holiday_dates(
    country: str | None,
    subdivision: str | None,
    extra: Iterable[date],
    remove: Iterable[date],
    years: Iterable[int],
) -> set[date]:
    """Public holidays of a country (and subdivision) in `years`, plus `extra`, minus `remove`.

    `extra` dates are added whatever their year, so explicit closures are never lost.
    """
    result: set[date] = set()
    if country:
        import holidays as holidays_lib  # imported lazily: it is large and often unused

        try:
            table = holidays_lib.country_holidays(
                country.strip().upper(), subdiv=subdivision or None, years=list(years)
            )
        except NotImplementedError as exc:
            where = f"{country!r}" + (f" subdivision {subdivision!r}" if subdivision else "")
            raise ValueError(f"no holiday data for {where}: {exc}") from exc
        result.update(table.keys())
    elif subdivision:
        raise ValueError(f"holiday subdivision {subdivision!r} given without a country")
    result.update(as_date(d, "extra") for d in extra)
    result.difference_update(as_date(d, "remove") for d in remove)
    return result


def country_holiday_provider(
    country: str,
    subdivision: str | None = None,
    extra: Iterable[date] = (),
    remove: Iterable[date] = (),
) -> HolidayProvider:
    """A lazy per-year holiday source for `BusinessCalendar(holiday_provider=...)`.

    Validates the country/subdivision now, so a typo fails at start-up, not on the first
    ticket filed in a new year.
    """
    extra_dates = frozenset(as_date(d, "extra") for d in extra)
    removed = frozenset(as_date(d, "remove") for d in remove)
    holiday_dates(country, subdivision, (), (), ())

    def provide(year: int) -> set[date]:
        found = holiday_dates(country, subdivision, (), (), (year,))
        found.update(d for d in extra_dates if d.year == year)
        return found - removed

    return provide
