"""Possible duplicates everywhere, on a real database: the API routes, the filing hints, the
CLI; never the ticket itself, never a later ticket, never words of an internal comment."""

from __future__ import annotations

from typing import Any

from dutydesk.state import AppState
from dutydesk.triage.service import similar_open_tickets
from tests.conftest import Api, ManualClock


def _file(api: Api, clock: ManualClock, title: str, body: str = "", **kw: Any) -> dict[str, Any]:
    clock.advance(minutes=1)
    return api.file(title=title, description=body, **kw)


def test_a_draft_finds_earlier_tickets_of_its_desk_with_the_words_that_match(
    api: Api, clock: ManualClock
) -> None:
    builder = _file(api, clock, "Add a LUCI builder for linux web engine", "release blocked")
    _file(api, clock, "Linux bots are slow")
    _file(api, clock, "Quota for the emulator pool")
    _file(api, clock, "Linux builder crash on the web engine", desk="set")  # another desk
    clock.advance(minutes=1)
    r = api.req("ana", "GET", "/api/v1/desks/infra/similar?title=linux web engine builder&limit=3")
    assert r.status_code == 200, r.text
    found = r.json()
    first = found[0]
    assert first["key"] == builder["key"] and first["open"] and first["status"] == "New"
    assert {"linux", "web", "engine", "builder"} <= set(first["words"])
    assert first["external_id"] is None and first["score"] >= 0
    assert all(f["key"].startswith("INFRA-") for f in found)
    # before: only tickets filed earlier than the given instant
    r = api.req(
        "ana",
        "GET",
        f"/api/v1/desks/infra/similar?title=linux builder&before={builder['created_at']}",
    )
    assert r.status_code == 200 and r.json() == []


def test_a_ticket_never_suggests_itself_or_a_later_ticket(api: Api, clock: ManualClock) -> None:
    first = _file(api, clock, "Emulator quota exhausted in us-east pool")
    second = _file(api, clock, "Emulator quota exhausted again in the us-east pool")
    third = _file(api, clock, "Emulator quota exhausted for us-east emulators")
    r = api.req("ana", "GET", f"/api/v1/tickets/{second['key']}/similar")
    assert r.status_code == 200
    assert [f["key"] for f in r.json()] == [first["key"]]
    r = api.req("ana", "GET", f"/api/v1/tickets/{first['key']}/similar")
    assert r.json() == []
    keys = [
        f["key"] for f in api.req("ana", "GET", f"/api/v1/tickets/{third['key']}/similar").json()
    ]
    assert set(keys) == {first["key"], second["key"]}


def test_open_tickets_come_before_closed_ones(api: Api, clock: ManualClock) -> None:
    closed = _file(api, clock, "Gallery startup is slow on devicelab bot 7", "startup slow gallery")
    r = api.post(
        "ana", f"/api/v1/tickets/{closed['key']}/move", {"to": "Done", "resolution": "fixed"}
    )
    assert r.status_code == 200, r.text
    still_open = _file(api, clock, "Gallery startup slow on bot 9")
    clock.advance(minutes=1)
    found = api.req(
        "ana",
        "GET",
        "/api/v1/desks/infra/similar?title=gallery startup slow devicelab bot 7&limit=5",
    ).json()
    assert [(f["key"], f["open"]) for f in found] == [
        (still_open["key"], True),
        (closed["key"], False),
    ]


def test_internal_comments_never_feed_suggestions(api: Api, clock: ManualClock) -> None:
    t = _file(api, clock, "Builder config for release branch")
    r = api.post(
        "ana",
        f"/api/v1/tickets/{t['key']}/comments",
        {"body": "zanzibar credentials rotated", "public": False},
    )
    assert r.status_code in (200, 201), r.text
    r = api.post(
        "ana",
        f"/api/v1/tickets/{t['key']}/comments",
        {"body": "kilimanjaro config merged", "public": True},
    )
    assert r.status_code in (200, 201), r.text
    clock.advance(minutes=1)
    assert (
        api.req("rita", "GET", "/api/v1/desks/infra/similar?title=zanzibar credentials").json()
        == []
    )
    found = api.req("rita", "GET", "/api/v1/desks/infra/similar?title=kilimanjaro").json()
    assert [f["key"] for f in found] == [t["key"]]
    # an edit re-indexes the ticket from its description and public comments only
    r = api.req(
        "ana",
        "PATCH",
        f"/api/v1/tickets/{t['key']}",
        json={"title": "Builder config for release branches"},
    )
    assert r.status_code == 200, r.text
    assert (
        api.req("rita", "GET", "/api/v1/desks/infra/similar?title=zanzibar credentials").json()
        == []
    )


def test_filing_answers_with_hints(api: Api, clock: ManualClock) -> None:
    earlier = _file(api, clock, "Android push notifications arrive twice", desk="set")
    clock.advance(minutes=1)
    r = api.post(
        "rita", "/api/v1/desks/set/tickets", {"title": "push notifications twice on android"}
    )
    assert r.status_code == 201, r.text
    hints = r.json()["hints"]
    assert hints["title"] is None
    assert [s["key"] for s in hints["similar"]] == [earlier["key"]]
    r = api.post("rita", "/api/v1/desks/set/tickets", {"title": "quick request"})
    assert r.status_code == 201 and "what and where" in r.json()["hints"]["title"]
    # a bulk client may skip them
    r = api.post("rita", "/api/v1/desks/set/tickets?hints=false", {"title": "quick request"})
    assert r.status_code == 201 and "hints" not in r.json()


def test_bad_input_is_a_problem_naming_the_field(api: Api) -> None:
    r = api.req("ana", "GET", "/api/v1/desks/infra/similar")
    assert r.status_code == 422 and "title" in r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = api.req("ana", "GET", "/api/v1/desks/infra/similar?title=x&before=yesterday")
    assert r.status_code == 422 and "before" in r.text
    r = api.req("ana", "GET", "/api/v1/desks/nope/similar?title=x")
    assert r.status_code == 404


def test_the_filing_form_lists_open_tickets_only(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    builder = _file(api, clock, "Add a LUCI builder for linux web engine")
    closed = _file(api, clock, "Web engine builder for linux again")
    api.post(
        "ana", f"/api/v1/tickets/{closed['key']}/move", {"to": "Done", "resolution": "wont-fix"}
    )
    clock.advance(minutes=1)
    with state.db.read() as s:
        found = similar_open_tickets(s, "infra", "linux web engine builder", clock.now)
    assert [t.key for t in found] == [builder["key"]]
