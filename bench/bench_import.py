"""Importing a team's history: rows per second of ``dutydesk import jsonl`` (the whole use
case: rules, history events, comments, search, SLO clocks, idempotency keys) beside a bare
bulk insert of the same ticket and comment rows in the same run, and the peak memory the
import adds (it streams: memory should not grow with the file).

    .venv/bin/python bench/bench_import.py --tickets 100000 \
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/import_bench]

Each backend runs in a child process of its own, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "dutydesk.toml"
COMMENTS = 3


def generate(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            day = 1 + i % 28
            row = {
                "external_id": f"B-{i}",
                "title": f"Builder {i % 97} slow to start after config push {i}",
                "body": "Steps: push a config, wait for the builder.\n" * 4,
                "created": f"2025-03-{day:02d}T10:00:00Z",
                "reporter": f"user{i % 500}",
                "priority": ["P0", "P1", "P2", "P3"][i % 4],
                "labels": ["builders"],
                "comments": [
                    {
                        "author": "bo",
                        "created": f"2025-03-{day:02d}T1{c}:00:00Z",
                        "body": f"note {c}",
                    }
                    for c in range(COMMENTS)
                ],
            }
            if i % 3 == 0:
                row["resolution"] = "fixed"
                row["resolved"] = f"2025-04-{day:02d}T10:00:00Z"
            f.write(json.dumps(row) + "\n")


def fresh(url: str, schema: str | None) -> str:
    from sqlalchemy import create_engine, text

    from dutydesk.migrate import upgrade

    if schema:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        url = f"{url}?options=-csearch_path%3D{schema}"
    upgrade(url)
    return url


def rss_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def one(url: str, data: Path, label: str) -> dict[str, float | str]:
    """Import ``data`` into a fresh database, then bulk-insert the same rows into another."""
    from dutydesk.db import Database
    from dutydesk.imports.service import import_jsonl
    from dutydesk.policy import load_policy
    from dutydesk.state import AppState, sync_policy

    sqlite = url.startswith("sqlite")
    import_url = fresh(url, None if sqlite else "bench_import")
    policy = load_policy(EXAMPLE)
    db = Database(import_url)
    state = AppState(db=db, policy=policy)
    sync_policy(db, policy, state.now())
    reset_peak()
    base = rss_mib("VmRSS")
    t0 = time.perf_counter()
    result = import_jsonl(state, data, desk="infra", actor="admin")
    took = time.perf_counter() - t0
    grew = rss_mib("VmHWM") - base
    assert result.rejected_count == 0, result.rejected[:3]
    t0 = time.perf_counter()
    again = import_jsonl(state, data, desk="infra", actor="admin")
    rerun = time.perf_counter() - t0
    assert again.unchanged == result.created
    db.dispose()
    bare_url = url.replace(".db", "-bare.db") if sqlite else fresh(url, "bench_import_bare")
    if sqlite:
        bare_url = fresh(bare_url, None)
    bare = bulk_insert(bare_url, data)
    return {
        "backend": label,
        "rows": result.created,
        "import_rows_s": result.created / took,
        "rerun_rows_s": result.created / rerun,
        "bare_rows_s": result.created / bare,
        "peak_growth_mib": grew,
    }


def bulk_insert(url: str, data: Path) -> float:
    """The same tickets and comments as plain Core inserts, 200 tickets to a transaction."""
    from datetime import datetime

    from sqlalchemy import insert

    from dutydesk.db import Database
    from dutydesk.tickets.models import Comment, Ticket

    db = Database(url)
    with db.write() as s:
        from dutydesk.auth.service import create_user

        uid = create_user(s, "admin", roles=["admin"], now=datetime.now().astimezone()).id
    t0 = time.perf_counter()
    with data.open() as f:
        batch: list[dict] = []

        def flush(batch: list[dict]) -> None:
            with db.write() as s:
                conn = s.connection()
                for row in batch:
                    comments = row.pop("_comments")
                    tid = conn.execute(insert(Ticket).returning(Ticket.id), row).scalar_one()
                    conn.execute(
                        insert(Comment),
                        [
                            {
                                "ticket_id": tid,
                                "author_id": uid,
                                "body": c["body"],
                                "body_html": c["body"],
                                "public": True,
                                "created_at": datetime.fromisoformat(c["created"]),
                            }
                            for c in comments
                        ],
                    )

        for number, line in enumerate(f, start=1):
            r = json.loads(line)
            created = datetime.fromisoformat(r["created"])
            batch.append(
                {
                    "desk": "infra",
                    "number": number,
                    "title": r["title"],
                    "description": r["body"],
                    "description_html": r["body"],
                    "kind": "request",
                    "priority": r["priority"],
                    "status": "Done" if "resolution" in r else "Triaged",
                    "labels": r["labels"],
                    "criteria": [],
                    "reporter_id": uid,
                    "pr_links": [],
                    "rank": "0",
                    "order_key": "0",
                    "created_at": created,
                    "updated_at": created,
                    "_comments": r["comments"],
                }
            )
            if len(batch) >= 200:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    took = time.perf_counter() - t0
    db.dispose()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--pg", help="a PostgreSQL URL to measure too")
    ap.add_argument("--one", nargs=3, metavar=("URL", "DATA", "LABEL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], Path(args.one[1]), args.one[2])))
        return
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "history.jsonl"
        generate(data, args.tickets)
        size = data.stat().st_size / 2**20
        targets = [(f"sqlite:///{Path(tmp) / 'import.db'}", "SQLite")]
        if args.pg:
            targets.append((args.pg, "PostgreSQL"))
        results = []
        for url, label in targets:
            out = subprocess.run(
                [sys.executable, __file__, "--one", url, str(data), label],
                check=True,
                capture_output=True,
                text=True,
                env=os.environ,
            ).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    print(f"\n{args.tickets} tickets with {COMMENTS} comments each ({size:.0f} MiB of JSONL)\n")
    print(
        "| backend | import (rows/s) | re-import, unchanged (rows/s) | bare bulk insert (rows/s) "
        "| import / bare | peak RSS growth |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['backend']} | {r['import_rows_s']:.0f} | {r['rerun_rows_s']:.0f} "
            f"| {r['bare_rows_s']:.0f} | {r['import_rows_s'] / r['bare_rows_s']:.2f}x "
            f"| {r['peak_growth_mib']:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
