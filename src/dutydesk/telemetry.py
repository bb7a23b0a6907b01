"""The process's own Prometheus counters: requests, and tickets filed, triaged and resolved.

Counters are per process, as Prometheus expects: each ``serve`` replica exposes its own at
``/metrics`` and the query sums them (``sum(rate(dutydesk_tickets_filed_total[5m]))``).

A ticket counter moves only when its transaction commits: a use case notes what it did on
its session, and the note is applied after the commit or dropped with a rollback (a group
commit whose batch is rolled back and rerun counts each filing once).
"""

from __future__ import annotations

from collections import Counter as Tally
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

REQUEST_SECONDS = Histogram(
    "dutydesk_http_request_duration_seconds",
    "Time to answer a request, by route template (not the raw path).",
    ("method", "route"),
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "dutydesk_http_requests",
    "Requests answered, by route template and status code.",
    ("method", "route", "status"),
)
TICKETS = {
    what: Counter(f"dutydesk_tickets_{what}", f"Tickets {what} (committed).", ("desk",))
    for what in ("filed", "triaged", "resolved")
}

_PENDING = "dutydesk_pending_counts"


def count_on_commit(session: Session, what: str, desk: str) -> None:
    """Note that this transaction filed, triaged or resolved a ticket of ``desk``."""
    tally = session.info.get(_PENDING)
    if tally is None:
        tally = session.info[_PENDING] = Tally()
    tally[(what, desk)] += 1


@event.listens_for(Session, "after_commit")
def _apply(session: Session) -> None:
    tally: Any = session.info.pop(_PENDING, None)
    if tally:
        for (what, desk), n in tally.items():
            TICKETS[what].labels(desk).inc(n)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
