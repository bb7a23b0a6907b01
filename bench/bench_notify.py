"""Benchmark: notification deliveries per second, and the timer/due scans at 10k and 100k.

(1) Deliveries/s to a local HTTP receiver (a threaded http.server on 127.0.0.1 answering 200
at once). Reference measured in the same run: the receiver's own raw request rate from a plain
httpx client loop (one connection, and 4 threads like the worker's default concurrency). The
worker run claims rows under a lease, posts each with its idempotency id and commits each
result in its own transaction (what makes a SIGKILL lose nothing), on SQLite and optionally
PostgreSQL.

(2) Timer scans with N tickets that each carry a running SLO clock (due times spread over the
next 30 days) and a pending outbox row each (due later), plus 20 clocks and 20 messages due
now: time per scan at N = 10k and 100k, beside a naive scan that reads every running clock,
and the EXPLAIN (QUERY PLAN) line of the exact statement the worker runs. Index-driven means
the scan time stays flat from 10k to 100k while the naive one grows ~10x.

Run: .venv/bin/python bench/bench_notify.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Select, insert, select, text
from sqlalchemy.orm import Session

from dutydesk.db import Database
from dutydesk.demo import bulk_tickets
from dutydesk.migrate import upgrade
from dutydesk.notify import jobs, outbox
from dutydesk.notify.models import MESSAGE, PENDING, OutboxMessage
from dutydesk.notify.rows import OutboxRow
from dutydesk.notify.worker import Worker
from dutydesk.policy import Policy, load_policy
from dutydesk.slo.jobs import slo_timer_query
from dutydesk.slo.models import TicketClock
from dutydesk.state import sync_policy
from dutydesk.tickets.models import Ticket

ROOT = Path(__file__).parents[1]
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
DUE_NOW = 20


def command_line() -> str:
    return ".venv/bin/python " + " ".join(shlex.quote(a) for a in sys.argv)


def demo_policy(**notify: Any) -> Policy:
    raw = load_policy(ROOT / "examples" / "dutydesk.toml").model_dump(by_alias=True)
    for person in raw["people"].values():
        person["password"] = None
    raw["notify"] = {**raw["notify"], **notify}
    return Policy.model_validate(raw)


# ----------------------------------------------------------------------------- receiver


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real webhook endpoint
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with outer.lock:
                    outer.count += 1
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def raw_rate(url: str, n: int, threads: int) -> float:
    body = b'{"text": "INFRA-1 was assigned to you"}'
    per = n // threads

    def loop() -> None:
        with httpx.Client() as c:
            for i in range(per):
                c.post(url, content=body, headers={"Idempotency-Key": str(i)})

    started = time.perf_counter()
    ts = [threading.Thread(target=loop) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return per * threads / (time.perf_counter() - started)


def worker_rate(url: str, db_url: str, n: int) -> float:
    policy = demo_policy(concurrency=4)
    db = fresh(db_url)
    with db.write() as s:
        outbox.insert_ignore(
            s,
            [
                OutboxRow(
                    MESSAGE,
                    f"bench:{i}",
                    NOW,
                    {
                        "kind": "desk.new",
                        "subject": f"INFRA-{i}",
                        "markdown": f"New ticket INFRA-{i}",
                    },
                    NOW,
                    channel="infra-chat",
                    recipient="#infra-chat",
                    desk="infra",
                )
                for i in range(n)
            ],
        )
    w = Worker(db, policy, lambda: NOW, env={"INFRA_SLACK_WEBHOOK_URL": url})
    try:
        started = time.perf_counter()
        delivered = 0
        while delivered < n:
            stats = w.tick()
            delivered += stats.delivered
            if stats.work == 0:
                break
        took = time.perf_counter() - started
    finally:
        w.close()
        db.dispose()
    return delivered / took


# ----------------------------------------------------------------------------- scans


def fresh(url: str) -> Database:
    if url.startswith("postgresql"):
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    upgrade(url)
    return Database(url)


def build(url: str, n: int) -> Database:
    """N tickets, each with a running clock and a pending (later) outbox row; 20 of each due now."""
    policy = demo_policy()
    db = fresh(url)
    sync_policy(db, policy, NOW)
    bulk_tickets(db, policy, "infra", n, progress=False)
    with db.read() as s:
        ids = list(s.scalars(select(Ticket.id).order_by(Ticket.id)))
    spread = timedelta(days=30) / len(ids)
    clocks, rows = [], []
    for i, tid in enumerate(ids):
        due = (
            NOW + timedelta(hours=1) + i * spread
            if i >= DUE_NOW
            else NOW - timedelta(seconds=i + 1)
        )
        clocks.append(
            {
                "ticket_id": tid,
                "desk": "infra",
                "name": "update",
                "rule": "update[priority=P1]",
                "target": "5 business days",
                "cadence": True,
                "business": True,
                "cycle": 1,
                "started_at": NOW - timedelta(days=5),
                "target_seconds": 144000.0,
                "at_risk_fraction": 0.75,
                "due_at": due,
                "at_risk_at": due - timedelta(minutes=30),
                "state": "running",
                "paused_seconds": 0.0,
                "pauses": [],
            }
        )
        rows.append(
            OutboxRow(
                MESSAGE,
                f"bench:{tid}",
                due,
                {"kind": "desk.new", "subject": "x", "markdown": "x"},
                NOW,
                channel="infra-chat",
                desk="infra",
            )
        )
    with db.write() as s:
        for i in range(0, len(clocks), 5000):
            s.execute(insert(TicketClock), clocks[i : i + 5000])
            outbox.insert_ignore(s, rows[i : i + 5000])
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return db


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, float]:
    out = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return statistics.median(out), max(out)


def rolled_back(db: Database, fn: Callable[[Any], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with Session(db.engine) as s:  # a transaction we throw away, so repetitions match
            s.begin()
            try:
                return fn(s)
            finally:
                s.rollback()

    return run


def explain(db: Database, stmt: Select[Any]) -> str:
    compiled = stmt.compile(dialect=db.engine.dialect)
    params = {
        k: (v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v)
        for k, v in compiled.params.items()
    }
    with db.engine.connect() as conn:
        if db.sqlite:
            order: Sequence[str] = compiled.positiontup or []
            values = tuple(
                str(params[name]) if isinstance(params[name], datetime) else params[name]
                for name in order
            )
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), values).all()
            return " | ".join(str(r[-1]) for r in plan)
        plan = conn.exec_driver_sql("EXPLAIN " + str(compiled), params).all()
        return " | ".join(str(r[0]).strip() for r in plan)


def scans(db: Database, n: int, reps: int) -> list[tuple[str, float, float, int]]:
    policy = demo_policy()
    window = NOW - timedelta(minutes=5)

    def slo(s: Any) -> int:
        return jobs.scan_timers(s, policy, NOW)

    def slo_query(s: Any) -> int:
        return len(s.execute(slo_timer_query("breach", "infra", window, NOW)).all())

    def claim(s: Any) -> int:
        return len(outbox.due(s, MESSAGE, NOW, 50))

    def naive(s: Any) -> int:
        rows = s.execute(
            select(TicketClock.id, TicketClock.due_at).where(TicketClock.state == "running")
        ).all()
        return sum(1 for _, due in rows if window < due <= NOW)

    out = []
    with Session(db.engine) as s:
        s.begin()
        found = {
            "slo": slo_query(s),
            "claim": claim(s),
            "naive": naive(s),
        }
        s.rollback()
    for label, fn, key in (
        ("SLO breach query (index range)", slo_query, "slo"),
        ("SLO timer scan: query + notices for the due", slo, "slo"),
        ("outbox claim query (state, due_at)", claim, "claim"),
        ("naive: read every running clock, filter", naive, "naive"),
    ):
        p50, worst = timed(rolled_back(db, fn), reps)
        out.append((label, p50, worst, found[key]))
    return out


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist yet."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="also run on this PostgreSQL URL (its public schema is reset)")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args()
    print(f"command: {command_line()}")
    print(
        f"python {sys.version.split()[0]}; receiver and worker on 127.0.0.1; shared machine, read ratios\n"
    )

    if args.pg:
        ensure_database(args.pg)
    receiver = Receiver()
    try:
        n = args.deliveries
        raw1 = raw_rate(receiver.url, n, 1)
        raw4 = raw_rate(receiver.url, n, 4)
        targets = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/deliver.db")]
        if args.pg:
            targets.append(("postgresql", args.pg))
        print("1. Deliveries per second to a local receiver")
        print()
        print("| what | per second | vs raw (4 threads) |")
        print("| --- | ---: | ---: |")
        print(f"| raw httpx loop, 1 connection | {raw1:,.0f} | {raw1 / raw4:.2f}x |")
        print(f"| raw httpx loop, 4 threads | {raw4:,.0f} | 1.00x |")
        for name, url in targets:
            rate = worker_rate(receiver.url, url, n)
            print(
                f"| worker on {name}, concurrency 4 ({n} messages) | {rate:,.0f} | {rate / raw4:.2f}x |"
            )
    finally:
        receiver.close()

    print()
    print(
        f"2. Timer / due scans (ms per scan; {DUE_NOW} clocks and {DUE_NOW} messages due, the rest later)"
    )
    print()
    print("| db | tickets | scan | rows found | p50 ms | max ms |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    plans: dict[str, list[str]] = {}
    sizes = [int(x) for x in args.sizes.split(",")]
    for name, base in [("sqlite", "sqlite")] + ([("postgresql", args.pg)] if args.pg else []):
        for size in sizes:
            url = f"sqlite:///{tempfile.mkdtemp()}/scan.db" if base == "sqlite" else base
            db = build(url, size)
            try:
                for label, p50, worst, found in scans(db, size, reps=15):
                    print(f"| {name} | {size:,} | {label} | {found:,} | {p50:.2f} | {worst:.2f} |")
                if size == sizes[-1]:
                    plans[name] = [
                        "SLO breach: "
                        + explain(
                            db,
                            slo_timer_query("breach", "infra", NOW - timedelta(minutes=5), NOW),
                        ),
                        "outbox claim: "
                        + explain(
                            db,
                            select(OutboxMessage)
                            .where(
                                OutboxMessage.state == PENDING,
                                OutboxMessage.due_at <= NOW,
                                OutboxMessage.kind == MESSAGE,
                            )
                            .order_by(OutboxMessage.due_at)
                            .limit(50),
                        ),
                    ]
            finally:
                db.dispose()
    print()
    for name, lines in plans.items():
        print(f"plan ({name}, {sizes[-1]:,} tickets):")
        for line in lines:
            print(f"  {line}")


if __name__ == "__main__":
    main()
