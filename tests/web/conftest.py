"""Page tests: a real app on a real database, with browser sessions opened directly.

Opening a session in the database (instead of posting the log-in form) keeps each test free
of argon2 work; one test drives the real log-in form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dutydesk.app import create_app
from dutydesk.auth.service import open_session, user_by_name
from dutydesk.context import Ctx
from dutydesk.http.deps import SESSION_COOKIE
from dutydesk.state import AppState
from dutydesk.tickets import filing, recorder, service
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.schemas import FileTicket, TriageIn
from tests.conftest import URGENT

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@dataclass
class Browser:
    """One person's cookie jar on the app, like a browser tab."""

    client: TestClient
    user: str
    csrf: str

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """A form post carrying the session's CSRF token, as our pages' forms do."""
        body = {"csrf_token": self.csrf, **(data or {})}
        kw.setdefault("follow_redirects", False)
        return self.client.post(path, data=body, **kw)

    def post_json(self, path: str, data: dict[str, Any]) -> Any:
        """What the board's script sends: the token in a header, JSON answers."""
        return self.client.post(
            path,
            data=data,
            headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"},
            follow_redirects=False,
        )


@dataclass
class Web:
    state: AppState
    clients: list[TestClient] = field(default_factory=list)

    def as_(self, name: str) -> Browser:
        with self.state.db.write() as s:
            cookie, csrf = open_session(s, user_by_name(s, name), self.state.now())
        client = TestClient(create_app(self.state))
        client.cookies.set(SESSION_COOKIE, cookie)
        self.clients.append(client)
        return Browser(client, name, csrf)

    def anonymous(self) -> TestClient:
        client = TestClient(create_app(self.state))
        self.clients.append(client)
        return client

    def ctx(self, name: str) -> Any:
        with self.state.db.read() as s:
            user = user_by_name(s, name)
        return self.state.write(user)

    def file(self, title: str, desk: str = "infra", who: str = "rita", **kw: Any) -> str:
        with self.ctx(who) as ctx:
            if desk == "infra":  # an urgent request; without a criterion it waits in the backlog
                kw.setdefault("criteria", [URGENT])
            return filing.file_ticket(ctx, desk, FileTicket(title=title, **kw)).key

    def triage(self, key: str, who: str = "ana", **kw: Any) -> None:
        with self.ctx(who) as ctx:
            service.triage(ctx, key, TriageIn(**kw), None)

    def ticket(self, key: str) -> Ticket:
        with self.state.db.read() as s:
            return recorder.get_ticket(s, key)

    def run(self, who: str, fn: Any) -> Any:
        with self.ctx(who) as ctx:
            c: Ctx = ctx
            return fn(c)


@pytest.fixture
def web(state: AppState) -> Iterator[Web]:
    w = Web(state)
    yield w
    for c in w.clients:
        c.close()
