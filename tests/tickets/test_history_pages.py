"""A ticket's events and comments come a page at a time, with cursors and `limit`."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


def pages(api: Api, path: str, limit: int, user: str = "ana") -> list[list[Any]]:
    out: list[list[Any]] = []
    params: dict[str, Any] = {"limit": limit}
    for _ in range(20):
        page = api.req(user, "GET", path, params=params).json()
        out.append(page["items"])
        if page["next_cursor"] is None:
            return out
        params["cursor"] = page["next_cursor"]
    raise AssertionError("no end")


def test_events_and_comments_paginate(api: Api) -> None:
    key = api.file()["key"]
    for i in range(5):
        api.post("ana", f"/api/v1/tickets/{key}/comments", {"body": f"update {i}"})
    api.post("ana", f"/api/v1/tickets/{key}/comments", {"body": "internal", "public": False})
    events = pages(api, f"/api/v1/tickets/{key}/events", 2)
    assert [len(p) for p in events] == [2, 2, 2, 1]
    assert [e["seq"] for p in events for e in p] == list(range(1, 8))
    comments = pages(api, f"/api/v1/tickets/{key}/comments", 4)
    assert [[c["body"] for c in p] for p in comments] == [
        ["update 0", "update 1", "update 2", "update 3"],
        ["update 4", "internal"],
    ]
    # The reporter sees public comments only, paged the same way.
    public = pages(api, f"/api/v1/tickets/{key}/comments", 5, user="rita")
    assert [len(p) for p in public] == [5]


def test_bad_limits_and_cursors_are_422s_naming_the_field(api: Api) -> None:
    key = api.file()["key"]
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"cursor": "WyJhIl0"}, "cursor"),  # ["a"]
    ]:
        for what in ("events", "comments"):
            r = api.req("ana", "GET", f"/api/v1/tickets/{key}/{what}", params=params)
            assert r.status_code == 422, (what, params, r.text)
            assert r.json()["errors"][0]["field"] == field
