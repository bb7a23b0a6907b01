"""Concurrent writers on a real database: nothing lost, nothing numbered twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Api


def test_concurrent_filings_get_unique_gapless_numbers(api: Api) -> None:
    def file(i: int) -> str:
        r = api.post("rita", "/api/v1/desks/infra/tickets", {"title": f"Concurrent request {i}"})
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(file, range(40)))
    assert sorted(keys, key=lambda k: int(k.split("-")[1])) == [f"INFRA-{i}" for i in range(1, 41)]


def test_concurrent_edits_of_one_ticket_keep_every_event(api: Api) -> None:
    api.file()

    def comment(i: int) -> int:
        return int(
            api.post("ana", "/api/v1/tickets/INFRA-1/comments", {"body": f"update {i}"}).status_code
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(comment, range(24))) == {201}
    t = api.req("ana", "GET", "/api/v1/tickets/INFRA-1").json()
    events = api.req("ana", "GET", "/api/v1/tickets/INFRA-1/events").json()["items"]
    assert t["version"] == 25 and len(events) == 25
    assert [e["seq"] for e in events] == list(range(1, 26))
