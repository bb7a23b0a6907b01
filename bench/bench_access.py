"""Access costs: the log-in's answer time for an unknown name against a wrong password (they
must match, so timing tells nothing), and what the API rate limiter and the token cache add
to each request, beside a request's whole server CPU (~1.1 ms for intake, BENCHMARKS.md).

    .venv/bin/python bench/bench_access.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from dutydesk.auth.cache import TokenCache
from dutydesk.auth.models import User
from dutydesk.auth.service import create_user
from dutydesk.auth.throttle import AccessLimits, log_in
from dutydesk.db import Database
from dutydesk.errors import Unauthorized
from dutydesk.http.rate_limit import ApiRateLimit
from dutydesk.migrate import upgrade

NO_THROTTLE = AccessLimits(login_failures_per_account=0, login_failures_per_address=0)


def login_times(rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        now = datetime.now(UTC)
        with db.write() as s:
            create_user(s, "rita", roles=["reporter"], now=now, password="correct horse")
        times: dict[str, list[float]] = {"unknown name": [], "wrong password": []}
        for _ in range(rounds):  # interleaved, so drift in the machine's load hits both
            for what, name in (("unknown name", "nobody"), ("wrong password", "rita")):
                started = time.perf_counter()
                with suppress(Unauthorized):
                    log_in(db, NO_THROTTLE, name, "battery staple", "127.0.0.1", now)
                times[what].append((time.perf_counter() - started) * 1000)
        db.dispose()
    return times


async def _passthrough(scope: object, receive: object, send: object) -> None:
    return None


def limiter_cost(n: int) -> tuple[float, float]:
    """µs per request through the limiter, and through nothing, on a request with a token."""
    # Buckets so large none empties: every request pays the check and passes.
    huge = AccessLimits(
        api_rate_per_token=1e9,
        api_burst_per_token=10**9,
        api_rate_per_address=1e9,
        api_burst_per_address=10**9,
    )
    limited = ApiRateLimit(_passthrough, huge)  # type: ignore[arg-type]
    scope = {
        "type": "http",
        "path": "/api/v1/desks/infra/tickets",
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer ddk_" + b"x" * 43),
        ],
    }

    async def run(app: object) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await app(scope, None, None)  # type: ignore[operator]
        return (time.perf_counter() - started) / n * 1e6

    loop = asyncio.new_event_loop()
    try:
        bare = min(loop.run_until_complete(run(_passthrough)) for _ in range(5))
        ours = min(loop.run_until_complete(run(limited)) for _ in range(5))
    finally:
        loop.close()
    return ours, bare


def cache_cost(n: int) -> float:
    cache = TokenCache(ttl=3600)
    cache.put("k" * 64, User(name="ana"), None)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for _ in range(n):
        cache.get("k" * 64, now)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    times = login_times(20)
    print("1. Failed log-in, server side (argon2 verify + the failure's row), ms")
    print(f"{'case':16} {'p50':>7} {'p95':>7}")
    for what, found in times.items():
        p95 = statistics.quantiles(found, n=20)[-1]
        print(f"{what:16} {statistics.median(found):7.1f} {p95:7.1f}")
    ratio = statistics.median(times["unknown name"]) / statistics.median(times["wrong password"])
    print(f"ratio unknown / wrong: {ratio:.2f}x (goal: 1.0x within the noise)")
    ours, bare = limiter_cost(200_000)
    hit = cache_cost(200_000)
    print("\n2. Per-request cost of access checks, µs (event loop, one request)")
    print(f"rate limiter (token + address buckets): {ours - bare:.2f} (passthrough {bare:.2f})")
    print(f"token cache hit:                        {hit:.2f}")
    print(
        f"together {(ours - bare + hit) / 1100 * 100:.1f}% of intake's ~1.1 ms server CPU "
        "per request (goal ≤ 5%)"
    )


if __name__ == "__main__":
    main()
