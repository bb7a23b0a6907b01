"""Server-side render time of the web UI's heaviest pages, next to the JSON API for the same data.

* board: ``GET /desks/set/board`` with ~500 open tickets on the board (every card rendered),
  beside the JSON API returning the same open tickets (``/api/v1/tickets?desk=set&open=true``,
  pages of 200 until done);
* queue: ``GET /desks/infra/queue`` (first page, 50 rows) with 100k tickets on the desk, beside
  ``GET /api/v1/desks/infra/queue?limit=50``;
* live poll: ``GET /desks/set/board/changes?since=N`` when nothing changed (what every open
  board asks every 3 s), beside ``GET /api/v1/healthz``;
* live refresh after one ticket changed: ``/board/changes`` (the changed card and each
  column's keys) beside the whole board re-rendered as ``/board/live`` sent it before — time
  and bytes per refresh;
* the queue page sorted by a column and on its last numbered page, the header search over
  100k tickets, and My work, each beside the JSON API's queue page.
* live poll: ``GET /desks/set/board/live?since=N`` when nothing changed (what every open board
  asks every 3 s), beside ``GET /api/v1/healthz``;
* the rituals: the status post page (``/desks/set/status-post``), a meeting's agenda page
  (``/desks/set/agenda?meeting=triage``) and the handoff page (``/desks/infra/handoff``, on the
  big desk), each beside the JSON API for the same report.

Requests are ASGI calls straight into the app (routing, session lookup, queries, Jinja2
rendering, the response body), timed until the last body byte is sent: server time, without
an HTTP client or the network in the figure. Goal: CPU p95 ≤ 50 ms for the board and the
queue page, ≤ 100 ms for every other page (CPU, not wall: on a shared machine wall time is
mostly waiting for a core).

    .venv/bin/python bench/bench_web.py                    # 500-card board, 100k-ticket queue
    .venv/bin/python bench/bench_web.py --queue-tickets 10000 --n 30   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, open_session, user_by_name
from dutydesk.db import Database
from dutydesk.demo import bulk_tickets
from dutydesk.http.deps import SESSION_COOKIE
from dutydesk.migrate import upgrade
from dutydesk.policy import load_policy
from dutydesk.state import AppState, sync_policy
from dutydesk.tickets import service
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.schemas import TicketPatch

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 50.0
PAGE_GOAL_MS = 100.0


def command_line() -> str:
    exe = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else None
    return shlex.join([exe or sys.executable, *sys.argv])


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(q * len(ordered)) - 1)]


def timed(fn: Callable[[], object], n: int, warmup: int = 5) -> tuple[float, ...]:
    """(wall p50, wall p95, CPU p50, CPU p95) in ms. CPU time is what the request itself used;
    wall time also counts waiting for a core, which dominates on a busy shared machine."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return (statistics.median(wall), pct(wall, 0.95), statistics.median(cpu), pct(cpu, 0.95))


class Asgi:
    """GET requests sent straight to the ASGI app on one event loop; returns (status, body)."""

    def __init__(self, app: Any, cookies: dict[str, str]) -> None:
        self.app = app
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        target, _, query = path.partition("?")
        raw = [(b"host", b"bench"), (b"cookie", self.cookie)]
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": target,
            "raw_path": target.encode(),
            "query_string": query.encode(),
            "headers": raw,
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
            "root_path": "",
        }
        out: dict[str, Any] = {"body": []}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            elif message["type"] == "http.response.body":
                out["body"].append(message.get("body", b""))

        self.loop.run_until_complete(self.app(scope, receive, send))
        return out["status"], b"".join(out["body"])


