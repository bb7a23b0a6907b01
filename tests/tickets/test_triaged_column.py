"""Triaged means triaged: the Triaged column and the triage stamp never disagree, over HTTP."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, ManualClock


def _clocks(t: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in t["clocks"] if c["name"] == name]


def test_a_move_to_triaged_without_priority_is_refused(api: Api) -> None:
    key = api.file()["key"]
    r = api.post("ana", f"/api/v1/tickets/{key}/move", {"to": "Triaged"})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["rule"] == "triage-needs-priority"
    assert f"dutydesk triage {key} --priority" in problem["detail"]
    assert "Triaged" not in problem["allowed"]
    t = api.req("ana", "GET", f"/api/v1/tickets/{key}").json()
    assert (t["status"], t["triaged_at"]) == ("New", None)


def test_triage_without_a_priority_is_refused_naming_the_field(api: Api) -> None:
    key = api.file()["key"]
    r = api.post("ana", f"/api/v1/tickets/{key}/triage", {"assignee": "bo"})
    assert r.status_code == 422
    assert "triage needs 'priority'" in r.json()["detail"]


def test_with_a_priority_the_move_is_the_triage(api: Api, clock: ManualClock) -> None:
    key = api.file()["key"]
    clock.advance(hours=1)
    r = api.req("ana", "PATCH", f"/api/v1/tickets/{key}", json={"priority": "P1"})
    assert r.status_code == 200 and r.json()["triaged_at"] is None
    r = api.post("ana", f"/api/v1/tickets/{key}/move", {"to": "Triaged"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["triaged_at"] is not None and t["triaged_by"] == "ana"
    [triage] = _clocks(t, "triage")
    assert (triage["state"], triage["stopped_by"]) == ("met", "triaged")
    events = [
        e["type"] for e in api.req("ana", "GET", f"/api/v1/tickets/{key}/events").json()["items"]
    ]
    assert "triaged" in events  # the reporter hears of it like any triage


def test_back_to_new_undoes_the_triage_and_restarts_its_clock(api: Api, clock: ManualClock) -> None:
    key = api.file()["key"]  # Monday 09:00 Pacific
    api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": "P1", "assignee": "bo"})
    api.post("bo", f"/api/v1/tickets/{key}/move", {"to": "In progress"})
    clock.advance(hours=5)  # Monday 14:00: bo can no longer work on it
    r = api.post("bo", f"/api/v1/tickets/{key}/move", {"to": "Triaged"})
    assert r.status_code == 200
    r = api.post("bo", f"/api/v1/tickets/{key}/move", {"to": "New"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["status"], t["triaged_at"], t["triaged_by"], t["assignee"]) == (
        "New",
        None,
        None,
        None,
    )
    assert t["priority"] == "P1"  # kept for the next triage to validate
    running = [c for c in _clocks(t, "triage") if c["state"] == "running"]
    # Filed again at 14:00 while open: 4 business hours later, Tuesday 10:00 Pacific.
    assert [c["due_at"][:19] for c in running] == ["2026-11-24T18:00:00"]
    again = api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": "P0", "assignee": "chen"})
    assert again.status_code == 200 and again.json()["status"] == "Triaged"


def test_a_triaged_ticket_keeps_a_priority(api: Api) -> None:
    key = api.file()["key"]
    api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": "P1"})
    r = api.req("ana", "PATCH", f"/api/v1/tickets/{key}", json={"priority": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "priority"
