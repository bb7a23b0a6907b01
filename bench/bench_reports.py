"""Reports over a large desk with a year of history, each beside a reference query measured on
the same database in the same run.

    python bench/bench_reports.py [--tickets 100000] [--db sqlite|postgresql] [--rounds 7]
                                  [--only toil]

Tickets come from the demo's bulk path (a year of synthetic infra requests: a small catalogue
of titles, so recurring requests exist), plus a status history per ticket: Triaged, In
progress, Done for the closed ones (3% re-opened and done again, 3% bounced back to Triaged).
PostgreSQL: DUTYDESK_BENCH_DATABASE_URL as for bench/triage_eval.py (a schema per run).

Sections (one per report; each prints a table):

* ``toil``: the toil report's figures (SQL aggregates: counts, and sums and medians of the
  business times stored per done ticket, filled once by ``report rebuild`` after the bulk load
  and timed) for a quarter and for the whole year; the recurring-requests clustering for a quarter. Goals:
  figures <= 200 ms per report on SQLite at 100k tickets; clustering a quarter <= 2 s.
  Reference: one ``count(*)`` of the tickets filed in the same period (the floor any report
  over those rows pays).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

DESK = "infra"


def timed(fn: Callable[[], Any], rounds: int) -> tuple[float, float]:
    """(median, max) milliseconds over ``rounds`` calls, after one warm-up call."""
    fn()
    ms = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
    return statistics.median(ms), max(ms)


def add_status_history(db: Any, policy: Any, seed: int = 5) -> int:
    """Status moves for every bulk ticket, as the product writes them (``changed``/``status``
    events after the demo's three), so in-progress time, re-opens and bounces have data."""
    from sqlalchemy import insert, select

    from dutydesk.models import Base
    from dutydesk.tickets.models import Event, Ticket

    desk = policy.desks[DESK]
    intake, triaged, started, done = (
        desk.intake_column,
        desk.triaged_column,
        desk.started_column,
        desk.done_column,
    )
    rnd = random.Random(seed)
    table = Base.metadata.tables[Event.__tablename__]
    written = 0
    with db.read() as s:
        rows = s.execute(
            select(Ticket.id, Ticket.status, Ticket.created_at, Ticket.resolved_at).where(
                Ticket.desk == DESK
            )
        ).all()
    for start in range(0, len(rows), 5000):
        events: list[dict[str, Any]] = []
        for tid, status, created, resolved in rows[start : start + 5000]:
            seq = 3
            moves: list[tuple[datetime, str, str]] = []
            if status != intake:
                moves.append((created + timedelta(hours=1), intake, triaged))
                if status in (started, done) or status not in (intake, triaged):
                    moves.append((created + timedelta(hours=3), triaged, started))
                    if rnd.random() < 0.03:  # bounced back, picked up again
                        moves.append((created + timedelta(hours=4), started, triaged))
                        moves.append((created + timedelta(hours=5), triaged, started))
            if status == done and resolved is not None:
                moves.append((resolved, started, done))
                if rnd.random() < 0.03:  # re-opened and done again
                    moves.append((resolved, done, intake))
                    moves.append((resolved, intake, done))
            for at, before, after in moves:
                seq += 1
                events.append(
                    {
                        "ticket_id": tid,
                        "seq": seq,
                        "at": at,
                        "actor_id": None,
                        "type": "changed",
                        "field": "status",
                        "before": before,
                        "after": after,
                        "data": {},
                    }
                )
        with db.write() as s:
            s.execute(insert(table), events)
        written += len(events)
    if not db.sqlite:
        from sqlalchemy import text

        with db.write() as s:
            s.execute(text("ANALYZE tickets, events"))
    return written


def toil_section(db: Any, policy: Any, rounds: int, dbname: str, n: int) -> None:
    from sqlalchemy import func, select

    from dutydesk.reports.period import resolve
    from dutydesk.reports.recurring import recurring_requests
    from dutydesk.reports.toil import toil_report
    from dutydesk.slo.policy import desk_zone
    from dutydesk.tickets.models import Ticket

    now = datetime.now(UTC)
    zone = desk_zone(policy, DESK)
    today = now.astimezone(zone).date()
    quarter = resolve(None, None, now, zone)
    year = resolve(today - timedelta(days=364), today, now, zone)
    rows = []
    with db.read() as s:
        for label, period in (("quarter (12 weeks)", quarter), ("year (52 weeks)", year)):
            filed = s.scalar(
                select(func.count()).where(
                    Ticket.desk == DESK,
                    Ticket.created_at >= period.since,
                    Ticket.created_at < period.until,
                )
            )

            def count(p: Any = period) -> Any:
                return s.scalar(
                    select(func.count()).where(
                        Ticket.desk == DESK,
                        Ticket.created_at >= p.since,
                        Ticket.created_at < p.until,
                    )
                )

            ref = timed(count, rounds)
            figures = timed(lambda p=period: toil_report(s, policy, DESK, p), rounds)
            rows.append((f"toil figures, {label}, {filed} tickets filed", figures, ref))
            if label.startswith("quarter"):
                clusters = timed(
                    lambda p=period: recurring_requests(s, policy, DESK, p, now),
                    max(3, rounds // 2),
                )
                found = recurring_requests(s, policy, DESK, period, now)
                rows.append(
                    (
                        f"recurring requests, {label}, {found.tickets} tickets → "
                        f"{len(found.clusters)} clusters",
                        clusters,
                        ref,
                    )
                )
    print(f"\n| toil ({n} tickets, a year, {dbname}) | median ms | max ms | reference ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, (p50, worst), (r50, _) in rows:
        print(f"| {name} | {p50:.0f} | {worst:.0f} | {r50:.1f} |")
    print("reference: count(*) of the tickets filed in the same period (same run, same database)")


SECTIONS: dict[str, Callable[[Any, Any, int, str, int], None]] = {"toil": toil_section}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--only", choices=sorted(SECTIONS), action="append")
    args = ap.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))

    from dutydesk import demo
    from dutydesk.policy.loader import load_policy
    from triage_eval import fresh_database

    policy = load_policy(ROOT / "examples" / "dutydesk.toml")
    with fresh_database(args.db, policy) as (db, _):
        t0 = time.perf_counter()
        demo.bulk_tickets(db, policy, DESK, args.tickets, progress=False)
        moves = add_status_history(db, policy)
        print(
            f"{args.tickets} tickets and {moves} status moves in "
            f"{time.perf_counter() - t0:.0f} s ({args.db}, {date.today()})"
        )
        # The events above bypass the recorder (which stores a ticket's business times when it
        # is resolved): store them as ``dutydesk report rebuild`` does after a bulk load.
        from dutydesk.tickets import moves
        from dutydesk.tickets.times import rebuild

        t0 = time.perf_counter()
        with db.write() as s:
            written = rebuild(s, policy, [DESK])[DESK]
            moves.rebuild(s, policy, datetime.now(UTC), [DESK])
        if not db.sqlite:
            from sqlalchemy import text

            with db.write() as s:
                s.execute(text("ANALYZE ticket_times, ticket_moves"))
        print(
            f"stored business times of {written} done tickets and their moves (report rebuild) in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        for name in args.only or list(SECTIONS):
            SECTIONS[name](db, policy, args.rounds, args.db, args.tickets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
