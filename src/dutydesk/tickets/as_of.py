"""The desk's open tickets now, or as they were at an earlier instant, read back from the
event history (each event stores the value before and after), never today's values under
an old date. Past agendas and past handoff reports read them; :func:`values_at` is the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import user_names
from dutydesk.policy.models import Policy
from dutydesk.tickets.models import Event, Ticket


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    kind: str
    priority: str | None
    status: str
    assignee: str | None
    team: str | None
    blocked: bool
    blocked_reason: str | None
    triaged: bool
    in_queue: bool
    created_at: datetime
    last_activity: datetime  # last update by a responder, else last change
    # The assignee's own last activity (tickets.idle), for the idle section.
    assignee_activity: datetime | None = None


def load_rows(session: Session, desk: str, limit: int = 2000) -> list[Row]:
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.desk == desk, Ticket.is_open.is_(True))
            .order_by(Ticket.in_queue.desc(), Ticket.order_key, Ticket.id)
            .limit(limit)
        )
    )
    names = user_names(session, (t.assignee_id for t in tickets))
    return [
        Row(
            key=t.key,
            title=t.title,
            kind=t.kind,
            priority=t.priority,
            status=t.status,
            assignee=names.get(t.assignee_id) if t.assignee_id else None,
            team=t.team,
            blocked=t.blocked,
            blocked_reason=t.blocked_reason,
            triaged=t.triaged_at is not None,
            in_queue=t.in_queue,
            created_at=t.created_at,
            last_activity=max(t.last_update_at or t.created_at, t.updated_at),
            assignee_activity=t.claim_active_at,  # kept with the ticket; None if unassigned
        )
        for t in tickets
    ]


# Fields whose value at an earlier instant the agenda reads back from events.
HISTORY_FIELDS = (
    "status",
    "priority",
    "assignee",
    "team",
    "blocked",
    "blocked_reason",
    "kind",
    "title",
    "triaged_at",
    "criteria",
)


def values_at(current: dict[str, Any], events: Iterable[Event]) -> dict[str, Any]:
    """A ticket's values at an instant (pure): ``events`` are its changes after that
    instant, oldest first; the first change of a field after it holds the value it had."""
    out = dict(current)
    seen: set[str] = set()
    for e in events:
        name = str(e.field)
        if e.type == "unblocked":
            for f, v in (("blocked", True), ("blocked_reason", (e.data or {}).get("reason"))):
                if f not in seen:
                    seen.add(f)
                    out[f] = v
            continue
        if e.type == "blocked" and name == "blocked_reason":
            continue  # the "changed blocked" event of the same change says it
        if name in HISTORY_FIELDS and name not in seen:
            seen.add(name)
            out[name] = e.before
    return out


def load_rows_at(
    session: Session, policy: Policy, desk: str, at: datetime, limit: int = 2000
) -> list[Row]:
    """The desk's open tickets as they were at ``at`` (a past agenda or handoff report): the
    last activity is the last event until then, the assignee's activity that of the assignee
    then (their last event or the assignment, as :mod:`dutydesk.tickets.idle` counts it)."""
    spec = policy.desks[desk]
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.desk == desk,
                Ticket.created_at <= at,
                or_(Ticket.is_open.is_(True), Ticket.updated_at > at),
            )
            .order_by(Ticket.id)
            .limit(limit * 4)
        )
    )
    later: dict[int, list[Event]] = {}
    ids = [t.id for t in tickets]
    for i in range(0, len(ids), 500):
        for e in session.scalars(
            select(Event)
            .where(
                Event.ticket_id.in_(ids[i : i + 500]),
                Event.at > at,
                Event.field.in_((*HISTORY_FIELDS, "blocked")),
            )
            .order_by(Event.ticket_id, Event.seq)
        ):
            later.setdefault(e.ticket_id, []).append(e)
    names = user_names(session, (t.assignee_id for t in tickets))
    by_actor, assigned_at = _activity_until(session, ids, at)
    then: list[tuple[Ticket, dict[str, Any]]] = []
    for t in tickets:
        now_values = {
            "status": t.status,
            "priority": t.priority,
            "assignee": names.get(t.assignee_id) if t.assignee_id else None,
            "team": t.team,
            "blocked": t.blocked,
            "blocked_reason": t.blocked_reason,
            "kind": t.kind,
            "title": t.title,
            "triaged_at": t.triaged_at,
            "criteria": list(t.criteria or []),
        }
        v = values_at(now_values, later.get(t.id, []))
        if v["status"] != spec.done_column:
            then.append((t, v))
    people = {str(v["assignee"]) for _, v in then if v["assignee"]}
    user_ids = (
        {n: i for n, i in session.execute(select(User.name, User.id).where(User.name.in_(people)))}
        if people
        else {}
    )
    rows: list[tuple[tuple[Any, ...], Row]] = []
    for t, v in then:
        acts = by_actor.get(t.id, {})
        assignee_activity = None
        if v["assignee"] is not None:
            uid = user_ids.get(str(v["assignee"]))
            by_them = acts.get(uid) if uid is not None else None
            mine = [x for x in (by_them, assigned_at.get(t.id)) if x is not None]
            assignee_activity = max(mine, default=t.created_at)
        in_queue = spec.admits(v["priority"], v["criteria"] or [], v.get("team"))
        row = Row(
            key=t.key,
            title=v["title"],
            kind=v["kind"],
            priority=v["priority"],
            status=v["status"],
            assignee=v["assignee"],
            team=v["team"],
            blocked=bool(v["blocked"]),
            blocked_reason=v["blocked_reason"],
            triaged=v["triaged_at"] is not None,
            in_queue=in_queue,
            created_at=t.created_at,
            last_activity=max(acts.values(), default=t.created_at),
            assignee_activity=assignee_activity,
        )
        rows.append(((not in_queue, t.order_key, t.id), row))
    rows.sort(key=lambda r: r[0])
    return [r for _, r in rows[:limit]]


def _activity_until(
    session: Session, ids: list[int], at: datetime
) -> tuple[dict[int, dict[int | None, datetime]], dict[int, datetime]]:
    """Per ticket, each actor's last event at or before ``at``, and its last assignment."""
    by_actor: dict[int, dict[int | None, datetime]] = {}
    assigned: dict[int, datetime] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for tid, actor, last in session.execute(
            select(Event.ticket_id, Event.actor_id, func.max(Event.at))
            .where(Event.ticket_id.in_(chunk), Event.at <= at)
            .group_by(Event.ticket_id, Event.actor_id)
        ):
            by_actor.setdefault(tid, {})[actor] = last
        for tid, last in session.execute(
            select(Event.ticket_id, func.max(Event.at))
            .where(Event.ticket_id.in_(chunk), Event.at <= at, Event.field == "assignee")
            .group_by(Event.ticket_id)
        ):
            assigned[tid] = last
    return by_actor, assigned
