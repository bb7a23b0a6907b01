"""Reports at 1M tickets on PostgreSQL: a server-side builder and the timings.

Set-up (timed, printed): an empty PostgreSQL database migrated with the project's migrations
and the example policy; per desk (infra for toil, queue health and on-call load, set for the
SET figures) ``--tickets`` tickets filed over the past year, written by PostgreSQL itself
(``INSERT … SELECT generate_series``, no rows through Python), with the history
``bench_reports_health`` writes in Python, the way the recorder writes it: filed; priority,
triaged_at, triaged_by, triaged and the move to the triaged column; the assignment;
started_at, the move to In progress and a comment; Submitted for 60% of SET bugs; the move to
Done, resolution and resolved_at at the close (nearly every ticket older than a month is
closed). One triage clock per ticket (met or breached against 4 hours, or running) carrying
its ticket's priority, two notices per ticket in the outbox.

Summary rows the reports read: ``report_tallies`` by the project's own ``tallies.rebuild``
(SQL); ``ticket_moves`` (the set desk's moves into Submitted: this history has no re-opens or
bounces), ``ticket_times`` and ``ticket_stays`` in SQL from the same plan, stamped with the
bases ``tickets.moves`` and ``tickets.times`` check, so no report re-derives them. The stored
durations are wall-clock seconds scaled by 40/168 (a business week's share of the hours), not
the desk calendar's business seconds: ``times.rebuild`` walks every done ticket in Python
(44 s per 100k here), too slow for 1M in the time available. The reports read the same rows
and indexes either way; only the values differ.

Timed: each report through its service function in a read transaction (toil quarter and
year, queue health, on-call load and SET figures for 12 weeks and a year), median of
``--runs`` after a warm-up, beside a same-run reference: a bare ``count(*)`` of the desk's
tickets filed in the period. Server time: the PostgreSQL backend's CPU time over each call,
read from /proc (the server runs on this machine, 127.0.0.1); ``EXPLAIN (ANALYZE, BUFFERS)`` of
the slowest statement is taken by hand.

    python bench/build_million.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB
        [--tickets 1000000] [--runs 3] [--skip-build]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.db import Database
from dutydesk.migrate import upgrade
from dutydesk.notify.models import NOTICE
from dutydesk.policy import Policy, load_policy
from dutydesk.reports.oncall_load import oncall_load
from dutydesk.reports.period import Period, resolve
from dutydesk.reports.queue_health import queue_health
from dutydesk.reports.set_figures import set_figures
from dutydesk.reports.tallies import rebuild as rebuild_tallies
from dutydesk.reports.toil import toil_report
from dutydesk.slo.policy import desk_zone
from dutydesk.state import sync_policy
from dutydesk.tickets import moves, times
from dutydesk.tickets.models import Ticket

EXAMPLE = Path(__file__).parents[1] / "examples" / "dutydesk.toml"
GOAL_MS = 1000.0
BUSINESS_SHARE = 40 / 168
JIT = True  # --no-jit: each timed transaction runs with SET LOCAL jit = off
BULK_TABLES = ("tickets", "events", "ticket_clocks", "outbox", "ticket_times", "ticket_stays")

# One row per ticket: every random draw and instant of its history, from which the tickets,
# events, clocks, notices and summary rows are all selected.
PLAN = """
CREATE UNLOGGED TABLE bench_plan AS
SELECT p.*,
       p.triaged AND p.triaged_at + interval '1 hour' < CAST(:now AS timestamp) AS assigned,
       p.started AND p.sub_draw < 0.6 AND p.kind = 'bug' AND :desk = 'set'
         AND p.end0 < CAST(:now AS timestamp) AS submitted
