"""Throughput of dutydesk's BusinessCalendar next to the `businesstimedelta` package.

Both answer the same questions for the same calendar (09:00-17:00 Monday to Friday in
America/Los_Angeles, US public holidays) on the same random instants in 2026-2027:

* add:      instant + 1h..40h of business time
* between:  business time between an instant and a later one (up to 14 days later)

Run without arguments: `.venv/bin/python bench/bench_calendar.py`.  Each measurement is
bounded by a time budget, so the whole run takes about ten seconds.
"""

from __future__ import annotations

import os
import random
import shlex
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import businesstimedelta  # type: ignore[import-untyped]
import pytz

from dutydesk.slo.calendar import BusinessCalendar
from dutydesk.slo.holidays import holiday_dates

ZONE = "America/Los_Angeles"
CASES = 4000
AGREEMENT_SAMPLE = 2000
BUDGET_SECONDS = 1.5
SEED = 20260101


def command_line() -> str:
    exe = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else None
    return shlex.join([exe or sys.executable, *sys.argv])


def make_cases(
    rng: random.Random,
) -> tuple[list[tuple[datetime, timedelta]], list[tuple[datetime, datetime]]]:
    lo = datetime(2026, 1, 1, tzinfo=UTC)
    span = int((datetime(2028, 1, 1, tzinfo=UTC) - lo).total_seconds())
    adds = []
    spans = []
    for _ in range(CASES):
        t = lo + timedelta(seconds=rng.randrange(span))
        adds.append((t, timedelta(seconds=rng.randrange(3600, 40 * 3600 + 1))))
        spans.append((t, t + timedelta(seconds=rng.randrange(0, 14 * 86_400))))
    return adds, spans


def dst_cases(rng: random.Random) -> list[tuple[datetime, timedelta]]:
    """Instants within a day of the zone's 2026-2027 clock changes (Sunday 02:00 local)."""
    changes = [
        datetime(2026, 3, 8, 10, tzinfo=UTC),
        datetime(2026, 11, 1, 9, tzinfo=UTC),
        datetime(2027, 3, 14, 10, tzinfo=UTC),
        datetime(2027, 11, 7, 9, tzinfo=UTC),
    ]
    return [
        (
            rng.choice(changes) + timedelta(seconds=rng.randrange(-86_400, 86_400)),
            timedelta(seconds=rng.randrange(3600, 40 * 3600 + 1)),
        )
        for _ in range(500)
    ]


def ops_per_second(call: Callable[[Any, Any], object], cases: Sequence[tuple[Any, Any]]) -> float:
    """Calls per second over the cases, repeated until the time budget is spent."""
    for a, b in cases[:100]:  # warm-up (builds dutydesk's per-year tables once)
        call(a, b)
    done = 0
    start = clock.perf_counter()
    deadline = start + BUDGET_SECONDS
    while True:
        for i in range(0, len(cases), 200):
            for a, b in cases[i : i + 200]:
                call(a, b)
            done += len(cases[i : i + 200])
            now = clock.perf_counter()
            if now >= deadline:
                return done / (now - start)


def near_dst(t: datetime) -> bool:
    """Within a day of a clock change in the calendar's zone."""
    tz = ZoneInfo(ZONE)
    return t.astimezone(tz).utcoffset() != (t - timedelta(days=1)).astimezone(tz).utcoffset() or (
        t.astimezone(tz).utcoffset() != (t + timedelta(days=1)).astimezone(tz).utcoffset()
    )


def main() -> None:
    print(f"$ {command_line()}")
    rng = random.Random(SEED)
    holidays = holiday_dates("US", None, [], [], range(2025, 2030))
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    cal = BusinessCalendar(ZONE, {d: [("09:00", "17:00")] for d in weekdays}, sorted(holidays))

    tz = pytz.timezone(ZONE)
    rules = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=time(9), end_time=time(17), working_days=[0, 1, 2, 3, 4], tz=tz
            ),
            businesstimedelta.HolidayRule(frozenset(holidays), tz=tz),
        ]
    )

    def btd_add(t: datetime, d: timedelta) -> datetime:
        result: datetime = t + businesstimedelta.BusinessTimeDelta(rules, timedelta=d)
        return result

    def btd_between(a: datetime, b: datetime) -> timedelta:
        result: timedelta = rules.difference(a, b).timedelta
        return result

    adds, spans = make_cases(rng)
    print(
        f"calendar: 09:00-17:00 Mon-Fri {ZONE}, {len(holidays)} US holidays 2025-2029; "
        f"{CASES} random instants in 2026-2027; add deltas 1h-40h; between spans 0-14 days; "
        f"{BUDGET_SECONDS}s per measurement"
    )
    print()
    rows = [
        ("add()", ops_per_second(cal.add, adds), ops_per_second(btd_add, adds)),
        ("between()", ops_per_second(cal.between, spans), ops_per_second(btd_between, spans)),
    ]
    print(f"{'operation':<11} {'dutydesk ops/s':>15} {'businesstimedelta ops/s':>24} {'ratio':>8}")
    for name, ours, theirs in rows:
        print(f"{name:<11} {ours:>15,.0f} {theirs:>24,.0f} {ours / theirs:>7.1f}x")
    print()

    # Agreement: same instant for add (to the second), same duration for between.
    second = timedelta(seconds=1)
    add_off = [
        (t, d) for t, d in adds[:AGREEMENT_SAMPLE] if abs(cal.add(t, d) - btd_add(t, d)) >= second
    ]
    between_off = [
        (a, b)
        for a, b in spans[:AGREEMENT_SAMPLE]
        if abs(cal.between(a, b) - btd_between(a, b)) >= second
    ]
    near = dst_cases(rng)
    dst_add_off = [(t, d) for t, d in near if abs(cal.add(t, d) - btd_add(t, d)) >= second]
    dst_between_off = [
        (t, t + d) for t, d in near if abs(cal.between(t, t + d) - btd_between(t, t + d)) >= second
    ]
    add_off += dst_add_off
    between_off += dst_between_off
    for name, off, total in (
        ("add()", add_off, AGREEMENT_SAMPLE + len(near)),
        ("between()", between_off, AGREEMENT_SAMPLE + len(near)),
    ):
        dst = sum(1 for a, _ in off if near_dst(a))
        print(
            f"agreement {name:<10} {total - len(off)}/{total} agree, {len(off)} disagree "
            f"({dst} of them start within a day of a DST change; the sample includes "
            f"{len(near)} such cases)"
        )
    for t, d in add_off[:3]:
        local = ZoneInfo(ZONE)
        print(
            f"  e.g. add({t.astimezone(local):%a %Y-%m-%d %H:%M:%S %Z}, {d}): "
            f"dutydesk {cal.add(t, d).astimezone(local):%a %Y-%m-%d %H:%M:%S %Z}, "
            f"businesstimedelta {btd_add(t, d).astimezone(local):%a %Y-%m-%d %H:%M:%S %Z}"
        )
    for a, b in between_off[:3]:
        local = ZoneInfo(ZONE)
        print(
            f"  e.g. between({a.astimezone(local):%a %Y-%m-%d %H:%M %Z}, "
            f"{b.astimezone(local):%a %Y-%m-%d %H:%M %Z}): dutydesk {cal.between(a, b)}, "
            f"businesstimedelta {btd_between(a, b)}"
        )


if __name__ == "__main__":
    main()
