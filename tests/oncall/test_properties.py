"""Properties of the rotation arithmetic over random rotations, zones and edits (hypothesis)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from math import lcm

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Override, Shift, Swap, TimeOff
from dutydesk.policy.rotations import LEAD, PRIMARY, Handoff, Layer, RotationSpec, Unit

from .rotations import set_rotation
from .strategies import NAMES, UNITS, ZONES, scenarios, specs
from .test_time_off_fairness import check_entry

PROFILE = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def by_layer(items: list[Shift]) -> dict[str, list[Shift]]:
    out: dict[str, list[Shift]] = {}
    for s in items:
        out.setdefault(s.layer, []).append(s)
    return out


@PROFILE
@given(scenarios())
def test_each_layer_has_one_person_or_a_reported_gap(
    case: tuple[Schedule, datetime, datetime, list[Override], list[TimeOff]],
) -> None:
    sched, start, end, _, _ = case
    got = sched.shifts(start, end)
    layers = by_layer(got)
    order = [x.name for x in sched.spec.layers]
    assert list(layers) == [n for n in order if n in layers]  # sorted by layer order
    holes = sched.gaps(start, end)
    for name in order:
        pieces = [(s.utc_start, s.utc_end) for s in layers.get(name, [])]
        pieces += [(g.start, g.end) for g in holes if g.layer == name]
        pieces.sort()
        assert pieces, name
        assert pieces[0][0] <= start and pieces[-1][1] >= end
        for (_, e1), (s2, _) in pairwise(pieces):
            assert e1 == s2  # no overlap and no hole: one person (or a gap) at every instant
        assert all(s < e for s, e in pieces)


@PROFILE
@given(scenarios(), st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_on_call_agrees_with_shifts(
    case: tuple[Schedule, datetime, datetime, list[Override], list[TimeOff]],
    fractions: list[float],
) -> None:
    sched, start, end, _, _ = case
    got = sched.shifts(start, end)
    for f in fractions:
        at = start + (end - start) * f
        if at >= end:
            continue
        expected = {s.layer: s for s in got if s.utc_start <= at < s.utc_end}
        assert sched.on_call(at) == expected


@PROFILE
@given(scenarios(with_overrides=True), st.floats(0, 1))
def test_an_override_always_wins(
    case: tuple[Schedule, datetime, datetime, list[Override], list[TimeOff]], f: float
) -> None:
    sched, _, _, overrides, _ = case
    assume(overrides)
    for ov in overrides:
        at = ov.start + (ov.end - ov.start) * f
        if at >= ov.end:
            continue
        now = sched.on_call(at)[ov.layer]
        assert (now.person, now.source, now.override_id) == (ov.person, "override", ov.id)


@PROFILE
@given(scenarios(teams=False, with_overrides=False), st.data())
def test_a_swap_changes_only_the_two_people(
    case: tuple[Schedule, datetime, datetime, list[Override], list[TimeOff]], data: st.DataObject
) -> None:
    sched, start, end, _, time_off = case
    spec = replace(sched.spec, cover_days=False)  # covers follow whoever holds the shift
    before = Schedule(spec, (), (), time_off).shifts(start, end)
    pairs = [(a, b) for a in before for b in before if a.person != b.person and a.index != b.index]
    assume(pairs)
    a, b = data.draw(st.sampled_from(pairs))
    swap = Swap(a.person, a.start, b.person, b.start)
    after = Schedule(spec, (), [swap], time_off).shifts(start, end)
    assert [(s.start, s.end, s.layer) for s in before] == [(s.start, s.end, s.layer) for s in after]
    for old, new in zip(before, after, strict=True):
        if old.index == a.index:
            assert (new.person, new.source) == (b.person, "swap")
        elif old.index == b.index:
            assert (new.person, new.source) == (a.person, "swap")
        else:
            assert new == old


@PROFILE
@given(scenarios())
def test_nobody_works_through_time_off_without_a_warning(
    case: tuple[Schedule, datetime, datetime, list[Override], list[TimeOff]],
) -> None:
    sched, start, end, _, time_off = case
    for s in sched.shifts(start, end):
        clash = any(
            t.person == s.person and t.start < s.utc_end and s.utc_start < t.end for t in time_off
        )
        has_warning = any("during their time off" in w for w in s.warnings)
        assert clash == has_warning


@PROFILE
@given(scenarios(with_overrides=False), st.floats(0, 1), st.floats(0, 1))
def test_a_window_is_computed_the_same_wherever_it_starts(
    case: tuple[Schedule, datetime, datetime, list[Override], list[TimeOff]], f: float, g: float
) -> None:
    sched, start, end, _, _ = case
    whole = sched.shifts(start, end)
    a = start + (end - start) * min(f, g)
    b = start + (end - start) * max(f, g)
    assume(b > a)
    part = sched.shifts(a, b)
    assert part == [s for s in whole if s.utc_end > a and s.utc_start < b]


@PROFILE
@given(specs(teams=False, changes=False), st.dates(date(2025, 6, 1), date(2027, 6, 1)), st.data())
def test_membership_change_never_moves_earlier_shifts(
    spec: RotationSpec, when: date, data: st.DataObject
) -> None:
    new = data.draw(st.lists(st.sampled_from(NAMES), max_size=5, unique=True))
    changed = spec.with_members(PRIMARY, when, new)
    zone = spec.zone
    cut = datetime.combine(when, time(), zone)  # shifts starting before this date are history
    start = cut - timedelta(days=120)
    old = [s for s in Schedule(spec).shifts(start, cut) if s.start.date() < when]
    got = [s for s in Schedule(changed).shifts(start, cut) if s.start.date() < when]
    assert got == old
    later = Schedule(changed).shifts(cut, cut + timedelta(days=100))
    assert all(s.person in new for s in later if s.start.date() >= when)


@PROFILE
@given(
    st.integers(2, 5),
    st.sampled_from(UNITS[:2]),
    st.sampled_from(ZONES),
    st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True),
    st.data(),
)
def test_swap_later_keeps_everyone_at_their_share(
    n: int, unit: Unit, zone: str, absences: list[int], data: st.DataObject
) -> None:
    spec = RotationSpec(
        name="r",
        timezone=zone,
        unit=unit,
        count=1,
        handoff=Handoff(time(10), weekday=0 if unit == "week" else None),
        layers=(Layer.of(PRIMARY, NAMES[:n]),),
        anchor=date(2026, 1, 5),
    )
    base = Schedule(spec)
    cycles = 10
    first, last = base.shift_bounds(0)[0], base.shift_bounds(cycles * n)[0]
    plain = base.shifts(first, last)
    # one short absence every other cycle, inside a single shift, away from the window's end
    time_off = []
    for c in absences:
        k = 2 * c * n + data.draw(st.integers(0, n - 1))
        s = base.shift_bounds(k)[0]
        time_off.append(TimeOff(plain[k].person, s + timedelta(hours=1), s + timedelta(hours=2)))
    got = Schedule(spec, time_off=time_off).shifts(first, last)
    counts = {p: sum(1 for s in got if s.person == p) for p in NAMES[:n]}
    assert counts == {p: cycles for p in NAMES[:n]}
    assert all(not s.warnings for s in got)
    for t in time_off:
        assert all(not (s.person == t.person and s.utc_start <= t.start < s.utc_end) for s in got)


# ----------------------------------------------------------------------------- who leads


def _leads_and_shifts(sched: Schedule, first: int, count: int) -> tuple[Counter[str], Counter[str]]:
    start = sched.shift_bounds(first)[0]
    end = sched.shift_bounds(first + count - 1)[1]
    got = sched.shifts(start, end)
    leads = Counter(x.person for x in got if x.layer == LEAD)
    served = Counter(x.person for x in got if x.layer != LEAD)
    assert sum(leads.values()) == count  # one lead per shift
    return leads, served


@PROFILE
@given(
    st.lists(st.integers(1, 4), min_size=2, max_size=4),
    st.sampled_from(UNITS),
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)
def test_lead_duty_rotates_across_people(sizes: list[int], unit: Unit, anchor: date) -> None:
    """Over whole blocks every engineer leads, in proportion to the shifts they serve."""
    teams = [
        Layer.of(f"t{t}", [f"{NAMES[i]}{t}" for i in range(size)], team=f"t{t}")
        for t, size in enumerate(sizes)
    ]
    handoff = Handoff(
        time(9), weekday=0 if unit == "week" else None, day=16 if unit == "month" else None
    )
    spec = RotationSpec(
        name="r",
        timezone="America/Toronto",
        unit=unit,
        count=1,
        handoff=handoff,
        layers=(Layer(LEAD, lead_of=tuple(x.name for x in teams)), *teams),
        anchor=anchor,
    )
    leads, served = _leads_and_shifts(Schedule(spec), 0, lcm(*sizes) * len(sizes))
    assert set(leads) == set(served)  # everybody who serves leads
    for person, n in served.items():
        assert leads[person] * len(sizes) == n


@PROFILE
@given(st.integers(0, 240))
def test_demo_set_rotation_every_member_leads_in_any_24_months(first: int) -> None:
    sched = Schedule(set_rotation())
    leads, served = _leads_and_shifts(sched, first, 24)
    assert set(leads) == set(served) and len(served) == 8
    for a in served:
        for b in served:
            if served[a] == served[b]:
                assert abs(leads[a] - leads[b]) <= 1


# ----------------------------------------------------------------------------- time off costs


@PROFILE
@given(
    st.sampled_from(["eva", "finn", "gus", "hana", "ivan", "jo", "kai", "lee"]),
    st.datetimes(datetime(2027, 2, 1), datetime(2027, 11, 15)),
    st.timedeltas(timedelta(hours=1), timedelta(days=45)),
)
def test_one_time_off_entry_keeps_a_layers_year_within_one_shift(
    person: str, start: datetime, length: timedelta
) -> None:
    """Replaying one time-off entry (an hour to six weeks, anywhere in the year) on the demo SET
    rotation: over the year(s) it affects, the on-call hours of a team's members stay within
    one shift of each other and lead duty stays shared (see test_time_off_fairness)."""
    begin = start.replace(tzinfo=UTC)
    check_entry(set_rotation(), TimeOff(person, begin, begin + length, "t1"))
