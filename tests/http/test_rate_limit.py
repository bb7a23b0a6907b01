"""API rate limits: token buckets per bearer token and per client address (per replica)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from dutydesk.app import create_app
from dutydesk.auth.throttle import AccessLimits
from dutydesk.http.rate_limit import TokenBuckets
from dutydesk.state import AppState
from tests.conftest import Api


@pytest.mark.parametrize(
    ("rate", "burst", "times", "expected"),
    [
        # (rate/s, burst, request instants, waits returned)
        (1.0, 2, [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]),
        (1.0, 2, [0.0, 0.0, 0.5], [0.0, 0.0, 0.5]),
        (1.0, 2, [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]),
        (10.0, 1, [0.0, 0.05, 0.1], [0.0, 0.05, 0.0]),
        (2.0, 3, [0.0, 100.0, 100.0, 100.0, 100.0], [0.0, 0.0, 0.0, 0.0, 0.5]),
        (0.0, 1, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),  # rate 0: the limit is off
    ],
)
def test_token_bucket(rate: float, burst: int, times: list[float], expected: list[float]) -> None:
    buckets = TokenBuckets(rate, burst)
    assert [round(buckets.take("k", t), 6) for t in times] == expected


def test_many_keys_stay_bounded() -> None:
    buckets = TokenBuckets(1.0, 1, maxsize=10)
    for i in range(100):
        buckets.take(str(i), float(i))
    assert len(buckets._buckets) <= 10


def test_a_token_over_its_limit_gets_429_problems(api: Api, state: AppState) -> None:
    state.limits = replace(AccessLimits(), api_rate_per_token=0.001, api_burst_per_token=2)
    with TestClient(create_app(state)) as client:
        ana = api.as_("ana")
        assert client.get("/api/v1/me", headers=ana).status_code == 200
        assert client.get("/api/v1/me", headers=ana).status_code == 200
        refused = client.get("/api/v1/me", headers=ana)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 429 and "token" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get("/api/v1/me", headers=api.as_("bo")).status_code == 200
        assert client.get("/me", follow_redirects=False).status_code == 303  # pages: not here


def test_an_address_over_its_limit_gets_429(api: Api, state: AppState) -> None:
    state.limits = replace(AccessLimits(), api_rate_per_address=0.001, api_burst_per_address=3)
    with TestClient(create_app(state)) as client:
        codes = [client.get("/api/v1/healthz").status_code for _ in range(3)]
        codes.append(client.get("/api/v1/me", headers=api.as_("bo")).status_code)
        assert codes == [200, 200, 200, 429]
