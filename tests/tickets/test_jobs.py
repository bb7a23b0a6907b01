"""The end-of-day nudge follows the desk's ``urgent`` priorities."""

from __future__ import annotations

from datetime import UTC, datetime

from dutydesk.notify.rows import Job, OutboxRow
from dutydesk.policy import Policy
from dutydesk.state import AppState
from dutydesk.tickets import jobs as tickets_jobs
from tests.conftest import Api, ManualClock


def eod(day: str) -> Job:
    return Job(f"job:eod:infra:{day}", {"job": "eod", "desk": "infra", "date": day})


EOD = eod("2026-11-24")


def nudged(state: AppState, policy: Policy, now: datetime, job: Job = EOD) -> list[str]:
    with state.db.read() as s:
        rows = tickets_jobs.run_eod(s, policy, job, now)
    return [str(r.payload["ticket"]) for r in rows if isinstance(r, OutboxRow)]


def test_end_of_day_nudges_only_the_urgent_priorities(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    keys = {}
    for prio in ("P0", "P1"):
        key = api.file(title=f"Build farm degraded ({prio})")["key"]
        r = api.post("bo", f"/api/v1/tickets/{key}/triage", {"priority": prio, "assignee": "ana"})
        assert r.status_code == 200, r.text
        keys[prio] = key
    at = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # Tuesday 16:30 Pacific: no update today
    # The P1's weekly update is not due on Tuesday; the P0's daily one is.
    assert nudged(state, state.policy, at) == [keys["P0"]]
    raw = state.policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["urgent"] = ["P0"]
    assert nudged(state, Policy.model_validate(raw), at) == [keys["P0"]]
    raw["desks"]["infra"]["slo"] = []  # no cadence at all: every urgent ticket, every day
    raw["desks"]["infra"]["urgent"] = ["P0", "P1"]
    assert sorted(nudged(state, Policy.model_validate(raw), at)) == sorted(keys.values())


def test_a_p1_is_nudged_on_the_day_its_weekly_update_falls_due_and_after(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    key, blocked = api.file()["key"], api.file()["key"]  # Monday 2026-11-23 09:00 Pacific
    for k in (key, blocked):
        r = api.post("bo", f"/api/v1/tickets/{k}/triage", {"priority": "P1", "assignee": "ana"})
        assert r.status_code == 200, r.text
    clock.now = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # blocked before it fell due
    assert (
        api.post("ana", f"/api/v1/tickets/{blocked}/block", {"reason": "vendor"}).status_code == 200
    )
    # 5 business days of 8h (Thanksgiving is closed): due Monday 2026-11-30 17:00 Pacific.
    days = {
        "2026-11-24": datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
        "2026-11-27": datetime(2026, 11, 28, 0, 30, tzinfo=UTC),
        "2026-11-30": datetime(2026, 12, 1, 0, 30, tzinfo=UTC),
        "2026-12-01": datetime(2026, 12, 2, 0, 30, tzinfo=UTC),
        "2026-12-02": datetime(2026, 12, 3, 0, 30, tzinfo=UTC),
    }
    got = {d: nudged(state, state.policy, at, eod(d)) for d, at in days.items()}
    assert got == {
        "2026-11-24": [],
        "2026-11-27": [],
        "2026-11-30": [key],  # the day it falls due
        "2026-12-01": [key],  # overdue
        "2026-12-02": [key],
    }
