"""The server's background WAL checkpointer (SQLite): commits stop checkpointing, the thread
copies the WAL back, and under a steady stream of writers the WAL still starts over."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from dutydesk.db import Database, WalCheckpointer


def _setup(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite:///{path}")
    with db.write() as s:
        s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    return db, path


def _write(db: Database, n: int) -> None:
    for i in range(n):
        with db.write() as s:
            s.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": f"row {i} " + "x" * 500})


def test_commits_leave_checkpoints_to_the_background_thread(tmp_path: Path) -> None:
    db, path = _setup(tmp_path)
    db.checkpoint_in_background(interval=3600)  # the thread stays asleep during the writes
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        _write(db, 1500)  # well past SQLite's own 1000-page mark
        checkpointer = db._checkpointer
        assert checkpointer is not None
        raw = sqlite3.connect(path, isolation_level=None)
        frames, copied = checkpointer.checkpoint(raw)
        assert frames > 1000 and copied == frames, "nothing was copied by the commits"
        raw.close()
        with db.read() as s:
            assert s.execute(text("SELECT count(*) FROM t")).scalar() == 1500
    finally:
        db.dispose()
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT count(*) FROM t").fetchone() == (1500,)


def test_under_steady_writes_the_wal_still_starts_over(tmp_path: Path) -> None:
    db, path = _setup(tmp_path)
    db.checkpoint_in_background(interval=0.02)
    checkpointer = db._checkpointer
    assert isinstance(checkpointer, WalCheckpointer)
    checkpointer.catch_up_frames = 200
    seen: list[int] = []  # WAL length (frames) after each pass
    original = checkpointer.checkpoint

    def recording(conn: Any) -> tuple[int, int]:
        frames, copied = original(conn)
        seen.append(frames)
        return frames, copied

    checkpointer.checkpoint = recording
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            _write(db, 20)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 10
        # Writers never pause, yet the WAL must start over (its length drops) again and again.
        while time.monotonic() < deadline and _restarts(seen) < 3:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
        db.dispose()
    assert _restarts(seen) >= 3, seen
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT count(*) FROM t").fetchone()[0] >= 20


def _restarts(lengths: list[int]) -> int:
    return sum(1 for a, b in itertools.pairwise(lengths) if b < a)
