"""What the leak and hardening fixes cost: security headers on intake, and visibility-aware search.

* intake: ``POST /api/v1/desks/infra/tickets`` as ASGI calls straight into the app (no client,
  no network), with the security-headers wrapper and without it, rounds interleaved so both see
  the same machine; goal: ≤ 5 % more CPU per filing;
* the wrapper alone, around an app that answers at once: its own cost per response;
* search on 100k tickets: a responder's query (public and internal text, on the desks they
  answer for) beside a reporter's (public text only) and beside the same query with no text.

    .venv/bin/python bench/bench_security.py
    .venv/bin/python bench/bench_security.py --tickets 10000 --n 200   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.db import Database
from dutydesk.demo import bulk_tickets
from dutydesk.http import security
from dutydesk.migrate import upgrade
from dutydesk.policy import load_policy
from dutydesk.state import AppState, sync_policy
from dutydesk.tickets import queries, search
from dutydesk.tickets.schemas import TicketFilter

ROOT = Path(__file__).resolve().parents[1]


def call(
    app: Any,
    loop: asyncio.AbstractEventLoop,
    method: str,
    path: str,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "root_path": "",
    }
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    loop.run_until_complete(app(scope, receive, send))
    return status


def cpu_ms(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        c0 = time.process_time()
        fn()
        out.append((time.process_time() - c0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000, help="tickets for the search figures")
    ap.add_argument("--n", type=int, default=400, help="filings per round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"$ {shlex.join([sys.executable, *sys.argv])}\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        policy = load_policy(ROOT / "examples" / "dutydesk.toml")
        db = Database(url)
        state = AppState(db=db, policy=policy)
        sync_policy(db, policy, state.now())
        with db.write() as s:
            token = create_token(s, user_by_name(s, "rita"), state.now(), "bench")
        hardened = create_app(state)
        plain_install = security.install
        security.install = lambda app, image_hosts=tuple: None  # type: ignore[assignment]
        bare = create_app(state)
        security.install = plain_install
        loop = asyncio.new_event_loop()
        headers = [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]
        body = json.dumps({"title": "Add a LUCI builder for linux web engine"}).encode()

        def file(app: Any) -> Callable[[], object]:
            def go() -> None:
                assert call(app, loop, "POST", "/api/v1/desks/infra/tickets", body, headers) == 201

            return go

        for app in (hardened, bare):
            cpu_ms(file(app), 50)  # warm up
        with_h: list[float] = []
        without: list[float] = []
        for _ in range(args.rounds):
            with_h += cpu_ms(file(hardened), args.n)
            without += cpu_ms(file(bare), args.n)
        a, b = statistics.median(with_h), statistics.median(without)
        print("intake, CPU per filing (median of", len(with_h), "each)")
        print(f"  with security headers     {a:7.3f} ms")
        print(f"  without (reference)       {b:7.3f} ms")
        print(f"  overhead                  {100 * (a / b - 1):+6.1f} %   (goal ≤ 5 %)\n")

        async def empty(scope: Any, receive: Any, send: Any) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": b"{}"})

        wrapped = security.SecurityHeaders(empty)
        n = 20_000
        t = [
            statistics.median(cpu_ms(lambda x=x: call(x, loop, "GET", "/", b"", []), n))
            for x in (wrapped, empty)
        ]
        print(
            f"the wrapper alone: {1000 * (t[0] - t[1]):.1f} µs per response "
            f"({1000 * t[0]:.1f} µs wrapped beside {1000 * t[1]:.1f} µs bare)\n"
        )

        bulk_tickets(db, policy, "infra", args.tickets, progress=False)
        with db.read() as s:
            reporter = search.readers(user_by_name(s, "rita"), policy.desks)
            responder = search.readers(user_by_name(s, "ana"), policy.desks)
        now = state.now()
        print(f"search, {args.tickets} tickets, first page of 50 (wall ms, median of 30)")
        for q in ("builder", "quota disk", "bui"):
            row = []
            for who, f in (
                (responder, TicketFilter(q=q)),
                (reporter, TicketFilter(q=q)),
                (reporter, TicketFilter(desk="infra")),
            ):

                def run(who: search.Readers = who, f: TicketFilter = f) -> None:
                    with db.read() as s:
                        queries.list_tickets(s, f, now, 50, None, who)

                run()
                wall = []
                for _ in range(30):
                    t0 = time.perf_counter()
                    run()
                    wall.append((time.perf_counter() - t0) * 1000)
                row.append(statistics.median(wall))
            print(
                f"  q={q!r:14} responder {row[0]:6.2f}  reporter {row[1]:6.2f}  "
                f"no text (reference) {row[2]:6.2f}   responder/reporter {row[0] / row[1]:.2f}x"
            )
        db.dispose()


if __name__ == "__main__":
    main()
