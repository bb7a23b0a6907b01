"""Request ids, the last-resort 500, access lines, JSON logs, readyz and /metrics."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dutydesk.app import create_app
from dutydesk.db import Database
from dutydesk.logs import JsonFormatter, RequestIdFilter, request_id
from dutydesk.state import AppState
from tests.conftest import Api

PROBLEM = "application/problem+json"


def _boom_app(state: AppState) -> TestClient:
    app = create_app(state)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("the disk caught fire")

    return TestClient(app)


def test_an_unexpected_error_is_a_problem_with_the_request_id_it_was_logged_with(
    state: AppState, caplog: pytest.LogCaptureFixture
) -> None:
    with _boom_app(state) as client, caplog.at_level(logging.ERROR, "dutydesk.errors"):
        r = client.get("/api/v1/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    rid = r.headers["x-request-id"]
    assert body["request_id"] == rid and rid in body["detail"]
    assert "fire" not in r.text  # the cause stays in the log
    (record,) = [rec for rec in caplog.records if rec.name == "dutydesk.errors"]
    assert record.exc_info is not None and "the disk caught fire" in str(record.exc_info[1])
    assert RequestIdFilter().filter(record) and record.request_id == rid


def test_a_sane_request_id_from_the_proxy_is_kept_any_other_replaced(api: Api) -> None:
    kept = api.client.get("/api/v1/healthz", headers={"X-Request-ID": "nginx-4f2a.9"})
    assert kept.headers["x-request-id"] == "nginx-4f2a.9"
    for bad in ("has space", "x" * 65, 'quote"d', ""):
        r = api.client.get("/api/v1/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"]), bad
    a, b = api.client.get("/api/v1/healthz"), api.client.get("/api/v1/healthz")
    assert a.headers["x-request-id"] != b.headers["x-request-id"]


def test_every_answer_carries_a_request_id(api: Api) -> None:
    answers = [
        api.client.get("/api/v1/tickets/INFRA-999999", headers=api.as_("ana")),  # 404
        api.post("rita", "/api/v1/desks/infra/tickets", {"title": 7}),  # 422
        api.client.post("/api/v1/desks/infra/tickets", content=b"x" * 70_000),  # 413
        api.client.get("/api/v1/desks"),  # 401
        api.client.get("/no/such/page"),  # HTML 404
    ]
    assert [r.status_code for r in answers] == [404, 422, 413, 401, 404]
    assert all(r.headers.get("x-request-id") for r in answers)


def test_one_access_line_per_request_names_the_route_template(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "dutydesk.access"):
        r = api.client.get("/api/v1/tickets/INFRA-424242", headers=api.as_("ana"))
    (line,) = [rec for rec in caplog.records if rec.name == "dutydesk.access"]
    assert line.route == "/api/v1/tickets/{key}"  # type: ignore[attr-defined]
    assert line.path == "/api/v1/tickets/INFRA-424242"  # type: ignore[attr-defined]
    assert line.status == 404 and line.method == "GET"  # type: ignore[attr-defined]
    assert line.duration_ms > 0  # type: ignore[attr-defined]
    assert RequestIdFilter().filter(line)
    assert line.request_id == r.headers["x-request-id"]  # type: ignore[attr-defined]


def test_json_lines_carry_the_request_id_the_fields_and_the_traceback() -> None:
    token = request_id.set("abc123")
    try:
        try:
            raise ValueError("bad")
        except ValueError:
            record = logging.getLogger("dutydesk.x").makeRecord(
                "dutydesk.x",
                logging.ERROR,
                __file__,
                1,
                "failed %s",
                ("it",),
                None,
                extra={"route": "/r"},
            )
            import sys

            record.exc_info = sys.exc_info()
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed it" and entry["level"] == "error"
    assert entry["request_id"] == "abc123" and entry["route"] == "/r"
    assert "ValueError: bad" in entry["exc"]


def test_readyz_answers_when_migrated_and_503_when_not(api: Api, tmp_path: Path) -> None:
    r = api.client.get("/api/v1/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with TestClient(create_app(AppState(db=empty, policy=api_policy(api)))) as client:
            r = client.get("/api/v1/readyz")
    finally:
        empty.dispose()
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    assert "db upgrade" in r.json()["detail"]
    assert client.get("/api/v1/healthz").status_code == 200  # alive, yet not ready


def api_policy(api: Api) -> object:
    return api.client.app.state.dutydesk.policy  # type: ignore[attr-defined]


def _value(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}}" if labels else f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_need_the_token_and_count_committed_tickets(state: AppState) -> None:
    app = create_app(state, metrics_token="s3cret")
    app.state.metrics_gauges.ttl = 0  # read the database at every scrape
    api = Api(TestClient(app))
    from dutydesk.auth.service import create_token, user_by_name

    with state.db.write() as s:
        for name in ("rita", "ana"):
            api.tokens[name] = create_token(s, user_by_name(s, name), state.now(), "t")
    with api.client:
        assert api.client.get("/metrics").status_code == 403
        wrong = api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403 and wrong.headers["content-type"] == PROBLEM
        auth = {"Authorization": "Bearer s3cret"}
        before = api.client.get("/metrics", headers=auth).text
        key = api.file()["key"]
        api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": "P1", "assignee": "ana"})
        api.post("ana", f"/api/v1/tickets/{key}/move", {"to": "In progress"})
        r = api.post("ana", f"/api/v1/tickets/{key}/move", {"to": "Done", "resolution": "fixed"})
        assert r.status_code == 200, r.text
        refused = api.post("rita", "/api/v1/desks/infra/tickets", {"title": ""})
        assert refused.status_code == 422
        after = api.client.get("/metrics", headers=auth).text
    for what in ("filed", "triaged", "resolved"):
        name = f"dutydesk_tickets_{what}_total"
        assert _value(after, name, desk="infra") == _value(before, name, desk="infra") + 1, what
    route = "/api/v1/desks/{desk}/tickets"
    bucket = "dutydesk_http_request_duration_seconds_count"
    assert _value(after, bucket, method="POST", route=route) >= 2
    assert "INFRA-" not in after  # raw paths never become series
    # Gauges read from the database: the filing queued a change for the worker.
    assert _value(after, "dutydesk_notify_changes_pending") >= 1
    assert 'dutydesk_worker_lag_seconds{queue="outbox"}' in after
    assert "process_cpu_seconds_total" in after
