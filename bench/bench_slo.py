"""Recompute every SLO clock of 100k open tickets after a calendar edit, on SQLite.

Set-up (not timed): a fresh SQLite file, the example policy, `bulk_tickets` for the infra
desk, then one UPDATE that reopens every ticket so all of them are open, gives the
P2/P3 ones P1 (so every open ticket carries a clock: the P0 daily / P1 weekly update
cadence, or the triage clock when untriaged) and blocks every twentieth (paused clocks).
A first `recompute` backfills the clock rows (the bulk path runs no hooks).

Timed, each in its own transaction with its commit: `recompute` after the pacific calendar
changes from 09:00-17:00 to 08:00-17:00 and gains a holiday, so every due time moves (what
the server does at start-up with the edited policy: the rules' structure is unchanged, so
it reschedules running and paused clocks); then the edit undone with a *full* reconcile of
every open ticket (the backfill path).  The goal is <= 5 s at 100k.  Measured in the same
run for reference: a bare driver SELECT of the rows and columns a reschedule reads, and the
same recompute at 10k tickets (linear scaling would be 10x).

Run: `.venv/bin/python bench/bench_slo.py` (about a minute; `--tickets N` to change 100k).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

from dutydesk.db import Database
from dutydesk.demo import bulk_tickets
from dutydesk.migrate import upgrade
from dutydesk.policy import Policy, load_policy
from dutydesk.slo import service
from dutydesk.slo.models import TicketClock
from dutydesk.slo.schemas import RecomputeOut
from dutydesk.state import sync_policy

EXAMPLE = Path(__file__).parents[1] / "examples" / "dutydesk.toml"
GOAL_SECONDS = 5.0


def command_line() -> str:
    exe = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else None
    return shlex.join([exe or sys.executable, *sys.argv])


def edited(policy: Policy) -> Policy:
    raw = policy.model_dump(by_alias=True)
    cal = raw["calendars"]["pacific"]
    cal["hours"] = {d: "08:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    cal["holidays"]["extra"] = [*cal["holidays"]["extra"], "2026-12-31"]
    return Policy.model_validate(raw)


def build(folder: Path, n: int, policy: Policy) -> tuple[Database, float]:
    url = f"sqlite:///{folder / f'bench-{n}.db'}"
    upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    sync_policy(db, policy, now)
    started = time.perf_counter()
    bulk_tickets(db, policy, "infra", n, progress=False)
    with db.write() as s:
        s.execute(
            text(
                "UPDATE tickets SET is_open = 1, in_queue = 1, resolution = NULL, "
                "resolved_at = NULL, "
                "priority = CASE WHEN priority IN ('P2', 'P3') THEN 'P1' ELSE priority END, "
                "status = CASE WHEN priority IS NULL THEN 'New' ELSE 'Triaged' END, "
                "blocked = (id % 20 = 0), "
                "blocked_at = CASE WHEN id % 20 = 0 THEN last_update_at END "
                "WHERE desk = 'infra'"
            )
        )
    with db.write() as s:
        service.recompute(s, policy, "infra", now)  # backfill the clock rows
    return db, time.perf_counter() - started


def timed_recompute(
    db: Database, policy: Policy, *, full: bool | None = None
) -> tuple[RecomputeOut, float]:
    """One recompute in its own transaction, commit included."""
    started = time.perf_counter()
    with db.write() as s:
        result = service.recompute(s, policy, "infra", datetime.now(UTC), full=full)
    return result, time.perf_counter() - started


def bare_select(db: Database) -> float:
    """The floor: fetch the rows and columns a reschedule reads, through the driver, raw."""
    started = time.perf_counter()
    with db.read() as s:
        s.connection().exec_driver_sql(
            "SELECT id, pauses, name, rule, target, cadence, business, started_at, "
            "target_seconds, at_risk_fraction, due_at, at_risk_at, state, paused_at, "
            "paused_seconds FROM ticket_clocks WHERE desk = 'infra' "
            "AND state IN ('running', 'paused')"
        ).fetchall()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    print(f"$ {command_line()}")
    policy = load_policy(EXAMPLE)
    changed = edited(policy)
    small = max(args.tickets // 10, 1)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in (small, args.tickets):
            db, setup = build(Path(folder), n, policy)
            with db.read() as s:
                paused = s.scalar(select(func.count()).where(TicketClock.state == "paused"))
            floor = bare_select(db)
            edit = timed_recompute(db, changed)  # the server would do this at start-up
            back = timed_recompute(db, policy, full=True)  # undo it, reconciling every ticket
            rows.append((n, paused, edit, back, floor, setup))
            db.dispose()
    print(
        "SQLite, example policy (infra: triage 4 business hours; P0 1 business day, "
        "P1 5 business days, paused while blocked)"
    )
    print(
        "edit: pacific hours 09:00-17:00 -> 08:00-17:00 plus a holiday (every due time moves); "
        "'full' reverts it with a full reconcile of every open ticket (the backfill path)"
    )
    print()
    print(
        f"{'open tickets':>12} {'clocks':>8} {'paused':>7} {'rewritten':>9} "
        f"{'edit s':>7} {'full s':>7} {'bare SELECT s':>13} {'setup s':>8}"
    )
    for n, paused, (edit, took), (_, full), floor, setup in rows:
        print(
            f"{n:>12,} {edit.active_clocks:>8,} {paused:>7,} {edit.updated:>9,} "
            f"{took:>7.2f} {full:>7.2f} {floor:>13.2f} {setup:>8.1f}"
        )
    (n, _, (edit, took), (_, full), floor, _) = rows[-1]
    (n0, _, (_, took0), _, _, _) = rows[0]
    print()
    print(
        f"recompute after a calendar edit at {n:,} open tickets ({edit.mode}): {took:.2f} s "
        f"(goal <= {GOAL_SECONDS:.0f} s: {'met' if took <= GOAL_SECONDS else 'MISSED'}); "
        f"{took / floor:.1f}x a bare SELECT of the same rows; {took / took0:.1f}x the "
        f"{n0:,}-ticket run (linear: {n / n0:.0f}x); full reconcile {full:.2f} s"
    )


if __name__ == "__main__":
    main()
