"""The workflow rules, driven through the HTTP API on a real database."""

from __future__ import annotations

from sqlalchemy import func, select

from dutydesk.tickets.models import Event, Ticket
from tests.conftest import Api


def test_file_ticket_gets_desk_key_version_and_filed_event(api: Api) -> None:
    t = api.file(
        description="Why: *release* <script>alert(1)</script>",
        criteria=["Build break or regression"],
    )
    assert t["key"] == "INFRA-1" and t["version"] == 1
    assert t["status"] == "New" and t["priority"] is None and t["reporter"] == "rita"
    assert "<script>" not in t["description_html"] and "<em>release</em>" in t["description_html"]
    t2 = api.file(desk="set", title="Crash when opening a channel", kind="bug")
    assert t2["key"] == "SET-1"
    events = api.req("rita", "GET", "/api/v1/tickets/INFRA-1/events").json()["items"]
    assert [e["type"] for e in events] == ["filed"] and events[0]["actor"] == "rita"


def test_filing_answers_exactly_what_a_read_returns(api: Api) -> None:
    """Filing builds its response from what it wrote, without reading the ticket back: it
    must agree with GET field for field (clocks, watchers, names, labels, queue class)."""
    filed = api.file(
        "eva",
        desk="set",
        title="Crash when opening a channel",
        kind="bug",
        labels=["community-server", "crash"],
        criteria=[],
        priority="P1",
        assignee="finn",
        team="channels",
        fix_target="hotfix",
        customer_reported=True,
    )
    read = api.req("eva", "GET", f"/api/v1/tickets/{filed['key']}")
    assert read.status_code == 200
    # The ticket, plus hints: no description, so every prompt of SET's template is open.
    prompts = ["Steps to reproduce", "Expected", "Actual", "Version"]
    assert filed.pop("hints") == {"title": None, "sections": prompts, "similar": []}
    assert filed == read.json()
    assert filed["assignee"] == "finn" and filed["watchers"] == ["eva"]
    infra = api.file(description="Why: release blocked.")
    infra.pop("hints")
    assert infra["clocks"], "the infra desk starts its triage clock at filing"
    assert infra == api.req("rita", "GET", f"/api/v1/tickets/{infra['key']}").json()


def test_reporter_cannot_set_priority_or_assignee(api: Api) -> None:
    for field, value in (("priority", "P0"), ("assignee", "ana")):
        r = api.post("rita", "/api/v1/desks/infra/tickets", {"title": "Urgent thing", field: value})
        assert r.status_code == 403
        assert field in r.json()["detail"]
    assert api.req("ana", "GET", "/api/v1/tickets").json()["items"] == []


def test_in_progress_requires_assignee_and_done_requires_resolution(api: Api) -> None:
    api.file()
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "In progress"})
    assert r.status_code == 409
    body = r.json()
    assert body["rule"] == "assignee-required" and "assign" in body["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "Done"})
    assert r.status_code == 409 and body["type"] == "/problems/workflow-rule"
    assert r.json()["rule"] == "resolution-required" and "fixed" in r.json()["resolutions"]
    api.post("ana", "/api/v1/tickets/INFRA-1/assign", {"assignee": "bo"})
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "In progress"})
    assert r.status_code == 200 and r.json()["started_at"]
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "Done", "resolution": "fixed"})
    assert r.status_code == 200
    t = r.json()
    assert t["open"] is False and t["in_queue"] is False and t["resolved_at"]


def test_moves_follow_the_columns(api: Api) -> None:
    api.file()
    api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "Done", "resolution": "wont-fix"})
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "In progress"})
    assert r.status_code == 409 and r.json()["allowed"] == ["New"]
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "Nowhere"})
    assert r.status_code == 422 and "New, Triaged" in r.json()["detail"]
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "New"})
    assert r.status_code == 200 and r.json()["resolution"] is None


def test_unassigning_in_progress_sends_ticket_back_to_first_column(api: Api) -> None:
    api.file()
    api.post("ana", "/api/v1/tickets/INFRA-1/assign", {"assignee": "bo"})
    api.post("bo", "/api/v1/tickets/INFRA-1/move", {"to": "In progress"})
    r = api.post("bo", "/api/v1/tickets/INFRA-1/assign", {"assignee": None})
    assert r.status_code == 200
    assert r.json()["status"] == "New" and r.json()["assignee"] is None
    events = api.req("bo", "GET", "/api/v1/tickets/INFRA-1/events").json()["items"]
    assert any(e["type"] == "returned" for e in events)


