"""Queue order, manual rank, filters with cursors, full-text search, saved filters."""

from __future__ import annotations

from tests.conftest import Api, ManualClock


def _keys(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [t["key"] for t in page["items"]]


def test_infra_queue_is_untriaged_then_priority_then_age(api: Api, clock: ManualClock) -> None:
    for title in ("first", "second", "third", "fourth"):
        api.file(title=f"Request {title}")
        clock.advance(minutes=5)
    api.post("ana", "/api/v1/tickets/INFRA-1/triage", {"priority": "P1"})
    api.post("ana", "/api/v1/tickets/INFRA-2/triage", {"priority": "P0"})
    api.post("ana", "/api/v1/tickets/INFRA-3/triage", {"priority": "P1"})
    page = api.req("ana", "GET", "/api/v1/desks/infra/queue").json()
    assert _keys(page) == ["INFRA-4", "INFRA-2", "INFRA-1", "INFRA-3"]


def test_set_queue_follows_priority_of_work(api: Api, clock: ManualClock) -> None:
    filings = [
        ("Refactor websocket", {"kind": "tech-debt"}),
        ("Other bug", {"kind": "bug"}),
        ("Customer bug", {"kind": "bug", "customer_reported": True}),
        ("Escalation", {"kind": "escalation"}),
        ("Community outage", {"kind": "bug", "labels": ["community-server"]}),
    ]
    for title, extra in filings:
        # The top class's label is a triager's to set, like the priority.
        who = "eva" if "labels" in extra else "rita"
        api.file(who, desk="set", title=title, **extra)
        clock.advance(minutes=1)
    api.post("eva", "/api/v1/tickets/SET-2/triage", {"priority": "P2", "fix_target": "hotfix"})
    page = api.req("eva", "GET", "/api/v1/desks/set/queue").json()
    assert _keys(page) == ["SET-5", "SET-4", "SET-2", "SET-3", "SET-1"]
    assert [t["queue_class"] for t in page["items"]] == [
        "community-quality",
        "escalation",
        "bug",
        "bug",
        "tech-debt",
    ]


def test_rank_moves_within_class_and_survives_reads(api: Api, clock: ManualClock) -> None:
    for i in range(4):
        api.file(desk="set", title=f"Bug number {i}", kind="bug")
        clock.advance(minutes=1)
    r = api.post("hana", "/api/v1/tickets/SET-4/rank", {"before": "SET-1"})
    assert r.status_code == 200
    api.post("finn", "/api/v1/tickets/SET-1/rank", {"after": "SET-3"})
    page = api.req("eva", "GET", "/api/v1/desks/set/queue").json()
    assert _keys(page) == ["SET-4", "SET-2", "SET-3", "SET-1"]
    api.file(desk="set", title="Some escalation", kind="escalation")
    r = api.post("eva", "/api/v1/tickets/SET-5/rank", {"after": "SET-1"})
    assert r.status_code == 409 and r.json()["rule"] == "rank-within-class"
    assert "escalations stay above other bugs; change the kind to move it" in r.json()["detail"]
    r = api.post("eva", "/api/v1/tickets/SET-5/rank", {"after": "SET-1", "before": "SET-2"})
    assert r.status_code == 422


def test_queue_pages_with_a_cursor_without_gaps(api: Api, clock: ManualClock) -> None:
    for i in range(7):
        api.file(title=f"Request {i}")
        clock.advance(seconds=30)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.req("ana", "GET", "/api/v1/desks/infra/queue", params=params).json()
        seen += _keys(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"INFRA-{i}" for i in range(1, 8)]
    r = api.req("ana", "GET", "/api/v1/desks/infra/queue", params={"cursor": "garbage!"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


def test_filters_and_cursor_pagination(api: Api, clock: ManualClock) -> None:
    for i in range(5):
        api.file(title=f"Request {i}", labels=["gpu"] if i % 2 else [])
        clock.advance(minutes=1)
    api.post("ana", "/api/v1/tickets/INFRA-2/triage", {"priority": "P0", "assignee": "bo"})
    get = lambda **p: api.req("ana", "GET", "/api/v1/tickets", params=p).json()  # noqa: E731
    assert _keys(get(label="gpu")) == ["INFRA-4", "INFRA-2"]
    assert _keys(get(assignee="bo")) == ["INFRA-2"]
    assert _keys(get(priority="P0", status="Triaged")) == ["INFRA-2"]
    assert len(get(assignee="none", desk="infra")["items"]) == 4
    first = get(limit=2)
    second = get(limit=2, cursor=first["next_cursor"])
    third = get(limit=2, cursor=second["next_cursor"])
    assert _keys(first) + _keys(second) + _keys(third) == [f"INFRA-{i}" for i in (5, 4, 3, 2, 1)]
    assert third["next_cursor"] is None
    assert _keys(get(sort="created", limit=2)) == ["INFRA-1", "INFRA-2"]
    r = api.req("ana", "GET", "/api/v1/tickets", params={"sort": "sideways"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"


def test_full_text_search_covers_title_description_and_comments(api: Api) -> None:
    api.file(title="Devicelab bot offline", description="The mac-14 machine is unreachable")
    api.file(title="Quota almost exhausted", description="Emulator pool at 95 percent")
    api.file(title="Add a builder", description="For the web engine, once quota allows")
    api.post(
        "ana", "/api/v1/tickets/INFRA-3/comments", {"body": "The emulator images need rebuilding"}
    )
    search = lambda q: _keys(api.req("ana", "GET", "/api/v1/tickets", params={"q": q}).json())  # noqa: E731
    assert search("unreachable") == ["INFRA-1"]
    assert sorted(search("emulator")) == ["INFRA-2", "INFRA-3"]  # description and comment
    assert sorted(search("emul")) == ["INFRA-2", "INFRA-3"]  # prefix while typing
    assert search("quota") == ["INFRA-2", "INFRA-3"]  # a title match ranks first
    assert search("rebuilding images") == ["INFRA-3"]
    assert search('"); DROP TABLE tickets; --') == []
    api.req("ana", "PATCH", "/api/v1/tickets/INFRA-1", json={"title": "Devicelab offline (mac)"})
    assert search("devicelab") == ["INFRA-1"]


def test_saved_filters_from_policy_run_through_the_api(api: Api, clock: ManualClock) -> None:
    api.file(desk="set", title="Customer bug", kind="bug", customer_reported=True)
    api.file(desk="set", title="Internal bug", kind="bug")
    for key in ("SET-1", "SET-2"):
        api.post("eva", f"/api/v1/tickets/{key}/move", {"to": "Done", "resolution": "fixed"})
    names = [f["name"] for f in api.req("ana", "GET", "/api/v1/saved-filters").json()]
    assert {"bugs-resolved-7d", "customer-bugs-resolved-7d"} <= set(names)
    run = lambda n: _keys(api.req("ana", "GET", f"/api/v1/saved-filters/{n}/tickets").json())  # noqa: E731
    assert run("bugs-resolved-7d") == ["SET-2", "SET-1"]
    assert run("customer-bugs-resolved-7d") == ["SET-1"]
    clock.advance(days=8)
    assert run("bugs-resolved-7d") == []