FROM (
  SELECT q.*,
         q.triaged AND :started_col <> '' AND q.start_at < CAST(:now AS timestamp)
           AND (q.start_at < CAST(:now AS timestamp) - interval '30 days' OR q.start_draw < 0.85) AS started,
         q.start_at + make_interval(hours => 4 + floor(q.r_end * 477)::int) AS end0
  FROM (
    SELECT r.*,
           r.delay_s <= 4 * 3600 AS met,
           r.tri_draw < 0.92 AND r.created + make_interval(secs => r.delay_s) < CAST(:now AS timestamp) AS triaged,
           r.created + make_interval(secs => r.delay_s) AS triaged_at,
           r.created + make_interval(secs => r.delay_s)
             + make_interval(hours => 2 + floor(r.r_start * 71)::int) AS start_at
    FROM (
      SELECT :offset + g AS id, g AS number,
             CAST(:now AS timestamp) - make_interval(secs => 3600 + floor(random() * (365 * 86400 - 3600))) AS created,
             (CAST(:kinds AS text[]))[1 + floor(random() * cardinality(CAST(:kinds AS text[])))::int] AS kind,
             (CAST(:categories AS text[]))[1 + floor(random() * cardinality(CAST(:categories AS text[])))::int] AS category,
             (CAST(:teams AS text[]))[1 + floor(random() * cardinality(CAST(:teams AS text[])))::int] AS team,
             (CAST(:priorities AS text[]))[1 + floor(random() * cardinality(CAST(:priorities AS text[])))::int] AS priority,
             (CAST(:people AS int[]))[1 + floor(random() * cardinality(CAST(:people AS int[])))::int] AS who,
             (CAST(:people AS int[]))[1 + floor(random() * cardinality(CAST(:people AS int[])))::int] AS owner,
             (CAST(:people AS int[]))[1 + floor(random() * cardinality(CAST(:people AS int[])))::int] AS notified,
             random() < 0.25 AS customer,
             600 + floor(random() * 35401) AS delay_s,
             random() AS tri_draw, random() AS r_start, random() AS start_draw,
             random() AS r_end, random() AS sub_draw, random() AS done_draw,
             random() AS r_sub, random() < 0.8 AS fixed
      FROM generate_series(1, :n) g
    ) r
  ) q
) p
"""

CLOSE = """
ALTER TABLE bench_plan ADD COLUMN sub_at timestamp, ADD COLUMN end_at timestamp,
                       ADD COLUMN done boolean;
UPDATE bench_plan SET
  sub_at = CASE WHEN submitted THEN end0 END,
  end_at = CASE WHEN submitted THEN end0 + make_interval(hours => 2 + floor(r_sub * 47)::int)
                ELSE end0 END;
UPDATE bench_plan SET done = started AND end_at < CAST(:now AS timestamp)
  AND (end_at < CAST(:now AS timestamp) - interval '30 days' OR done_draw < 0.5);
ALTER TABLE bench_plan ADD PRIMARY KEY (id);
ANALYZE bench_plan;
"""

TICKETS = """
INSERT INTO tickets (id, desk, number, title, description, description_html, kind, category,
  priority, status, resolution, assignee_id, team, labels, criteria, reporter_id,
  customer_reported, fix_target, pr_links, blocked, rank, order_key, in_queue, is_open,
  created_at, updated_at, triaged_at, triaged_by_id, started_at, resolved_at, claim_active_at,
  version, event_seq)
SELECT id, :desk, number, 'Ticket ' || number, '', '', kind, category,
  CASE WHEN triaged THEN priority END,
  CASE WHEN done THEN :done_col WHEN submitted THEN 'Submitted'
       WHEN started THEN :started_col WHEN triaged AND :triaged_col <> '' THEN :triaged_col
       ELSE :intake_col END,
  CASE WHEN done THEN CASE WHEN fixed THEN 'fixed' ELSE 'wont-fix' END END,
  CASE WHEN assigned THEN owner END, team, '[]', CAST(:criteria AS json), :reporter,
  customer, 'none', '[]', false, lpad(number::text, 12, '0'), lpad(number::text, 12, '0'),
  NOT done, NOT done, created,
  CASE WHEN done THEN end_at WHEN submitted THEN sub_at WHEN started THEN start_at + interval '1 hour'
       WHEN assigned THEN triaged_at + interval '1 hour' WHEN triaged THEN triaged_at
       ELSE created END,
  CASE WHEN triaged THEN triaged_at END, CASE WHEN triaged THEN who END,
  CASE WHEN started THEN start_at END, CASE WHEN done THEN end_at END,
  -- the claim's last activity (tickets.idle): the owner's last event, else the assignment
  CASE WHEN assigned THEN
    CASE WHEN done THEN end_at WHEN submitted THEN sub_at
         WHEN started THEN start_at + interval '1 hour' ELSE triaged_at + interval '1 hour' END
  END, 1, 0