def test_assignee_must_be_a_responder_of_the_desk(api: Api) -> None:
    api.file()
    for who in ("rita", "eva", "nobody"):
        r = api.post("ana", "/api/v1/tickets/INFRA-1/assign", {"assignee": who})
        assert r.status_code == 422, who
        assert r.json()["errors"][0]["field"] == "assignee"


def test_duplicate_requires_an_existing_other_ticket_and_links_both(api: Api) -> None:
    api.file(title="Build dashboard is down")
    api.file(title="Dashboard down again")
    r = api.post("ana", "/api/v1/tickets/INFRA-2/move", {"to": "Done", "resolution": "duplicate"})
    assert r.status_code == 409 and r.json()["rule"] == "duplicate-needs-original"
    r = api.post(
        "ana",
        "/api/v1/tickets/INFRA-2/move",
        {"to": "Done", "resolution": "duplicate", "duplicate_of": "INFRA-2"},
    )
    assert r.status_code == 409 and r.json()["rule"] == "duplicate-of-itself"
    r = api.post(
        "ana",
        "/api/v1/tickets/INFRA-2/move",
        {"to": "Done", "resolution": "duplicate", "duplicate_of": "INFRA-99"},
    )
    assert r.status_code == 422
    r = api.post(
        "ana",
        "/api/v1/tickets/INFRA-2/move",
        {"to": "Done", "resolution": "duplicate", "duplicate_of": "infra-1"},
    )
    assert r.status_code == 200 and r.json()["duplicate_of"] == "INFRA-1"
    original = api.req("ana", "GET", "/api/v1/tickets/INFRA-1/comments").json()["items"]
    dup = api.req("ana", "GET", "/api/v1/tickets/INFRA-2/comments").json()["items"]
    assert "INFRA-2" in original[0]["body"] and "INFRA-1" in dup[0]["body"]
    # A cycle is refused: INFRA-1 cannot become a duplicate of its own duplicate.
    r = api.post(
        "ana",
        "/api/v1/tickets/INFRA-1/move",
        {"to": "Done", "resolution": "duplicate", "duplicate_of": "INFRA-2"},
    )
    assert r.status_code == 409 and r.json()["rule"] == "duplicate-cycle"


