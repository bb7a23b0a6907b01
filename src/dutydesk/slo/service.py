"""SLO use cases: keep clock rows in step with tickets, and read them back.

:func:`on_change` runs inside the ticket use case's transaction (called by the tickets
service), so a ticket and its clocks never disagree.  :func:`recompute` brings every open
ticket of a desk in line after a calendar or policy edit, and doubles as the backfill for
tickets inserted in bulk; stopped clocks are history and are never touched.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.context import Ctx
from dutydesk.db import Database, Prepared
from dutydesk.durations import format_span
from dutydesk.errors import field_error
from dutydesk.policy.models import Policy
from dutydesk.slo import clocks as rules
from dutydesk.slo.bulk import BulkIO
from dutydesk.slo.clocks import BREACHED, MET, PAUSED, RUNNING, STOPPED, Clock, Facts
from dutydesk.slo.models import SloDeskState, TicketClock
from dutydesk.slo.policy import DeskSlo, desk_slo, same_structure
from dutydesk.slo.schemas import (
    ClockOut,
    DeskClockOut,
    DeskSloOut,
    PauseOut,
    RecomputeOut,
    SloCounts,
)
from dutydesk.tickets.models import Ticket

log = logging.getLogger("dutydesk.slo")
_CLOCKS: Table = TicketClock.__table__  # type: ignore[assignment]

MAX_LIST = 500

# Stored columns that mirror Clock fields one to one (pauses and id are handled apart).
_FIELDS = (
    "name",
    "rule",
    "target",
    "cadence",
    "business",
    "cycle",
    "started_at",
    "target_seconds",
    "at_risk_fraction",
    "due_at",
    "at_risk_at",
    "state",
    "paused_at",
    "paused_seconds",
    "stopped_at",
    "stopped_by",
    "outcome",
    "met_at",
    "breached_at",
    "decided_at",
    "elapsed_seconds",
)
_MUTABLE = tuple(f for f in _FIELDS if f not in ("name", "cycle", "started_at"))
_INSERT_CLOCKS = Prepared(insert(_CLOCKS), ("ticket_id", "desk", "priority", *_FIELDS, "pauses"))
# What changes while a clock stays running or paused (most rows of a recompute).
_SCHEDULE = (
    "rule",
    "target",
    "cadence",
    "business",
    "target_seconds",
    "at_risk_fraction",
    "due_at",
    "at_risk_at",
    "state",
    "paused_at",
    "paused_seconds",
)


def _kept() -> Any:
    """Rows reconcile() needs: active clocks, and kept-or-missed deadlines (never restart)."""
    return or_(
        TicketClock.state != STOPPED,
        and_(TicketClock.cadence.is_(False), TicketClock.outcome.in_([MET, BREACHED])),
    )


def _clock(row: Any) -> Clock:
    c = Clock(**{f: getattr(row, f) for f in _FIELDS})
    c.pauses = rules.pauses_from_json(row.pauses)
    c.id = row.id
    return c


def _values(c: Clock, slo: DeskSlo, fields: Sequence[str] = _FIELDS) -> dict[str, Any]:
    values = {f: getattr(c, f) for f in fields}
    values["pauses"] = rules.pauses_to_json(slo.timeline(c.business), c.pauses)
    return values


def facts(t: Ticket) -> Facts:
    return Facts(
        created_at=t.created_at,
        is_open=t.is_open,
        priority=t.priority,
        kind=t.kind,
        triaged_at=t.triaged_at,
        started_at=t.started_at,
        resolved_at=t.resolved_at,
        last_update_at=t.last_update_at,
        blocked=t.blocked,
        blocked_at=t.blocked_at,
        in_queue=t.in_queue,
    )


# ----------------------------------------------------------------------------- writing


def on_change(
    ctx: Ctx, ticket: Ticket, *, new: bool = False, was: Facts | None = None
) -> list[Clock]:
    """Start, pause, resume, stop or restart the ticket's clocks after a change; return the
    clocks it started.

    Runs in the caller's transaction.  `new` (just filed) skips loading rows that cannot
    exist yet; `was` holds the facts before the change.
    """
    slo = desk_slo(ctx.policy, ticket.desk)
    if was is not None and was.priority != ticket.priority:  # the reports group by it
        ctx.session.execute(
            update(TicketClock)
            .where(TicketClock.ticket_id == ticket.id)
            .values(priority=ticket.priority)
            .execution_options(synchronize_session=False)
        )
    if not slo.rules:
        return []
    rows: list[TicketClock] = []
    if not new:
        rows = list(
            ctx.session.scalars(
                select(TicketClock)
                .where(TicketClock.ticket_id == ticket.id, _kept())
                .order_by(TicketClock.id)
            )
        )
    current = [_clock(r) for r in rows]
    before = [c.snapshot() for c in current]
    started = rules.reconcile(slo.rules, slo.timeline, facts(ticket), current, ctx.now, before=was)
    for row, c, snapshot in zip(rows, current, before, strict=True):
        if c.snapshot() != snapshot:
            for name, value in _values(c, slo, _MUTABLE).items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
    if started:  # new rows only: a Core insert, no unit-of-work bookkeeping
        _INSERT_CLOCKS.executemany(
            ctx.session.connection(),
            [
                {"ticket_id": ticket.id, "desk": ticket.desk, "priority": ticket.priority}
                | _values(c, slo)
                for c in started
            ],
        )
    return started


@dataclass
class _Tally:
    updated: int = 0
    started: int = 0
    stopped: int = 0


# What a reschedule writes (the rule keys, hence which clocks exist, hold).
_RESCHEDULE_WRITE = (
    "target",
    "business",
    "target_seconds",
    "at_risk_fraction",
    "due_at",
    "at_risk_at",
    "paused_seconds",
)


def recompute(
    session: Session, policy: Policy, desk: str, now: datetime, *, full: bool | None = None
) -> RecomputeOut:
    """Bring the clocks of every open ticket of `desk` in line with the current policy.

    Closed tickets' clocks are history and are never touched.  Two depths:

    * reschedule (a calendar edit, a new target): running and paused clocks keep their
      start and pauses and get new due and at-risk instants.  Chosen automatically when the
      structural half of the desk's fingerprint (which clocks exist) is unchanged;
    * full (``full=True``, or the structure changed, or first run): every open ticket is
      reconciled with its facts: missing clocks start (the backfill for bulk-inserted
      tickets), clocks whose rule no longer applies are cancelled, the rest retargeted.

    Rows travel in bulk through the driver (:mod:`dutydesk.slo.bulk`), in the caller's
    transaction.
    """
    slo = desk_slo(policy, desk)
    state = session.get(SloDeskState, desk)
    if full is None:
        full = state is None or not same_structure(state.fingerprint, slo.fingerprint)
    io = BulkIO(session)
    with io.bulk_mode():
        result = None if full else _reschedule(io, slo, desk)
        if result is None:
            result = _reconcile(io, slo, desk, now)
    if state is None:
        session.add(SloDeskState(desk=desk, fingerprint=slo.fingerprint, recomputed_at=now))
    else:
        state.fingerprint, state.recomputed_at = slo.fingerprint, now
    return result


def follow_priorities(session: Session, ticket_ids: Sequence[int] | None = None) -> None:
    """Clocks take their ticket's current priority (``ticket_ids``: those tickets' clocks;
    None: every clock, after an upgrade or a bulk load)."""
    current = select(Ticket.priority).where(Ticket.id == TicketClock.ticket_id).scalar_subquery()
    stmt = update(TicketClock).values(priority=current)
    if ticket_ids is None:
        session.execute(stmt.execution_options(synchronize_session=False))
        return
    for i in range(0, len(ticket_ids), 500):
        chunk = ticket_ids[i : i + 500]
        session.execute(
            stmt.where(TicketClock.ticket_id.in_(chunk)).execution_options(
                synchronize_session=False
            )
        )


def _pauses_json(slo: DeskSlo) -> Callable[[Clock], list[list[Any]]]:
    return lambda c: rules.pauses_to_json(slo.timeline(c.business), c.pauses)


def _reschedule(io: BulkIO, slo: DeskSlo, desk: str) -> RecomputeOut | None:
    """New due times for running and paused clocks; None if one names an unknown rule."""
    keyed = {r.key: r for r in slo.rules}
    moved: list[Clock] = []  # only the due and at-risk instants changed (the usual case)
    changed: list[Clock] = []  # targets or pause accounting changed too
    active = io.active_clocks(desk)
    for c in active:
        rule = keyed.get(c.rule)
        if rule is None:
            return None  # the structure did change: reconcile everything instead
        was = _schedule_of(c)
        rules.retarget(c, rule, slo.timeline(rule.business))
        now = _schedule_of(c)
        if now[:4] == was[:4] and now[6] == was[6] and not c.pauses:
            if now[4:6] != was[4:6]:
                moved.append(c)
        elif now != was:
            changed.append(c)
    io.update(("due_at", "at_risk_at"), moved, None)
    io.update(_RESCHEDULE_WRITE, changed, _pauses_json(slo))
    return RecomputeOut(
        desk=desk,
        mode="reschedule",
        open_tickets=None,
        active_clocks=len(active),
        updated=len(moved) + len(changed),
        started=0,
        stopped=0,
        fingerprint=slo.fingerprint,
    )


def _schedule_of(c: Clock) -> tuple[Any, ...]:
    """The values of _RESCHEDULE_WRITE, spelled out: this runs twice per clock in bulk."""
    return (
        c.target,
        c.business,
        c.target_seconds,
        c.at_risk_fraction,
        c.due_at,
        c.at_risk_at,
        c.paused_seconds,
    )


def _reconcile(io: BulkIO, slo: DeskSlo, desk: str, now: datetime) -> RecomputeOut:
    tickets = io.open_tickets(desk)
    by_ticket: dict[int, list[Clock]] = defaultdict(list)
    for ticket_id, c in io.clocks(desk, _FIELDS):
        by_ticket[ticket_id].append(c)
    tally = _Tally()
    updates: list[Clock] = []  # still running or paused: the schedule columns
    stops: list[Clock] = []  # stopped by the recompute: every mutable column
    inserts: list[tuple[int, Clock]] = []
    active = 0
    for ticket_id, f in tickets:
        current = by_ticket.get(ticket_id, [])
        before = [c.snapshot() for c in current]
        started = rules.reconcile(slo.rules, slo.timeline, f, current, now, recompute=True)
        for c, was in zip(current, before, strict=True):
            if c.snapshot() != was:
                (updates if c.active else stops).append(c)
                tally.updated += 1
                tally.stopped += not c.active
            active += c.active
        inserts.extend((ticket_id, c) for c in started)
        tally.started += len(started)
        active += len(started)
    pauses = _pauses_json(slo)
    io.update(_SCHEDULE, updates, pauses)
    io.update(_MUTABLE, stops, pauses)
    io.insert(desk, _FIELDS, inserts, pauses)
    follow_priorities(io.session, sorted({t for t, _ in inserts}))
    return RecomputeOut(
        desk=desk,
        mode="full",
        open_tickets=len(tickets),
        active_clocks=active,
        updated=tally.updated,
        started=tally.started,
        stopped=tally.stopped,
        fingerprint=slo.fingerprint,
    )


def sync(db: Database, policy: Policy, now: datetime) -> list[RecomputeOut]:
    """At start-up: recompute each desk whose calendar or SLO rules changed since last time.

    One transaction per desk, holding the desk's state row, so replicas starting together
    do the work once (a replica that loses the race to create the row skips the desk).
    """
    done = []
    for desk in policy.desks:
        slo = desk_slo(policy, desk)
        try:
            with db.write() as s:
                state = s.scalar(
                    select(SloDeskState).where(SloDeskState.desk == desk).with_for_update()
                )
                if state is not None and state.fingerprint == slo.fingerprint:
                    continue
                result = recompute(s, policy, desk, now)
        except IntegrityError:
            continue  # another process recorded this desk first, and did the work
        log.info(
            "slo clocks of desk %s recomputed (%s): %d updated, %d started, %d stopped",
            desk,
            result.mode,
            result.updated,
            result.started,
            result.stopped,
        )
        done.append(result)
    return done


# ----------------------------------------------------------------------------- reading


def clock_out(c: Clock, slo: DeskSlo, now: datetime) -> ClockOut:
    tl = slo.timeline(c.business)
    left = rules.remaining(c, tl, now)
    return ClockOut(
        name=c.name,
        rule=c.rule,
        target=c.target,
        cycle=c.cycle,
        business=c.business,
        state=rules.shown_state(c, now),
        started_at=c.started_at,
        due_at=c.due_at,
        at_risk_at=c.at_risk_at,
        remaining_seconds=int(left.total_seconds()),
        remaining=format_span(left),
        paused_seconds=c.paused_seconds,
        pauses=[
            PauseOut(
                started_at=a,
                ended_at=b,
                business_seconds=tl.between(a, b).total_seconds() if b else None,
            )
            for a, b in c.pauses
        ],
        stopped_at=c.stopped_at,
        stopped_by=c.stopped_by,
        outcome=c.outcome,
    )


def ticket_clocks(
    session: Session, policy: Policy, tickets: Sequence[Ticket], now: datetime
) -> dict[int, list[dict[str, Any]]]:
    """For present(): each ticket's latest clock per name, in one query for the whole page."""
    ids = [t.id for t in tickets]
    if not ids:
        return {}
    latest = (
        select(func.max(TicketClock.id))
        .where(TicketClock.ticket_id.in_(ids))
        .group_by(TicketClock.ticket_id, TicketClock.name)
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    # Plain rows, not ORM objects: a page shows them and never changes them.
    for row in session.connection().execute(
        select(_CLOCKS).where(_CLOCKS.c.id.in_(latest)).order_by(_CLOCKS.c.id)
    ):
        if row.desk not in policy.desks:
            continue
        shown = clock_out(_clock(row), desk_slo(policy, row.desk), now)
        out[row.ticket_id].append(shown.model_dump())
    return out


def nearest_open_clocks(
    session: Session, policy: Policy, ticket_ids: Sequence[int], now: datetime
) -> dict[int, ClockOut]:
    """For boards: each ticket's running or paused clock that falls due first, in one query."""
    if not ticket_ids:
        return {}
    out: dict[int, ClockOut] = {}
    rows = session.scalars(
        select(TicketClock)
        .where(TicketClock.ticket_id.in_(ticket_ids), TicketClock.state.in_([RUNNING, PAUSED]))
        .order_by(TicketClock.due_at.is_(None), TicketClock.due_at)  # paused, undated: last
    )
    for row in rows:
        if row.ticket_id not in out and row.desk in policy.desks:
            out[row.ticket_id] = clock_out(_clock(row), desk_slo(policy, row.desk), now)
    return out


def desk_view(
    session: Session, policy: Policy, desk: str, now: datetime, limit: int = 100
) -> DeskSloOut:
    """Open tickets' clocks by nearest due (overdue first), with counts by shown state."""
    if not 1 <= limit <= MAX_LIST:
        raise field_error("limit", f"use 1 to {MAX_LIST}")
    slo = desk_slo(policy, desk)
    active = and_(TicketClock.desk == desk, TicketClock.state.in_([RUNNING, PAUSED]))
    overdue = and_(TicketClock.due_at.is_not(None), TicketClock.due_at < now)
    on_time = or_(TicketClock.due_at.is_(None), TicketClock.due_at >= now)
    breached, paused, at_risk, total = session.execute(
        select(
            func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((and_(on_time, TicketClock.state == PAUSED), 1), else_=0)), 0
            ),
            func.coalesce(
                func.sum(
                    case(
                        (
                            and_(
                                on_time,
                                TicketClock.state == RUNNING,
                                TicketClock.at_risk_at <= now,
                            ),
                            1,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
            func.count(),
        ).where(active)
    ).one()
    counts = SloCounts(
        breached=breached,
        at_risk=at_risk,
        paused=paused,
        running=total - breached - paused - at_risk,
    )
    base = (
        select(TicketClock, Ticket, User.name)
        .join(Ticket, Ticket.id == TicketClock.ticket_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(TicketClock.desk == desk)
        .order_by(TicketClock.due_at, TicketClock.id)
        .limit(limit)
    )
    rows = [
        *session.execute(base.where(TicketClock.state == RUNNING)).all(),
        *session.execute(base.where(TicketClock.state == PAUSED)).all(),
    ]
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r[0].due_at or far, r[0].id))
    items = []
    for row, ticket, assignee in rows[:limit]:
        shown = clock_out(_clock(row), slo, now)
        items.append(
            DeskClockOut(
                **shown.model_dump(),
                ticket=ticket.key,
                title=ticket.title,
                priority=ticket.priority,
                status=ticket.status,
                assignee=assignee,
                blocked=ticket.blocked,
            )
        )
    return DeskSloOut(
        desk=desk,
        calendar=slo.calendar_name,
        timezone=slo.calendar.timezone.key if slo.calendar else None,
        now=now,
        counts=counts,
        clocks=items,
    )
