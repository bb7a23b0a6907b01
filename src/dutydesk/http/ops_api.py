"""What an operator's tools ask a replica: ``/api/v1/readyz`` (send me traffic?) and
``/metrics`` (Prometheus).

``healthz`` says the process answers; ``readyz`` says it can do its job: the database answers
and its schema is at the revision this code needs. A load balancer sends traffic by readyz,
so a replica started before ``dutydesk db upgrade`` (or cut off from the database) gets none.

``/metrics`` holds this process's own counters (requests, latency by route, tickets filed,
triaged and resolved) and gauges read from the database when scraped (outbox depth, dead
letters, worker lag, running SLO clocks past due). Every replica exposes its own; database
gauges are the same on each, so dashboards take ``max`` of them and ``sum`` of the counters.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import bindparam, text

from dutydesk import __version__
from dutydesk.db import UTCDateTime
from dutydesk.http.deps import State
from dutydesk.http.problems import problem_response
from dutydesk.migrate import ensure_current
from dutydesk.state import AppState

router = APIRouter()
_NOW = bindparam("now", type_=UTCDateTime())

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_PROXY_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


@router.get(
    "/api/v1/readyz",
    tags=["ops"],
    responses={503: {"description": "not ready", "content": {"application/problem+json": {}}}},
)
def readyz(state: State) -> Any:
    try:
        with state.db.read() as s:
            s.execute(text("SELECT 1"))
        ensure_current(state.db.engine)
    except Exception as exc:  # any failure means "send no traffic here", said plainly
        return problem_response(
            {
                "type": "/problems/not-ready",
                "title": "Not ready",
                "status": 503,
                "detail": str(exc).splitlines()[0][:300],
            },
            {"Retry-After": "5"},
        )
    return {"status": "ready", "version": __version__, "database": state.db.dialect}


def _may_scrape(request: Request, token: str) -> bool:
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    host = request.client.host if request.client else ""
    headers = dict(request.scope.get("headers", ()))
    return host in _LOOPBACK and not any(h in headers for h in _PROXY_HEADERS)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, state: State) -> Response:
    token: str = request.app.state.metrics_token
    if not _may_scrape(request, token):
        return problem_response(
            {
                "type": "/problems/forbidden",
                "title": "Forbidden",
                "status": 403,
                "detail": "metrics are served to loopback clients, or with the token set in "
                "DUTYDESK_METRICS_TOKEN (Authorization: Bearer <token>)",
            }
        )
    registry: CollectorRegistry = request.app.state.metrics_registry
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


class DatabaseGauges(Collector):
    """Gauges read from the database at scrape time, kept for ``ttl`` seconds so frequent
    scrapes from several Prometheus servers cost one round of queries."""

    def __init__(self, state: AppState, ttl: float = 5.0) -> None:
        self.state, self.ttl = state, ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.ttl:
                self._cached = (time.monotonic(), self._read())
            return list(self._cached[1])

    def _read(self) -> list[Metric]:
        now = self.state.now()
        outbox = GaugeMetricFamily(
            "dutydesk_outbox_rows",
            "Outbox rows waiting (pending), parked (channel not configured) or dead-lettered.",
            labels=("state", "kind"),
        )
        failing = GaugeMetricFamily(
            "dutydesk_outbox_failing",
            "Pending messages whose last delivery attempt failed (being retried).",
        )
        lag = GaugeMetricFamily(
            "dutydesk_worker_lag_seconds",
            "Age of the oldest work due and not yet done: outbox rows past due, and ticket "
            "changes not yet fanned out into notifications.",
            labels=("queue",),
        )
        changes = GaugeMetricFamily(
            "dutydesk_notify_changes_pending", "Ticket changes the worker has yet to fan out."
        )
        breached = GaugeMetricFamily(
            "dutydesk_slo_clocks_breached",
            "Running SLO clocks past their due instant (an SLO being breached now).",
            labels=("desk", "clock"),
        )
        with self.state.db.read() as s:
            for row_state, kind, count in s.execute(
                text(
                    "SELECT state, kind, count(*) FROM outbox"
                    " WHERE state IN ('pending', 'parked', 'dead') GROUP BY state, kind"
                )
            ):
                outbox.add_metric([row_state, kind], count)
            failing_total = s.execute(
                text("SELECT count(*) FROM outbox WHERE state = 'pending' AND attempts > 0")
            ).scalar_one()
            failing.add_metric([], failing_total)
            oldest_due = s.execute(
                text(
                    "SELECT min(due_at) FROM outbox WHERE state = 'pending' AND due_at <= :now"
                ).bindparams(_NOW),
                {"now": now},
            ).scalar()
            oldest_change, pending_changes = s.execute(
                text("SELECT min(created_at), count(*) FROM notify_changes")
            ).one()
            for desk, clock, count in s.execute(
                text(
                    "SELECT desk, name, count(*) FROM ticket_clocks"
                    " WHERE state = 'running' AND due_at < :now GROUP BY desk, name"
                ).bindparams(_NOW),
                {"now": now},
            ):
                breached.add_metric([desk, clock], count)
        lag.add_metric(["outbox"], _age(now, oldest_due))
        lag.add_metric(["changes"], _age(now, oldest_change))
        changes.add_metric([], pending_changes)
        return [outbox, failing, lag, changes, breached]


def _naive(at: datetime) -> datetime:
    """Instants are stored as naive UTC (``db.UTCDateTime``); plain SQL compares with those."""
    return at.astimezone(UTC).replace(tzinfo=None)


def _age(now: datetime, since: Any) -> float:
    if since is None:
        return 0.0
    if isinstance(since, str):  # SQLite returns min() of a datetime column as text
        since = datetime.fromisoformat(since)
    age: float = (_naive(now) - since.replace(tzinfo=None)).total_seconds()
    return max(0.0, age)


def install(app: Any, state: AppState, metrics_token: str = "") -> None:
    app.state.metrics_token = metrics_token
    registry = CollectorRegistry(auto_describe=False)
    app.state.metrics_gauges = DatabaseGauges(state)
    registry.register(app.state.metrics_gauges)
    app.state.metrics_registry = registry
    app.include_router(router)
