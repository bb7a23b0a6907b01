"""Rotation arithmetic: handoffs across DST, month ends, the two reference desks, edits."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import holidays
import pytest

from dutydesk.oncall.edit_rules import validate_override, validate_swap
from dutydesk.oncall.fairness import FairnessStats, fairness
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Gap, Override, Shift, Swap, TimeOff
from dutydesk.oncall.wallclock import local_to_utc
from dutydesk.policy.rotations import (
    LEAD,
    PRIMARY,
    Handoff,
    Layer,
    RotationSpec,
    ScheduleError,
    Unit,
    parse_every,
    parse_handoff,
    rotation_from_policy,
)

from .rotations import INFRA_POLICY, SET_POLICY, infra, set_rotation, utc

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
TORONTO = ZoneInfo("America/Toronto")
HOUR = timedelta(hours=1)
MEMBERS = ("ana", "bo", "chen", "dee")
TEAMS = ("channels", "playbooks", "mobile", "platform")


def week_start(k: int) -> datetime:
    """Start of infra shift k as an aware LA datetime (Mondays from 2026-01-05, 10:00)."""
    return datetime.combine(date(2026, 1, 5) + timedelta(weeks=k), time(10), LA)


def people(items: list[Shift]) -> list[str]:
    return [s.person for s in items]


def simple(
    unit: Unit = "day",
    at: time = time(10),
    *,
    tz: str = "America/Los_Angeles",
    count: int = 1,
    weekday: int | None = None,
    day: int | None = None,
    anchor: date = date(2026, 1, 1),
    members: tuple[str, ...] = ("a", "b"),
) -> RotationSpec:
    return RotationSpec(
        name="t",
        timezone=tz,
        unit=unit,
        count=count,
        handoff=Handoff(at, weekday=weekday, day=day),
        layers=(Layer.of(PRIMARY, members),),
        anchor=anchor,
    )


# ------------------------------------------------------------------------------------------
# Parsing policy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("day", ("day", 1)),
        ("week", ("week", 1)),
        ("month", ("month", 1)),
        ("2 weeks", ("week", 2)),
        ("3 days", ("day", 3)),
        ("6 months", ("month", 6)),
        (" 1 Week ", ("week", 1)),
        ("1 day", ("day", 1)),
    ],
)
def test_parse_every(text: str, expected: tuple[str, int]) -> None:
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["fortnight", "0 weeks", "weeks 2", "", "-1 days", "2.5 weeks"])
def test_parse_every_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="every"):
        parse_every(text)


def test_parse_handoff_shapes() -> None:
    assert parse_handoff("day", "10:00") == Handoff(time(10))
    assert parse_handoff("week", "mon 10:00") == Handoff(time(10), weekday=0)
    assert parse_handoff("week", "Sunday 23:59") == Handoff(time(23, 59), weekday=6)
    assert parse_handoff("month", "16 09:00") == Handoff(time(9), day=16)
    assert parse_handoff("month", "31 00:00") == Handoff(time(0), day=31)


@pytest.mark.parametrize(
    ("unit", "text"),
    [
        ("day", "mon 10:00"),
        ("day", "25:00"),
        ("week", "10:00"),
        ("week", "xyz 10:00"),
        ("week", "mon 10:60"),
        ("month", "32 09:00"),
        ("month", "0 09:00"),
        ("month", "mon 09:00"),
        ("month", "16 9am"),
    ],
)
def test_parse_handoff_rejects(unit: Unit, text: str) -> None:
    with pytest.raises(ValueError, match="handoff"):
        parse_handoff(unit, text)


def test_policy_builds_the_reference_rotations() -> None:
    spec = infra()
    assert spec.unit == "week" and spec.count == 1
    assert spec.handoff == Handoff(time(10), weekday=0)
    assert spec.anchor == date(2026, 1, 5)
    assert [x.name for x in spec.layers] == [PRIMARY]
    assert spec.people == frozenset(MEMBERS)

    team = set_rotation()
    assert [x.name for x in team.layers] == [LEAD, *TEAMS]
    assert team.layer(LEAD).lead_of == TEAMS
    assert team.layer("mobile").team == "mobile"
    assert team.handoff == Handoff(time(9), day=16)


def test_policy_without_start_uses_the_fixed_default_anchor() -> None:
    spec = rotation_from_policy("x", {**INFRA_POLICY, "start": None} | {"start": "2000-01-03"})
    plain = dict(INFRA_POLICY)
    del plain["start"]
    assert rotation_from_policy("x", plain).anchor == spec.anchor == date(2000, 1, 3)


def test_policy_lead_order_defaults_to_team_order() -> None:
    policy = {k: v for k, v in SET_POLICY.items() if k != "lead_order"}
    assert rotation_from_policy("set", policy).layer(LEAD).lead_of == TEAMS


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"every": "fortnight"}, "rotations.x.every"),
        ({"handoff": "10:00"}, "rotations.x.handoff"),
        ({"start": "Jan 5"}, "rotations.x.start"),
        ({"skip": "never"}, "rotations.x.skip"),
        ({"lead": "rotate-teams"}, "rotations.x.lead: needs one_per_team"),
        ({"memebrs": ["a"]}, "unknown key(s) memebrs"),
        ({"members": "ana"}, "rotations.x.members: expected a list"),
        ({"members": ["ana", "ana"]}, "lists 'ana' twice"),
    ],
)
def test_policy_errors_name_the_key(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ScheduleError) as err:
        rotation_from_policy("x", {**INFRA_POLICY, **patch})
    assert message in str(err.value)
    assert str(err.value).startswith("rotations.x")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"lead": "oldest"}, 'only "rotate-teams"'),
        ({"lead_order": ["channels", "ops"]}, "unknown layer 'ops'"),
        ({"lead_order": ["channels", "channels"]}, "lists a team twice"),
        ({"teams": {}}, "teams: required"),
        ({"members": ["a"]}, "takes `teams` instead"),
    ],
)
def test_team_policy_errors(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ScheduleError, match=r"rotations\.set") as err:
        rotation_from_policy("set", {**SET_POLICY, **patch})
    assert message in str(err.value)


def test_spec_validation_lists_every_problem() -> None:
    with pytest.raises(ScheduleError) as err:
        RotationSpec(
            name="bad",
            timezone="UTC",
            unit="week",
            count=0,
            handoff=Handoff(time(10)),
            layers=(Layer.of("a", ["x"]), Layer.of("a", ["y"]), Layer("l", lead_of=("zz",))),
        )
    text = str(err.value)
    assert "count must be at least 1" in text
    assert "needs a handoff weekday" in text
    assert "layer 'a' is declared twice" in text
    assert "unknown layer 'zz'" in text


# ------------------------------------------------------------------------------------------
# Handoff instants and DST


def test_infra_weekly_handoffs_stay_at_ten_local_across_2026_dst() -> None:
    spec = infra()
    got = Schedule(spec).shifts(week_start(0), week_start(52))
    assert len(got) == 52
    for k, s in enumerate(got):
        assert s.start == week_start(k) and s.start.astimezone(LA).hour == 10
        assert s.start.weekday() == 0 and s.person == MEMBERS[k % 4] and s.index == k
    hours = {s.start.date(): s.duration / HOUR for s in got}
    assert hours[date(2026, 3, 2)] == 167  # the week of 2026-03-08 (spring forward)
    assert hours[date(2026, 10, 26)] == 169  # the week of 2026-11-01 (fall back)
    assert {h for d, h in hours.items() if d not in {date(2026, 3, 2), date(2026, 10, 26)}} == {168}
    assert got[8].utc_start == utc(2026, 3, 2, 18) and got[9].utc_start == utc(2026, 3, 9, 17)


def test_on_call_right_at_and_just_before_a_dst_handoff() -> None:
    sched = Schedule(infra())
    handoff = utc(2026, 3, 9, 17)  # Monday 2026-03-09 10:00 PDT
    assert sched.on_call(handoff - timedelta(seconds=1))[PRIMARY].person == "ana"
    assert sched.on_call(handoff)[PRIMARY].person == "bo"
    # 10:00 PST would be 18:00 UTC; by then bo has been on for an hour
    assert sched.on_call(utc(2026, 3, 9, 17, 30))[PRIMARY].start == handoff


def test_berlin_weekly_across_2026_and_2027_changes() -> None:
    spec = simple("week", time(9), tz="Europe/Berlin", weekday=0, anchor=date(2026, 1, 5))
    got = Schedule(spec).shifts(utc(2026, 1, 5, 8), utc(2028, 1, 3, 8))
    odd = {date(2026, 3, 23): 167, date(2026, 10, 19): 169}
    odd |= {date(2027, 3, 22): 167, date(2027, 10, 25): 169}
    for s in got:
        local = s.start.astimezone(BERLIN)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
        assert s.duration / HOUR == odd.get(local.date(), 168)
    assert {s.start.date() for s in got} >= set(odd)


def test_spring_forward_gap_handoff_moves_to_the_jump() -> None:
    spec = simple("day", time(2, 30), anchor=date(2026, 3, 6))
    got = Schedule(spec).shifts(utc(2026, 3, 6, 12), utc(2026, 3, 9, 9))
    starts = [s.utc_start for s in got]
    assert starts == [utc(2026, 3, 6, 10, 30), utc(2026, 3, 7, 10, 30), utc(2026, 3, 8, 10)]
    assert got[-1].utc_end == utc(2026, 3, 9, 9, 30)  # 02:30 PDT the day after
    jump = got[2].start
    assert (jump.hour, jump.minute, jump.utcoffset()) == (3, 0, timedelta(hours=-7))
    assert [s.duration / HOUR for s in got] == [24, 23.5, 23.5]


def test_ambiguous_handoff_takes_the_first_occurrence() -> None:
    spec = simple("day", time(1, 30), anchor=date(2026, 10, 30))
    got = Schedule(spec).shifts(utc(2026, 10, 31, 12), utc(2026, 11, 2, 12))
    on_the_day = next(s for s in got if s.start.date() == date(2026, 11, 1))
    assert on_the_day.utc_start == utc(2026, 11, 1, 8, 30)  # 01:30 PDT
    assert on_the_day.start.utcoffset() == timedelta(hours=-7)
    assert on_the_day.duration == 25 * HOUR  # to 01:30 PST the next day


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        ("America/Los_Angeles", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 10)),
        ("America/Los_Angeles", datetime(2026, 3, 8, 2, 0), utc(2026, 3, 8, 10)),
        ("America/Los_Angeles", datetime(2026, 3, 8, 3, 0), utc(2026, 3, 8, 10)),
        ("America/Los_Angeles", datetime(2026, 3, 8, 1, 59), utc(2026, 3, 8, 9, 59)),
        ("America/Los_Angeles", datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 8, 30)),
        ("Europe/Berlin", datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1)),
        ("Europe/Berlin", datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),
        ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 30)),
        ("America/Santiago", datetime(2026, 9, 6, 0, 30), utc(2026, 9, 6, 4)),
        ("UTC", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 2, 30)),
    ],
)
def test_local_to_utc_gap_and_fold_rules(zone: str, local: datetime, expected: datetime) -> None:
    assert local_to_utc(local, ZoneInfo(zone)) == expected


# ------------------------------------------------------------------------------------------
# The SET monthly rotation


def test_set_one_engineer_per_team_and_a_rotating_lead() -> None:
    sched = Schedule(set_rotation())
    got = sched.shifts(utc(2026, 1, 16, 14), utc(2028, 1, 16, 14))
    by_layer: dict[str, list[Shift]] = {}
    for s in got:
        by_layer.setdefault(s.layer, []).append(s)
    assert list(by_layer) == [LEAD, *TEAMS]  # layer order
    teams = cast("dict[str, list[str]]", SET_POLICY["teams"])
    for team, (first, second) in zip(TEAMS, teams.values(), strict=True):
        assert people(by_layer[team]) == [first, second] * 12
    for k, lead in enumerate(by_layer[LEAD]):
        team = TEAMS[(k // 2) % 4]  # a team's turn lasts two shifts: both engineers lead
        assert lead.team == team
        assert lead.person == by_layer[team][k].person
        assert (lead.start, lead.end) == (by_layer[team][k].start, by_layer[team][k].end)
        local = lead.start.astimezone(TORONTO)
        assert (local.day, local.hour, local.minute) == (16, 9, 0)
    # Every engineer leads, each exactly three times in the 24 months.
    led = Counter(x.person for x in by_layer[LEAD])
    assert led == {p: 3 for members in teams.values() for p in members}
    years = {s.start.year for s in by_layer[LEAD]}
    assert years == {2026, 2027}  # crosses the year boundary
    now = sched.on_call(utc(2026, 12, 31, 12))
    assert {name: s.person for name, s in now.items()} == {
        LEAD: "hana",  # Dec 16 2026 is shift 11: (11 // 2) % 4 = 1, playbooks leads
        "channels": "finn",
        "playbooks": "hana",
        "mobile": "jo",
        "platform": "lee",
    }


@pytest.mark.parametrize(
    ("day", "year", "february"),
    [(29, 2028, 29), (30, 2028, 29), (31, 2028, 29), (29, 2027, 28), (31, 2027, 28)],
)
def test_month_ends_clamp_to_the_last_day(day: int, year: int, february: int) -> None:
    spec = simple("month", time(9), day=day, anchor=date(year, 1, 1), tz="America/Toronto")
    got = Schedule(spec).shifts(utc(year, 1, 1), utc(year, 5, 1))
    assert [s.start.date() for s in got] == [
        date(year, 1, day),
        date(year, 2, february),
        date(year, 3, day),
        date(year, 4, min(day, 30)),
    ]
    assert all(s.start.astimezone(TORONTO).hour == 9 for s in got)


def test_month_rotation_crosses_the_year_and_returns_to_day_31() -> None:
    spec = simple("month", time(0), day=31, anchor=date(2026, 9, 1), tz="UTC")
    got = Schedule(spec).shifts(utc(2026, 9, 30), utc(2027, 3, 2))
    assert [s.start.date() for s in got] == [
        date(2026, 9, 30),
        date(2026, 10, 31),
        date(2026, 11, 30),
        date(2026, 12, 31),
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ][: len(got)]
    assert got[-1].start.date() == date(2027, 2, 28)


def test_every_n_units_and_anchor_rounding() -> None:
    fortnight = simple("week", count=2, weekday=0, anchor=date(2026, 1, 7))
    got = Schedule(fortnight).shifts(utc(2026, 1, 1), utc(2026, 3, 1))
    assert [s.start.date() for s in got] == [
        date(2026, 1, 12),
        date(2026, 1, 26),
        date(2026, 2, 9),
        date(2026, 2, 23),
    ]
    three = simple("day", count=3, anchor=date(2026, 1, 1))
    assert [s.start.date() for s in Schedule(three).shifts(utc(2026, 1, 1), utc(2026, 1, 9))] == [
        date(2026, 1, 1),
        date(2026, 1, 4),
        date(2026, 1, 7),
    ]
    bimonthly = simple("month", count=2, day=16, anchor=date(2026, 1, 17))
    assert [
        s.start.date() for s in Schedule(bimonthly).shifts(utc(2026, 1, 1), utc(2026, 7, 1))
    ] == [
        date(2026, 2, 16),
        date(2026, 4, 16),
        date(2026, 6, 16),
    ]


def test_nobody_before_the_anchor_and_gaps_report_it() -> None:
    spec = simple("week", weekday=0, anchor=date(2026, 6, 1))
    assert Schedule(spec).on_call(utc(2026, 5, 20)) == {}
    assert Schedule(spec).gaps(utc(2026, 5, 1), utc(2026, 7, 1)) == [
        Gap(PRIMARY, utc(2026, 5, 1), utc(2026, 6, 1, 17))
    ]


# ------------------------------------------------------------------------------------------
# Membership changes


def test_joining_member_continues_the_cycle_after_the_last_person() -> None:
    spec = infra()
    joined = spec.with_members(PRIMARY, date(2026, 2, 10), ["ana", "bo", "eve", "chen", "dee"])
    before = Schedule(spec).shifts(week_start(0), week_start(6))
    after = Schedule(joined).shifts(week_start(0), week_start(12))
    assert after[:6] == before  # shift 5 (Feb 9-16) spans the effective date and does not move
    assert people(after[5:]) == ["bo", "eve", "chen", "dee", "ana", "bo", "eve"]


def test_leaving_member_hands_to_their_follower_still_present() -> None:
    left = infra().with_members(PRIMARY, date(2026, 2, 16), ["ana", "chen", "dee"])
    got = Schedule(left).shifts(week_start(4), week_start(10))
    assert people(got) == ["ana", "bo", "chen", "dee", "ana", "chen"]


def test_leaving_next_member_is_skipped() -> None:
    left = infra().with_members(PRIMARY, date(2026, 2, 16), ["ana", "bo", "dee"])
    assert people(Schedule(left).shifts(week_start(4), week_start(10))) == [
        "ana",
        "bo",
        "dee",
        "ana",
        "bo",
        "dee",
    ]


def test_whole_team_replaced_starts_at_the_top() -> None:
    new = infra().with_members(PRIMARY, date(2026, 2, 16), ["xia", "yan"])
    assert people(Schedule(new).shifts(week_start(5), week_start(9))) == ["bo", "xia", "yan", "xia"]


def test_empty_list_is_a_gap_and_resuming_continues() -> None:
    spec = infra().with_members(PRIMARY, date(2026, 2, 16), [])
    spec = spec.with_members(PRIMARY, date(2026, 3, 16), list(MEMBERS))
    got = Schedule(spec).shifts(week_start(4), week_start(12))
    assert people(got) == ["ana", "bo", "chen", "dee"]
    assert got[1].end == week_start(6) and got[2].start == week_start(10)
    assert Schedule(spec).gaps(week_start(4), week_start(12)) == [
        Gap(PRIMARY, week_start(6).astimezone(UTC), week_start(10).astimezone(UTC))
    ]


def test_same_day_changes_last_one_wins() -> None:
    spec = infra().with_members(PRIMARY, date(2026, 2, 16), ["ana"])
    spec = spec.with_members(PRIMARY, date(2026, 2, 16), ["ana", "bo"])
    assert people(Schedule(spec).shifts(week_start(6), week_start(9))) == ["ana", "bo", "ana"]


def test_with_members_rejects_unknown_layer() -> None:
    with pytest.raises(KeyError):
        infra().with_members("secondary", date(2026, 1, 1), ["x"])


# ------------------------------------------------------------------------------------------
# Overrides


def test_partial_override_splits_the_base_shift() -> None:
    ov = Override(utc(2026, 2, 11), utc(2026, 2, 12), "dee", replaces="bo", id="o1")
    got = Schedule(infra(), overrides=[ov]).shifts(week_start(5), week_start(6))
    assert [(s.person, s.source, s.utc_start, s.utc_end) for s in got] == [
        ("bo", "rotation", utc(2026, 2, 9, 18), utc(2026, 2, 11)),
        ("dee", "override", utc(2026, 2, 11), utc(2026, 2, 12)),
        ("bo", "rotation", utc(2026, 2, 12), utc(2026, 2, 16, 18)),
    ]
    assert got[1].override_id == "o1" and got[1].index is None
    assert got[0].index == got[2].index == 5


def test_override_across_a_handoff_trims_both_neighbours() -> None:
    ov = Override(utc(2026, 2, 15), utc(2026, 2, 17), "ana")
    got = Schedule(infra(), overrides=[ov]).shifts(week_start(5), week_start(7))
    assert [(s.person, s.source) for s in got] == [
        ("bo", "rotation"),
        ("ana", "override"),
        ("chen", "rotation"),
    ]
    assert got[0].utc_end == got[1].utc_start and got[1].utc_end == got[2].utc_start
    sched = Schedule(infra(), [ov])
    assert sched.on_call(utc(2026, 2, 16, 18))[PRIMARY].person == "ana"
    assert sched.on_call(utc(2026, 2, 17))[PRIMARY].person == "chen"


def test_override_fills_a_gap() -> None:
    spec = simple("week", weekday=0, anchor=date(2026, 6, 1))
    ov = Override(utc(2026, 5, 10), utc(2026, 5, 12), "a")
    assert Schedule(spec, overrides=[ov]).on_call(utc(2026, 5, 11))[PRIMARY].person == "a"
    assert Schedule(spec, overrides=[ov]).gaps(utc(2026, 5, 1), utc(2026, 6, 1)) == [
        Gap(PRIMARY, utc(2026, 5, 1), utc(2026, 5, 10)),
        Gap(PRIMARY, utc(2026, 5, 12), utc(2026, 6, 1)),
    ]


def test_overlapping_overrides_later_one_wins_when_compiled() -> None:
    older = Override(utc(2026, 2, 10), utc(2026, 2, 14), "dee", id="old")
    newer = Override(utc(2026, 2, 11), utc(2026, 2, 12), "chen", id="new")
    got = Schedule(infra(), overrides=[older, newer]).shifts(utc(2026, 2, 10), utc(2026, 2, 14))
    assert [(s.person, s.utc_start, s.utc_end) for s in got] == [
        ("dee", utc(2026, 2, 10), utc(2026, 2, 11)),
        ("chen", utc(2026, 2, 11), utc(2026, 2, 12)),
        ("dee", utc(2026, 2, 12), utc(2026, 2, 14)),
    ]


def test_overlapping_override_rejected_unless_replace() -> None:
    sched = Schedule(infra())
    older = Override(utc(2026, 2, 10), utc(2026, 2, 14), "dee", id="old")
    newer = Override(utc(2026, 2, 11), utc(2026, 2, 12), "chen", id="new")
    errors = validate_override(sched, newer, existing=[older])
    assert errors == [
        "override new: overlaps override old (dee, 2026-02-09 16:00 PST – 2026-02-13 16:00 PST);"
        " pass replace=True to replace it"
    ]
    assert validate_override(sched, newer, existing=[older], replace=True) == []
    # other layers do not clash
    teams = Schedule(set_rotation())
    on_channels = Override(utc(2026, 2, 10), utc(2026, 2, 14), "eva", layer="channels", id="a")
    on_playbooks = Override(utc(2026, 2, 11), utc(2026, 2, 12), "gus", layer="playbooks", id="b")
    assert validate_override(teams, on_playbooks, existing=[on_channels]) == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (Override(utc(2026, 2, 11), utc(2026, 2, 11), "dee"), "is not after start"),
        (Override(utc(2026, 2, 12), utc(2026, 2, 11), "dee"), "is not after start"),
        (Override(datetime(2026, 2, 11), utc(2026, 2, 12), "dee"), "has no time zone"),
        (Override(utc(2026, 2, 11), utc(2026, 2, 12), "zed"), "unknown person 'zed'"),
        (Override(utc(2026, 2, 11), utc(2026, 2, 12), "dee", layer="x"), "unknown layer 'x'"),
        (Override(utc(2026, 2, 11), utc(2026, 2, 12), "dee", replaces="ana"), "ana is not on call"),
        (Override(utc(2026, 2, 11), utc(2026, 2, 12), "bo", replaces="bo"), "cover for themselves"),
        (Override(utc(2026, 2, 11), utc(2026, 2, 12), "dee", replaces="q"), "unknown person 'q'"),
    ],
)
def test_validate_override_messages(override: Override, message: str) -> None:
    errors = validate_override(Schedule(infra()), override)
    assert any(message in e for e in errors), errors


def test_validate_override_uses_the_directory_when_given() -> None:
    ov = Override(utc(2026, 2, 11), utc(2026, 2, 12), "newhire")
    sched = Schedule(infra())
    assert validate_override(sched, ov) == ["override newhire: unknown person 'newhire'"]
    assert validate_override(sched, ov, known_people={"newhire"}) == []


def test_schedule_rejects_broken_overrides() -> None:
    bad = [
        Override(utc(2026, 2, 12), utc(2026, 2, 11), "dee", id="a"),
        Override(utc(2026, 2, 11), utc(2026, 2, 12), "dee", layer="nope", id="b"),
    ]
    with pytest.raises(ScheduleError) as err:
        Schedule(infra(), bad)
    assert len(err.value.errors) == 2


def test_override_on_a_team_layer_does_not_change_the_lead() -> None:
    spec = set_rotation()
    ov = Override(utc(2026, 1, 20), utc(2026, 1, 25), "finn", layer="channels")
    now = Schedule(spec, overrides=[ov]).on_call(utc(2026, 1, 22))
    assert now["channels"].person == "finn" and now["channels"].source == "override"
    assert now[LEAD].person == "eva"
    lead_ov = Override(utc(2026, 1, 20), utc(2026, 1, 25), "kai", layer=LEAD)
    now = Schedule(spec, overrides=[lead_ov]).on_call(utc(2026, 1, 22))
    assert now[LEAD].person == "kai" and now[LEAD].team is None
    assert now["channels"].person == "eva"


# ------------------------------------------------------------------------------------------
# Swaps


def test_swap_exchanges_exactly_two_shifts() -> None:
    spec = infra()
    swap = Swap("bo", week_start(5), "dee", week_start(7), id="s1")
    plain = Schedule(spec).shifts(week_start(0), week_start(12))
    swapped = Schedule(spec, swaps=[swap]).shifts(week_start(0), week_start(12))
    assert [(s.start, s.end) for s in plain] == [(s.start, s.end) for s in swapped]
    diff = [
        (p.index, p.person, q.person, q.source)
        for p, q in zip(plain, swapped, strict=True)
        if p != q
    ]
    assert diff == [(5, "bo", "dee", "swap"), (7, "dee", "bo", "swap")]


def test_swaps_apply_in_order() -> None:
    first = Swap("bo", week_start(5), "dee", week_start(7))
    second = Swap("bo", week_start(7), "ana", week_start(8))  # bo now holds shift 7
    got = Schedule(infra(), swaps=[first, second]).shifts(week_start(4), week_start(9))
    assert people(got) == ["ana", "dee", "chen", "ana", "bo"]


@pytest.mark.parametrize(
    ("swap", "message"),
    [
        (Swap("ana", week_start(5), "dee", week_start(7)), "belongs to bo, not ana"),
        (Swap("bo", week_start(5) + HOUR, "dee", week_start(7)), "no primary shift starts at"),
        (Swap("bo", week_start(5), "bo", week_start(9)), "cannot swap with themselves"),
        (Swap("bo", week_start(5), "dee", week_start(7), layer="x"), "unknown layer 'x'"),
        (Swap("bo", datetime(2026, 2, 9, 10), "dee", week_start(7)), "must be timezone-aware"),
        (Swap("bo", week_start(-3), "dee", week_start(7)), "no primary shift starts at"),
    ],
)
def test_invalid_swaps_are_explained(swap: Swap, message: str) -> None:
    sched = Schedule(infra())
    assert any(message in e for e in validate_swap(sched, swap)), validate_swap(sched, swap)
    with pytest.raises(ScheduleError, match=message.split("'")[0]):
        Schedule(infra(), swaps=[swap])


def test_swap_with_unknown_person() -> None:
    errors = validate_swap(Schedule(infra()), Swap("zed", week_start(5), "dee", week_start(7)))
    assert errors[0] == "swap zed/dee: unknown person 'zed'"


def test_swap_on_a_team_layer_moves_the_lead() -> None:
    spec = set_rotation()
    jan = datetime(2026, 1, 16, 9, tzinfo=TORONTO)
    feb = datetime(2026, 2, 16, 9, tzinfo=TORONTO)
    swap = Swap("eva", jan, "finn", feb, layer="channels")
    now = Schedule(spec, swaps=[swap]).on_call(utc(2026, 1, 20))
    assert now["channels"].person == "finn" and now[LEAD].person == "finn"
    assert now[LEAD].source == "swap" and now[LEAD].team == "channels"
    feb_now = Schedule(spec, swaps=[swap]).on_call(utc(2026, 2, 20))
    assert feb_now["channels"].person == "eva" and feb_now[LEAD].person == "eva"  # channels' turn


# ------------------------------------------------------------------------------------------
# Time off


def pto(person: str, start: datetime, end: datetime) -> TimeOff:
    return TimeOff(person, start, end, id=f"pto-{person}")


def test_swap_later_trades_with_the_next_member() -> None:
    off = [pto("bo", utc(2026, 2, 10), utc(2026, 2, 12))]
    got = Schedule(infra(), time_off=off).shifts(week_start(4), week_start(8))
    assert people(got) == ["ana", "chen", "bo", "dee"]
    assert all(not s.warnings for s in got)


def test_swap_later_skips_an_absent_next_member() -> None:
    off = [
        pto("bo", utc(2026, 2, 10), utc(2026, 2, 12)),
        pto("chen", utc(2026, 2, 9), utc(2026, 2, 11)),
    ]
    got = Schedule(infra(), time_off=off).shifts(week_start(4), week_start(8))
    assert people(got) == ["ana", "dee", "chen", "bo"]


def test_swap_later_wraps_to_the_next_cycle() -> None:
    off = [pto("dee", utc(2026, 2, 24), utc(2026, 2, 26))]
    got = Schedule(infra(), time_off=off).shifts(week_start(6), week_start(10))
    assert people(got) == ["chen", "ana", "dee", "bo"]


def test_swap_later_looks_further_when_the_payback_week_is_also_off() -> None:
    off = [pto("bo", utc(2026, 2, 10), utc(2026, 2, 20))]  # bo's week and part of chen's
    got = Schedule(infra(), time_off=off).shifts(week_start(4), week_start(9))
    assert people(got) == ["ana", "dee", "chen", "bo", "ana"]


def test_swap_later_makes_up_long_absences_after_the_return() -> None:
    """Five weeks off block bo's weeks 5 and 9 and every payback week of the next cycle: bo
    takes back the first weeks after returning (chen's 10 for 5, dee's 11 for 9)."""
    off = [pto("bo", week_start(5), week_start(10))]
    got = Schedule(infra(), time_off=off).shifts(week_start(4), week_start(12))
    assert people(got) == ["ana", "chen", "chen", "dee", "ana", "dee", "bo", "bo"]
    assert all(not s.warnings for s in got)


def test_swap_later_covers_without_trade_beyond_the_reach() -> None:
    """The make-up is at most two cycles and one turn (12 weeks for four people) away: an
    absence longer than that is covered without a trade."""
    off = [pto("bo", week_start(5), week_start(30))]
    got = Schedule(infra(), time_off=off).shifts(week_start(4), week_start(8))
    assert people(got) == ["ana", "chen", "chen", "dee"]


def test_skip_next_covers_without_payback() -> None:
    spec = rotation_from_policy("infra", {**INFRA_POLICY, "skip": "next"})
    off = [pto("bo", utc(2026, 2, 10), utc(2026, 2, 12))]
    got = Schedule(spec, time_off=off).shifts(week_start(4), week_start(9))
    assert people(got) == ["ana", "chen", "chen", "dee", "ana"]


@pytest.mark.parametrize("skip", ["swap-later", "next"])
def test_nobody_available_keeps_the_person_with_warnings(skip: str) -> None:
    spec = rotation_from_policy("infra", {**INFRA_POLICY, "skip": skip})
    off = [pto(p, utc(2026, 2, 10), utc(2026, 2, 11)) for p in MEMBERS]
    got = Schedule(spec, time_off=off).shifts(week_start(5), week_start(6))
    assert people(got) == ["bo"]
    assert got[0].warnings == (
        "no other member of primary is available to cover bo's time off",
        "bo is on call during their time off (2026-02-09 16:00 PST – 2026-02-10 16:00 PST)",
    )


def test_override_into_time_off_is_flagged() -> None:
    off = [pto("dee", utc(2026, 2, 10), utc(2026, 2, 12))]
    ov = Override(utc(2026, 2, 11), utc(2026, 2, 13), "dee")
    now = Schedule(infra(), overrides=[ov], time_off=off).on_call(utc(2026, 2, 11, 12))
    assert now[PRIMARY].source == "override"
    assert (
        now[PRIMARY].warnings and "dee is on call during their time off" in now[PRIMARY].warnings[0]
    )


def test_short_absence_under_the_threshold_is_covered_day_by_day() -> None:
    spec = RotationSpec(
        name="set",
        timezone="America/Toronto",
        unit="month",
        count=1,
        handoff=Handoff(time(9), day=16),
        layers=(Layer.of("channels", ["eva", "finn"], team="channels"),),
        anchor=date(2026, 1, 16),
        skip_min_overlap=timedelta(days=3),
    )
    short = [pto("eva", utc(2026, 2, 2), utc(2026, 2, 4))]
    got = Schedule(spec, time_off=short).shifts(utc(2026, 1, 20), utc(2026, 3, 20))
    # finn serves eva's two days off; eva keeps the rest of her shift
    assert [(x.person, x.source) for x in got] == [
        ("eva", "rotation"),
        ("finn", "cover"),
        ("eva", "rotation"),
        ("finn", "rotation"),
        ("eva", "rotation"),
    ]
    assert (got[1].utc_start, got[1].utc_end) == (utc(2026, 2, 2), utc(2026, 2, 4))
    assert got[1].warnings == ("covers eva's time off",)
    assert not any(x.warnings for x in got if x.person == "eva")
    warned = Schedule(replace(spec, cover_days=False), time_off=short)
    got = warned.shifts(utc(2026, 1, 20), utc(2026, 3, 20))
    assert people(got) == ["eva", "finn", "eva"]
    assert "eva is on call during their time off" in got[0].warnings[0]
    long = [pto("eva", utc(2026, 2, 2), utc(2026, 2, 9))]
    assert people(Schedule(spec, time_off=long).shifts(utc(2026, 1, 20), utc(2026, 3, 20))) == [
        "finn",
        "eva",
        "eva",
    ]


def test_time_off_on_a_team_layer_moves_the_lead_too() -> None:
    off = [pto("eva", utc(2026, 2, 1), utc(2026, 2, 12))]  # more than a week: the shift moves
    now = Schedule(set_rotation(), time_off=off).on_call(utc(2026, 2, 10))
    assert now["channels"].person == "finn" and now[LEAD].person == "finn"
    later = Schedule(set_rotation(), time_off=off).on_call(utc(2026, 2, 20))
    assert later["channels"].person == "eva" and later[LEAD].person == "eva"


def test_single_member_layer_cannot_be_covered() -> None:
    spec = simple("week", weekday=0, anchor=date(2026, 1, 5), members=("solo",))
    got = Schedule(spec, time_off=[pto("solo", utc(2026, 2, 10), utc(2026, 2, 11))]).shifts(
        utc(2026, 2, 10), utc(2026, 2, 11)
    )
    assert people(got) == ["solo"] and len(got[0].warnings) == 2


def test_window_results_do_not_depend_on_where_the_window_starts() -> None:
    off = [
        pto("bo", utc(2026, 2, 10), utc(2026, 2, 12)),
        pto("chen", utc(2026, 2, 17), utc(2026, 2, 19)),
    ]
    off += [pto("dee", utc(2026, 2, 24), utc(2026, 2, 26))]
    sched = Schedule(infra(), time_off=off)
    whole = sched.shifts(week_start(0), week_start(20))
    for a in range(0, 12):
        part = sched.shifts(week_start(a), week_start(a + 3))
        assert part == whole[a : a + 3]
        assert sched.on_call(week_start(a) + HOUR)[PRIMARY] == whole[a]


def test_time_off_validation() -> None:
    with pytest.raises(ScheduleError) as err:
        Schedule(infra(), time_off=[pto("bo", utc(2026, 2, 2), utc(2026, 2, 1))])
    assert err.value.errors == (
        "time off pto-bo: end 2026-02-01T00:00:00+00:00 is not after start 2026-02-02T00:00:00+00:00",
    )
    with pytest.raises(ScheduleError, match="has no time zone"):
        Schedule(infra(), time_off=[pto("bo", datetime(2026, 2, 1), utc(2026, 2, 2))])


def test_edit_validation_names_every_problem() -> None:
    base = Schedule(infra())
    o1 = Override(utc(2026, 2, 10), utc(2026, 2, 14), "dee", id="o1")
    o2 = Override(utc(2026, 2, 11), utc(2026, 2, 12), "zed", id="o2")
    o3 = Override(utc(2026, 2, 13), utc(2026, 2, 15), "ana", id="o3")
    assert validate_override(base, o2, existing=[o1], known_people=MEMBERS) == [
        "override o2: unknown person 'zed'"
    ]
    assert validate_override(base, o3, existing=[o1, o2], known_people=MEMBERS)[0].startswith(
        "override o3: overlaps override o1"
    )
    s1 = Swap("bo", week_start(5), "dee", week_start(7), id="s1")
    s2 = Swap("bo", week_start(5), "chen", week_start(6), id="s2")  # bo gave shift 5 away
    assert validate_swap(base, s1, known_people=MEMBERS) == []
    [problem] = validate_swap(Schedule(infra(), swaps=[s1]), s2, known_people=MEMBERS)
    assert problem.startswith("swap s2: the primary shift starting") and "belongs to dee" in problem


# ------------------------------------------------------------------------------------------
# Other questions


def test_next_shifts_and_person_shifts() -> None:
    spec = infra()
    upcoming = Schedule(spec).next_shifts(utc(2026, 2, 10), 3)
    assert people(upcoming) == ["chen", "dee", "ana"]
    assert upcoming[0].start == week_start(6)
    assert Schedule(spec).next_shifts(week_start(6), 1)[0].start == week_start(7)  # strictly after
    mine = Schedule(spec).person_shifts("bo", utc(2026, 1, 1), utc(2026, 4, 1))
    assert [s.start for s in mine] == [week_start(1), week_start(5), week_start(9)]
    team = Schedule(set_rotation()).next_shifts(utc(2026, 1, 20), 2)
    assert [(s.layer, s.person) for s in team[:2]] == [(LEAD, "finn"), (LEAD, "gus")]
    assert len(team) == 10


def test_next_shifts_stops_for_a_layer_that_never_resumes() -> None:
    spec = infra().with_members(PRIMARY, date(2026, 2, 16), [])
    assert people(Schedule(spec).next_shifts(utc(2026, 2, 1), 3)) == ["ana", "bo"]


def test_shift_bounds_names_a_shift_for_a_swap() -> None:
    sched = Schedule(infra())
    assert sched.shift_bounds(8) == (week_start(8), week_start(9))


def test_rejects_naive_instants() -> None:
    with pytest.raises(ScheduleError, match="timezone-aware"):
        Schedule(infra()).on_call(datetime(2026, 2, 1))
    assert Schedule(infra()).shifts(utc(2026, 2, 2), utc(2026, 2, 1)) == []


# ------------------------------------------------------------------------------------------
# Fairness


def test_fairness_counts_hours_weekends_and_holidays() -> None:
    spec = infra()
    us = set(holidays.country_holidays("US", years=2026))
    start = datetime(2026, 7, 1, tzinfo=LA)
    end = datetime(2026, 7, 6, tzinfo=LA)
    stats = fairness(Schedule(spec).shifts(start, end), us, start, end, "America/Los_Angeles")
    # bo's week starts Mon 2026-06-29; July 3 (observed) and 4 are holidays, the 4th a Saturday
    assert stats == {
        "bo": FairnessStats(hours=120.0, shifts=1, weekend_hours=48.0, holiday_hours=48.0)
    }


def test_fairness_weekend_on_a_short_dst_day() -> None:
    spec = infra()
    got = Schedule(spec).shifts(week_start(8), week_start(9))
    stats = fairness(got, set(), week_start(8), week_start(9), LA)
    assert stats["ana"] == FairnessStats(
        hours=167.0, shifts=1, weekend_hours=47.0, holiday_hours=0.0
    )


def test_swap_later_keeps_a_quarter_fair() -> None:
    off = [
        pto("bo", utc(2026, 2, 10), utc(2026, 2, 12)),
        pto("dee", utc(2026, 3, 24), utc(2026, 3, 26)),
    ]
    got = Schedule(infra(), time_off=off).shifts(week_start(4), week_start(16))
    stats = fairness(got, set(), week_start(4), week_start(16), LA)
    assert {p: s.shifts for p, s in stats.items()} == {p: 3 for p in MEMBERS}


def test_trades_never_cross_a_membership_change() -> None:
    spec = infra().with_members(PRIMARY, date(2026, 2, 16), [*MEMBERS, "eve"])
    off = [pto("bo", utc(2026, 2, 10), utc(2026, 2, 12))]
    got = Schedule(spec, time_off=off).shifts(week_start(4), week_start(9))
    # chen covers bo's last week under the old list; the new list continues after bo
    assert people(got) == ["ana", "chen", "chen", "dee", "eve"]


def test_swap_on_the_lead_layer_leaves_the_teams_alone() -> None:
    spec = set_rotation()
    jan = datetime(2026, 1, 16, 9, tzinfo=TORONTO)
    feb = datetime(2026, 2, 16, 9, tzinfo=TORONTO)
    mar = datetime(2026, 3, 16, 9, tzinfo=TORONTO)
    assert feb < mar
    swap = Swap("eva", jan, "gus", mar, layer=LEAD)
    now = Schedule(spec, swaps=[swap]).on_call(utc(2026, 1, 20))
    assert now[LEAD].person == "gus" and now[LEAD].source == "swap"
    assert now["channels"].person == "eva" and now["playbooks"].person == "gus"
    assert Schedule(spec, swaps=[swap]).on_call(utc(2026, 3, 20))[LEAD].person == "eva"


def test_lead_is_a_gap_when_its_team_has_nobody() -> None:
    spec = set_rotation().with_members("playbooks", date(2026, 2, 1), [])
    # March and April are playbooks' turn to lead
    assert LEAD not in Schedule(spec).on_call(utc(2026, 3, 20))
    assert Schedule(spec).on_call(utc(2026, 5, 20))[LEAD].person == "ivan"
    holes = Schedule(spec).gaps(utc(2026, 2, 1), utc(2026, 6, 1))
    feb16 = datetime(2026, 2, 16, 9, tzinfo=TORONTO).astimezone(UTC)
    mar16 = datetime(2026, 3, 16, 9, tzinfo=TORONTO).astimezone(UTC)
    may16 = datetime(2026, 5, 16, 9, tzinfo=TORONTO).astimezone(UTC)
    assert Gap(LEAD, mar16, may16) in holes
    assert Gap("playbooks", feb16, utc(2026, 6, 1)) in holes


def test_days_off_in_a_monthly_shift_are_covered_and_the_lead_follows() -> None:
    """Monthly rotations cover up to a week off day by day by default (two sick days must
    not hand over a month); the cover also leads for those days when it is their team's turn."""
    assert set_rotation().skip_min_overlap == timedelta(days=7)
    off = [pto("eva", utc(2026, 2, 2), utc(2026, 2, 4))]
    sched = Schedule(set_rotation(), time_off=off)
    during = sched.on_call(utc(2026, 2, 3))
    assert during["channels"].person == "finn" and during["channels"].source == "cover"
    assert during[LEAD].person == "finn" and during[LEAD].source == "cover"
    after = sched.on_call(utc(2026, 2, 5))
    assert after["channels"].person == "eva" and after[LEAD].person == "eva"
    assert sched.on_call(utc(2026, 2, 20))["channels"].person == "finn"  # the cycle goes on
