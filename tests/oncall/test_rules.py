"""Pure rules around the schedule: pins that keep the past, memberships, handoff windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dutydesk.oncall import rules
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Override, TimeOff
from dutydesk.policy import PolicyError, load_policy
from dutydesk.policy.loader import parse_policy
from dutydesk.policy.rotations import PRIMARY, ScheduleError, rotation_from_policy

from .rotations import INFRA_POLICY, infra, set_rotation, utc

LA = ZoneInfo("America/Los_Angeles")
EXAMPLE = Path(__file__).parents[2] / "examples" / "dutydesk.toml"


def test_the_example_policy_and_the_rotation_arithmetic_agree() -> None:
    policy = load_policy(EXAMPLE)
    infra_spec = rules.spec_from_policy("infra-oncall", policy.rotations["infra-oncall"])
    assert infra_spec == infra()
    set_spec = rules.spec_from_policy("set", policy.rotations["set"])
    assert set_spec == set_rotation()


def test_policy_refuses_what_the_rotation_arithmetic_refuses() -> None:
    text = EXAMPLE.read_text()
    with pytest.raises(PolicyError) as bad:
        parse_policy(text.replace('handoff = "mon 10:00"', 'handoff = "monday 25:00"'))
    assert "rotations.infra-oncall" in bad.value.render()
    assert "24-hour time" in bad.value.render()
    with pytest.raises(PolicyError) as bad:
        parse_policy(text.replace('lead = "rotate-teams"', 'lead = "rotate-teams"\nskip = "later"'))
    assert "skip" in bad.value.render()
    with pytest.raises(PolicyError) as bad:
        parse_policy(text.replace('start = "2026-01-05"', 'start = "2026-01-05"\nbogus = 1'))
    assert "unknown key 'bogus'" in bad.value.render()


def test_skip_min_overlap_from_policy() -> None:
    text = EXAMPLE.read_text().replace(
        'start = "2026-01-05"', 'start = "2026-01-05"\nskip_min_overlap = "4 hours"'
    )
    policy = parse_policy(text)
    spec = rules.spec_from_policy("infra-oncall", policy.rotations["infra-oncall"])
    assert spec.skip_min_overlap == timedelta(hours=4)
    # A two-hour dentist visit no longer skips the shift; a whole day does.
    shift_start = datetime(2026, 12, 7, 10, tzinfo=LA)
    short = TimeOff(
        "ana", shift_start + timedelta(days=1), shift_start + timedelta(days=1, hours=2)
    )
    assert Schedule(spec, time_off=[short]).on_call(shift_start)[PRIMARY].person == "ana"
    long = TimeOff("ana", shift_start, shift_start + timedelta(days=1))
    assert Schedule(spec, time_off=[long]).on_call(shift_start)[PRIMARY].person != "ana"
    with pytest.raises(ScheduleError, match="skip_min_overlap"):
        rotation_from_policy("x", {**INFRA_POLICY, "skip_min_overlap": "4 parsecs"})
    bad = EXAMPLE.read_text().replace(
        'start = "2026-01-05"', 'start = "2026-01-05"\nskip_min_overlap = "soon"'
    )
    with pytest.raises(PolicyError, match="skip_min_overlap"):
        parse_policy(bad)


def test_index_at_and_shift_bounds() -> None:
    s = Schedule(infra())
    k = s.index_at(utc(2026, 11, 23, 17))  # Monday 09:00 LA: the shift from the 16th
    assert s.shift_bounds(k)[0] == datetime(2026, 11, 16, 10, tzinfo=LA)
    assert s.index_at(utc(2025, 1, 1)) == -1


def test_memberships_replay_in_date_order_and_compose() -> None:
    spec = infra()
    events = [
        rules.MembershipEvent(PRIMARY, "fay", "join", date(2026, 12, 1)),
        rules.MembershipEvent(PRIMARY, "dee", "leave", date(2027, 1, 1)),
        rules.MembershipEvent(PRIMARY, "ana", "join", date(2027, 1, 1)),  # already in: no-op
        rules.MembershipEvent(PRIMARY, "gil", "join", date(2027, 2, 1), position=0),
    ]
    out = rules.apply_memberships(spec, events)
    assert rules.members_on(out, PRIMARY, date(2026, 11, 30)) == ("ana", "bo", "chen", "dee")
    assert rules.members_on(out, PRIMARY, date(2026, 12, 1)) == ("ana", "bo", "chen", "dee", "fay")
    assert rules.members_on(out, PRIMARY, date(2027, 1, 15)) == ("ana", "bo", "chen", "fay")
    assert rules.members_on(out, PRIMARY, date(2027, 2, 1)) == ("gil", "ana", "bo", "chen", "fay")
    # Shifts that started before the first change do not move.
    before, after = Schedule(spec), Schedule(out)
    end = datetime(2026, 12, 7, 10, tzinfo=LA)
    assert before.shifts(utc(2026, 1, 1), end) == after.shifts(utc(2026, 1, 1), end)
    # The cycle continues after dee (Nov 30) with the newcomer, appended at the end.
    assert after.on_call(end)[PRIMARY].person == "fay"


def test_pins_put_back_whoever_was_on_call() -> None:
    spec = infra()
    now = datetime(2026, 11, 24, 12, tzinfo=LA)  # Tuesday; chen is on call since Monday 10:00
    old = Schedule(spec)
    off = [TimeOff("chen", datetime(2026, 11, 24, tzinfo=LA), now + timedelta(days=3))]
    new = Schedule(spec, time_off=off)
    start = now - rules.reach(spec)
    pins = rules.pins_for_past(old, new, start, now)
    assert pins == [
        Override(
            datetime(2026, 11, 23, 10, tzinfo=LA).astimezone(UTC),
            now.astimezone(UTC),
            "chen",
            PRIMARY,
            "dee",
        )
    ]
    fixed = Schedule(spec, pins, (), off)
    assert [(x.person, x.start) for x in fixed.shifts(start, now)] == [
        (x.person, x.start) for x in old.shifts(start, now)
    ]
    # From now on the time off applies: dee covers, chen takes dee's next week.
    assert fixed.on_call(now)[PRIMARY].person == "dee"
    assert fixed.on_call(datetime(2026, 12, 1, tzinfo=LA))[PRIMARY].person == "chen"
    assert rules.pins_for_past(old, old, start, now) == []


def test_a_change_that_fills_a_past_gap_cannot_be_pinned() -> None:
    spec = rotation_from_policy("late", {**INFRA_POLICY, "start": "2026-11-30"})
    other = rotation_from_policy("late", {**INFRA_POLICY, "start": "2026-11-02"})
    with pytest.raises(rules.PastChangeError, match="nobody was"):
        rules.pins_for_past(Schedule(spec), Schedule(other), utc(2026, 11, 1), utc(2026, 11, 20))


def test_handoff_window_is_the_nearest_handoff() -> None:
    s = Schedule(infra())
    monday_10 = datetime(2026, 11, 23, 10, tzinfo=LA)
    before = rules.handoff_window(s, monday_10 - timedelta(minutes=50))
    assert before.boundary == monday_10
    assert before.outgoing == (monday_10 - timedelta(weeks=1), monday_10)
    after = rules.handoff_window(s, monday_10 + timedelta(hours=2))
    assert after.boundary == monday_10 and after.outgoing == before.outgoing
    assert after.incoming == (monday_10, datetime(2026, 11, 30, 10, tzinfo=LA))
    first = rules.handoff_window(s, utc(2025, 6, 1))
    assert first.outgoing is None and first.boundary == datetime(2026, 1, 5, 10, tzinfo=LA)


def test_user_times_read_in_the_rotation_zone() -> None:
    assert rules.to_utc(date(2026, 12, 1), LA) == utc(2026, 12, 1, 8)
    assert rules.to_utc(date(2026, 12, 1), LA, end=True) == utc(2026, 12, 2, 8)
    assert rules.to_utc(datetime(2027, 3, 14, 2, 30), LA) == utc(2027, 3, 14, 10)  # gap → 03:00
    assert rules.to_utc(datetime(2026, 11, 1, 1, 30), LA) == utc(2026, 11, 1, 8, 30)  # 1st 01:30
    assert rules.to_utc(datetime(2026, 12, 1, 9, tzinfo=UTC), LA) == utc(2026, 12, 1, 9)


def test_check_warns_about_gaps_in_the_next_90_days() -> None:
    text = EXAMPLE.read_text().replace('start = "2026-01-05"', 'start = "2027-01-04"')
    policy = parse_policy(text)
    warnings = rules.policy_warnings(policy, datetime.combine(date(2026, 11, 23), time(), LA))
    assert len(warnings) == 1
    assert warnings[0].startswith("rotations.infra-oncall: nobody is on call on layer 'primary'")
    assert "Mon 2027-01-04 10:00 PST" in warnings[0]
    assert rules.policy_warnings(load_policy(EXAMPLE), utc(2026, 11, 23)) == []


@settings(max_examples=60, deadline=None)
@given(
    existing=st.lists(
        st.tuples(
            st.sampled_from(["ana", "bo", "chen", "dee"]), st.integers(0, 90), st.integers(1, 14)
        ),
        max_size=4,
    ),
    person=st.sampled_from(["ana", "bo", "chen", "dee"]),
    start_day=st.integers(0, 90),
    length=st.integers(1, 14),
    now_hours=st.integers(24 * 20, 24 * 100),
)
def test_pins_keep_the_past_and_let_the_future_change(
    existing: list[tuple[str, int, int]], person: str, start_day: int, length: int, now_hours: int
) -> None:
    """Whatever time off is added, the schedule with pins equals the old one before now and
    the new one from now on."""
    spec = infra()
    base = datetime(2026, 9, 1, tzinfo=UTC)
    off = [
        TimeOff(p, base + timedelta(days=d), base + timedelta(days=d + n)) for p, d, n in existing
    ]
    added = TimeOff(
        person, base + timedelta(days=start_day), base + timedelta(days=start_day + length)
    )
    now = base + timedelta(hours=now_hours)
    old, new = Schedule(spec, time_off=off), Schedule(spec, time_off=[*off, added])
    start = min(added.start, now) - rules.reach(spec)
    pins = rules.pins_for_past(old, new, start, now)
    fixed = Schedule(spec, pins, (), [*off, added])

    def people(s: Schedule, a: datetime, b: datetime) -> list[tuple[datetime, str]]:
        out: list[tuple[datetime, str]] = []
        t = a
        while t < b:
            out.append((t, s.on_call(t)[PRIMARY].person))
            t += timedelta(hours=6)
        return out

    assert people(fixed, start, now) == people(old, start, now)
    later = now + timedelta(days=120)
    assert people(fixed, now, later) == people(new, now, later)
