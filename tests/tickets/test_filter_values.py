"""Unknown filter values are refused naming the field and the values that exist; the queue
filters by category in the API, the CLI and the web."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import URGENT, Api
from tests.test_cli import run


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"priority": "P7"}, "priority", "'P7' is not a priority of any desk; use one of P0, P1"),
        ({"desk": "infra", "status": "Doing"}, "status", "New, Triaged, In progress, Done"),
        ({"desk": "set", "status": "Triaged"}, "status", "of desk 'set'; use one of To do"),
        ({"desk": "infra", "category": "crash"}, "category", "config-request, outage"),
        ({"kind": "epic"}, "kind", "is not a kind of any desk"),
        ({"team": "sales"}, "team", "'sales' is not a team"),
        ({"resolution": "solved"}, "resolution", "fixed, duplicate"),
        ({"desk": "nope"}, "desk", "desks are infra, set"),
    ],
)
def test_unknown_filter_values_are_422s(
    api: Api, params: dict[str, str], field: str, words: str
) -> None:
    r = api.req("ana", "GET", "/api/v1/tickets", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == field and words in r.json()["detail"]


def test_known_values_and_none_still_work(api: Api) -> None:
    api.file(category="outage")
    ok = api.req("ana", "GET", "/api/v1/tickets", params={"priority": "none", "team": "none"})
    assert ok.status_code == 200 and len(ok.json()["items"]) == 1


def test_queue_filters_by_category(api: Api) -> None:
    outage = api.file(category="outage")["key"]
    api.file(category="help")
    r = api.req("ana", "GET", "/api/v1/desks/infra/queue", params={"category": "outage"})
    assert [t["key"] for t in r.json()["items"]] == [outage]
    bad = api.req("ana", "GET", "/api/v1/desks/infra/queue", params={"category": "crash"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"


def test_cli_names_allowed_values_and_filters_by_category(tmp_path: Path) -> None:
    run(tmp_path, "init")
    for title, category in (("Dashboard is down", "outage"), ("Grant access", "access")):
        run(
            tmp_path,
            "--as",
            "rita",
            "file",
            "infra",
            title,
            "--category",
            category,
            "--criterion",
            URGENT,
        )
    bad = run(tmp_path, "list", "--priority", "P7", ok=False)
    assert bad.returncode == 1 and "priority" in bad.stderr and "P0, P1, P2, P3" in bad.stderr
    bad = run(tmp_path, "list", "--desk", "infra", "--status", "Doing", ok=False)
    assert "New, Triaged, In progress, Done" in bad.stderr
    listed = run(tmp_path, "list", "--category", "outage").stdout
    assert "Dashboard is down" in listed and "Grant access" not in listed
    queued = run(tmp_path, "queue", "infra", "--category", "access").stdout
    assert "Grant access" in queued and "Dashboard is down" not in queued
