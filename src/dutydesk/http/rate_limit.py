"""API rate limits per bearer token and per client address: in-process token buckets.

Each replica keeps its own buckets (no shared state, no database round trip), so the limits
are per replica: with N replicas behind a balancer a client may get up to N times as much.
A refused request gets ``429`` with ``Retry-After`` as a problem document, before any work.
"""

from __future__ import annotations

import json
import math
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from dutydesk.auth.throttle import AccessLimits


class TokenBuckets:
    """``rate`` requests per second sustained, ``burst`` at once, per key."""

    def __init__(self, rate: float, burst: int, maxsize: int = 10_000) -> None:
        self.rate, self.burst, self.maxsize = rate, float(max(burst, 1)), maxsize
        self._buckets: dict[bytes | str, tuple[float, float]] = {}

    def take(self, key: bytes | str, now: float) -> float:
        """0 if a request may go now; else the seconds until one may."""
        if self.rate <= 0:
            return 0.0
        level, then = self._buckets.get(key, (self.burst, now))
        level = min(self.burst, level + (now - then) * self.rate)
        if level < 1.0:
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate
        if len(self._buckets) >= self.maxsize and key not in self._buckets:
            self._forget_idle(now)
        self._buckets[key] = (level - 1.0, now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have filled up again (they would start full anyway)."""
        full = self.burst / self.rate
        for key in [k for k, (_, then) in self._buckets.items() if now - then >= full]:
            del self._buckets[key]
        if len(self._buckets) >= self.maxsize:
            self._buckets.clear()


class ApiRateLimit:
    """Pure ASGI middleware on ``/api/`` paths (the event loop is single-threaded, so the
    buckets need no lock)."""

    def __init__(self, app: ASGIApp, limits: AccessLimits) -> None:
        self.app = app
        self.per_token = TokenBuckets(limits.api_rate_per_token, limits.api_burst_per_token)
        self.per_address = TokenBuckets(limits.api_rate_per_address, limits.api_burst_per_address)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        client = scope.get("client")
        wait = self.per_address.take(client[0] if client else "", now)
        what = "address"
        if not wait:
            for name, value in scope["headers"]:
                if name == b"authorization":
                    wait, what = self.per_token.take(value, now), "token"
                    break
        if wait:
            await _refuse(send, what, max(1, math.ceil(wait)))
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, what: str, retry_after: int) -> None:
    body = json.dumps(
        {
            "type": "/problems/too-many-requests",
            "title": "Too many requests",
            "status": 429,
            "detail": f"the rate limit for this {what} is reached; retry in {retry_after} s",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
