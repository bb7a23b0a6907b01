"""Suggested team, kind and priority on a real database: learned as tickets are triaged,
never applied by themselves, outcomes recorded and reported, the rebuild recounts exactly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dutydesk.state import AppState
from dutydesk.triage.models import LearnedClass, LearnedTerm
from tests.conftest import Api, ManualClock

HISTORY = [
    ("Android push notifications arrive twice", "mobile", "P2"),
    ("Push notification badge wrong on android tablets", "mobile", "P2"),
    ("iOS push notifications delayed by minutes", "mobile", "P1"),
    ("Playbook checklist items lose their order", "playbooks", "P3"),
    ("Playbook run timeline misses checklist updates", "playbooks", "P3"),
    ("Channel sidebar crashes with many pinned messages", "channels", "P1"),
]


def _triaged(api: Api, clock: ManualClock, title: str, team: str, priority: str) -> dict[str, Any]:
    clock.advance(minutes=1)
    t = api.file(desk="set", title=title)
    r = api.post("finn", f"/api/v1/tickets/{t['key']}/triage", {"team": team, "priority": priority})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _counts(state: AppState) -> tuple[list[Any], list[Any]]:
    with state.db.read() as s:
        terms = s.execute(
            select(LearnedTerm.field, LearnedTerm.value, LearnedTerm.term, LearnedTerm.count)
            .where(LearnedTerm.count != 0)
            .order_by(LearnedTerm.field, LearnedTerm.value, LearnedTerm.term)
        ).all()
        classes = s.execute(
            select(LearnedClass.field, LearnedClass.value, LearnedClass.tickets, LearnedClass.words)
            .where(LearnedClass.field != "vocabulary", LearnedClass.tickets != 0)
            .order_by(LearnedClass.field, LearnedClass.value)
        ).all()
    return [tuple(r) for r in terms], [tuple(r) for r in classes]


def test_suggestions_learn_from_each_triage_and_are_never_applied(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    assert api.req("sam", "GET", "/api/v1/desks/set/suggestions?title=android push").json() == []
    for title, team, priority in HISTORY:
        _triaged(api, clock, title, team, priority)
    r = api.req("sam", "GET", "/api/v1/desks/set/suggestions?title=push notifications on android")
    assert r.status_code == 200, r.text
    got = {s["field"]: s for s in r.json()}
    assert got["team"]["value"] == "mobile" and 0 < got["team"]["confidence"] <= 1
    assert got["team"]["based_on"] == len(HISTORY)
    assert got["kind"]["value"] == "bug"
    assert got["priority"]["value"] in {"P1", "P2"}
    got = {
        s["field"]: s["value"]
        for s in api.req(
            "sam", "GET", "/api/v1/desks/set/suggestions?title=playbook checklist order"
        ).json()
    }
    assert got["team"] == "playbooks"

    clock.advance(minutes=1)
    new = api.file(desk="set", title="Android push notifications arrive late")
    shown = {
        s["field"]: s["value"]
        for s in api.req("finn", "GET", f"/api/v1/tickets/{new['key']}/suggestions").json()
    }
    assert shown["team"] == "mobile"
    ticket = api.req("finn", "GET", f"/api/v1/tickets/{new['key']}").json()
    assert ticket["team"] is None and ticket["priority"] is None  # suggested, not applied

    # one triager accepts the team, another overrides it
    r = api.post(
        "finn", f"/api/v1/tickets/{new['key']}/triage", {"team": "mobile", "priority": "P2"}
    )
    assert r.status_code == 200, r.text
    clock.advance(minutes=1)
    other = api.file(desk="set", title="Android push notifications in channels arrive late")
    r = api.post(
        "finn", f"/api/v1/tickets/{other['key']}/triage", {"team": "channels", "priority": "P2"}
    )
    assert r.status_code == 200, r.text
    events = api.req("finn", "GET", f"/api/v1/tickets/{other['key']}/events").json()["items"]
    [triaged] = [e for e in events if e["type"] == "triaged"]
    assert triaged["data"]["suggestions"]["team"]["suggested"] == "mobile"
    assert triaged["data"]["suggestions"]["team"]["accepted"] is False

    r = api.req("eva", "GET", "/api/v1/desks/set/suggestions/accuracy")
    assert r.status_code == 200, r.text
    acc = {f["field"]: f for f in r.json()["fields"]}
    assert r.json()["learned_from"] == len(HISTORY) + 2
    assert acc["team"]["accepted"] >= 1 and acc["team"]["overridden"] >= 1
    assert 0 < acc["team"]["accuracy"] < 1


def test_a_re_triage_moves_the_counts_and_a_rebuild_recounts_the_same(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    tickets = [_triaged(api, clock, *h) for h in HISTORY]
    r = api.post(
        "finn",
        f"/api/v1/tickets/{tickets[0]['key']}/triage",
        {"team": "channels", "priority": "P1"},
    )
    assert r.status_code == 200, r.text
    incremental = _counts(state)
    teams = {v: n for f, v, n, _ in incremental[1] if f == "team"}
    assert teams == {"mobile": 2, "playbooks": 2, "channels": 2}
    assert api.post("finn", "/api/v1/desks/set/suggestions/rebuild").status_code == 403
    r = api.post("eva", "/api/v1/desks/set/suggestions/rebuild")
    assert r.status_code == 200, r.text
    assert r.json() == {"desk": "set", "learned_from": len(HISTORY)}
    assert _counts(state) == incremental
