"""The database contract: a configured PostgreSQL that does not answer fails the run loudly
(it never skips), and pooled connections the server dropped are replaced."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dutydesk.db import Database
from tests.conftest import PG_URL


def test_unreachable_test_database_fails_the_run() -> None:
    root = Path(__file__).parents[1]
    env = {
        **os.environ,
        "DUTYDESK_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/tickets/test_concurrency.py",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "does not answer" in proc.stdout + proc.stderr
    assert "passed" not in proc.stdout.splitlines()[-1]


@contextmanager
def _pooled_connection_killed(
    db: Database, ping_after_idle: float
) -> Iterator[tuple[Database, int]]:
    """A one-connection pool whose connection the server has just terminated (a restart, as
    the pooled connection sees it); yields the pool and the dead backend's pid."""
    fresh = Database(db.url, pool_size=1, max_overflow=0, ping_after_idle=ping_after_idle)
    try:
        with fresh.read() as s:
            pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        yield fresh, pid
    finally:
        fresh.dispose()


@pytest.mark.skipif(not PG_URL, reason="a server connection to drop is a PostgreSQL matter")
def test_an_idle_connection_the_server_dropped_is_replaced_not_served(db: Database) -> None:
    with _pooled_connection_killed(db, ping_after_idle=0.2) as (fresh, pid):
        time.sleep(0.3)
        with fresh.read() as s:
            assert s.execute(text("SELECT pg_backend_pid()")).scalar() != pid


@pytest.mark.skipif(not PG_URL, reason="pool behaviour on a server connection")
def test_a_connection_used_a_moment_ago_is_not_pinged_again(db: Database) -> None:
    with _pooled_connection_killed(db, ping_after_idle=60) as (fresh, _pid):
        time.sleep(0.1)
        # Within the idle window the dead connection is handed out unpinged, and the first
        # statement finds out (SQLAlchemy then invalidates the pool): the window is real.
        with pytest.raises(OperationalError), fresh.read() as s:
            s.execute(text("SELECT 1"))
        with fresh.read() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1
