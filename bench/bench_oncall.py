"""Benchmark: "who is on call now" and one-year rendering of rotations.

Run: .venv/bin/python bench/bench_oncall.py

(1) 50 rotations (weekly, monthly one-per-team with a lead, daily, fortnightly, every 3 days),
each with ~100 overrides over two years and some time off, queried at random instants. The
naive reference in the same run renders the surrounding month with the same engine and scans
it, which is what an implementation without index arithmetic would do at best.
(2) Rendering one year of shifts of one rotation, building the Schedule each time (as a request
would), per rotation kind; handoff instants are cached per process, so the last row also
measures a cold start.
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Override, Shift, TimeOff
from dutydesk.oncall.wallclock import handoff_clock
from dutydesk.policy.rotations import LEAD, Handoff, Layer, RotationSpec, Unit

COMMAND = ".venv/bin/python bench/bench_oncall.py"
SEED = 20260105
START = datetime(2025, 7, 1, tzinfo=UTC)
END = datetime(2027, 7, 1, tzinfo=UTC)
SPAN = (END - START).total_seconds()
GOAL_NOW_MS = 1.0
GOAL_RENDER_MS = 20.0

KINDS: list[tuple[str, str, Unit, int, Handoff, bool]] = [
    # label, zone, unit, count, handoff, one per team
    ("weekly", "America/Los_Angeles", "week", 1, Handoff(time(10), weekday=0), False),
    ("monthly+teams", "America/Toronto", "month", 1, Handoff(time(9), day=16), True),
    ("daily", "Europe/Berlin", "day", 1, Handoff(time(9)), False),
    ("fortnightly", "Australia/Sydney", "week", 2, Handoff(time(17), weekday=4), False),
    ("3-day", "Asia/Kolkata", "day", 3, Handoff(time(8, 30)), False),
]


def store_override(stored: list[Override], new: Override) -> list[Override]:
    """Overrides as the service stores them: ``new`` cuts the older ones it overlaps."""
    out: list[Override] = []
    for o in stored:
        if o.layer != new.layer or o.end <= new.start or new.end <= o.start:
            out.append(o)
            continue
        head = o.start < new.start
        if head:
            out.append(replace(o, end=new.start))
        if o.end > new.end:
            out.append(replace(o, start=new.end, id=f"{o.id}/{new.id}" if head else o.id))
    return [*out, new]


def build_rotation(
    i: int, rng: random.Random
) -> tuple[RotationSpec, list[Override], list[TimeOff]]:
    label, zone, unit, count, handoff, teams = KINDS[i % len(KINDS)]
    if teams:
        layers = [
            Layer.of(
                f"team{t}", [f"r{i}t{t}m{m}" for m in range(rng.randint(2, 4))], team=f"team{t}"
            )
            for t in range(4)
        ]
        layers.insert(0, Layer(LEAD, lead_of=tuple(x.name for x in layers)))
    else:
        layers = [Layer.of("primary", [f"r{i}m{m}" for m in range(rng.randint(4, 8))])]
    spec = RotationSpec(
        name=f"{label}-{i}",
        timezone=zone,
        unit=unit,
        count=count,
        handoff=handoff,
        layers=tuple(layers),
        anchor=date(2025, 1, 1) + timedelta(days=rng.randrange(200)),
    )
    members = sorted(spec.people)
    names = [x.name for x in spec.layers]
    overrides: list[Override] = []
    for n in range(100):
        s = START + timedelta(seconds=rng.uniform(0, SPAN))
        ov = Override(
            s,
            s + timedelta(hours=rng.uniform(2, 72)),
            rng.choice(members),
            rng.choice(names),
            id=f"o{n}",
        )
        overrides = store_override(overrides, ov)
    time_off = []
    for _ in range(25):
        s = START + timedelta(seconds=rng.uniform(0, SPAN))
        time_off.append(TimeOff(rng.choice(members), s, s + timedelta(days=rng.uniform(1, 10))))
    return spec, overrides, time_off


def naive_on_call(schedule: Schedule, at: datetime) -> dict[str, Shift]:
    """Reference: render the surrounding month and scan it."""
    got = schedule.shifts(at - timedelta(days=16), at + timedelta(days=16))
    return {s.layer: s for s in got if s.utc_start <= at < s.utc_end}


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = statistics.median(ordered) / 1e6
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] / 1e6
    return p50, p95


def timed(fn: Callable[[], object], repeat: int) -> list[int]:
    out = []
    for _ in range(repeat):
        t0 = clock.perf_counter_ns()
        fn()
        out.append(clock.perf_counter_ns() - t0)
    return out


def row(label: str, p50: float, p95: float, goal: str, note: str = "") -> str:
    return f"| {label:<44} | {p50:>9.4f} | {p95:>9.4f} | {goal:>9} | {note}"


def main() -> None:
    print(f"$ {COMMAND}")
    print(f"python {sys.version.split()[0]} on {platform.machine()} ({platform.system()})")
    rng = random.Random(SEED)
    t0 = clock.perf_counter()
    rotations = [build_rotation(i, rng) for i in range(50)]
    t_build = clock.perf_counter()
    schedules = [Schedule(spec, ov, (), off) for spec, ov, off in rotations]
    compile_ms = (clock.perf_counter() - t_build) * 1000 / len(schedules)
    n_ov = sum(len(ov) for _, ov, _ in rotations)
    n_off = sum(len(off) for _, _, off in rotations)
    print(
        f"50 rotations, {n_ov} overrides and {n_off} time-off entries over 2025-07..2027-07; "
        f"Schedule() compile {compile_ms:.3f} ms per rotation (setup {clock.perf_counter() - t0:.2f} s)"
    )
    print()

    # (1) who is on call now
    queries = [
        (rng.randrange(len(schedules)), START + timedelta(seconds=rng.uniform(0, SPAN)))
        for _ in range(20000)
    ]
    for i, at in queries[:200]:  # warm up caches the way a long-running process would
        schedules[i].on_call(at)
    fast: list[int] = []
    for i, at in queries:
        sched = schedules[i]
        t = clock.perf_counter_ns()
        sched.on_call(at)
        fast.append(clock.perf_counter_ns() - t)
    slow: list[int] = []
    for i, at in queries[:2000]:
        sched = schedules[i]
        t = clock.perf_counter_ns()
        naive = naive_on_call(sched, at)
        slow.append(clock.perf_counter_ns() - t)
        assert naive == sched.on_call(at), (sched.spec.name, at)
    dashboards: list[int] = []
    for _ in range(300):
        at = START + timedelta(seconds=rng.uniform(0, SPAN))
        t = clock.perf_counter_ns()
        for sched in schedules:
            sched.on_call(at)
        dashboards.append(clock.perf_counter_ns() - t)

    f50, f95 = percentiles(fast)
    s50, s95 = percentiles(slow)
    d50, d95 = percentiles(dashboards)
    print(
        "| query                                        |   p50 ms  |   p95 ms  |   goal ms | note"
    )
    print(
        "|----------------------------------------------|-----------|-----------|-----------|-----"
    )
    print(row("on_call(now), one rotation (20000 queries)", f50, f95, f"<= {GOAL_NOW_MS:g}"))
    print(
        row(
            "naive: render month + scan (2000 queries)",
            s50,
            s95,
            "-",
            f"indexed is {s50 / f50:.0f}x faster at p50, {s95 / f95:.0f}x at p95",
        )
    )
    print(row("all 50 rotations at one instant (300 runs)", d50, d95, "-", "a dashboard"))

    # (2) render one year of one rotation
    print()
    print(
        "| render one year (incl. Schedule build)       |   p50 ms  |   p95 ms  |   goal ms | note"
    )
    print(
        "|----------------------------------------------|-----------|-----------|-----------|-----"
    )
    year = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    worst = 0.0
    for k, (label, *_rest) in enumerate(KINDS):
        spec, ov, off = rotations[k]
        count = len(Schedule(spec, ov, (), off).shifts(*year))

        def render(
            s: RotationSpec = spec, o: list[Override] = ov, f: list[TimeOff] = off
        ) -> object:
            return Schedule(s, o, (), f).shifts(*year)

        p50, p95 = percentiles(timed(render, 40))
        worst = max(worst, p95)
        print(row(f"{label}: {count} shifts", p50, p95, f"<= {GOAL_RENDER_MS:g}"))
    spec, ov, off = rotations[2]  # daily, the most shifts

    def cold() -> object:
        handoff_clock.cache_clear()  # as in a fresh process: no handoff instant computed yet
        return Schedule(spec, ov, (), off).shifts(*year)

    p50, p95 = percentiles(timed(cold, 40))
    worst = max(worst, p95)
    print(row("daily, cold process (no cached handoffs)", p50, p95, f"<= {GOAL_RENDER_MS:g}"))
    print()
    verdict_now = "meets" if f95 <= GOAL_NOW_MS else "MISSES"
    verdict_render = "meets" if worst <= GOAL_RENDER_MS else "MISSES"
    print(
        f"on_call p95 {f95:.4f} ms {verdict_now} the {GOAL_NOW_MS:g} ms goal "
        f"({GOAL_NOW_MS / f95:.0f}x headroom); "
        f"worst render p95 {worst:.2f} ms {verdict_render} the {GOAL_RENDER_MS:g} ms goal "
        f"({GOAL_RENDER_MS / worst:.1f}x headroom)"
    )


if __name__ == "__main__":
    main()
