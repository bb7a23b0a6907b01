"""One time-off entry keeps a rotation fair (issue 18 item 3), on the example policy's rotations.

Every entry below (a day to six weeks, at many offsets, for every member) is replayed on its own.
Over the year(s) it affects — the local calendar years from the first to the last shift it moved
— the members of each layer stay within one shift's length of on-call hours of each other, the
fairness report's per-person totals say the same, and lead duty stays shared:
members who served the same number of shifts lead a number of times that differs by at most two
(a lead month made up with one that is not moves one lead; the hours are what is kept even).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dutydesk.oncall.fairness import fairness, person_totals
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Shift, TimeOff
from dutydesk.policy.rotations import LEAD, RotationSpec, rotation_from_policy

from .strategies import specs

LENGTHS = [
    timedelta(days=1),
    timedelta(days=2),
    timedelta(weeks=1),
    timedelta(days=10),
    timedelta(weeks=3),
    timedelta(weeks=6),
]
FIRST_ENTRY = datetime(2027, 2, 3, 7, tzinfo=UTC)  # after both rotations' first (partial) year
STEP = timedelta(days=13, hours=7)  # walks across handoffs, weekdays and hours of the day
ENTRIES = 22  # nine months of start offsets


def example_rotation(name: str) -> RotationSpec:
    text = resources.files("dutydesk.examples").joinpath("dutydesk.toml").read_text()
    return rotation_from_policy(name, tomllib.loads(text)["rotations"][name])


def _key(s: Shift) -> tuple[str, datetime, datetime, str]:
    return (s.layer, s.utc_start, s.utc_end, s.person)


def affected_years(
    spec: RotationSpec, entry: TimeOff, plain: list[Shift], got: list[Shift]
) -> tuple[datetime, datetime]:
    """From 1 January of the first moved shift's local year to 1 January after the last one
    (the entry's own year when it moved nothing: its person was not on call then)."""
    before = {_key(s) for s in plain}
    moved = [(s.utc_start, s.utc_end) for s in got if _key(s) not in before]
    zone = ZoneInfo(spec.timezone)
    first = min([s for s, _ in moved] or [entry.start]).astimezone(zone).year
    last = max([e for _, e in moved] or [entry.end]) - timedelta(seconds=1)
    last = last.astimezone(zone).year
    return (
        datetime.combine(date(first, 1, 1), time(), zone).astimezone(UTC),
        datetime.combine(date(last + 1, 1, 1), time(), zone).astimezone(UTC),
    )


def whole_shifts(shifts: list[Shift], start: datetime, end: datetime) -> list[Shift]:
    """Each base shift once (not the pieces a cover of days off cuts), by its start."""
    return [s for s in shifts if s.source != "cover" and start <= s.utc_start < end]


def check_entry(spec: RotationSpec, entry: TimeOff) -> bool:
    """Check one entry; whether it changed who is on call."""
    # whole years around the entry, and far enough ahead for any make-up
    span = (
        datetime(entry.start.year - 1, 12, 1, tzinfo=UTC),
        datetime(entry.end.year + 2, 2, 1, tzinfo=UTC),
    )
    plain = Schedule(spec).shifts(*span)
    got = Schedule(spec, time_off=[entry]).shifts(*span)
    start, end = affected_years(spec, entry, plain, got)
    assert span[0] < start and end < span[1]
    one_shift = min(s.duration for s in plain).total_seconds() / 3600
    label = f"{entry.person} off {entry.start:%Y-%m-%d %H:%M} for {entry.end - entry.start}"
    assert not any(
        s.person == entry.person and s.utc_start < entry.end and entry.start < s.utc_end
        for s in got
    ), f"{label}: on call during the time off"

    totals = {t.person: t.hours for t in person_totals(got, start, end)}
    for layer in (x for x in spec.layers if not x.lead_of):
        members = sorted({p for change in layer.members for p in change.members})
        stats = fairness([s for s in got if s.layer == layer.name], set(), start, end, "UTC")
        hours = [stats[p].hours if p in stats else 0.0 for p in members]
        assert max(hours) - min(hours) <= one_shift, (label, layer.name, stats)
        # the per-person totals across layers count a lead's hours once: their team's hours
        assert [totals.get(p, 0.0) for p in members] == pytest.approx(hours, abs=1e-6)

    if any(x.lead_of for x in spec.layers):
        served = Counter(s.person for s in whole_shifts(got, start, end) if s.layer != LEAD)
        leads = Counter(s.person for s in whole_shifts(got, start, end) if s.layer == LEAD)
        for a in served:
            for b in served:
                # a lead month paid back with one that is not moves one lead (hours first)
                if served[a] == served[b]:
                    assert abs(leads[a] - leads[b]) <= 2, (label, dict(leads), dict(served))
    return plain != got


@pytest.mark.parametrize("rotation", ["infra-oncall", "set"])
@pytest.mark.parametrize("length", LENGTHS, ids=lambda d: f"{d.days}d")
def test_one_time_off_entry_keeps_each_layer_within_one_shift(
    rotation: str, length: timedelta
) -> None:
    spec = example_rotation(rotation)
    moved = 0
    for i in range(ENTRIES):
        begin = FIRST_ENTRY + i * STEP
        for person in sorted(spec.people):
            moved += check_entry(spec, TimeOff(person, begin, begin + length, f"off-{i}"))
    assert moved >= ENTRIES  # most entries really move shifts (or cover days)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(changes=True), st.data())
def test_a_window_with_long_absences_matches_a_replay_from_the_first_shift(
    spec: RotationSpec, data: st.DataObject
) -> None:
    """Make-ups reach far: a window computed on its own (from where no earlier trade can
    reach it) equals the same shifts replayed from shift 0, with many long absences."""
    sched0 = Schedule(spec)
    origin = sched0.shift_bounds(0)[0]
    people = sorted(spec.people) or ["x"]
    span = timedelta(days=3 * 365)
    time_off = [
        TimeOff(
            data.draw(st.sampled_from(people)),
            origin + timedelta(seconds=s),
            origin + timedelta(seconds=s) + timedelta(days=d),
        )
        for s, d in data.draw(
            st.lists(
                st.tuples(st.integers(0, int(span.total_seconds())), st.integers(1, 60)),
                max_size=12,
            )
        )
    ]
    sched = Schedule(spec, time_off=time_off)
    a = origin + timedelta(seconds=data.draw(st.integers(0, int(span.total_seconds()))))
    b = a + timedelta(days=data.draw(st.integers(1, 200)))
    replayed = [s for s in sched.shifts(origin, b) if s.utc_end > a]
    assert sched.shifts(a, b) == replayed
    for s in replayed[:5]:  # a one-instant question agrees too
        assert sched.on_call(s.utc_start + (s.utc_end - s.utc_start) / 2)[s.layer] == s


@pytest.mark.parametrize("length", [10, 20, 31, 45], ids=lambda d: f"{d}d")
def test_an_absence_early_in_the_year_is_paid_back_within_that_year(length: int) -> None:
    """A year of the SET rotation (16 January to 16 January): one absence of up to six weeks
    that ends by September is made up before the year ends, so each team's members stay within
    one shift of each other over that one year — the make-up is the first month the absent
    engineer can take, not one months away that would match lead duty."""
    spec = example_rotation("set")
    year = (datetime(2027, 1, 16, 14, tzinfo=UTC), datetime(2028, 1, 16, 14, tzinfo=UTC))
    one_shift = min(s.duration for s in Schedule(spec).shifts(*year)).total_seconds() / 3600
    begin = datetime(2027, 2, 2, 17, tzinfo=UTC)
    while begin < datetime(2027, 8, 1, tzinfo=UTC):
        for person in sorted(spec.people):
            entry = TimeOff(person, begin, begin + timedelta(days=length), "sick")
            got = Schedule(spec, time_off=[entry]).shifts(*year)
            for layer in (x for x in spec.layers if not x.lead_of):
                stats = fairness([s for s in got if s.layer == layer.name], set(), *year, "UTC")
                hours = [x.hours for x in stats.values()]
                assert max(hours) - min(hours) <= one_shift, (person, begin, layer.name, stats)
        begin += timedelta(days=9)
