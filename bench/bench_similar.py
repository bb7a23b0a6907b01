"""Similar-ticket lookups over a large desk: a draft (the filing form, the API, the CLI) and
an existing ticket (the triage panel), beside the desk's full-text search (what a person's
`dutydesk list -q` runs) measured on the same database in the same run.

    python bench/bench_similar.py [--tickets 100000] [--db sqlite|postgresql] [--queries 300]

Tickets come from the demo's bulk path (synthetic text: a small vocabulary, so every word
is common and each lookup matches thousands of tickets, a hard case for a full-text index).
PostgreSQL: DUTYDESK_BENCH_DATABASE_URL as for bench/triage_eval.py (a schema per run).
Goals: p95 <= 30 ms on SQLite and <= 50 ms on PostgreSQL at 100k tickets.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

DESK = "set"


def percentiles(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return ms[len(ms) // 2], ms[min(len(ms) - 1, int(0.95 * len(ms)))]


def timed(fn: Callable[[], Any], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))

    from sqlalchemy import func, select

    from dutydesk import demo
    from dutydesk.policy.loader import load_policy
    from dutydesk.tickets import queries
    from dutydesk.tickets.models import Ticket
    from dutydesk.tickets.schemas import TicketFilter
    from dutydesk.triage import lexical
    from dutydesk.triage.service import similar_tickets, similar_to_ticket
    from triage_eval import fresh_database

    policy = load_policy(ROOT / "examples" / "dutydesk.toml")
    with fresh_database(args.db, policy) as (db, _):
        t0 = time.perf_counter()
        demo.bulk_tickets(db, policy, DESK, args.tickets, progress=False)
        print(f"{args.tickets} tickets in {time.perf_counter() - t0:.0f} s ({args.db})")
        rnd = random.Random(11)
        drafts = [
            (demo._fill(rnd.choice(demo.SET_BUGS)[0], rnd), demo._description(rnd))
            for _ in range(args.queries)
        ]
        now = datetime.now(UTC)
        with db.read() as s:
            top = s.scalar(select(func.max(Ticket.number)).where(Ticket.desk == DESK)) or 1
            keys = [f"SET-{rnd.randint(1, top)}" for _ in range(args.queries)]
            lexical.frequencies(s)  # loaded once per process, then kept (see lexical.DF_TTL)
            it = iter(drafts * 2)
            draft_ms = timed(lambda: similar_tickets(s, DESK, *next(it), now), args.queries)
            kit = iter(keys)
            ticket_ms = timed(lambda: similar_to_ticket(s, next(kit)), args.queries)
            words = iter([" ".join(d[0].split()[:2]) for d in drafts])

            def search() -> None:
                f = TicketFilter(desk=DESK, q=next(words))
                queries.list_tickets(s, f, now, 50, None)

            search_ms = timed(search, args.queries)
    print(f"\n| lookup ({args.tickets} tickets, {args.db}) | median ms | p95 ms |")
    print("| --- | ---: | ---: |")
    for name, ms in (
        ("similar to a draft (title + description)", draft_ms),
        ("similar to a ticket (triage panel)", ticket_ms),
        ("reference: full-text search, two words, first 50", search_ms),
    ):
        p50, p95 = percentiles(ms)
        print(f"| {name} | {p50:.1f} | {p95:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
