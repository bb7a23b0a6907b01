"""The end-of-day nudge follows the desk's ``urgent`` priorities."""

from __future__ import annotations

from datetime import UTC, datetime

from dutydesk.notify.rows import Job, OutboxRow
from dutydesk.policy import Policy
from dutydesk.state import AppState
from dutydesk.tickets import jobs as tickets_jobs
from tests.conftest import Api, ManualClock

EOD = Job("job:eod:infra:2026-11-24", {"job": "eod", "desk": "infra", "date": "2026-11-24"})


def nudged(state: AppState, policy: Policy, now: datetime) -> list[str]:
    with state.db.read() as s:
        rows = tickets_jobs.run_eod(s, policy, EOD, now)
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
    assert sorted(nudged(state, state.policy, at)) == sorted(keys.values())
    raw = state.policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["urgent"] = ["P0"]
    assert nudged(state, Policy.model_validate(raw), at) == [keys["P0"]]
