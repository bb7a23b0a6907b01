"""The filing use case alone, in process: CPU per ticket filed, and per change fanned out by
the notification worker, beside a bare sqlite3 insert of the same ticket row.

    .venv/bin/python bench/bench_filing.py [--tickets 2000]

Five filings to a transaction (about what group commit batches with 8 clients), on a fresh
SQLite database from ``dutydesk init``. CPU is this process's time (``time.process_time``),
so the figures hold up on a shared machine better than wall-clock ones.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BATCH = 5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'dutydesk.db'}"
        os.environ.update(DUTYDESK_DATABASE_URL=url, DUTYDESK_POLICY=str(folder / "dutydesk.toml"))
        subprocess.run(
            [sys.executable, "-m", "dutydesk", "init"], cwd=folder, check=True, capture_output=True
        )
        rows = [measure(folder, url, args.tickets) for _ in range(args.rounds)]
    print(f"\n{args.tickets} filings per round, {BATCH} to a transaction (CPU ms per ticket)\n")
    print("| round | file (use case + response) | fan out (worker) | bare sqlite3 insert |")
    print("| ---: | ---: | ---: | ---: |")
    for i, (filing, fan, bare) in enumerate(rows):
        print(f"| {i + 1} | {filing:.3f} | {fan:.3f} | {bare:.3f} |")


def measure(folder: Path, url: str, n: int) -> tuple[float, float, float]:
    from sqlalchemy import select

    from dutydesk.auth.models import User
    from dutydesk.context import Ctx
    from dutydesk.db import Database
    from dutydesk.notify.worker import fan_out
    from dutydesk.policy import load_policy
    from dutydesk.tickets import filing, queries
    from dutydesk.tickets.schemas import FileTicket

    policy = load_policy(folder / "dutydesk.toml")
    db = Database(url)
    with db.read() as s:
        admin = s.scalar(select(User).where(User.name == "admin"))
        assert admin is not None
        s.expunge(admin)

    def file_all(count: int) -> None:
        for i in range(0, count, BATCH):
            with db.write() as s:
                for j in range(BATCH):
                    ctx = Ctx(s, policy, admin, datetime.now(UTC))
                    body = FileTicket(
                        title=f"Builder {i}-{j} slow to start",
                        description="Why: release blocked.",
                        criteria=["Degraded service"],  # the urgent queue, with a triage clock
                    )
                    queries.present_filed(policy, filing.file(ctx, "infra", body), ctx.now)

    file_all(100)  # warm: compiled statements, caches
    fan_out(db, policy, 1000)
    t = time.process_time()
    file_all(n)
    filing_cpu = time.process_time() - t
    t = time.process_time()
    fan_out(db, policy, 1000)
    fan = time.process_time() - t
    db.engine.dispose()

    bare = sqlite3.connect(folder / "bare.db", isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=NORMAL")
    bare.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
    t = time.process_time()
    for i in range(0, n, BATCH):
        bare.execute("BEGIN IMMEDIATE")
        for j in range(BATCH):
            bare.execute(
                "INSERT INTO t (title, body) VALUES (?, ?)",
                (f"Builder {i}-{j} slow to start", "Why: release blocked."),
            )
        bare.execute("COMMIT")
    raw = time.process_time() - t
    bare.close()
    return 1000 * filing_cpu / n, 1000 * fan / n, 1000 * raw / n


if __name__ == "__main__":
    main()
