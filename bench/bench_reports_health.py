"""Queue health, on-call load and SET figures over 100k tickets with a year of history.

Set-up (not timed): a fresh database with the example policy; per desk (infra for queue
health and on-call load, set for the SET figures) ``--tickets`` tickets filed over the past
year with a full event history, as the recorder writes it (filed; priority, triaged_at,
triaged_by and status at triage; the assignment; started_at and the move to In progress;
a comment; Submitted for SET bugs; status, resolution and resolved_at at the close), one
triage clock per ticket (met, met after the at-risk instant, breached, or running) and two
notices per ticket in the outbox. About 10 events per ticket: 1M per desk.

Timed: each report through its service function in a read transaction, for the default
period (twelve weeks ending today) and for a whole year, median of ``--runs``. The goal is
<= 200 ms per report on SQLite at 100k. Measured in the same run for reference: a bare
``SELECT count(*)`` over the desk's status changes in the year (the rows the flow reads),
and the existing ``slo attainment`` report for 52 weeks.

Run: ``.venv/bin/python bench/bench_reports_health.py`` (SQLite, a few minutes to build);
``--database-url postgresql+psycopg://…/db`` for PostgreSQL (an empty database);
``--tickets N`` to change 100k.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from dutydesk.auth.models import User
from dutydesk.db import Database
from dutydesk.migrate import upgrade
from dutydesk.models import Base
from dutydesk.notify.models import NOTICE, OutboxMessage
from dutydesk.policy import Policy, load_policy
from dutydesk.reports.oncall_load import oncall_load
from dutydesk.reports.period import Period, resolve
from dutydesk.reports.queue_health import queue_health
from dutydesk.reports.set_figures import set_figures
from dutydesk.reports.tallies import rebuild as rebuild_tallies
from dutydesk.slo.attainment import attainment
from dutydesk.slo.models import TicketClock
from dutydesk.slo.policy import desk_zone
from dutydesk.slo.service import follow_priorities
from dutydesk.state import sync_policy
from dutydesk.tickets.idle import rebuild as rebuild_claims
from dutydesk.tickets.models import DeskCounter, Event, Ticket
from dutydesk.tickets.moves import rebuild as rebuild_moves
from dutydesk.tickets.times import rebuild as rebuild_times

EXAMPLE = Path(__file__).parents[1] / "examples" / "dutydesk.toml"
GOAL_MS = 200.0
HOUR = timedelta(hours=1)


def history(
    desk: str, policy: Policy, n: int, now: datetime, people: dict[str, int], seed: int = 11
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    spec = policy.desks[desk]
    rnd = random.Random(seed)
    responders = [
        people[p] for p in ("ana", "bo", "chen", "dee", "eva", "finn", "gus") if p in people
    ]
    reporters = [people["rita"]]
    tickets: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    clocks: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    started_col, done_col = spec.started_column, spec.done_column
    triaged_col = spec.triaged_column
    kinds = ["bug"] * 6 + ["escalation"] + spec.kinds if desk == "set" else spec.kinds
    for tid in range(1, n + 1):
        created = now - timedelta(seconds=rnd.randint(3600, 365 * 86400))
        kind = rnd.choice([k for k in kinds if k in spec.kinds])
        seq = 0
        status = spec.intake_column
        row: dict[str, Any] = {
            "id": tid,
            "desk": desk,
            "number": tid,
            "title": f"Ticket {tid}",
            "description": "",
            "description_html": "",
            "kind": kind,
            "category": rnd.choice(spec.categories) if spec.categories else None,
            "priority": None,
            "resolution": None,
            "assignee_id": None,
            "team": rnd.choice(spec.teams) if spec.teams else None,
            "labels": [],
            "criteria": spec.criteria[:1],
            "reporter_id": reporters[0],
            "customer_reported": rnd.random() < 0.25,
            "fix_target": "none",
            "pr_links": [],
            "blocked": False,
            "rank": f"{tid:012d}",
            "order_key": f"{tid:012d}",
            "in_queue": True,
            "is_open": True,
            "created_at": created,
            "updated_at": created,
            "triaged_at": None,
            "triaged_by_id": None,
            "started_at": None,
            "resolved_at": None,
            "last_update_at": None,
            "version": 1,
        }

        def ev(
            at: datetime,
            type_: str,
            field: str | None,
            before: Any,
            after: Any,
            actor: int,
            tid: int = tid,
            row: dict[str, Any] = row,
        ) -> None:
            nonlocal seq
            seq += 1
            events.append(
                {
                    "ticket_id": tid,
                    "seq": seq,
                    "at": at,
                    "actor_id": actor,
                    "type": type_,
                    "field": field,
                    "before": before,
                    "after": after,
                    "data": {},
                }
            )
            row["updated_at"] = at

        def move(at: datetime, to: str, actor: int) -> None:
            nonlocal status
            ev(at, "changed", "status", status, to, actor)
            status = to

        ev(created, "filed", None, None, f"{desk.upper()}-{tid}", reporters[0])
        who = rnd.choice(responders)
        delay = timedelta(seconds=rnd.randint(600, 10 * 3600))
        triaged = created + delay
        clock = {
            "ticket_id": tid,
            "desk": desk,
            "name": "triage",
            "rule": "triage",
            "target": "4 business hours",
            "cadence": False,
            "business": True,
            "cycle": 1,
            "started_at": created,
            "target_seconds": 4 * 3600.0,
            "at_risk_fraction": 0.75,
            "due_at": created + 4 * HOUR,
            "at_risk_at": created + 3 * HOUR,
            "state": "running",
            "paused_seconds": 0.0,
            "pauses": [],
            "stopped_at": None,
            "outcome": None,
            "decided_at": None,
            "met_at": None,
            "breached_at": None,
            "elapsed_seconds": None,
        }
        clocks.append(clock)
        notices.append(_notice(len(notices), desk, created, rnd.choice(responders)))
        if rnd.random() < 0.92 and triaged < now:
            priority = rnd.choice(spec.priorities)
            row.update(priority=priority, triaged_at=triaged, triaged_by_id=who)
            ev(triaged, "changed", "priority", None, priority, who)
            ev(triaged, "changed", "triaged_at", None, triaged.isoformat(), who)
            ev(triaged, "changed", "triaged_by", None, "someone", who)
            ev(triaged, "triaged", None, None, priority, who)
            if triaged_col:
                move(triaged, triaged_col, who)
            met = delay <= 4 * HOUR
            clock.update(
                state="stopped",
                stopped_at=triaged,
                outcome="met" if met else "breached",
                decided_at=triaged if met else clock["due_at"],
                met_at=triaged if met else None,
                breached_at=None if met else clock["due_at"],
                elapsed_seconds=delay.total_seconds(),
            )
            owner = rnd.choice(responders)
            at = triaged + HOUR
            if at < now:
                row["assignee_id"] = owner
                ev(at, "changed", "assignee", None, "someone", who)
            start = triaged + timedelta(hours=rnd.randint(2, 72))
            old = start < now - timedelta(days=30)
            if start < now and (old or rnd.random() < 0.85) and started_col:
                row["started_at"] = start
                ev(start, "changed", "started_at", None, start.isoformat(), owner)
                move(start, started_col, owner)
                ev(start + HOUR, "commented", None, None, None, owner)
                notices.append(_notice(len(notices), desk, start, owner))
                end = start + timedelta(hours=rnd.randint(4, 24 * 20))
                if desk == "set" and kind == "bug" and rnd.random() < 0.6 and end < now:
                    move(end, "Submitted", owner)
                    end += timedelta(hours=rnd.randint(2, 48))
                # A kept queue: nearly every ticket older than a month is closed.
                if end < now and (end < now - timedelta(days=30) or rnd.random() < 0.5):
                    move(end, done_col, owner)
                    resolution = "fixed" if rnd.random() < 0.8 else "wont-fix"
                    ev(end, "changed", "resolution", None, resolution, owner)
                    ev(end, "changed", "resolved_at", None, end.isoformat(), owner)
                    row.update(
                        resolution=resolution, resolved_at=end, is_open=False, in_queue=False
                    )
        row.update(status=status, event_seq=seq)
        tickets.append(row)
    return tickets, events, clocks, notices


def _notice(i: int, desk: str, at: datetime, user: int) -> dict[str, Any]:
    return {
        "kind": NOTICE,
        "payload": {},
        "dedupe_key": f"bench:{desk}:{i}",
        "due_at": at,
        "created_at": at,
        "state": "delivered",
        "recipient": f"user:{user}",
        "desk": desk,
        "attempts": 0,
    }


def build(url: str, policy: Policy, n: int, now: datetime) -> None:
    upgrade(url)
    db = Database(url)
    sync_policy(db, policy, now)
    with db.read() as s:
        people = dict(s.execute(select(User.name, User.id)).all())
    offset = 0
    for desk in ("infra", "set"):
        tickets, events, clocks, notices = history(desk, policy, n, now, people)
        for t in tickets:
            t["id"] += offset
        for r in (*events, *clocks):
            r["ticket_id"] += offset
        offset += n
        tables = Base.metadata.tables
        step = 20_000
        for table, rows in (
            (Ticket.__tablename__, tickets),
            (Event.__tablename__, events),
            (TicketClock.__tablename__, clocks),
            (OutboxMessage.__tablename__, notices),
        ):
            for i in range(0, len(rows), step):
                with db.write() as s:
                    s.execute(insert(tables[table]), rows[i : i + step])
        with db.write() as s:
            s.merge(DeskCounter(desk=desk, next_number=n + 1))
        print(f"  {desk}: {len(tickets)} tickets, {len(events)} events, {len(notices)} notices")
    # What ``dutydesk report rebuild`` does after a bulk load, each part timed.
    for name, step in (
        ("times and stays", lambda s: rebuild_times(s, policy)),
        ("moves", lambda s: rebuild_moves(s, policy, now)),
        ("tallies", rebuild_tallies),
        ("clock priorities", follow_priorities),
        ("claims' last activity", rebuild_claims),
    ):
        t0 = time.perf_counter()
        with db.write() as s:
            rows = step(s)
        n = sum(rows.values()) if isinstance(rows, dict) else rows
        print(f"  rebuild {name}: {n} rows, {time.perf_counter() - t0:.1f} s")
    with db.write() as s:
        if db.sqlite:
            s.execute(text("ANALYZE"))
        else:
            s.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))"
                )
            )
            s.execute(text("ANALYZE"))
    db.dispose()


def timed(db: Database, runs: int, use: Callable[[Any], object]) -> float:
    laps = []
    for _ in range(runs):
        with db.read() as s:
            t0 = time.perf_counter()
            use(s)
            laps.append((time.perf_counter() - t0) * 1000)
    return statistics.median(laps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000, help="per desk")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    ap.add_argument(
        "--keep",
        type=Path,
        help="SQLite: build into this file, or time the one built there before",
    )
    ap.add_argument(
        "--skip-build", action="store_true", help="PostgreSQL: time a database built before"
    )
    args = ap.parse_args()
    policy = load_policy(EXAMPLE)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "reports.db"
        url = args.database_url or f"sqlite:///{path}"
        reuse = args.skip_build if args.database_url else path.exists()
        stamp = path.with_suffix(".now")  # the history is built relative to its own now
        if reuse:
            if stamp.exists():
                now = datetime.fromisoformat(stamp.read_text().strip())
            print(f"timing the database built before, as of {now.isoformat()}")
        else:
            t0 = time.perf_counter()
            print(f"building {args.tickets} tickets per desk ({url.split(':')[0]}) …")
            build(url, policy, args.tickets, now)
            print(f"  built in {time.perf_counter() - t0:.0f} s")
            if not args.database_url:
                stamp.write_text(now.isoformat())
        db = Database(url)
        rows = []

        def period(desk: str, days: int | None) -> Period:
            zone = desk_zone(policy, desk)
            today = now.astimezone(zone).date()
            start: date | None = today - timedelta(days=days - 1) if days else None
            return resolve(start, today, now, zone)

        for label, days in (("12 weeks", None), ("a year", 365)):
            qp, sp = period("infra", days), period("set", days)
            rows.append(
                (
                    f"queue health, {label}",
                    timed(
                        db, args.runs, lambda s, qp=qp: queue_health(s, policy, "infra", qp, now)
                    ),
                )
            )
            rows.append(
                (
                    f"on-call load, {label}",
                    timed(db, args.runs, lambda s, qp=qp: oncall_load(s, policy, "infra", qp, now)),
                )
            )
            rows.append(
                (
                    f"SET figures, {label}",
                    timed(
                        db,
                        args.runs,
                        lambda s, sp=sp: set_figures(s, policy, "set", sp, now, "team"),
                    ),
                )
            )
        year = period("infra", 365)
        ref_count = timed(
            db,
            args.runs,
            lambda s: s.scalar(
                select(func.count())
                .select_from(Event)
                .join(Ticket, Ticket.id == Event.ticket_id)
                .where(Event.field == "status", Event.at >= year.since, Ticket.desk == "infra")
            ),
        )
        ref_att = timed(db, args.runs, lambda s: attainment(s, policy, "infra", now, 52))
        db.dispose()
    print(
        f"\n{'report':34} {'median ms':>10}  goal {GOAL_MS:.0f} ms ({args.tickets} tickets per desk)"
    )
    for name, ms in rows:
        mark = "ok" if ms <= GOAL_MS else "OVER"
        print(f"{name:34} {ms:10.1f}  {mark}")
    print("reference, same run:")
    print(f"{'  count(*) of a year of status changes':34} {ref_count:10.1f}")
    print(f"{'  slo attainment, 52 weeks':34} {ref_att:10.1f}")


if __name__ == "__main__":
    main()
