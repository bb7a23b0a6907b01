"""Malformed input, unknown fields, size limits, idempotency, auth: each a clear 4xx."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from dutydesk.state import AppState
from dutydesk.tickets.models import Ticket
from tests.conftest import Api


def _ticket_count(state: AppState) -> int:
    with state.db.read() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


def test_malformed_json_is_a_422_problem(api: Api, state: AppState) -> None:
    r = api.req(
        "rita",
        "POST",
        "/api/v1/desks/infra/tickets",
        content=b'{"title": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert "not valid JSON" in r.json()["detail"]
    assert _ticket_count(state) == 0


def test_unknown_fields_are_rejected_by_name(api: Api) -> None:
    r = api.post("rita", "/api/v1/desks/infra/tickets", {"title": "Real title", "colour": "red"})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "colour", "message": "unknown field; remove it or check its spelling"}
    ]


def test_field_errors_name_the_field(api: Api) -> None:
    r = api.post("rita", "/api/v1/desks/infra/tickets", {"title": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "title"
    r = api.post("rita", "/api/v1/desks/infra/tickets", {"title": "Real title", "kind": "saga"})
    assert r.status_code == 422 and "kind" in r.json()["detail"]


def test_oversized_body_is_413_and_writes_nothing(api: Api, state: AppState) -> None:
    big = {"title": "Huge", "description": "x" * 70_000}
    r = api.post("rita", "/api/v1/desks/infra/tickets", big)
    assert r.status_code == 413 and r.json()["status"] == 413
    assert _ticket_count(state) == 0


def test_idempotency_key_replays_the_first_result(api: Api, state: AppState) -> None:
    headers = {"Idempotency-Key": "file-once-123"}
    body = {"title": "Builders are slow to start"}
    first = api.post("rita", "/api/v1/desks/infra/tickets", body, headers=headers)
    again = api.post("rita", "/api/v1/desks/infra/tickets", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert _ticket_count(state) == 1
    changed = api.post("rita", "/api/v1/desks/infra/tickets", {"title": "Other"}, headers=headers)
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json()["detail"]
    # Keys belong to their user: another user's same key is a new request.
    other = api.post("sam", "/api/v1/desks/infra/tickets", body, headers=headers)
    assert other.status_code == 201 and other.json()["key"] == "INFRA-2"


def test_anonymous_is_401_and_wrong_role_is_403(api: Api) -> None:
    api.file()
    r = api.client.get("/api/v1/tickets/INFRA-1")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = api.client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    for path, body in (
        ("move", {"to": "Triaged"}),
        ("assign", {"assignee": "ana"}),
        ("triage", {"priority": "P1"}),
        ("block", {"reason": "because"}),
        ("rank", {"before": "INFRA-1"}),
    ):
        r = api.post("rita", f"/api/v1/tickets/INFRA-1/{path}", body)
        assert r.status_code == 403, path
    # A SET responder has no say on the infra desk.
    assert api.post("finn", "/api/v1/tickets/INFRA-1/triage", {"priority": "P1"}).status_code == 403


def test_every_api_route_requires_auth(api: Api) -> None:
    open_paths = {
        "/api/v1/healthz",
        "/api/v1/auth/login",
        "/api/v1/openapi.json",
        "/api/v1/docs",
        "/api/v1/docs/oauth2-redirect",
    }
    for route in api.client.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if not path.startswith("/api/v1") or path in open_paths:
            continue
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            concrete = (
                path.replace("{key}", "INFRA-1").replace("{desk}", "infra").replace("{name}", "x")
            )
            r = api.client.request(method, concrete, json={})
            assert r.status_code == 401, (method, path, r.status_code)


def test_write_routes_without_a_body_refuse_one_instead_of_ignoring_it(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    bodyless = [
        (method, path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in ("post", "patch", "put", "delete")
        and "requestBody" not in op
        and not path.startswith("/api/v1/chat/")  # slash commands read their own form bodies
    ]
    assert ("post", "/api/v1/tickets/{key}/unblock") in bodyless
    key = api.file("rita", title="Runner pool is draining")["key"]
    for method, path in bodyless:
        concrete = re.sub(r"\{[a-z_]+_id\}", "999999", path)
        concrete = concrete.replace("{key}", key).replace("{desk}", "infra")
        concrete = concrete.replace("{name}", "infra")
        r = api.req("admin", method.upper(), concrete, json={"full": False})
        assert r.status_code == 422, (method, path, r.status_code, r.text)
        assert r.json()["errors"] == [
            {"field": "body", "message": "this operation takes no request body; send none (or {})"}
        ]
    # Nothing was done: the ticket was never touched, and an empty body is still accepted.
    assert api.req("admin", "GET", f"/api/v1/tickets/{key}").json()["version"] == 1
    r = api.post("admin", "/api/v1/desks/infra/slo/recompute", {})
    assert r.status_code == 200, r.text


def test_openapi_is_served(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/tickets/{key}/triage" in spec["paths"]


def test_not_found_is_a_problem(api: Api) -> None:
    r = api.req("ana", "GET", "/api/v1/tickets/INFRA-404")
    assert r.status_code == 404 and r.json()["detail"] == "no ticket INFRA-404"
    r = api.req("ana", "GET", "/api/v1/tickets/garbage")
    assert r.status_code == 404 and "INFRA-42" in r.json()["detail"]
    r = api.req("ana", "GET", "/api/v1/desks/nope/queue")
    assert r.status_code == 404 and "infra" in r.json()["detail"]


def test_browser_session_needs_csrf_for_writes(api: Api) -> None:
    r = api.client.post("/api/v1/auth/login", json={"username": "rita", "password": "wrong"})
    assert r.status_code == 401
    r = api.client.post("/api/v1/auth/login", json={"username": "rita", "password": "dutydesk"})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    assert api.client.get("/api/v1/me").json()["name"] == "rita"
    r = api.client.post("/api/v1/desks/infra/tickets", json={"title": "From the browser"})
    assert r.status_code == 401 and r.json()["reason"] == "csrf"
    r = api.client.post(
        "/api/v1/desks/infra/tickets",
        json={"title": "From the browser"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201
    api.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert api.client.get("/api/v1/me").status_code == 401
