"""A real uvicorn server on 127.0.0.1 over the test database, for tests that speak HTTP.

The database is the suite's own (SQLite copied from the migrated template, or the PostgreSQL
schema of this run, emptied first), so these tests run on both engines like the rest.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.db import Database
from dutydesk.models import Base
from dutydesk.policy import Policy
from dutydesk.state import AppState, sync_policy
from tests.processes import free_port

MAX_BODY = 64 * 1024

# Path parameters that exist, by their name or the collection they follow in the path. Ids
# are left out: generated ids then reach the database behind a desk or rotation that exists.
KNOWN = {
    "desk": "infra",
    "key": "INFRA-1",
    "rotations": "infra-oncall",
    "calendars": "pacific",
    "people": "ana",
    "saved-filters": "bugs-resolved-7d",
}


def known_path_parameters(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    parts = path.strip("/").split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            name = part[1:-1]
            found = KNOWN.get(name) or KNOWN.get(parts[i - 1])
            if found is not None:
                values[name] = found
    return values


@dataclass
class LiveServer:
    url: str
    state: AppState
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def database(template: str, folder: Path, pg: bool) -> Database:
    """A fresh database: the PostgreSQL schema emptied, or a copy of the SQLite template."""
    if pg:
        db = Database(template)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return db
    path = folder / "dutydesk.db"
    shutil.copy(template, path)
    return Database(f"sqlite:///{path}")


@contextmanager
def live_server(db: Database, policy: Policy, users: tuple[str, ...]) -> Iterator[LiveServer]:
    import uvicorn

    state = AppState(db=db, policy=policy)
    sync_policy(db, policy, state.now())
    app = create_app(state, max_body_bytes=MAX_BODY)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 15 s")
        time.sleep(0.05)
    live = LiveServer(f"http://127.0.0.1:{port}", state, app)
    with db.write() as s:
        for name in users:
            live.tokens[name] = create_token(s, user_by_name(s, name), state.now(), "tests")
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seed_tickets(live: LiveServer) -> None:
    """A few tickets on each desk, one triaged, so ticket keys in paths exist."""
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for desk in ("infra", "set"):
            for i in range(3):
                r = client.post(
                    f"/api/v1/desks/{desk}/tickets",
                    json={"title": f"Seeded ticket number {i} on {desk}", "kind": "bug"},
                    headers=live.auth("rita"),
                )
                assert r.status_code == 201, r.text
        r = client.post(
            "/api/v1/tickets/INFRA-1/triage", json={"priority": "P1"}, headers=live.auth("admin")
        )
        assert r.status_code == 200, r.text
