"""The triage SLO rule, exactly: filed while open, 4 business hours later; filed while closed,
the close of the first business day whose opening is after the filing instant. Tables on a
lunch-break and a night-shift calendar, the clock and `calendar explain` held to one answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dutydesk.policy import parse_policy
from dutydesk.slo.calendar import BusinessCalendar, deadline, triage_due
from dutydesk.slo.clocks import start_clock
from dutydesk.slo.explain import explain_triage
from dutydesk.slo.policy import calendar, desk_slo
from tests.conftest import Api, ManualClock

from ._helpers import local

LA = "America/Los_Angeles"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
THANKSGIVING = date(2026, 11, 26)


def la(*parts: int) -> datetime:
    return local(LA, *parts)


POLICY = parse_policy(
    """
[calendars.lunch]
timezone = "America/Los_Angeles"
hours = { mon = ["09:00-12:00", "13:00-17:00"], tue = ["09:00-12:00", "13:00-17:00"], wed = ["09:00-12:00", "13:00-17:00"], thu = ["09:00-12:00", "13:00-17:00"], fri = ["09:00-12:00", "13:00-17:00"] }
holidays = { extra = ["2026-11-26"] }

[calendars.night]
timezone = "America/Los_Angeles"
hours = { mon = "22:00-24:00", tue = ["00:00-06:00", "22:00-24:00"], wed = ["00:00-06:00", "22:00-24:00"], thu = ["00:00-06:00", "22:00-24:00"], fri = ["00:00-06:00", "22:00-24:00"], sat = "00:00-06:00" }

[desks.ops]
columns = ["New", "Triaged", "Done"]
calendar = "lunch"

[[desks.ops.slo]]
name = "triage"
within = "4 business hours"
outside_hours = "end of next business day"

[desks.noc]
columns = ["New", "Triaged", "Done"]
calendar = "night"

[[desks.noc.slo]]
name = "triage"
within = "4 business hours"
outside_hours = "end of next business day"
"""
)
LUNCH, NIGHT = calendar(POLICY, "lunch"), calendar(POLICY, "night")

LUNCH_CASES = [
    # filed, due, rule that applied
    (la(2026, 11, 23, 10), la(2026, 11, 23, 15), "open"),  # across the lunch break
    (la(2026, 11, 23, 11), la(2026, 11, 23, 16), "open"),
    (la(2026, 11, 23, 13), la(2026, 11, 23, 17), "open"),  # the afternoon opening is open
    (la(2026, 11, 23, 16), la(2026, 11, 24, 12), "open"),  # ends as Tuesday's lunch begins
    (la(2026, 11, 23, 8), la(2026, 11, 23, 17), "closed"),  # before opening: that day
    (la(2026, 11, 23, 12), la(2026, 11, 24, 17), "closed"),  # lunch: today opened before
    (la(2026, 11, 23, 12, 30), la(2026, 11, 24, 17), "closed"),
    (la(2026, 11, 23, 17, 30), la(2026, 11, 24, 17), "closed"),
    (la(2026, 11, 25, 12, 30), la(2026, 11, 27, 17), "closed"),  # Thursday is a holiday
    (la(2026, 11, 28, 10), la(2026, 11, 30, 17), "closed"),  # Saturday: Monday's close
]

NIGHT_CASES = [
    (la(2026, 11, 23, 12), la(2026, 11, 24, 0), "closed"),  # Monday opens 22:00, after it
    (la(2026, 11, 23, 23), la(2026, 11, 24, 3), "open"),  # across midnight
    (la(2026, 11, 24, 3), la(2026, 11, 24, 23), "open"),  # over the day's closed hours
    (la(2026, 11, 24, 7), la(2026, 11, 26, 0), "closed"),  # Tuesday opened at 00:00
    (la(2026, 11, 27, 7), la(2026, 11, 28, 6), "closed"),  # Friday: Saturday's early shift
    (la(2026, 11, 28, 10), la(2026, 12, 1, 0), "closed"),  # Saturday: Monday night
]


@pytest.mark.parametrize(
    ("cal_name", "filed", "due", "rule"),
    [("lunch", *c) for c in LUNCH_CASES] + [("night", *c) for c in NIGHT_CASES],
)
def test_triage_due_table(cal_name: str, filed: datetime, due: datetime, rule: str) -> None:
    cal = calendar(POLICY, cal_name)
    found = deadline(cal, filed, timedelta(hours=4))
    assert (found.due, found.rule) == (due, rule)
    assert triage_due(cal, filed) == due
    desk = "ops" if cal_name == "lunch" else "noc"
    [triage] = desk_slo(POLICY, desk).rules
    assert start_clock(triage, cal, filed).due_at == due  # the clock keeps the same rule
    explained = explain_triage(POLICY, cal_name, filed, desk)
    assert explained.triage is not None
    assert (explained.due, explained.triage.due, explained.triage.rule) == (due, due, rule)


def test_explain_names_the_day_it_picked() -> None:
    out = explain_triage(POLICY, "lunch", la(2026, 11, 23, 12, 30), None)
    assert out.triage is not None and out.triage.desk == "ops"
    assert out.triage.business_day == date(2026, 11, 24)
    assert out.triage.reason == (
        "filed while closed: the close of the first business day that opens after filing, "
        "Tue 2026-11-24"
    )
    assert out.triage.opens_local == "Tue 2026-11-24 09:00 PST"
    assert out.intervals[-1].end == out.due  # the business time the clock consumes


def _instants() -> st.SearchStrategy[datetime]:
    lo = datetime(2026, 1, 1, tzinfo=UTC)
    return st.integers(0, 2 * 366 * 24 * 60).map(lambda m: lo + timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(filed=_instants(), which=st.sampled_from([("lunch", "ops"), ("night", "noc")]))
def test_explain_is_the_clock(filed: datetime, which: tuple[str, str]) -> None:
    cal_name, desk = which
    cal: BusinessCalendar = calendar(POLICY, cal_name)
    [rule] = desk_slo(POLICY, desk).rules
    clock = start_clock(rule, cal, filed)
    out = explain_triage(POLICY, cal_name, filed, desk)
    assert out.triage is not None
    assert out.due == out.triage.due == clock.due_at
    assert out.triage.rule == ("open" if cal.is_open(filed) else "closed")
    used = sum((timedelta(seconds=i.seconds) for i in out.intervals), timedelta(0))
    assert used == cal.between(filed, out.due)
    if out.triage.rule == "closed":
        assert out.triage.business_day is not None
        assert cal.opening_time(out.triage.business_day) > filed  # type: ignore[operator]
        assert out.due == cal.closing_time(out.triage.business_day)


def test_api_explain_gives_the_ticket_clock_due(api: Api, clock: ManualClock) -> None:
    clock.now = la(2026, 11, 28, 10).astimezone(UTC)  # a Saturday
    t = api.file()
    [c] = t["clocks"]
    r = api.req(
        "ana",
        "GET",
        "/api/v1/calendars/pacific/explain",
        params={"filed": t["created_at"], "desk": "infra"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["due"] == body["triage"]["due"] == c["due_at"]
    assert body["triage"]["rule"] == "closed" and body["due_local"] == "Mon 2026-11-30 17:00 PST"
    both = api.req(
        "ana",
        "GET",
        "/api/v1/calendars/pacific/explain",
        params={"filed": t["created_at"], "from": t["created_at"]},
    )
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "from"
    wrong = api.req(
        "ana",
        "GET",
        "/api/v1/calendars/pacific/explain",
        params={"filed": t["created_at"], "desk": "set"},
    )
    assert wrong.status_code == 422 and "toronto" in wrong.json()["detail"]
