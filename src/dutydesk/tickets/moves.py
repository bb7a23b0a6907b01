"""The moves the reports count, kept as ``ticket_moves`` rows: the toil report's re-opens and
bounces, the SET figures' fixes submitted.

* **re-open**: a status move out of the desk's done column.
* **bounce**: a ticket handed back: a status move to an earlier column of the desk that is not
  a re-open (In progress → Triaged, returned to the intake), or a change of team from one team
  to another.
* **submitted**: a status move into the column the desk's status post names as submitted.

:func:`classify` is the rule (pure). The recorder writes a row for each such move in the
transaction of the change (:func:`record`); a ticket that changes desk has its rows derived
again under the new desk's columns. The rows depend on the desk's column order and done column
(:func:`basis`): :func:`rebuild` classifies a desk's whole history again and stamps the basis in
``derived_bases``; the toil report asks :func:`is_current` first and rebuilds when it is not
(after the upgrade, a bulk load, or a policy that reorders the columns).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dutydesk.db import Database
from dutydesk.policy.models import DeskPolicy, Policy
from dutydesk.policy.notify import StatusPostPolicy
from dutydesk.reports.models import DerivedBasis, TicketMove
from dutydesk.tickets.models import Event, Ticket

PART = "moves"
_CHUNK = 5000


def submitted_column(spec: DeskPolicy) -> str:
    """The column a fix enters when submitted (the status post's, by default its default)."""
    if spec.status_post is not None:
        return spec.status_post.submitted
    return str(StatusPostPolicy.model_fields["submitted"].default)


def classify(spec: DeskPolicy, field: str | None, before: Any, after: Any) -> tuple[int, int, int]:
    """(re-open, bounce, submitted) of one ``changed`` event on a ticket of the desk ``spec``:
    each 0 or 1."""
    if field == "status":
        submitted = int(after == submitted_column(spec))
        done = spec.done_column
        if before == done:
            return (1, 0, submitted) if after != done else (0, 0, submitted)
        order = {c: i for i, c in enumerate(spec.columns)}
        to = order.get(after, -1) if isinstance(after, str) else -1
        frm = order.get(before, -1) if isinstance(before, str) else -1
        return (0, 1 if to >= 0 and frm > to else 0, submitted)
    if field == "team":
        return (0, 1, 0) if before is not None and after is not None else (0, 0, 0)
    return 0, 0, 0


def basis(spec: DeskPolicy) -> str:
    """What a desk's rows depend on: its columns in order, its done and submitted columns."""
    text = "|".join([*spec.columns, "", spec.done_column, submitted_column(spec)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


Move = tuple[int, datetime, str | None, Any, Any, str, bool]  # … kind, customer_reported


def _rows(spec: DeskPolicy, desk: str, events: Iterable[Move]) -> list[dict[str, Any]]:
    out = []
    for tid, at, field, before, after, kind, customer in events:
        reopen, bounce, submitted = classify(spec, field, before, after)
        if reopen or bounce or submitted:
            out.append(
                {
                    "ticket_id": tid,
                    "desk": desk,
                    "at": at,
                    "reopen": reopen,
                    "bounce": bounce,
                    "submitted": submitted,
                    "kind": kind,
                    "customer": customer,
                }
            )
    return out


def record(session: Session, policy: Policy, ticket: Ticket, events: Iterable[Any]) -> None:
    """After a change (its events written; or an import, with the history it wrote): rows for
    the moves among ``events`` (``Event``-like: type, field, at, before, after) that re-open
    or bounce the ticket; a change of desk derives all of the ticket's rows again, one of kind
    or customer flag rewrites them."""
    changed = [e for e in events if e.type == "changed"]
    if any(e.field in ("kind", "customer_reported") for e in changed):
        session.execute(
            update(TicketMove)
            .where(TicketMove.ticket_id == ticket.id)
            .values(kind=ticket.kind, customer=ticket.customer_reported)
        )
    fresh = [e for e in changed if e.field in ("status", "team", "desk")]
    if not fresh:
        return
    if any(e.field == "desk" for e in fresh):
        session.execute(delete(TicketMove).where(TicketMove.ticket_id == ticket.id))
        _derive(session, policy, ticket.desk, Ticket.id == ticket.id)
        return
    rows = _rows(
        policy.desks[ticket.desk],
        ticket.desk,
        (
            (ticket.id, e.at, e.field, e.before, e.after, ticket.kind, ticket.customer_reported)
            for e in fresh
        ),
    )
    if rows:
        session.execute(insert(TicketMove), rows)


def _derive(session: Session, policy: Policy, desk: str, *where: ColumnElement[bool]) -> int:
    """Rows for the re-opens and bounces in the history of the desk's tickets matching
    ``where`` (their old rows already removed); returns how many were written."""
    spec = policy.desks[desk]
    events = session.execute(
        select(
            Event.ticket_id,
            Event.at,
            Event.field,
            Event.before,
            Event.after,
            Ticket.kind,
            Ticket.customer_reported,
        )
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(
            Ticket.desk == desk,
            *where,
            Event.type == "changed",
            Event.field.in_(("status", "team")),
        )
    )
    rows = _rows(spec, desk, events)
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(TicketMove), rows[start : start + _CHUNK])
    return len(rows)


def is_current(session: Session, policy: Policy, desk: str) -> bool:
    """Whether the desk's rows were derived under its present columns."""
    stamped = session.get(DerivedBasis, (desk, PART))
    return stamped is not None and stamped.basis == basis(policy.desks[desk])


def rebuild_desk(session: Session, policy: Policy, desk: str, now: datetime) -> int:
    """The desk's rows derived again from its whole history; stamps the basis."""
    session.execute(delete(TicketMove).where(TicketMove.desk == desk))
    written = _derive(session, policy, desk)
    stamped = session.get(DerivedBasis, (desk, PART))
    if stamped is None:
        session.add(
            DerivedBasis(desk=desk, part=PART, basis=basis(policy.desks[desk]), built_at=now)
        )
    else:
        stamped.basis, stamped.built_at = basis(policy.desks[desk]), now
    session.flush()
    return written


def rebuild(
    session: Session, policy: Policy, now: datetime, desks: list[str] | None = None
) -> dict[str, int]:
    """Every desk's rows (after an upgrade, a bulk load, a change of columns); per desk, how
    many moves were kept."""
    return {d: rebuild_desk(session, policy, d, now) for d in desks or sorted(policy.desks)}


def sync(db: Database, policy: Policy, now: datetime) -> dict[str, int]:
    """At start-up: the desks whose rows were derived under other columns (or never, after the
    upgrade) derived again, in one write transaction; a no-op when all are current."""
    with db.write() as s:
        stale = [d for d in sorted(policy.desks) if not is_current(s, policy, d)]
        return rebuild(s, policy, now, stale) if stale else {}
