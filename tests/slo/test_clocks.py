"""Pure clock rules: due, at-risk, pauses, stops and restarts, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dutydesk.policy.models import Policy, SloPolicy
from dutydesk.slo import clocks
from dutydesk.slo.calendar import BusinessCalendar, triage_due
from dutydesk.slo.clocks import REAL_TIME, Clock, Facts, Rule
from dutydesk.slo.policy import business_span, compile_rules, day_length, desk_slo, duration
from tests.slo._helpers import local, nine_to_five

LA = "America/Los_Angeles"
THANKSGIVING = date(2026, 11, 26)
MLK_2027 = date(2027, 1, 18)
CAL = nine_to_five(LA, [THANKSGIVING, date(2026, 12, 24), date(2026, 12, 25), MLK_2027])
H = timedelta(hours=1)


def rules_of(*slos: dict[str, object]) -> tuple[Rule, ...]:
    return compile_rules([SloPolicy.model_validate(s) for s in slos], CAL)


TRIAGE = {
    "name": "triage",
    "within": "4 business hours",
    "outside_hours": "end of next business day",
}
P0 = {
    "name": "update",
    "applies_to": {"priority": ["P0"]},
    "every": "1 business day",
    "pause_when": "blocked",
}
P1 = {
    "name": "update",
    "applies_to": {"priority": ["P1"]},
    "every": "5 business days",
    "pause_when": "blocked",
}
RULES = rules_of(TRIAGE, P0, P1)


def timeline(business: bool) -> clocks.Timeline:
    return CAL if business else REAL_TIME


def run(f: Facts, cs: list[Clock], now: datetime, **kw: bool) -> list[Clock]:
    new = clocks.reconcile(RULES, timeline, f, cs, now, **kw)
    cs.extend(new)
    return new


# ----------------------------------------------------------------------------- compiling rules


def test_rules_compile_with_keys_targets_and_cadence_defaults() -> None:
    triage, p0, p1 = RULES
    assert (triage.key, triage.cadence, triage.target, triage.business) == (
        "triage",
        False,
        4 * H,
        True,
    )
    assert (p0.key, p0.cadence, p0.starts, p0.stops) == (
        "update[priority=P0]",
        True,
        "update",
        "update",
    )
    assert p0.target == 8 * H and p1.target == 40 * H  # business days of this calendar
    assert p0.pause_when_blocked and not triage.pause_when_blocked


def test_business_day_is_the_usual_daily_total() -> None:
    short_friday = BusinessCalendar(
        LA,
        {
            **{d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu")},
            "fri": [("09:00", "13:00")],
        },
    )
    assert day_length(short_friday) == 8 * H
    split = BusinessCalendar(LA, {"mon": [("09:00", "12:00"), ("13:00", "17:00")]})
    assert day_length(split) == 7 * H
    assert duration("2 hours", CAL) == (2 * H, False)
    assert duration("1 business week", CAL) == (40 * H, True)


def test_explain_durations() -> None:
    assert business_span("4h", CAL) == 4 * H
    assert business_span("1h30m", CAL) == timedelta(minutes=90)
    assert business_span("2d", CAL) == 16 * H
    assert business_span("4 business hours", CAL) == 4 * H
    # --add is business time: a day is a business day however it is spelled (the long form
    # used to add 24 hours for "2 days" but a business day for "2d").
    assert business_span("2 days", CAL) == business_span("2 business days", CAL) == 16 * H
    assert business_span("1 week", CAL) == 40 * H


def test_policy_refuses_nonsense_slos() -> None:
    import pytest

    for bad, words in [
        ({"name": "x", "every": "1 business day", "stops": "triaged"}, "restarts on each update"),
        ({"name": "x", "within": "0 hours"}, "longer than zero"),
        (
            {"name": "x", "within": "2 hours", "outside_hours": "end of next business day"},
            "business time",
        ),
        (
            {"name": "x", "within": "1 hour", "starts": "triaged", "stops": "triaged"},
            "stop as it starts",
        ),
        ({"name": "x", "within": "1 hour", "bogus": 1}, "Extra inputs"),
    ]:
        with pytest.raises(ValueError, match=words):
            SloPolicy.model_validate(bad)


def test_policy_refuses_unknown_priorities_in_applies_to(policy: Policy) -> None:
    import pytest

    raw = policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["slo"][1]["applies_to"]["priority"] = ["PO"]
    with pytest.raises(ValueError, match="priority 'PO'"):
        Policy.model_validate(raw)


def test_desk_slo_is_cached_per_policy_object(policy: Policy) -> None:
    first = desk_slo(policy, "infra")
    assert desk_slo(policy, "infra") is first
    assert first.calendar is not None and first.calendar.is_holiday(THANKSGIVING)
    assert first.calendar.is_holiday(date(2026, 12, 24))  # the policy's extra date
    assert desk_slo(policy, "set").rules == ()


# ----------------------------------------------------------------------------- due and at risk


def test_triage_inside_hours_is_four_business_hours_even_across_a_holiday() -> None:
    filed = local(LA, 2026, 11, 25, 16, 30)  # Wednesday before Thanksgiving
    [c] = run(Facts(created_at=filed), [], filed)
    assert c.due_at == local(LA, 2026, 11, 27, 12, 30)  # Thursday is closed
    assert c.at_risk_at == local(LA, 2026, 11, 27, 11, 30)  # 75% of 4h = 3h
    assert c.due_at == triage_due(CAL, filed)


def test_triage_friday_1630_before_a_monday_holiday() -> None:
    filed = local(LA, 2027, 1, 15, 16, 30)
    [c] = run(Facts(created_at=filed), [], filed)
    assert c.due_at == local(LA, 2027, 1, 19, 12, 30)  # Monday is MLK Day


def test_triage_outside_hours_is_end_of_next_business_day() -> None:
    for filed, due in [
        (local(LA, 2027, 1, 15, 18, 0), local(LA, 2027, 1, 19, 17, 0)),  # Fri eve, Mon holiday
        (local(LA, 2026, 11, 28, 10, 0), local(LA, 2026, 11, 30, 17, 0)),  # Saturday
        (local(LA, 2026, 12, 1, 7, 0), local(LA, 2026, 12, 1, 17, 0)),  # before opening
        (local(LA, 2026, 11, 25, 17, 0), local(LA, 2026, 11, 27, 17, 0)),  # at closing
    ]:
        [c] = run(Facts(created_at=filed), [], filed)
        assert c.due_at == due == triage_due(CAL, filed), filed
        assert c.target_seconds == 8 * 3600
        assert c.at_risk_at == local(LA, due.year, due.month, due.day, 15, 0)


def test_met_when_triaged_and_frozen_afterwards() -> None:
    filed = local(LA, 2026, 11, 23, 9, 0)
    cs: list[Clock] = []
    run(Facts(created_at=filed), cs, filed)
    triaged = filed + 3 * H
    f = Facts(created_at=filed, triaged_at=triaged, priority="P2", last_update_at=triaged)
    assert run(f, cs, triaged) == []  # P2: no cadence
    [c] = cs
    assert (c.state, c.outcome, c.met_at, c.elapsed_seconds) == ("stopped", "met", triaged, 10800)
    later = triaged + timedelta(days=3)
    assert clocks.shown_state(c, later) == "met"
    assert clocks.remaining(c, CAL, later) == H  # frozen at the stop
    assert run(f, cs, later) == []  # a kept deadline never restarts


def test_triaged_late_is_breached_and_shown_states_follow_now() -> None:
    filed = local(LA, 2026, 11, 23, 9, 0)
    cs: list[Clock] = []
    [c] = run(Facts(created_at=filed), cs, filed)
    assert clocks.shown_state(c, filed + 2 * H) == "running"
    assert clocks.shown_state(c, filed + 3 * H) == "at_risk"
    assert clocks.shown_state(c, filed + 4 * H) == "at_risk"  # at the due instant: not late
    assert clocks.shown_state(c, filed + 4 * H + timedelta(seconds=1)) == "breached"
    assert clocks.remaining(c, CAL, filed + 5 * H) == -H
    late = filed + 5 * H
    run(Facts(created_at=filed, triaged_at=late, priority="P3"), cs, late)
    assert (c.outcome, c.breached_at, c.decided_at) == ("breached", c.due_at, c.due_at)


# ----------------------------------------------------------------------------- pauses


def test_blocked_over_a_weekend_moves_due_by_exactly_the_paused_business_time() -> None:
    update = local(LA, 2026, 11, 27, 15, 0)  # Friday after Thanksgiving (open)
    f = Facts(created_at=update, priority="P0", triaged_at=update, last_update_at=update)
    cs: list[Clock] = []
    [c] = run(f, cs, update)
    assert c.due_at == local(LA, 2026, 11, 30, 15, 0)  # 2h Friday + 6h Monday
    blocked = local(LA, 2026, 11, 27, 16, 0)
    run(_with(f, blocked=True, blocked_at=blocked), cs, blocked)
    assert (c.state, c.due_at, c.paused_at) == ("paused", None, blocked)
    monday = local(LA, 2026, 11, 30, 10, 0)
    assert clocks.remaining(c, CAL, monday) == 7 * H  # frozen while paused
    assert clocks.shown_state(c, monday) == "paused"
    run(f, cs, monday)  # unblocked
    assert c.state == "running"
    assert c.pauses == [(blocked, monday)]
    assert c.paused_seconds == 2 * 3600  # Fri 16-17 and Mon 9-10: the weekend is not business
    assert c.due_at == local(LA, 2026, 11, 30, 17, 0)  # moved by exactly 2 business hours


def _with(f: Facts, **changes: object) -> Facts:
    from dataclasses import replace

    return replace(f, **changes)  # type: ignore[arg-type]


def test_a_pause_after_the_due_instant_does_not_undo_the_breach() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    f = Facts(created_at=t0, priority="P0", triaged_at=t0, last_update_at=t0)
    cs: list[Clock] = []
    [c] = run(f, cs, t0)
    due = c.due_at
    assert due == local(LA, 2026, 11, 24, 10, 0)
    blocked = local(LA, 2026, 11, 24, 12, 0)
    run(_with(f, blocked=True, blocked_at=blocked), cs, blocked)
    assert c.due_at == due and clocks.shown_state(c, blocked) == "breached"
    run(f, cs, local(LA, 2026, 11, 25, 12, 0))
    assert c.due_at == due


def test_cadence_started_while_blocked_starts_paused() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    f = Facts(created_at=t0, priority="P1", triaged_at=t0, blocked=True, blocked_at=t0 - H)
    [c] = run(f, [], t0)
    assert c.state == "paused" and c.pauses == [(t0, None)] and c.due_at is None


def test_triage_clock_keeps_running_while_blocked() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    cs: list[Clock] = []
    [c] = run(Facts(created_at=t0), cs, t0)
    run(Facts(created_at=t0, blocked=True, blocked_at=t0 + H), cs, t0 + H)
    assert c.state == "running" and c.due_at == t0 + 4 * H


# ----------------------------------------------------------------------------- cadence


def test_p0_update_restarts_on_each_update_and_keeps_the_cycle_outcome() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    f = Facts(created_at=t0, priority="P0", triaged_at=t0, last_update_at=t0)
    cs: list[Clock] = []
    [first] = run(f, cs, t0)
    late = local(LA, 2026, 11, 24, 11, 0)  # a day and an hour later
    [second] = run(_with(f, last_update_at=late), cs, late)
    assert (first.outcome, first.stopped_by) == ("breached", "update")
    assert (second.cycle, second.started_at, second.due_at) == (
        2,
        late,
        local(LA, 2026, 11, 25, 11, 0),
    )
    on_time = local(LA, 2026, 11, 24, 15, 0)
    [third] = run(_with(f, last_update_at=on_time), cs, on_time)
    assert second.outcome == "met" and third.cycle == 3


def test_priority_change_cancels_the_cycle_and_starts_the_new_rule_now() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    f = Facts(created_at=t0, priority="P0", triaged_at=t0, last_update_at=t0)
    cs: list[Clock] = []
    [p0] = run(f, cs, t0)
    t1 = t0 + 2 * H
    [p1] = run(_with(f, priority="P1"), cs, t1)
    assert (p0.outcome, p0.stopped_by) == ("cancelled", "rule-changed")
    assert (p1.rule, p1.started_at) == ("update[priority=P1]", t1)
    assert p1.due_at == CAL.add(t1, 40 * H)
    run(_with(f, priority="P2"), cs, t1 + H)
    assert p1.outcome == "cancelled" and not any(c.active for c in cs)


def test_closing_stops_every_clock_and_reopening_does_not_restart_a_kept_deadline() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    f = Facts(created_at=t0, priority="P1", triaged_at=t0, last_update_at=t0)
    cs: list[Clock] = []
    run(Facts(created_at=t0), cs, t0)
    run(f, cs, t0)
    done = t0 + 2 * H
    run(_with(f, is_open=False, resolved_at=done, last_update_at=done), cs, done)
    assert [(c.name, c.outcome) for c in cs] == [("triage", "met"), ("update", "met")]
    reopened = done + H
    new = run(_with(f, last_update_at=reopened), cs, reopened)
    assert [c.name for c in new] == ["update"]


def test_recompute_adopts_a_new_rule_and_keeps_the_start() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    f = Facts(created_at=t0, priority="P1", triaged_at=t0, last_update_at=t0)
    cs: list[Clock] = []
    [c] = run(f, cs, t0)
    faster = rules_of(TRIAGE, P0, {**P1, "every": "3 business days"})
    clocks.reconcile(faster, timeline, f, cs, t0 + H, recompute=True)
    assert (c.started_at, c.target, c.due_at) == (t0, "3 business days", CAL.add(t0, 24 * H))


def test_backfill_starts_cadence_at_the_last_update() -> None:
    t0 = local(LA, 2026, 11, 23, 10, 0)
    f = Facts(created_at=t0 - 4 * H, priority="P0", triaged_at=t0 - 3 * H, last_update_at=t0)
    [c] = run(f, [], t0 + 5 * H, recompute=True)
    assert c.started_at == t0 and c.due_at == CAL.add(t0, 8 * H)


def test_real_time_targets_ignore_the_calendar() -> None:
    rules = rules_of({"name": "ack", "within": "30 minutes"})
    sat = local(LA, 2026, 11, 28, 3, 0)
    [c] = clocks.reconcile(rules, timeline, Facts(created_at=sat), [], sat)
    assert not c.business and c.due_at == (sat + timedelta(minutes=30)).astimezone(UTC)


# ----------------------------------------------------------------------------- invariants


@st.composite
def spells(draw: st.DrawFn) -> tuple[datetime, list[clocks.Pause], timedelta, datetime]:
    base = datetime(2026, 11, 20, tzinfo=UTC)
    start = base + timedelta(minutes=draw(st.integers(0, 60 * 24 * 20)))
    marks = sorted(draw(st.lists(st.integers(1, 60 * 24 * 20), max_size=6, unique=True)))
    pauses: list[clocks.Pause] = []
    for a, b in zip(marks[::2], marks[1::2], strict=False):
        pauses.append((start + timedelta(minutes=a), start + timedelta(minutes=b)))
    if len(marks) % 2 and draw(st.booleans()):
        pauses.append((start + timedelta(minutes=marks[-1]), None))
    target = timedelta(minutes=draw(st.integers(1, 60 * 40)))
    probe = start + timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    return start, pauses, target, probe


@settings(max_examples=300, deadline=None)
@given(spells())
def test_due_is_the_earliest_instant_the_target_is_consumed(
    case: tuple[datetime, list[clocks.Pause], timedelta, datetime],
) -> None:
    start, pauses, target, probe = case
    due = clocks.reach(CAL, start, pauses, target)
    if due is None:  # an open spell began before the target was reached
        assert pauses and pauses[-1][1] is None
        assert clocks.consumed(CAL, start, pauses, probe) < target
        return
    assert clocks.consumed(CAL, start, pauses, due) == target
    assert clocks.consumed(CAL, start, pauses, due - timedelta(microseconds=1)) < target
    # Consumed time never decreases and grows no faster than business time.
    later = probe + timedelta(hours=1)
    grown = clocks.consumed(CAL, start, pauses, later) - clocks.consumed(CAL, start, pauses, probe)
    assert timedelta(0) <= grown <= CAL.between(probe, later)
    # Without pauses the due time is plain calendar arithmetic.
    assert clocks.reach(CAL, start, [], target) == CAL.add(start, target)


@settings(max_examples=200, deadline=None)
@given(spells())
def test_closed_pauses_shift_due_by_exactly_their_business_time(
    case: tuple[datetime, list[clocks.Pause], timedelta, datetime],
) -> None:
    start, pauses, target, _ = case
    closed = [(a, b) for a, b in pauses if b is not None]
    due = clocks.reach(CAL, start, closed, target)
    assert due is not None
    before_due = sum((CAL.between(a, min(b, due)) for a, b in closed if a < due), timedelta(0))
    assert CAL.between(start, due) == target + before_due
