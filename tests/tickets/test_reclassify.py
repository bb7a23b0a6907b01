"""Reclassifying after filing, triager fields at filing, routing out of SET's queue, converting
to another desk and watching: through the HTTP API on a real database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dutydesk.state import AppState
from dutydesk.tickets import workflow
from dutydesk.tickets.models import Comment, Event, Ticket, Watcher
from tests.conftest import Api


def _get(api: Api, key: str, user: str = "eva") -> dict[str, Any]:
    r = api.req(user, "GET", f"/api/v1/tickets/{key}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _patch(api: Api, key: str, body: dict[str, Any], user: str = "eva", **kw: Any) -> Any:
    return api.req(user, "PATCH", f"/api/v1/tickets/{key}", json=body, **kw)


def _queue_keys(api: Api, desk: str, backlog: bool = False) -> list[str]:
    r = api.req("eva", "GET", f"/api/v1/desks/{desk}/queue", params={"backlog": backlog})
    assert r.status_code == 200, r.text
    return [t["key"] for t in r.json()["items"]]


# ----------------------------------------------------------------------------- triager fields


def test_triager_labels_come_from_the_priority_of_work(api: Api, state: AppState) -> None:
    assert workflow.triager_labels(state.policy.desks["set"]) == ["community-server"]
    assert workflow.triager_labels(state.policy.desks["infra"]) == []
    found = workflow.triager_filing_values(
        state.policy.desks["set"], ["crash", "community-server"], "release"
    )
    assert found == [("labels", "community-server"), ("fix_target", "release")]
    assert workflow.triager_filing_values(state.policy.desks["set"], ["crash"], "none") == []


def test_a_reporter_cannot_jump_the_priority_of_work_at_filing(api: Api) -> None:
    for body, field in (
        ({"labels": ["crash", "community-server"]}, "labels"),
        ({"fix_target": "hotfix"}, "fix_target"),
        ({"fix_target": "release"}, "fix_target"),
    ):
        r = api.req(
            "rita",
            "POST",
            "/api/v1/desks/set/tickets",
            json={"title": "Crash when opening a channel", "kind": "bug", **body},
        )
        assert r.status_code == 403, r.text
        problem = r.json()
        assert problem["errors"][0]["field"] == field
        assert "triager" in problem["detail"] and "priority of work" in problem["detail"]
    # An ordinary label and "none" are the reporter's to give; a responder may set all of it.
    ok = api.file(desk="set", title="Crash when opening a channel", labels=["crash"])
    assert ok["labels"] == ["crash"] and ok["fix_target"] == "none"
    none = api.file(desk="set", title="Crash when opening a DM", fix_target="none")
    assert none["fix_target"] == "none"
    top = api.file(
        "eva", desk="set", title="Server crash loop", kind="bug", labels=["community-server"]
    )
    assert top["queue_class"] == "community-quality"


def test_nothing_is_written_when_filing_is_refused(api: Api, state: AppState) -> None:
    r = api.req(
        "rita",
        "POST",
        "/api/v1/desks/set/tickets",
        json={"title": "Crash when opening a channel", "labels": ["community-server"]},
    )
    assert r.status_code == 403
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0


# ----------------------------------------------------------------------------- reclassifying


def test_a_responder_reclassifies_every_field_after_filing(api: Api) -> None:
    key = api.file(desk="set", title="Crash when opening a channel", kind="question")["key"]
    before = _get(api, key)
    assert before["queue_class"] is None
    body = {
        "title": "Crash when opening a pinned channel",
        "description": "Steps to reproduce:\n\n- open\n- pin",
        "kind": "bug",
        "category": "crash",
        "labels": ["community-server", "ios"],
        "fix_target": "hotfix",
        "customer_reported": True,
        "pr_links": ["https://github.com/example/app/pull/12"],
        "watchers": ["rita", "finn"],
    }
    r = _patch(api, key, body, headers={"If-Match": f'"{before["version"]}"'})
    assert r.status_code == 200, r.text
    after = r.json()
    for field, value in body.items():
        if field == "watchers":
            assert after[field] == sorted(value)
        elif field != "description":
            assert after[field] == value, field
    assert after["queue_class"] == "community-quality"
    assert "<li>open</li>" in after["description_html"]
    # A stale version is a 412 and changes nothing.
    stale = _patch(api, key, {"fix_target": "release"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert _get(api, key)["fix_target"] == "hotfix"
    events = api.req("eva", "GET", f"/api/v1/tickets/{key}/events").json()["items"]
    changed = {e["field"] for e in events if e["type"] == "changed"}
    assert {"fix_target", "labels", "customer_reported", "pr_links", "watchers"} <= changed
    assert all(e["actor"] == "eva" for e in events if e["type"] == "changed")


def test_a_reporter_edits_words_but_not_triager_fields(api: Api) -> None:
    key = api.file(desk="set", title="Crash when opening a channel")["key"]
    ok = _patch(api, key, {"description": "Expected: no crash"}, user="rita")
    assert ok.status_code == 200, ok.text
    for body in ({"fix_target": "hotfix"}, {"labels": ["community-server"]}):
        r = _patch(api, key, body, user="rita")
        assert r.status_code == 403, r.text
        assert next(iter(body)) in r.json()["detail"]
    assert _get(api, key)["fix_target"] == "none"


# ----------------------------------------------------------------------------- routing


def test_routing_to_a_feature_team_leaves_sets_queue_for_the_teams_view(api: Api) -> None:
    key = api.file(desk="set", title="Crash when opening a channel", kind="bug")["key"]
    assert key in _queue_keys(api, "set")
    r = api.post("eva", f"/api/v1/tickets/{key}/triage", {"priority": "P2", "team": "channels"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["in_queue"] is False and "routed to team channels" in t["admission"]
    assert key not in _queue_keys(api, "set")
    view = api.req("eva", "GET", "/api/v1/saved-filters/set-channels/tickets").json()
    assert [x["key"] for x in view["items"]] == [key]
    other = api.req("eva", "GET", "/api/v1/saved-filters/set-mobile/tickets").json()
    assert other["items"] == []
    events = api.req("eva", "GET", f"/api/v1/tickets/{key}/events").json()["items"]
    admission = [e for e in events if e["type"] == "admission"]
    assert admission[-1]["data"]["to"] == "team:channels"
    # No feature team owns it after all: routed to SET, it is back in SET's To do.
    back = _patch(api, key, {"team": "set"})
    assert back.status_code == 200 and back.json()["in_queue"] is True
    assert key in _queue_keys(api, "set")


def test_queue_teams_must_be_teams_of_the_desk(state: AppState) -> None:
    from pydantic import ValidationError

    from dutydesk.policy.models import DeskPolicy

    try:
        DeskPolicy(columns=["To do", "Done"], teams=["a"], queue_teams=["b"])
    except ValidationError as exc:
        assert "queue_teams names 'b'" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a queue team outside teams was accepted")


# ----------------------------------------------------------------------------- converting


def test_converting_sends_a_linked_ticket_to_product_in_one_action(
    api: Api, state: AppState
) -> None:
    src = api.file(desk="set", title="Let admins pin messages", kind="question", labels=["pins"])
    key = src["key"]
    # No triage, no priority first.
    r = api.post("eva", f"/api/v1/tickets/{key}/convert", {"kind": "story", "note": "for PM"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "Done" and closed["resolution"] == "converted"
    assert closed["priority"] is None and closed["kind"] == "story"
    new_key = closed["converted_to"]
    assert new_key == "PRODUCT-1"
    new = _get(api, new_key)
    assert new["converted_from"] == key and new["desk"] == "product"
    assert new["kind"] == "story" and new["title"] == src["title"]
    assert new["reporter"] == "rita" and "rita" in new["watchers"]
    assert new["labels"] == ["pins"] and new["open"]
    with state.db.read() as s:
        bodies = [c.body for c in s.scalars(select(Comment).order_by(Comment.id))]
    assert any(f"Converted to {new_key}" in b and "for PM" in b for b in bodies)
    assert any(f"Converted from {key}" in b for b in bodies)
    events = api.req("eva", "GET", f"/api/v1/tickets/{key}/events").json()["items"]
    linked = [e for e in events if e["type"] == "linked"]
    assert linked[0]["after"] == new_key and linked[0]["actor"] == "eva"
    # Converting again is refused: it is done.
    again = api.post("eva", f"/api/v1/tickets/{key}/convert", {"kind": "story"})
    assert again.status_code == 409


def test_a_refused_conversion_writes_nothing(api: Api, state: AppState) -> None:
    key = api.file(desk="set", title="Let admins pin messages", kind="question")["key"]
    with state.db.read() as s:
        before = (
            s.scalar(select(func.count()).select_from(Ticket)),
            s.scalar(select(func.count()).select_from(Event)),
        )
    for body, status in (
        ({"kind": "bug"}, 422),  # not a conversion kind
        ({"kind": "story", "desk": "infra"}, 422),  # infra has no stories
        ({"kind": "story", "desk": "nowhere"}, 404),
    ):
        r = api.post("eva", f"/api/v1/tickets/{key}/convert", body)
        assert r.status_code == status, (body, r.text)
    reporter = api.post("rita", f"/api/v1/tickets/{key}/convert", {"kind": "story"})
    assert reporter.status_code == 403
    with state.db.read() as s:
        after = (
            s.scalar(select(func.count()).select_from(Ticket)),
            s.scalar(select(func.count()).select_from(Event)),
        )
    assert after == before


def test_converting_in_place_keeps_the_ticket_open(api: Api) -> None:
    key = api.file(desk="set", title="Let admins pin messages", kind="question")["key"]
    r = api.post("eva", f"/api/v1/tickets/{key}/convert", {"kind": "story", "desk": "set"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["kind"] == "story" and t["open"] and t["converted_to"] is None


# ----------------------------------------------------------------------------- watching


def test_anyone_who_reads_a_ticket_watches_and_unwatches_it(api: Api, state: AppState) -> None:
    key = api.file(desk="set", title="Crash when opening a channel")["key"]
    r = api.post("sam", f"/api/v1/tickets/{key}/watch", {"watch": True})
    assert r.status_code == 200, r.text
    assert "sam" in r.json()["watchers"]
    version = r.json()["version"]
    again = api.post("sam", f"/api/v1/tickets/{key}/watch", {"watch": True})
    assert again.json()["version"] == version  # nothing to do, nothing written
    off = api.post("sam", f"/api/v1/tickets/{key}/watch", {"watch": False})
    assert "sam" not in off.json()["watchers"]
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Watcher)) == 1  # rita only
    # Setting someone else's watch list stays a responder's edit.
    r = _patch(api, key, {"watchers": ["rita", "sam"]}, user="sam")
    assert r.status_code == 403


def test_an_unattended_filing_drops_triager_fields_and_says_so(state: AppState) -> None:
    """A webhook (GitHub) cannot be asked again: the ranking fields are left out, not the
    ticket, and its history says what was left out."""
    from dutydesk.auth.service import user_by_name
    from dutydesk.tickets import filing
    from dutydesk.tickets.schemas import FileTicket

    with state.db.read() as s:
        rita = user_by_name(s, "rita")
    data = FileTicket(
        title="Crash on the community server",
        labels=["community-server", "crash"],
        fix_target="hotfix",
    )
    with state.write(rita) as ctx:
        filed = filing.file(ctx, "set", data, triager_fields="drop")
        key = filed.ticket.key
        assert filed.left_out and "community-server" in filed.left_out
    with state.db.read() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == 1, Ticket.desk == "set"))
        assert t is not None and t.key == key
        assert (t.labels, t.fix_target) == (["crash"], "none")
        note = s.scalar(select(Event.data).where(Event.ticket_id == t.id, Event.type == "filed"))
    assert "fix_target 'hotfix'" in note["left_out"]


def test_the_reporter_hears_where_a_converted_ticket_continues() -> None:
    from dutydesk.notify.rules import Change, describe

    change = Change(
        "linked", "converted_to", None, "PRODUCT-3", {"desk": "product", "kind": "story"}
    )
    assert describe(change, {}) == (
        "converted to story PRODUCT-3 on desk product: it continues there"
    )