FROM bench_plan
"""

# The same instant as ``tickets.idle.rebuild`` counts it from the events, for a sample.
CLAIMS_CHECK = """
SELECT count(*) FROM (SELECT * FROM tickets TABLESAMPLE SYSTEM (0.2)) t
WHERE t.assignee_id IS NOT NULL AND t.claim_active_at IS DISTINCT FROM COALESCE(
  (SELECT max(e.at) FROM events e WHERE e.ticket_id = t.id
     AND (e.actor_id = t.assignee_id OR e.field = 'assignee')), t.created_at)
"""

# Each step of the recorder's history, in order; the lateral numbers the ones that happened.
EVENTS = """
INSERT INTO events (ticket_id, seq, at, actor_id, type, field, before, after, data)
SELECT p.id, x.seq, x.at, x.actor, x.type, x.field,
       COALESCE(to_json(x.before), 'null'::json), COALESCE(to_json(x.after), 'null'::json),
       '{}'::json
FROM bench_plan p
CROSS JOIN LATERAL (
  SELECT v.*, row_number() OVER (ORDER BY v.ord) AS seq
  FROM (VALUES
    (1, true, p.created, :reporter, 'filed', NULL, NULL, :prefix || p.number),
    (2, p.triaged, p.triaged_at, p.who, 'changed', 'priority', NULL, p.priority),
    (3, p.triaged, p.triaged_at, p.who, 'changed', 'triaged_at', NULL,
        to_char(p.triaged_at, 'YYYY-MM-DD"T"HH24:MI:SS+00:00')),
    (4, p.triaged, p.triaged_at, p.who, 'changed', 'triaged_by', NULL, 'someone'),
    (5, p.triaged, p.triaged_at, p.who, 'triaged', NULL, NULL, p.priority),
    (6, p.triaged AND :triaged_col <> '', p.triaged_at, p.who, 'changed', 'status',
        :intake_col, :triaged_col),
    (7, p.assigned, p.triaged_at + interval '1 hour', p.who, 'changed', 'assignee', NULL,
        'someone'),
    (8, p.started, p.start_at, p.owner, 'changed', 'started_at', NULL,
        to_char(p.start_at, 'YYYY-MM-DD"T"HH24:MI:SS+00:00')),
    (9, p.started, p.start_at, p.owner, 'changed', 'status',
        CASE WHEN :triaged_col <> '' THEN :triaged_col ELSE :intake_col END, :started_col),
    (10, p.started, p.start_at + interval '1 hour', p.owner, 'commented', NULL, NULL, NULL),
    (11, p.submitted, p.sub_at, p.owner, 'changed', 'status', :started_col, 'Submitted'),
    (12, p.done, p.end_at, p.owner, 'changed', 'status',
         CASE WHEN p.submitted THEN 'Submitted' ELSE :started_col END, :done_col),
    (13, p.done, p.end_at, p.owner, 'changed', 'resolution', NULL,
         CASE WHEN p.fixed THEN 'fixed' ELSE 'wont-fix' END),
    (14, p.done, p.end_at, p.owner, 'changed', 'resolved_at', NULL,
         to_char(p.end_at, 'YYYY-MM-DD"T"HH24:MI:SS+00:00'))
  ) AS v(ord, happened, at, actor, type, field, before, after)
  WHERE v.happened
) x
"""

CLOCKS = """
INSERT INTO ticket_clocks (ticket_id, desk, name, rule, target, cadence, business, cycle,
  started_at, target_seconds, at_risk_fraction, due_at, at_risk_at, state, paused_seconds,
  pauses, stopped_at, outcome, decided_at, met_at, breached_at, elapsed_seconds, priority)
