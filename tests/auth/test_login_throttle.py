"""Logins resist guessing: failures are counted per account and per address in the database
(so every replica sees them), and past the limit the answer is 429 with Retry-After."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from dutydesk.auth.throttle import AccessLimits
from dutydesk.state import AppState
from tests.conftest import Api, ManualClock

LOGIN = "/api/v1/auth/login"


def login(client: TestClient, username: str, password: str) -> Any:
    return client.post(LOGIN, json={"username": username, "password": password})


def test_an_account_is_throttled_after_repeated_failures(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    state.limits = replace(AccessLimits(), login_failures_per_account=3)
    for _ in range(3):
        r = login(api.client, "rita", "guess")
        assert r.status_code == 401 and r.json()["detail"] == "unknown user or wrong password"
    clock.advance(minutes=5)
    throttled = login(api.client, "rita", "dutydesk")  # even the right password waits
    assert throttled.status_code == 429, throttled.text
    assert throttled.headers["content-type"].startswith("application/problem+json")
    assert throttled.json()["detail"].startswith("too many failed log-ins for this account")
    assert throttled.headers["retry-after"] == str(10 * 60)  # the oldest failure drops out then
    clock.advance(minutes=10, seconds=1)
    ok = login(api.client, "rita", "dutydesk")
    assert ok.status_code == 200, ok.text
    # Success clears the account's failures.
    for _ in range(2):
        assert login(api.client, "rita", "guess").status_code == 401
    assert login(api.client, "rita", "dutydesk").status_code == 200


def test_unknown_names_count_and_answer_as_wrong_passwords_do(api: Api, state: AppState) -> None:
    state.limits = replace(AccessLimits(), login_failures_per_account=2)
    unknown = login(api.client, "nobody", "guess")
    wrong = login(api.client, "rita", "guess")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    login(api.client, "nobody", "guess")
    assert login(api.client, "nobody", "guess").status_code == 429


def test_an_address_is_throttled_across_accounts(api: Api, state: AppState) -> None:
    state.limits = replace(AccessLimits(), login_failures_per_address=4)
    for name in ("rita", "admin", "ana", "nobody"):
        assert login(api.client, name, "guess").status_code == 401
    throttled = login(api.client, "admin", "dutydesk")
    assert throttled.status_code == 429
    assert "this address" in throttled.json()["detail"]
    assert int(throttled.headers["retry-after"]) == 15 * 60


def test_the_login_page_is_throttled_too(api: Api, state: AppState) -> None:
    state.limits = replace(AccessLimits(), login_failures_per_account=1)

    def post(password: str) -> Any:
        page = api.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        return api.client.post(
            "/login",
            data={"username": "rita", "password": password, "csrf_token": token.group(1)},
            follow_redirects=False,
        )

    assert post("guess").status_code == 401
    throttled = post("dutydesk")
    assert throttled.status_code == 429
    assert "too many failed log-ins" in throttled.text
    assert int(throttled.headers["retry-after"]) > 0


def test_failures_older_than_the_window_are_forgotten(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    state.limits = replace(AccessLimits(), login_failures_per_account=2)
    login(api.client, "rita", "guess")
    clock.advance(seconds=state.limits.login_window.total_seconds() + 1)
    login(api.client, "rita", "guess")
    assert login(api.client, "rita", "dutydesk").status_code == 200
    assert state.limits.login_window == timedelta(minutes=15)