def count(db: Database, *conds: object) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0)  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board-open", type=int, default=500, help="open tickets wanted on the board")
    ap.add_argument("--queue-tickets", type=int, default=100_000, help="tickets on the queue desk")
    ap.add_argument("--n", type=int, default=60, help="timed requests per figure")
    args = ap.parse_args()
    print(f"$ {command_line()}\n", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        policy = load_policy(ROOT / "examples" / "dutydesk.toml")
        db = Database(url)
        state = AppState(db=db, policy=policy)
        sync_policy(db, policy, state.now())

        t0 = time.perf_counter()
        # About 30 % of synthetic tickets stay open; every open SET ticket is on the board.
        bulk_tickets(db, policy, "set", int(args.board_open / 0.3), progress=False)
        while count(db, Ticket.desk == "set", Ticket.in_queue.is_(True)) < args.board_open:
            bulk_tickets(db, policy, "set", 50, progress=False, seed=int(time.time()))
        bulk_tickets(db, policy, "infra", args.queue_tickets, progress=False)
        board_open = count(db, Ticket.desk == "set", Ticket.in_queue.is_(True))
        infra_total = count(db, Ticket.desk == "infra")
        print(
            f"data: set desk {board_open} open tickets on the board; infra desk {infra_total} "
            f"tickets ({time.perf_counter() - t0:.1f} s to build)\n",
            flush=True,
        )

        with db.write() as s:
            eva = user_by_name(s, "eva")
            cookie, _ = open_session(s, eva, state.now())
            token = create_token(s, user_by_name(s, "ana"), state.now(), "bench")
            token_set = create_token(s, eva, state.now(), "bench")
            ana_cookie, _ = open_session(s, user_by_name(s, "ana"), state.now())
        app = create_app(state)
        client = Asgi(app, {SESSION_COOKIE: cookie})
        ana_client = Asgi(app, {SESSION_COOKIE: ana_cookie})
        ana_client.loop.close()
        ana_client.loop = client.loop

        def ana_page(path: str) -> bytes:
            code, body = ana_client.get(path)
            assert code == 200, (path, code, body[:300])
            return body

        # As `dutydesk serve` does after start-up (cli.client.startup_gc): what was built so
        # far lives as long as the process, and unfrozen every full collection would scan it
        # (a ~130 ms pause every few dozen requests here, counted against whichever page).
        gc.collect()
        gc.freeze()

        api_infra = {"Authorization": f"Bearer {token}"}
        api_set = {"Authorization": f"Bearer {token_set}"}

        def page(path: str, status: int = 200, headers: dict[str, str] | None = None) -> bytes:
            code, body = client.get(path, headers)
            assert code == status, (path, code, body[:300])
            return body

        cards = len(re.findall(rb'<li class="card', page("/desks/set/board")))

        def api_open_set() -> int:
            cursor, got = None, 0
            while True:
                query = "desk=set&open=true&limit=200" + (f"&cursor={cursor}" if cursor else "")
                body = json.loads(page(f"/api/v1/tickets?{query}", headers=api_set))
                got += len(body["items"])
                cursor = body["next_cursor"]
                if not cursor:
                    return got

        api_rows = api_open_set()
        since = re.search(rb'id="board"[^>]*data-version="(\d+)"', page("/desks/set/board"))
        assert since is not None
        version = int(since.group(1))
        poll_url = f"/desks/set/board/changes?since={version}"

        # One ticket on the board changes; what does the next refresh send?
        with db.read() as s:
            first = s.scalars(
                select(Ticket)
                .where(Ticket.desk == "set", Ticket.in_queue.is_(True), Ticket.is_open.is_(True))
                .order_by(Ticket.order_key)
                .limit(1)
            ).one()
            first_key = first.key
        with state.write(eva) as ctx:
            service.patch_ticket(
                ctx, first_key, TicketPatch(title="Crash when the bench edits this"), None
            )
        full_url = f"/desks/set/board/live?since={version}"
        diff_url = f"/desks/set/board/changes?since={version}"
        full_bytes, diff_bytes = len(page(full_url)), len(page(diff_url))
        changed = json.loads(page(diff_url))
        assert list(changed["cards"]) == [first_key], changed.get("cards", {}).keys()
        print(
            f"bytes per live refresh after one ticket changed ({cards} cards on the board): "
            f"whole board {full_bytes:,} B, changes {diff_bytes:,} B "
            f"({full_bytes / diff_bytes:.0f}× less)\n",
            flush=True,
        )
        queue_pages = -(
            -count(db, Ticket.desk == "infra", Ticket.in_queue.is_(True), Ticket.is_open.is_(True))
            // 50
        )
        api_queue = lambda: page("/api/v1/desks/infra/queue?limit=50", headers=api_infra)  # noqa: E731
        figures: list[tuple[str, Callable[[], object], str, Callable[[], object], float | None]] = [
            (
                f"board page, {cards} cards",
                lambda: page("/desks/set/board"),
                f"JSON API, same {api_rows} open tickets",
                api_open_set,
                GOAL_MS,
            ),
            (
                f"queue page, first 50 of {infra_total:,} tickets",
                lambda: page("/desks/infra/queue"),
                "JSON API queue, limit=50",
                api_queue,
                GOAL_MS,
            ),
            (
                "queue page sorted by priority, all open",
                lambda: page("/desks/infra/queue?view=open&sort=priority"),
                "JSON API queue, limit=50",
                api_queue,
                PAGE_GOAL_MS,
            ),
            (
                "queue page sorted by last update, everything",
                lambda: page("/desks/infra/queue?view=all&sort=-updated"),
                "JSON API queue, limit=50",
                api_queue,
                PAGE_GOAL_MS,
            ),
            (
                f"queue page, last page ({min(queue_pages, 200):,}; counting stops at 10,000)",
                lambda: page(f"/desks/infra/queue?page={min(queue_pages, 200)}"),
                "JSON API queue, limit=50",
                api_queue,
                PAGE_GOAL_MS,
            ),
            (
                'header search "quota", every desk (ana)',
                lambda: ana_page("/search?q=quota"),
                "JSON API queue, limit=50",
                api_queue,
                PAGE_GOAL_MS,
            ),
            (
                "My work (ana, infra responder)",
                lambda: ana_page("/me"),
                "JSON API queue, limit=50",
                api_queue,
                PAGE_GOAL_MS,
            ),
            (
                f"live refresh, one ticket changed ({diff_bytes:,} B)",
                lambda: page(diff_url),
                f"whole board as before ({full_bytes:,} B)",
                lambda: page(full_url),
                PAGE_GOAL_MS,
            ),
            (
                "status post page (this week)",
                lambda: page("/desks/set/status-post"),
                "JSON API status post",
                lambda: page("/api/v1/desks/set/status-post", headers=api_set),
                PAGE_GOAL_MS,
            ),
            (
                "triage agenda page (next meeting)",
                lambda: page("/desks/set/agenda?meeting=triage"),
                "JSON API agenda",
                lambda: page("/api/v1/desks/set/agenda?meeting=triage", headers=api_set),
                PAGE_GOAL_MS,
            ),
            (
                f"handoff page, infra desk ({infra_total:,} tickets)",
                lambda: page("/desks/infra/handoff"),
                "JSON API handoff report",
                lambda: page("/api/v1/desks/infra/handoff", headers=api_infra),
                PAGE_GOAL_MS,
            ),
            (
                "board live poll, nothing changed (204)",
                lambda: page(poll_url.replace(str(version), str(changed["version"])), 204),
                "GET /api/v1/healthz",
                lambda: page("/api/v1/healthz"),
                None,
            ),
        ]

        rows = []
        for label, fn, ref_label, ref, goal in figures:
            p50, p95, c50, c95 = timed(fn, args.n)
            r50, r95, rc50, rc95 = timed(ref, args.n)
            verdict = ("met" if c95 <= goal else "**not met**") if goal else "–"
            rows.append(
                [
                    label,
                    f"{p50:.1f} / {p95:.1f}",
                    f"{c50:.1f} / {c95:.1f}",
                    ref_label,
                    f"{r50:.1f} / {r95:.1f}",
                    f"{rc50:.1f} / {rc95:.1f}",
                    f"{p95 / r95:.2f}×",
                    f"≤ {goal:.0f} ({verdict})" if goal else "–",
                ]
            )

        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) after the run\n")
        header = [
            "page",
            "wall p50 / p95 ms",
            "CPU p50 / p95 ms",
            "reference (same run)",
            "ref wall p50 / p95",
            "ref CPU p50 / p95",
            "wall p95 ratio",
            "goal: CPU p95",
        ]
        print("| " + " | ".join(header) + " |")
        print(
            "| " + " | ".join(["---", "---:", "---:", "---", "---:", "---:", "---:", "---"]) + " |"
        )
        for row in rows:
            print("| " + " | ".join(row) + " |")
        client.loop.close()
        db.dispose()


if __name__ == "__main__":
    main()
