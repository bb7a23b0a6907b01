"""Imported tickets name where they came from: in the ticket API and on the ticket page."""

from __future__ import annotations

import json

from dutydesk.imports.service import import_jsonl
from dutydesk.state import AppState
from tests.conftest import Api
from tests.web.conftest import Web


def test_an_imported_ticket_shows_its_external_id_and_source_url(api: Api, state: AppState) -> None:
    record = {
        "external_id": "GH-7",
        "title": "Builder queue stuck",
        "body": "b",
        "created": "2025-03-01T10:00:00Z",
        "url": "https://github.com/o/r/issues/7",
    }
    plain = {**record, "external_id": "OLD-1", "url": None}
    result = import_jsonl(state, [json.dumps(record), json.dumps(plain)], desk="infra")
    assert result.created == 2
    key, other = result.tickets["GH-7"], result.tickets["OLD-1"]
    got = api.req("bo", "GET", f"/api/v1/tickets/{key}").json()
    assert got["source"] == {
        "system": "jsonl",
        "external_id": "GH-7",
        "url": "https://github.com/o/r/issues/7",
    }
    assert api.req("bo", "GET", f"/api/v1/tickets/{other}").json()["source"] == {
        "system": "jsonl",
        "external_id": "OLD-1",
        "url": None,
    }
    filed = api.file()
    assert filed["source"] is None
    assert api.req("bo", "GET", f"/api/v1/tickets/{filed['key']}").json()["source"] is None
    listed = api.req("bo", "GET", "/api/v1/tickets?desk=infra&limit=50").json()["items"]
    assert {t["key"]: (t["source"] or {}).get("external_id") for t in listed} == {
        key: "GH-7",
        other: "OLD-1",
        filed["key"]: None,
    }

    page = Web(state).as_("rita").get(f"/tickets/{key}").text
    assert '<a href="https://github.com/o/r/issues/7" rel="noopener noreferrer">GH-7</a>' in page
    assert "OLD-1" in Web(state).as_("rita").get(f"/tickets/{other}").text
