"""Access taken away on one replica is gone on every replica within a second: two real
``dutydesk serve`` processes on one database (the test's SQLite file, or PostgreSQL when
configured), a user deactivated and a token revoked through one of them, both polled."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dutydesk.auth.service import create_token, open_session, user_by_name
from dutydesk.http.deps import SESSION_COOKIE
from dutydesk.state import AppState
from tests.conftest import EXAMPLE
from tests.processes import Server, env_for, start

DEADLINE = 1.0  # seconds: the promise
POLL_FOR = 5.0  # the loop's bound, so a broken promise fails instead of hanging


@pytest.fixture
def replicas(state: AppState, tmp_path: Path) -> Iterator[list[str]]:
    """Two ``serve`` processes on the test's database; their base URLs."""
    policy = tmp_path / "dutydesk.toml"
    # The people already exist; without passwords in the file no replica hashes any at start.
    policy.write_text(re.sub(r'(?m)^password = ".*"\n', "", EXAMPLE.read_text()))
    env = env_for(state.db.engine.url.render_as_string(hide_password=False), policy)
    servers: list[Server] = []
    try:
        for _ in range(2):
            servers.append(start("serve", env, tmp_path))
        yield [server.url for server in servers]
    finally:
        for server in servers:
            server.stop()


def test_deactivation_and_revocation_reach_every_replica_within_a_second(
    state: AppState, replicas: list[str]
) -> None:
    with state.db.write() as s:
        admin = create_token(s, user_by_name(s, "admin"), state.now(), "ops")
        ana = create_token(s, user_by_name(s, "ana"), state.now(), "ana's laptop")
        bo = create_token(s, user_by_name(s, "bo"), state.now(), "bo's CI")
        cookie, _csrf = open_session(s, user_by_name(s, "ana"), state.now())
    creds = {
        "ana's token": {"Authorization": f"Bearer {ana}"},
        "ana's session": {"Cookie": f"{SESSION_COOKIE}={cookie}"},
        "bo's revoked token": {"Authorization": f"Bearer {bo}"},
    }
    clients = [httpx.Client(base_url=base, timeout=2) for base in replicas]
    first = clients[0]
    admin_auth = {"Authorization": f"Bearer {admin}"}

    def status(client: httpx.Client, what: str) -> int:
        return client.get("/api/v1/me", headers=creds[what]).status_code

    listed = first.get("/api/v1/tokens", params={"user": "bo"}, headers=admin_auth).json()
    bo_token = next(t["id"] for t in listed if t["name"] == "bo's CI")
    # Both replicas have just seen (and cached) every credential when access is taken away.
    for client in clients:
        assert [status(client, what) for what in creds] == [200, 200, 200]
    done = first.post("/api/v1/users/ana/deactivate", json={}, headers=admin_auth)
    revoked = first.delete(f"/api/v1/tokens/{bo_token}", headers=admin_auth)
    changed_at = time.monotonic()
    assert done.status_code == 200, done.text
    assert revoked.status_code == 200, revoked.text

    pending = {(i, what) for i in range(len(clients)) for what in creds}
    refused_after: dict[tuple[int, str], float] = {}
    while pending and time.monotonic() - changed_at < POLL_FOR:
        for i, what in sorted(pending):
            if status(clients[i], what) == 401:
                refused_after[(i, what)] = time.monotonic() - changed_at
                pending.discard((i, what))
        time.sleep(0.01)
    assert not pending, f"still let in after {POLL_FOR} s: {sorted(pending)}"
    slow = {name: round(t, 3) for name, t in refused_after.items() if t >= DEADLINE}
    assert not slow, f"refused only after a second: {slow}"
    print({f"replica {i + 1}: {what}": round(t, 3) for (i, what), t in refused_after.items()})
    # Everyone else keeps working on both replicas.
    for client in clients:
        assert client.get("/api/v1/me", headers=admin_auth).status_code == 200
        client.close()
