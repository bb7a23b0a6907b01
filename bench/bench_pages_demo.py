"""Every page of the week on the demo data (``dutydesk init --demo``), as the role that opens
it, beside ``GET /api/v1/healthz`` measured in the same run (the floor: routing and a response).

The pages a lead, a responder, a reporter and an admin walk through in a week: My work, the
boards and queues, a ticket, the filing form, the status post, the meetings and an agenda of
each kind, the handoff, the reports, on-call, inbox, settings, tokens, the handbook, search
and the administration pages. Requests are ASGI calls into the app, as in ``bench_web.py``;
the goal is a CPU p95 ≤ 100 ms per page (CPU, not wall: on a shared machine wall time is
mostly waiting for a core).

    .venv/bin/python bench/bench_pages_demo.py
    .venv/bin/python bench/bench_pages_demo.py --n 20   # a quick look
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
from pathlib import Path

from sqlalchemy import select

from dutydesk.app import create_app
from dutydesk.auth.service import open_session, user_by_name
from dutydesk.db import Database
from dutydesk.demo import build_history
from dutydesk.http.deps import SESSION_COOKIE
from dutydesk.migrate import upgrade
from dutydesk.policy import load_policy
from dutydesk.state import AppState, sync_policy
from dutydesk.tickets.models import Ticket

try:  # run as a script from the repository root
    from bench.bench_web import Asgi, timed
except ModuleNotFoundError:  # pragma: no cover - run from bench/
    from bench_web import Asgi, timed  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 100.0


def pages(infra_key: str, set_key: str) -> list[tuple[str, str]]:
    """(who, path): each page as the person who opens it during the week."""
    return [
        ("dee", "/me"),
        ("dee", "/desks/infra/board"),
        ("dee", "/desks/infra/queue"),
        ("dee", "/desks/infra/queue?view=all&sort=-updated&page=2"),
        ("dee", f"/tickets/{infra_key}"),
        ("dee", "/desks/infra/handoff"),
        ("dee", "/desks/infra/meetings"),
        ("dee", "/desks/infra/agenda?meeting=handoff"),
        ("dee", "/desks/infra/agenda?meeting=weekly-triage"),
        ("dee", "/desks/infra/reports"),
        ("dee", "/desks/infra/reports/queue"),
        ("dee", "/desks/infra/reports/oncall"),
        ("dee", "/desks/infra/reports/toil"),
        ("dee", "/desks/infra/suggestions"),
        ("dee", "/oncall"),
        ("eva", "/desks/set/board"),
        ("eva", "/desks/set/status-post"),
        ("eva", "/desks/set/meetings"),
        ("eva", "/desks/set/agenda?meeting=triage"),
        ("eva", "/desks/set/agenda?meeting=status"),
        ("eva", "/desks/set/handoff"),
        ("eva", "/desks/set/reports/set"),
        ("eva", f"/tickets/{set_key}"),
        ("ana", "/me"),
        ("ana", "/me/inbox"),
        ("ana", "/me/settings"),
        ("ana", "/me/tokens"),
        ("ana", "/search?q=quota"),
        ("rita", "/me"),
        ("rita", "/desks/infra/new"),
        ("rita", "/desks/set/new"),
        ("rita", "/desks/infra/handbook"),
        ("rita", "/desks/infra/handbook/history"),
        ("admin", "/admin/users"),
        ("admin", "/admin/users/ana"),
        ("admin", "/admin/outbox"),
        ("admin", "/admin/audit"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="timed requests per page")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        upgrade(url)
        policy = load_policy(ROOT / "examples" / "dutydesk.toml")
        db = Database(url)
        state = AppState(db=db, policy=policy)
        sync_policy(db, policy, state.now())
        filed = build_history(db, policy, progress=False)
        with db.read() as s:
            last = {
                desk: s.scalar(select(Ticket).where(Ticket.desk == desk).order_by(Ticket.id.desc()))
                for desk in ("infra", "set")
            }
        keys = {d: t.key for d, t in last.items() if t is not None}
        app = create_app(state)
        clients: dict[str, Asgi] = {}
        shared_loop = None
        for who in ("dee", "eva", "ana", "rita", "admin"):
            with db.write() as s:
                cookie, _ = open_session(s, user_by_name(s, who), state.now())
            client = Asgi(app, {SESSION_COOKIE: cookie})
            if shared_loop is None:
                shared_loop = client.loop
            else:
                client.loop.close()
                client.loop = shared_loop
            clients[who] = client

        # As `dutydesk serve` does after start-up (cli.client.startup_gc): what was built so
        # far lives as long as the process, and unfrozen every full collection would scan it
        # (a ~130 ms pause every few dozen requests here, counted against whichever page).
        gc.collect()
        gc.freeze()

        def get(who: str, path: str) -> None:
            code, body = clients[who].get(path)
            assert code == 200, (who, path, code, body[:300])

        floor = timed(lambda: get("ana", "/api/v1/healthz"), args.n)
        rows = []
        for who, path in pages(keys["infra"], keys["set"]):
            _, _, c50, c95 = timed(lambda who=who, path=path: get(who, path), args.n)
            verdict = "met" if c95 <= GOAL_MS else "**not met**"
            rows.append(f"| {path} | {who} | {c50:.1f} / {c95:.1f} | {verdict} |")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"data: the demo history, {filed} tickets filed over 8 weeks on both desks")
        print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) after the run")
        print(
            f"reference (same run): GET /api/v1/healthz CPU p50 / p95 "
            f"{floor[2]:.1f} / {floor[3]:.1f} ms\n"
        )
        print("| page | as | CPU p50 / p95 ms | goal: CPU p95 ≤ 100 ms |")
        print("| --- | --- | ---: | --- |")
        for row in rows:
            print(row)
        if shared_loop is not None:
            shared_loop.close()
        db.dispose()


if __name__ == "__main__":
    main()
