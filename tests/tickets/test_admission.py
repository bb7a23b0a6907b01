"""Queue criteria decide admission at filing, through every way in: API, web form, CLI, chat.

A ticket filed with no criterion ticked on a desk that admits by criteria waits in the weekly
triage backlog (status New, no triage clock); triage P0/P1 pulls it into the queue.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.db import Database
from dutydesk.policy import Policy
from dutydesk.reports.agenda import load_rows, select_weekly_triage
from dutydesk.state import AppState, sync_policy
from tests.conftest import URGENT, Api, ManualClock
from tests.test_cli import run


def test_api_files_without_a_criterion_into_the_backlog_and_says_so(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    t = api.file(criteria=[])
    assert (t["status"], t["in_queue"], t["priority"], t["clocks"]) == ("New", False, None, [])
    assert t["admission"].startswith("no queue criterion ticked")
    assert "weekly triage" in t["admission"] and "P0/P1" in t["admission"]
    queue = api.req("ana", "GET", "/api/v1/desks/infra/queue").json()["items"]
    backlog = api.req("ana", "GET", "/api/v1/desks/infra/queue", params={"backlog": True})
    assert queue == [] and [x["key"] for x in backlog.json()["items"]] == [t["key"]]
    with state.db.read() as s:
        sections = select_weekly_triage(load_rows(s, "infra"), clock.now)
    waiting = next(x for x in sections if x.title.startswith("Awaiting triage in the backlog"))
    assert waiting.items[0].startswith(t["key"])
    # A criterion ticked: the urgent queue, with its triage clock running.
    urgent = api.file(criteria=[URGENT])
    assert urgent["in_queue"] and urgent["admission"] is None
    assert [c["name"] for c in urgent["clocks"]] == ["triage"]


def test_triage_pulls_a_backlog_ticket_into_the_queue(api: Api, clock: ManualClock) -> None:
    key = api.file(criteria=[])["key"]
    clock.advance(hours=2)
    r = api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": "P1"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["in_queue"] and t["admission"] is None and t["status"] == "Triaged"
    assert "triage" not in [c["name"] for c in t["clocks"]]  # it never waited in the queue
    events = api.req("ana", "GET", f"/api/v1/tickets/{key}/events").json()["items"]
    moved = [e for e in events if e["type"] == "admission"]
    assert moved[-1]["data"]["to"] == "queue"


def test_ticking_a_criterion_later_starts_the_triage_clock_then(
    api: Api, clock: ManualClock
) -> None:
    key = api.file(criteria=[])["key"]
    clock.advance(hours=1)  # Monday 10:00 Pacific
    r = api.req("rita", "PATCH", f"/api/v1/tickets/{key}", json={"criteria": [URGENT]})
    assert r.status_code == 200, r.text
    [c] = r.json()["clocks"]
    assert (c["name"], c["due_at"][:19]) == ("triage", "2026-11-23T22:00:00")  # 14:00 PST


def test_a_desk_may_opt_out(db: Database, policy: Policy, clock: ManualClock) -> None:
    raw = policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["criteria_required"] = False
    opted = Policy.model_validate(raw)
    state = AppState(db=db, policy=opted, clock=clock)
    sync_policy(state.db, opted, clock())
    with state.db.write() as s:
        token = create_token(s, user_by_name(s, "rita"), clock(), "tests")
    with TestClient(create_app(state)) as client:
        r = client.post(
            "/api/v1/desks/infra/tickets",
            json={"title": "Builders slow to start"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 201 and r.json()["in_queue"] and r.json()["admission"] is None


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("cli-admission")
    run(cwd, "init")
    return cwd


def test_cli_prints_the_backlog_note(cli_home: Path) -> None:
    out = run(cli_home, "--as", "rita", "file", "infra", "Builders slow to start").stdout
    assert "filed INFRA-" in out and "weekly triage backlog: no queue criterion ticked" in out
    ticked = run(
        cli_home, "--as", "rita", "file", "infra", "Dashboard is down", "--criterion", URGENT
    ).stdout
    assert "weekly triage backlog" not in ticked
    shown = json.loads(run(cli_home, "--json", "queue", "infra", "--backlog").stdout)
    assert any(t["title"] == "Builders slow to start" for t in shown["items"])
