"""Notification tests: the example policy with quick retries, and real receivers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dutydesk.notify.worker import Worker
from dutydesk.policy import Policy
from dutydesk.state import AppState
from tests.notify.receivers import Receiver, SmtpServer

QUICK = {
    "batch_window": "2 minutes",
    "claim_timeout": "2 seconds",
    "timeout": "1 second",
    "concurrency": 4,
    "retry": {"attempts": 4, "first": "50 ms", "max": "200 ms"},
}


def tuned(policy: Policy, **notify: Any) -> Policy:
    raw = policy.model_dump(by_alias=True)
    raw["notify"] = {**raw["notify"], **QUICK, **notify}
    return Policy.model_validate(raw)


@pytest.fixture(scope="session")
def policy(policy: Policy) -> Policy:
    """The example policy with retries shortened for tests (channels come from ``env``)."""
    return tuned(policy)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    s = SmtpServer().start()
    yield s
    s.stop()


@pytest.fixture
def env(receiver: Receiver, smtp: SmtpServer) -> dict[str, str]:
    return {
        "INFRA_SLACK_WEBHOOK_URL": receiver.url + "/infra",
        "SET_MATTERMOST_WEBHOOK_URL": receiver.url + "/set",
        "DUTYDESK_EVENTS_URL": receiver.url + "/events",
        "DUTYDESK_EVENTS_SECRET": "s3cret",
        "DUTYDESK_SMTP_URL": smtp.url,
    }


@pytest.fixture
def worker(state: AppState, env: dict[str, str]) -> Iterator[Worker]:
    w = Worker(state.db, state.policy, state.clock, env=env)
    yield w
    w.close()