SELECT id, :desk, 'triage', 'triage', '4 business hours', false, true, 1, created, 14400, 0.75,
  created + interval '4 hours', created + interval '3 hours',
  CASE WHEN triaged THEN 'stopped' ELSE 'running' END, 0, '[]',
  CASE WHEN triaged THEN triaged_at END,
  CASE WHEN triaged THEN CASE WHEN met THEN 'met' ELSE 'breached' END END,
  CASE WHEN triaged THEN CASE WHEN met THEN triaged_at ELSE created + interval '4 hours' END END,
  CASE WHEN triaged AND met THEN triaged_at END,
  CASE WHEN triaged AND NOT met THEN created + interval '4 hours' END,
  CASE WHEN triaged THEN delay_s END,
  CASE WHEN triaged THEN priority END
FROM bench_plan
"""

NOTICES = """
INSERT INTO outbox (kind, payload, dedupe_key, due_at, created_at, state, recipient, desk, attempts)
SELECT :notice, '{}', 'bench:' || :desk || ':' || id || ':' || x.i, x.at, x.at, 'delivered',
       'user:' || x.u, :desk, 0
FROM bench_plan p
CROSS JOIN LATERAL (VALUES (1, p.created, p.notified), (2, p.start_at, p.owner)) x(i, at, u)
WHERE x.i = 1 OR p.started
"""

TIMES = """
INSERT INTO ticket_times (ticket_id, resolved_at, basis, to_done_seconds, in_progress_seconds,
  desk, category, kind)
SELECT id, end_at, :basis, extract(epoch FROM end_at - created) * :share,
       extract(epoch FROM COALESCE(sub_at, end_at) - start_at) * :share, :desk, category, kind
