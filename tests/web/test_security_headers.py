"""Every response carries the browser-hardening headers: pages, API, files, errors, crashes."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.testclient import TestClient

from dutydesk.app import create_app
from dutydesk.http.security import OTHER_POLICY, PAGE_POLICY
from dutydesk.state import AppState
from tests.web.conftest import Web


def _hardened(r: object, policy: str | None = None) -> None:
    headers = r.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if policy is not None:
        assert csp == policy


def test_pages_get_the_strict_policy_and_carry_no_inline_script(web: Web) -> None:
    key = web.file("Builder is slow")
    ana = web.as_("ana")
    for path in (
        "/me",
        "/oncall",
        "/desks/infra/board",
        "/desks/infra/queue",
        "/desks/infra/new",
        f"/tickets/{key}",
        "/no/such/page",
    ):
        r = ana.get(path)
        assert r.headers["content-type"].startswith("text/html"), path
        _hardened(r, PAGE_POLICY)
        assert "'unsafe-inline'" not in PAGE_POLICY and "'unsafe-eval'" not in PAGE_POLICY
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path  # only files
        assert not re.search(r"\son[a-z]+=", r.text), path  # no handler attributes
        assert "javascript:" not in r.text and " style=" not in r.text, path
    login = web.anonymous().get("/login")
    _hardened(login, PAGE_POLICY)


def test_api_files_and_errors_get_the_headers_too(web: Web, state: AppState) -> None:
    client = web.anonymous()
    _hardened(client.get("/api/v1/healthz"), OTHER_POLICY)
    _hardened(client.get("/api/v1/openapi.json"), OTHER_POLICY)
    _hardened(client.get("/api/v1/desks"), OTHER_POLICY)  # 401 problem
    _hardened(client.get("/static/app.js"), OTHER_POLICY)
    _hardened(client.post("/api/v1/desks/infra/tickets", json={"title": 1}), OTHER_POLICY)
    too_big = client.post("/api/v1/desks/infra/tickets", content=b"x" * 300_000)
    assert too_big.status_code == 413
    _hardened(too_big, OTHER_POLICY)


def test_an_unexpected_error_still_carries_the_headers(state: AppState) -> None:
    app = create_app(state)

    @app.get("/api/v1/test-crash")
    def crash() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/test-crash")
    assert r.status_code == 500
    _hardened(r)


def test_the_api_docs_allow_their_inline_script_by_hash_only(web: Web) -> None:
    r = web.anonymous().get("/api/v1/docs")
    _hardened(r)
    csp = r.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp
    for script in re.findall(r"<script>(.*?)</script>", r.text, re.S):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_allowed_image_hosts_join_the_page_policy_and_the_rendering(state: AppState) -> None:
    from dutydesk.policy import Policy

    raw = state.policy.model_dump(by_alias=True)
    raw["web"] = {"image_hosts": ["images.example.com"]}
    state.policy = Policy.model_validate(raw)
    web = Web(state)
    key = web.file("Chart attached", description="![c](https://images.example.com/c.png)")
    r = web.as_("ana").get(f"/tickets/{key}")
    assert (
        "img-src 'self' data: https://images.example.com;" in r.headers["content-security-policy"]
    )
    assert '<img src="https://images.example.com/c.png"' in r.text
    for client in web.clients:
        client.close()
