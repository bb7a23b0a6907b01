"""What the outermost middleware (request id, access line, latency histogram, last-resort
500) costs per request, measured in-process beside the same app without it.

The app is the smallest FastAPI route (returns a constant), so the difference is all
middleware; it is then put beside the server CPU a filing costs (bench_replicas.py: about
2 ms), which is what the ≤ 5 % goal is about.

    .venv/bin/python bench/bench_observe.py
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import FastAPI

from dutydesk.http.observe import Observe

REQUESTS = 10_000
ROUNDS = 7
FILING_SERVER_CPU_MS = 2.1  # bench_replicas.py, intake, one replica


def app() -> FastAPI:
    api = FastAPI()

    @api.get("/api/v1/things/{key}")
    async def thing(key: str) -> dict[str, str]:
        return {"key": key}

    return api


async def drive(asgi: Any, n: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for i in range(n):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "path": f"/api/v1/things/T-{i}",
            "raw_path": f"/api/v1/things/T-{i}".encode(),
            "query_string": b"",
            "headers": [(b"host", b"bench")],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 80),
            "scheme": "http",
        }
        await asgi(scope, receive, send)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    bare = app()
    observed = app()
    observed.add_middleware(Observe)
    # A handler that writes nothing: the cost of building each access record, not of I/O.
    logging.basicConfig(handlers=[logging.NullHandler()], level=logging.WARNING)
    access = logging.getLogger("dutydesk.access")
    plain: list[float] = []
    quiet: list[float] = []
    logged: list[float] = []
    for _ in range(ROUNDS):  # interleaved, best of each: this machine is shared
        plain.append(asyncio.run(drive(bare, REQUESTS)))
        access.setLevel(logging.WARNING)
        quiet.append(asyncio.run(drive(observed, REQUESTS)))
        access.setLevel(logging.INFO)
        logged.append(asyncio.run(drive(observed, REQUESTS)))
    b, q, lg = min(plain), min(quiet), min(logged)
    print(f"bare FastAPI route            {b:7.1f} µs/request")
    print(f"+ Observe, access log off     {q:7.1f} µs/request  (+{q - b:.1f} µs)")
    print(f"+ Observe, access log on      {lg:7.1f} µs/request  (+{lg - b:.1f} µs)")
    for label, extra in (("off", q - b), ("on", lg - b)):
        share = 100 * extra / (FILING_SERVER_CPU_MS * 1000)
        print(
            f"share of a filing's server CPU ({FILING_SERVER_CPU_MS} ms), log {label}: {share:.1f} %"
        )


if __name__ == "__main__":
    main()