FROM bench_plan WHERE done
"""

STAYS = """
INSERT INTO ticket_stays (ticket_id, "column", desk, resolved_at, seconds)
SELECT p.id, x.col, :desk, p.end_at, x.secs
FROM bench_plan p
CROSS JOIN LATERAL (VALUES
  (:intake_col, extract(epoch FROM
      CASE WHEN :triaged_col <> '' THEN p.triaged_at ELSE p.start_at END - p.created) * :share),
  (NULLIF(:triaged_col, ''), extract(epoch FROM p.start_at - p.triaged_at) * :share),
  (:started_col, extract(epoch FROM COALESCE(p.sub_at, p.end_at) - p.start_at) * :share),
  (CASE WHEN p.submitted THEN 'Submitted' END, extract(epoch FROM p.end_at - p.sub_at) * :share)
) x(col, secs)
WHERE p.done AND x.col IS NOT NULL
"""

MOVES = """
INSERT INTO ticket_moves (ticket_id, desk, at, reopen, bounce, submitted, kind, customer)
SELECT id, :desk, sub_at, 0, 0, 1, kind, customer FROM bench_plan WHERE submitted
"""


def step(db: Database, label: str, sql: str, params: dict[str, Any]) -> None:
    t0 = time.perf_counter()
    with db.write() as s:
        n = 0
        for part in (p for p in sql.split(";\n") if p.strip()):
            n = int(getattr(s.execute(text(part), params), "rowcount", 0) or 0)
    print(f"    {label}: {n:,} rows, {time.perf_counter() - t0:.0f} s", flush=True)


def build_desk(
    db: Database,
    policy: Policy,
    desk: str,
    n: int,
    offset: int,
    now: datetime,
    people: dict[str, int],
) -> None:
    spec = policy.desks[desk]
    responders = [
        people[p] for p in ("ana", "bo", "chen", "dee", "eva", "finn", "gus") if p in people
    ]
    kinds = ["bug"] * 6 + ["escalation"] + spec.kinds if desk == "set" else spec.kinds
    params: dict[str, Any] = {
        "desk": desk,
        "n": n,
        "offset": offset,
        "now": now.replace(tzinfo=None),
        "kinds": [k for k in kinds if k in spec.kinds],
        "categories": spec.categories or [None],
        "teams": spec.teams or [None],
        "priorities": spec.priorities,
        "people": responders,
        "reporter": people["rita"],
        "criteria": json.dumps(spec.criteria[:1]),
        "intake_col": spec.intake_column,
        "triaged_col": spec.triaged_column or "",
        "started_col": spec.started_column or "",
        "done_col": spec.done_column,
        "prefix": f"{desk.upper()}-",
        "notice": NOTICE,
        "basis": times.basis(policy, desk),
        "share": BUSINESS_SHARE,
    }
    print(f"  {desk}: {n:,} tickets", flush=True)
    with db.write() as s:
        s.execute(text("DROP TABLE IF EXISTS bench_plan"))
        s.execute(text("SELECT setseed(:seed)"), {"seed": 0.11 if desk == "infra" else 0.22})
    step(db, "plan", PLAN, params)
    step(db, "close", CLOSE, params)
    step(db, "tickets", TICKETS, params)
    step(db, "events", EVENTS, params)
    step(
        db,
        "event_seq",
        "UPDATE tickets t SET event_seq = 1 + (CASE WHEN p.triaged THEN 4 "
        "+ (CASE WHEN :triaged_col <> '' THEN 1 ELSE 0 END) ELSE 0 END) + p.assigned::int "
        "+ 3 * p.started::int + p.submitted::int + 3 * p.done::int "
        "FROM bench_plan p WHERE t.id = p.id",
        params,
    )
    step(db, "clocks", CLOCKS, params)
    step(db, "notices", NOTICES, params)
    step(db, "ticket_times", TIMES, params)
    step(db, "ticket_stays", STAYS, params)
    step(db, "ticket_moves", MOVES, params)
    with db.write() as s:
        s.execute(
            text(
                "INSERT INTO desk_counters (desk, next_number) VALUES (:d, :n) "
                "ON CONFLICT (desk) DO UPDATE SET next_number = excluded.next_number"
            ),
            {"d": desk, "n": n + 1},
        )
        s.execute(
            text(
                "INSERT INTO derived_bases (desk, part, basis, built_at) VALUES (:d, :p, :b, :t) "
                "ON CONFLICT (desk, part) DO UPDATE SET basis = excluded.basis"
            ),
            {"d": desk, "p": moves.PART, "b": moves.basis(spec), "t": now.replace(tzinfo=None)},
        )
        s.execute(text("DROP TABLE bench_plan"))


def build(url: str, policy: Policy, n: int, now: datetime) -> None:
    upgrade(url)
    db = Database(url)
    sync_policy(db, policy, now)
    with db.read() as s:
        people = dict(s.execute(select(User.name, User.id)).all())
    # Bulk rows go in faster without the secondary indexes: kept aside, built again after.
    with db.write() as s:
        kept = s.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(:t) AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ),
            {"t": list(BULK_TABLES)},
        ).all()
        for name, _ in kept:
            s.execute(text(f'DROP INDEX "{name}"'))
    for i, desk in enumerate(("infra", "set")):
        build_desk(db, policy, desk, n, i * n, now, people)
    t0 = time.perf_counter()
    with db.write() as s:
        s.execute(text("SET maintenance_work_mem = '256MB'"))
        for _, definition in kept:
            s.execute(text(definition))
    print(f"  {len(kept)} indexes built again: {time.perf_counter() - t0:.0f} s", flush=True)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("ANALYZE"))
    for desk in ("infra", "set"):
        t0 = time.perf_counter()
        with db.write() as s:  # the project's own recount, as ``dutydesk report rebuild`` does
            rows = rebuild_tallies(s, [desk])
        print(
            f"  {desk} report_tallies (tallies.rebuild): {rows[desk]:,} rows, "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    # Each claim's last activity was written with its ticket: ``idle.rebuild`` (what
    # ``dutydesk report rebuild`` runs) rewrites 1.8M rows here, 578 s and a bloated table.
    with db.read() as s:
        wrong = s.execute(text(CLAIMS_CHECK)).scalar()
    print(f"  claims: a sample of tickets disagreeing with their events: {wrong}", flush=True)
    t0 = time.perf_counter()
    with db.write() as s:
        for table in ("tickets", "events", "ticket_clocks", "outbox", "ticket_moves"):
            s.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    print(f"  vacuum analyze: {time.perf_counter() - t0:.0f} s", flush=True)
    db.dispose()


def timed(db: Database, runs: int, use: Callable[[Session], object]) -> tuple[float, float]:
    """(median wall ms, median server ms) of ``runs`` calls after a warm-up; server time is the
    backend's CPU time read from /proc (the database runs on this machine, 127.0.0.1)."""
    laps, server = [], []
    for i in range(runs + 1):
        with db.read() as s:
            if not JIT:
                s.execute(text("SET LOCAL jit = off"))
            pid = s.scalar(text("SELECT pg_backend_pid()"))
            c0 = _cpu(pid)
            t0 = time.perf_counter()
            use(s)
            if i:
                laps.append((time.perf_counter() - t0) * 1000)
                server.append((_cpu(pid) - c0) * 1000)
    return statistics.median(laps), statistics.median(server)


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (0 when it is not readable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    ap.add_argument("--tickets", type=int, default=1_000_000, help="per desk")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-build", action="store_true", help="time a database built before")
    ap.add_argument("--no-jit", action="store_true", help="time with PostgreSQL's JIT off")
    args = ap.parse_args()
    global JIT
    JIT = not args.no_jit
    policy = load_policy(EXAMPLE)
    url = args.database_url
    if not args.skip_build:
        now = datetime.now(UTC).replace(microsecond=0)
        t0 = time.perf_counter()
        print(f"building {args.tickets:,} tickets per desk …", flush=True)
        build(url, policy, args.tickets, now)
        print(f"  built in {time.perf_counter() - t0:.0f} s", flush=True)
    db = Database(url)
    with db.read() as s:
        latest = s.scalar(select(func.max(Ticket.created_at)))
    now = (latest or datetime.now()).replace(tzinfo=UTC) + timedelta(hours=1)

    def period(desk: str, days: int | None) -> Period:
        zone = desk_zone(policy, desk)
        today = now.astimezone(zone).date()
        start: date | None = today - timedelta(days=days - 1) if days else None
        return resolve(start, today, now, zone)

    rows = []
    for label, days in (("12 weeks", None), ("a year", 364)):
        qp, sp = period("infra", days), period("set", days)
        reports: list[tuple[str, str, Period, Callable[[Session], object]]] = [
            ("toil figures", "infra", qp, lambda s, p=qp: toil_report(s, policy, "infra", p)),
            ("queue health", "infra", qp, lambda s, p=qp: queue_health(s, policy, "infra", p, now)),
            ("on-call load", "infra", qp, lambda s, p=qp: oncall_load(s, policy, "infra", p, now)),
            (
                "SET figures",
                "set",
                sp,
                lambda s, p=sp: set_figures(s, policy, "set", p, now, "team"),
            ),
        ]
        for name, desk, p, use in reports:
            ref = timed(
                db,
                args.runs,
                lambda s, d=desk, p=p: s.scalar(
                    select(func.count()).where(
                        Ticket.desk == d, Ticket.created_at >= p.since, Ticket.created_at < p.until
                    )
                ),
            )
            got = timed(db, args.runs, use)
            rows.append((f"{name}, {label}", got, ref))
            print(
                f"  {name}, {label}: {got[0]:.0f} ms (server CPU {got[1]:.0f}); "
                f"reference {ref[0]:.0f} ms",
                flush=True,
            )
    db.dispose()
    print(
        f"\n| report ({args.tickets:,} tickets per desk, PostgreSQL) | median ms | server CPU ms "
        f"| reference ms | goal {GOAL_MS:.0f} ms |"
    )
    print("| --- | ---: | ---: | ---: | --- |")
    for name, (ms, cpu), (ref, _) in rows:
        print(
            f"| {name} | {ms:,.0f} | {cpu:,.0f} | {ref:,.0f} | "
            f"{'ok' if ms <= GOAL_MS else 'OVER'} |"
        )
    print("reference: count(*) of the desk's tickets filed in the period (same run)")


if __name__ == "__main__":
    main()
