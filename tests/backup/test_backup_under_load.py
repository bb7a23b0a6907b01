"""A backup taken from a real server while clients file tickets, restored into a fresh
database: every ticket acknowledged before the backup began is there, exported exactly as
the live database exports it, and nothing in the restored database is half written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from dutydesk.state import AppState
from tests.backup.test_moving import exported
from tests.conftest import EXAMPLE, PG_URL
from tests.processes import CLEAN_STOP, dutydesk, env_for, fresh_postgres, start, tokens

CLIENTS = 4
LOAD_SECONDS = 12.0  # upper bound; the load stops soon after the backup is done


class Load:
    """Clients that each file a ticket and comment on it, over and over; a ticket counts as
    acknowledged once both answers are in."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.acked: list[str] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(i,)) for i in range(CLIENTS)]

    def _client(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        deadline = time.monotonic() + LOAD_SECONDS
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as client:
            i = 0
            while not self.stop.is_set() and time.monotonic() < deadline:
                i += 1
                r = client.post(
                    "/api/v1/desks/infra/tickets",
                    json={"title": f"Load ticket {n}-{i}", "description": "filed under load"},
                )
                if r.status_code != 201:
                    self.errors.append(f"file: {r.status_code} {r.text[:200]}")
                    continue
                key = r.json()["key"]
                c = client.post(f"/api/v1/tickets/{key}/comments", json={"body": f"note {i}"})
                if c.status_code != 201:
                    self.errors.append(f"comment: {c.status_code} {c.text[:200]}")
                    continue
                with self.lock:
                    self.acked.append(key)

    def snapshot(self) -> set[str]:
        with self.lock:
            return set(self.acked)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


@contextmanager
def fresh_target(state: AppState, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        with fresh_postgres(PG_URL) as url:
            # The dump carries the test's schema: read it back through the same search_path.
            yield url + "?" + state.db.url.split("?", 1)[1]
    else:
        yield f"sqlite:///{tmp_path / 'restored.db'}"


def test_backup_during_load_restores_every_ticket_acknowledged_before_it(
    state: AppState, tmp_path: Path
) -> None:
    token = tokens(state, "rita")["rita"]
    env = env_for(state.db.url, EXAMPLE, DUTYDESK_ACCESS_LOG="0")
    server = start("serve", env, tmp_path)
    try:
        with Load(server.url, token) as load:
            deadline = time.monotonic() + 10
            while len(load.snapshot()) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            before = load.snapshot()  # acknowledged before the backup began
            began = time.monotonic()
            dutydesk("backup", str(tmp_path / "snap"), env=env)
            took = time.monotonic() - began
            during = len(load.snapshot()) - len(before)
            time.sleep(0.3)
        assert server.proc.poll() is None, server.logs()
    finally:
        assert server.stop() in CLEAN_STOP, server.logs()
    assert not load.errors, load.errors[:5]
    assert len(before) >= 20
    assert during > 0, "the load went on while the backup ran"  # it was an online backup

    with fresh_target(state, tmp_path) as target:
        dutydesk("restore", str(tmp_path / "snap"), env={**env, "DUTYDESK_DATABASE_URL": target})
        restored = {line["key"]: line for line in exported(target)}
    live = {line["key"]: line for line in exported(state.db.url)}
    missing = before - set(restored)
    assert not missing, f"acknowledged before the backup, not restored: {sorted(missing)[:5]}"
    for key in before:
        assert restored[key] == live[key], key
    # Whatever else the snapshot holds is whole: each of its tickets as the live one was
    # then, every event sequence without a gap.
    for key, line in restored.items():
        seqs = [e["seq"] for e in line["events"]]  # type: ignore[index]
        assert seqs == list(range(1, len(seqs) + 1)), key
        assert line["title"] == live[key]["title"]
    print(
        f"\nbackup under load: {len(before)} tickets acknowledged before, {during} during "
        f"the {took:.2f} s backup; {len(restored)} restored, {len(live)} live at the end"
    )
