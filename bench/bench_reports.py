"""Reports over a large desk with a year of history, each beside a reference query measured on
the same database in the same run.

    python bench/bench_reports.py [--tickets 100000] [--db sqlite|postgresql] [--rounds 7]
                                  [--only toil] [--only set]

Tickets come from the demo's bulk path (a year of synthetic infra requests: a small catalogue
of titles, so recurring requests exist), plus a status history per ticket: Triaged, In
progress, Done for the closed ones (3% re-opened and done again, 3% bounced back to Triaged).
PostgreSQL: DUTYDESK_BENCH_DATABASE_URL as for bench/triage_eval.py (a schema per run).

Sections (one per report, each on a fresh database; each prints a table, the median wall
milliseconds beside the median CPU milliseconds of this process — which is all of SQLite's):

* ``toil``: the toil report's figures (SQL aggregates: counts, and sums and medians of the
  business times stored per done ticket, filled once by ``report rebuild`` after the bulk load
  and timed) for a quarter and for the whole year; the recurring-requests clustering for a quarter. Goals:
  figures <= 200 ms per report on SQLite at 100k tickets; clustering a quarter <= 2 s.
  Reference: one ``count(*)`` of the tickets filed in the same period (the floor any report
  over those rows pays).
* ``set``: the SET figures for 12 weeks and a year over ``bench_reports_health``'s history
  (``--tickets`` per desk, about 11 events per ticket, written in bulk), after ``report
  rebuild`` of the set desk (timed). Goal: <= 200 ms on SQLite at 100k. Reference: a
  ``count(*)`` of the set desk's status changes in the same period.
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


CPU: dict[int, float] = {}  # id(fn) → median CPU ms of its last timing


def timed(fn: Callable[[], Any], rounds: int) -> tuple[float, float]:
    """(median, max) milliseconds over ``rounds`` calls, after one warm-up call; the median
    CPU milliseconds of this process (SQLite runs in it) are kept in ``CPU``."""
    fn()
    ms, cpu = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    CPU[id(fn)] = statistics.median(cpu)
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

            def report(p: Any = period) -> Any:
                return toil_report(s, policy, DESK, p)

            figures = timed(report, rounds)
            rows.append(
                (
                    f"toil figures, {label}, {filed} tickets filed (CPU {CPU[id(report)]:.0f} ms)",
                    figures,
                    ref,
                )
            )
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


def set_section(db: Any, policy: Any, rounds: int, dbname: str, n: int) -> None:
    """The SET figures over the set desk of ``bench_reports_health``'s history (its builder,
    then ``report rebuild`` for the set desk, timed), 12 weeks and a year."""
    from sqlalchemy import func, select, text

    from bench_reports_health import build
    from dutydesk.reports.period import resolve
    from dutydesk.reports.set_figures import set_figures
    from dutydesk.slo.policy import desk_zone
    from dutydesk.tickets import moves, times
    from dutydesk.tickets.models import Event, Ticket

    now = datetime.now(UTC).replace(microsecond=0)
    with db.write() as s:  # bench_reports_health builds both desks from empty
        s.execute(text("DELETE FROM derived_bases"))
    t0 = time.perf_counter()
    build(db.url, policy, n, now)
    print(f"SET history ({n} tickets per desk, {dbname}) built in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    with db.write() as s:
        written = times.rebuild(s, policy, ["set"])["set"]
        kept = moves.rebuild(s, policy, now, ["set"])["set"]
        s.execute(text("ANALYZE"))
    print(
        f"report rebuild of set: {written} done tickets timed, {kept} moves kept, in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    zone = desk_zone(policy, "set")
    today = now.astimezone(zone).date()
    rows = []
    with db.read() as s:
        for label, period in (
            ("12 weeks", resolve(None, None, now, zone)),
            ("a year", resolve(today - timedelta(days=364), today, now, zone)),
        ):

            def count(p: Any = period) -> Any:
                return s.scalar(
                    select(func.count())
                    .select_from(Event)
                    .join(Ticket, Ticket.id == Event.ticket_id)
                    .where(
                        Event.field == "status",
                        Event.at >= p.since,
                        Event.at < p.until,
                        Ticket.desk == "set",
                    )
                )

            ref = timed(count, rounds)

            def report(p: Any = period) -> Any:
                return set_figures(s, policy, "set", p, now, "team")

            figures = timed(report, rounds)
            rows.append((f"SET figures, {label} (CPU {CPU[id(report)]:.0f} ms)", figures, ref))
    print(f"\n| SET ({n} tickets, a year, {dbname}) | median ms | max ms | reference ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, (p50, worst), (r50, _) in rows:
        print(f"| {name} | {p50:.0f} | {worst:.0f} | {r50:.1f} |")
    print("reference: count(*) of the set desk's status changes in the period (same run)")


def build_toil(db: Any, policy: Any, n: int, dbname: str) -> None:
    """The infra desk's year: the demo's bulk path, status moves, then ``report rebuild``."""
    from sqlalchemy import text

    from dutydesk import demo
    from dutydesk.tickets import moves
    from dutydesk.tickets.times import rebuild

    t0 = time.perf_counter()
    demo.bulk_tickets(db, policy, DESK, n, progress=False)
    written_moves = add_status_history(db, policy)
    print(
        f"{n} tickets and {written_moves} status moves in "
        f"{time.perf_counter() - t0:.0f} s ({dbname}, {date.today()})"
    )
    # The events above bypass the recorder (which keeps a ticket's business times and its
    # re-opens and bounces with each change): derive them as ``dutydesk report rebuild`` does.
    t0 = time.perf_counter()
    with db.write() as s:
        written = rebuild(s, policy, [DESK])[DESK]
        kept = moves.rebuild(s, policy, datetime.now(UTC), [DESK])[DESK]
    with db.write() as s:
        s.execute(text("ANALYZE"))
    print(
        f"report rebuild: {written} done tickets timed, {kept} moves kept, in "
        f"{time.perf_counter() - t0:.1f} s"
    )


SECTIONS: dict[str, Callable[[Any, Any, int, str, int], None]] = {
    "toil": toil_section,
    "set": set_section,
}


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

    from dutydesk.policy.loader import load_policy
    from triage_eval import fresh_database

    policy = load_policy(ROOT / "examples" / "dutydesk.toml")
    for name in args.only or list(SECTIONS):
        with fresh_database(args.db, policy) as (db, _):
            if name == "toil":
                build_toil(db, policy, args.tickets, args.db)
            SECTIONS[name](db, policy, args.rounds, args.db, args.tickets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