def test_block_needs_reason_and_unblock_records_who(api: Api) -> None:
    api.file()
    r = api.post("ana", "/api/v1/tickets/INFRA-1/block", {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = api.post("ana", "/api/v1/tickets/INFRA-1/block", {"reason": "waiting on quota"})
    assert r.json()["blocked"] and r.json()["blocked_by"] == "ana"
    r = api.post("bo", "/api/v1/tickets/INFRA-1/unblock")
    assert r.status_code == 200 and not r.json()["blocked"]
    events = api.req("bo", "GET", "/api/v1/tickets/INFRA-1/events").json()["items"]
    unblocked = next(e for e in events if e["type"] == "unblocked")
    assert unblocked["actor"] == "bo" and unblocked["data"]["reason"] == "waiting on quota"
    assert api.post("bo", "/api/v1/tickets/INFRA-1/unblock").status_code == 409


def test_triage_does_the_checklist_atomically(api: Api) -> None:
    api.file(title="quick request")
    r = api.post(
        "ana",
        "/api/v1/tickets/INFRA-1/triage",
        {
            "priority": "P1",
            "title": "Add a LUCI builder for mac web engine",
            "team": "infra",
            "assignee": "bo",
            "category": "config-request",
        },
    )
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["status"], t["priority"], t["assignee"], t["triaged_by"]) == (
        "Triaged",
        "P1",
        "bo",
        "ana",
    )
    assert t["title"].startswith("Add a LUCI") and t["triaged_at"]
    # A bad field anywhere refuses the whole triage: nothing half-written.
    api.file(title="Another request")
    r = api.post("ana", "/api/v1/tickets/INFRA-2/triage", {"priority": "P1", "assignee": "rita"})
    assert r.status_code == 422
    t2 = api.req("ana", "GET", "/api/v1/tickets/INFRA-2").json()
    assert t2["priority"] is None and t2["status"] == "New" and t2["version"] == 1


def test_triage_as_duplicate_closes_with_reference(api: Api) -> None:
    api.file(title="Build dashboard is down")
    api.file(title="Dashboard is down")
    r = api.post("ana", "/api/v1/tickets/INFRA-2/triage", {"duplicate_of": "INFRA-1"})
    assert r.status_code == 200
    t = r.json()
    assert t["status"] == "Done" and t["resolution"] == "duplicate" and t["triaged_by"] == "ana"


def test_triage_below_admission_moves_to_backlog_not_lost(api: Api) -> None:
    api.file()
    r = api.post("ana", "/api/v1/tickets/INFRA-1/triage", {"priority": "P3"})
    assert r.json()["in_queue"] is False and r.json()["open"] is True
    assert api.req("ana", "GET", "/api/v1/desks/infra/queue").json()["items"] == []
    backlog = api.req("ana", "GET", "/api/v1/desks/infra/queue?backlog=true").json()["items"]
    assert [t["key"] for t in backlog] == ["INFRA-1"]
    found = api.req("ana", "GET", "/api/v1/tickets?desk=infra&in_queue=false&open=true").json()
    assert [t["key"] for t in found["items"]] == ["INFRA-1"]
    events = api.req("ana", "GET", "/api/v1/tickets/INFRA-1/events").json()["items"]
    admission = [e for e in events if e["type"] == "admission"]
    assert admission and admission[0]["data"]["to"] == "backlog"


def test_set_triage_routes_and_converts_non_bugs(api: Api) -> None:
    api.file(desk="set", title="Add a setting to hide the channel intro", kind="bug")
    r = api.post(
        "eva",
        "/api/v1/tickets/SET-1/triage",
        {"priority": "P3", "kind": "feature-request", "team": "channels"},
    )
    assert r.status_code == 200 and r.json()["kind"] == "feature-request"
    assert r.json()["status"] == "To do"  # SET has no Triaged column
    types = [
        e["type"] for e in api.req("eva", "GET", "/api/v1/tickets/SET-1/events").json()["items"]
    ]
    assert "converted" in types


def test_every_change_writes_events_with_gapless_sequence(api: Api, state: object) -> None:
    api.file()
    api.post("ana", "/api/v1/tickets/INFRA-1/triage", {"priority": "P0", "assignee": "bo"})
    api.post("bo", "/api/v1/tickets/INFRA-1/comments", {"body": "Looking"})
    api.post("bo", "/api/v1/tickets/INFRA-1/move", {"to": "In progress"})
    events = api.req("bo", "GET", "/api/v1/tickets/INFRA-1/events").json()["items"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    fields = {e["field"] for e in events if e["type"] == "changed"}
    assert {"priority", "assignee", "status", "triaged_at"} <= fields
    status = [e for e in events if e["field"] == "status"]
    assert (status[-1]["before"], status[-1]["after"]) == ("Triaged", "In progress")


def test_patch_honours_if_match_and_reports_stale_versions(api: Api) -> None:
    t = api.file()
    r = api.req(
        "ana",
        "PATCH",
        "/api/v1/tickets/INFRA-1",
        json={"priority": "P1"},
        headers={"If-Match": f'"{t["version"]}"'},
    )
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    r = api.req(
        "bo",
        "PATCH",
        "/api/v1/tickets/INFRA-1",
        json={"priority": "P0"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 412 and r.json()["current_version"] == 2
    assert api.req("bo", "GET", "/api/v1/tickets/INFRA-1").json()["priority"] == "P1"


def test_reporter_may_edit_own_words_only(api: Api) -> None:
    api.file()
    r = api.req("rita", "PATCH", "/api/v1/tickets/INFRA-1", json={"description": "more detail"})
    assert r.status_code == 200
    r = api.req("rita", "PATCH", "/api/v1/tickets/INFRA-1", json={"priority": "P0"})
    assert r.status_code == 403
    r = api.req("sam", "PATCH", "/api/v1/tickets/INFRA-1", json={"title": "Hijacked title"})
    assert r.status_code == 403


def test_failed_request_writes_nothing(api: Api, state: object) -> None:
    from dutydesk.state import AppState

    assert isinstance(state, AppState)
    api.file()
    before = _counts(state)
    r = api.post(
        "ana",
        "/api/v1/tickets/INFRA-1/move",
        {"to": "Done", "resolution": "duplicate", "duplicate_of": "INFRA-1"},
    )
    assert r.status_code == 409
    assert _counts(state) == before


def _counts(state: object) -> tuple[int, int, int]:
    from dutydesk.state import AppState

    assert isinstance(state, AppState)
    with state.db.read() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == 1))
        assert t is not None
        return (s.scalar(select(func.count()).select_from(Event)) or 0, t.version, t.event_seq)
