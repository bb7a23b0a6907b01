"""Real databases for every test: SQLite always, PostgreSQL when DUTYDESK_TEST_DATABASE_URL is set.

A PostgreSQL URL that does not answer fails the run loudly; it never silently skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.db import Database
from dutydesk.migrate import upgrade
from dutydesk.models import Base
from dutydesk.policy import Policy, load_policy
from dutydesk.state import AppState, sync_policy

EXAMPLE = Path(__file__).parents[1] / "examples" / "dutydesk.toml"
PG_URL = os.environ.get("DUTYDESK_TEST_DATABASE_URL")
START = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 09:00 in Los Angeles
URGENT = "Build break or regression"  # an infra queue criterion: filed into the urgent queue


@dataclass
class ManualClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The example policy; only two people keep a password, so argon2 runs twice per test."""
    raw = load_policy(EXAMPLE).model_dump(by_alias=True)
    for name, person in raw["people"].items():
        if name not in ("admin", "rita"):
            person["password"] = None
    return Policy.model_validate(raw)


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy (SQLite) or to truncate between tests (PostgreSQL).

    On PostgreSQL each test run gets its own schema, so runs side by side never collide.
    """
    if PG_URL:
        schema = f"dutydesk_test_{os.getpid()}"
        engine = create_engine(PG_URL)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        except Exception as exc:  # pragma: no cover - the loud failure CI relies on
            pytest.exit(f"DUTYDESK_TEST_DATABASE_URL={PG_URL} does not answer: {exc}", 3)
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        upgrade(url)
        yield url
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()
        return
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    yield str(path)


@pytest.fixture
def db(_template: str, tmp_path: Path) -> Iterator[Database]:
    if PG_URL:
        database = Database(_template)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        path = tmp_path / "dutydesk.db"
        shutil.copy(_template, path)
        database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def state(db: Database, policy: Policy, clock: ManualClock) -> AppState:
    sync_policy(db, policy, clock())
    return AppState(db=db, policy=policy, clock=clock)


@dataclass
class Api:
    """A real HTTP client on the app, with one bearer token per demo user."""

    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def req(self, user: str, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.as_(user), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def file(self, user: str = "rita", desk: str = "infra", **body: Any) -> dict[str, Any]:
        body.setdefault("title", "Add a LUCI builder for linux web engine")
        if desk == "infra":  # an urgent request; without a criterion it waits in the backlog
            body.setdefault("criteria", [URGENT])
        r = self.req(user, "POST", f"/api/v1/desks/{desk}/tickets", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def post(self, user: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.req(user, "POST", path, json=body if body is not None else {}, **kw)


@pytest.fixture
def api(state: AppState) -> Iterator[Api]:
    app = create_app(state, max_body_bytes=64 * 1024)
    tokens = {}
    with state.db.write() as s:
        for name in state.policy.people:
            tokens[name] = create_token(s, user_by_name(s, name), state.now(), "tests")
    with TestClient(app) as client:
        yield Api(client, tokens)
