"""Who can read decides what can match: internal comments are searchable only by their readers."""

from __future__ import annotations

from typing import Any

import pytest

from dutydesk.state import AppState
from dutydesk.tickets import search
from tests.conftest import Api

SECRET = "xylophonist"  # a word that appears only in internal notes
OPEN_WORD = "marmalade"  # a word of a public comment


def _found(api: Api, user: str, q: str, **params: Any) -> list[str]:
    r = api.req(user, "GET", "/api/v1/tickets", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [t["key"] for t in r.json()["items"]]


@pytest.fixture
def noted(api: Api) -> Api:
    """INFRA-1 and SET-1, each with a public comment and an internal note by a responder."""
    api.file(title="Builder is slow", description="It takes an hour")
    api.file(desk="set", title="Push notifications late", kind="bug")
    for key, responder in (("INFRA-1", "ana"), ("SET-1", "finn")):
        r = api.post(responder, f"/api/v1/tickets/{key}/comments", {"body": f"{OPEN_WORD} ok"})
        assert r.status_code == 201, r.text
        r = api.post(
            responder,
            f"/api/v1/tickets/{key}/comments",
            {"body": f"Customer is a {SECRET}, do not tell", "public": False},
        )
        assert r.status_code == 201, r.text
    return api


def test_a_reporter_finds_nothing_by_any_prefix_of_an_internal_word(noted: Api) -> None:
    for n in range(1, len(SECRET) + 1):
        assert _found(noted, "rita", SECRET[:n]) == [], SECRET[:n]
        assert _found(noted, "rita", f"customer {SECRET[:n]}") == []
    assert _found(noted, "rita", OPEN_WORD) == ["SET-1", "INFRA-1"]
    assert _found(noted, "rita", "customer") == []  # "Customer" too is only internal


def test_responders_find_internal_words_on_their_own_desks_only(noted: Api) -> None:
    assert _found(noted, "ana", SECRET) == ["INFRA-1"]
    assert _found(noted, "ana", SECRET[:4]) == ["INFRA-1"]
    assert _found(noted, "finn", SECRET) == ["SET-1"]
    # Words from both documents of one ticket: all required, across public and internal text.
    assert _found(noted, "ana", f"{OPEN_WORD} {SECRET}") == ["INFRA-1"]
    assert _found(noted, "ana", f"{OPEN_WORD} {SECRET}", desk="set") == []
    assert sorted(_found(noted, "admin", SECRET)) == ["INFRA-1", "SET-1"]
    # Public words still match everywhere for everyone, once per ticket.
    assert _found(noted, "ana", OPEN_WORD) == ["SET-1", "INFRA-1"]
    assert _found(noted, "admin", OPEN_WORD) == ["SET-1", "INFRA-1"]


def test_rebuilding_the_document_keeps_internal_text_apart(noted: Api) -> None:
    r = noted.req("ana", "PATCH", "/api/v1/tickets/INFRA-1", json={"title": "Builder is slower"})
    assert r.status_code == 200, r.text
    assert _found(noted, "rita", SECRET) == []
    assert _found(noted, "rita", "slower") == ["INFRA-1"]
    assert _found(noted, "ana", f"slower {SECRET}") == ["INFRA-1"]


def test_saved_filters_search_as_their_reader(noted: Api, state: AppState) -> None:
    from dutydesk.tickets.models import SavedFilter

    with state.db.write() as s:
        s.add(SavedFilter(name="secret", query={"q": SECRET}, shared=True, created_at=state.now()))
    for user, expected in (("rita", []), ("ana", ["INFRA-1"])):
        r = noted.req(user, "GET", "/api/v1/saved-filters/secret/tickets")
        assert [t["key"] for t in r.json()["items"]] == expected


def test_readers_follow_the_roles(state: AppState) -> None:
    from dutydesk.auth.service import user_by_name

    with state.db.read() as s:
        got = {
            name: search.readers(user_by_name(s, name), state.policy.desks).internal_desks
            for name in ("rita", "ana", "dee", "eva", "admin")
        }
    assert got == {
        "rita": frozenset(),
        "ana": {"infra"},
        "dee": {"infra"},
        "eva": {"set"},
        "admin": set(state.policy.desks),
    }


def test_the_migration_splits_internal_text_out_of_existing_documents(
    noted: Api, state: AppState
) -> None:
    """Down to the one-document layout (internal text mixed in, as before) and up again."""
    from alembic import command
    from sqlalchemy import text

    from dutydesk.migrate import alembic_config, upgrade

    pixel = "![x](https://evil.example/p.png)"
    r = noted.post("ana", "/api/v1/tickets/INFRA-1/comments", {"body": pixel})
    assert r.status_code == 201 and "<img" not in r.json()["body_html"]
    state.db.engine.dispose()
    command.downgrade(alembic_config(state.db.url), "0008")
    with state.db.engine.begin() as conn:  # HTML as rendered before images were held back
        conn.execute(
            text("UPDATE comments SET body_html = :h WHERE body = :b"),
            {"h": '<p><img src="https://evil.example/p.png" alt="x"></p>', "b": pixel},
        )
    state.db.engine.dispose()
    upgrade(state.db.url)
    state.db.engine.dispose()
    assert _found(noted, "rita", SECRET[:3]) == []
    assert _found(noted, "rita", OPEN_WORD) == ["SET-1", "INFRA-1"]
    assert _found(noted, "ana", SECRET) == ["INFRA-1"]
    assert sorted(_found(noted, "admin", f"{OPEN_WORD} {SECRET}")) == ["INFRA-1", "SET-1"]
    comments = noted.req("ana", "GET", "/api/v1/tickets/INFRA-1/comments").json()["items"]
    [html] = [c["body_html"] for c in comments if c["body"] == pixel]
    assert "<img" not in html and 'href="https://evil.example/p.png"' in html


def test_internal_text_never_changes_the_order_of_results(api: Api) -> None:
    """Ranking uses public text alone: the order cannot hint at what a note says."""
    first = api.file(title="Gadget rack is down")["key"]
    second = api.file(title="Gadget rack is down")["key"]
    note = {"body": "gadget gadget gadget gadget", "public": False}
    assert api.post("ana", f"/api/v1/tickets/{first}/comments", note).status_code == 201
    for user in ("rita", "ana"):
        assert _found(api, user, "gadget", desk="infra") == [second, first]
