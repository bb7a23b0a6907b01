"""On-call load: what each shift of the desk's rotation carried, and each person over the period.

Per shift (the rotation's shifts clipped to the period), counting only what happened during it:

* *triaged*: ``triaged`` events by the person on shift on the desk's tickets;
* *served*: moves into the desk's started or done column and assignments made, by that person
  (each move counts: serving is keeping tickets moving);
* *comments*: comments that person wrote on the desk's tickets;
* *notifications* and *outside hours*: notices about the desk addressed to that person, and
  those written while the desk's calendar was closed (no calendar: not counted, shown empty);
* *SLO breaches*: the desk's clocks that fell due unmet during the shift (whoever was on call
  then shares them: a two-layer rotation shows a breach in both layers' shifts).

Per person: the sums over their shifts, beside the fairness report's hours for the same period
(:func:`dutydesk.oncall.reads.fairness_report`), so a team sees hours and work side by side.

The elementary intervals are cut by every shift edge and calendar opening and closing; what
people did is summed there from the hourly ``did`` tallies every ticket change keeps
(:mod:`dutydesk.reports.tallies`), notices and breaches are counted by the database from
their indexes (:func:`dutydesk.reports.buckets.bucket_index`); Python adds one row per
(interval, person) to the shifts covering it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import String, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.context import desk_policy
from dutydesk.notify.models import NOTICE, OutboxMessage
from dutydesk.notify.rows import recipient_of
from dutydesk.oncall.loading import desk_rotation_name, loaded_in
from dutydesk.oncall.reads import fairness_report
from dutydesk.policy.models import Policy
from dutydesk.reports import tallies
from dutydesk.reports.buckets import bucket_index, for_reports, json_text
from dutydesk.reports.period import Period
from dutydesk.reports.tables import Table
from dutydesk.slo.clocks import BREACHED, PAUSED, RUNNING
from dutydesk.slo.models import TicketClock
from dutydesk.slo.policy import desk_calendar
from dutydesk.tickets.models import Event, Ticket

TRIAGED, SERVED, COMMENTS = "triaged", "served", "comments"


class ShiftLoad(BaseModel):
    layer: str
    person: str
    start: datetime  # clipped to the period, in the rotation's zone
    end: datetime
    hours: float
    triaged: int
    served: int
    comments: int
    notifications: int
    outside_hours: int | None  # None: the desk keeps no calendar
    slo_breaches: int


class PersonLoad(BaseModel):
    person: str
    shifts: int
    hours: float  # from the fairness report
    weekend_hours: float
    holiday_hours: float
    triaged: int
    served: int
    comments: int
    notifications: int
    outside_hours: int | None
    slo_breaches: int


class OncallLoad(BaseModel):
    desk: str
    rotation: str
    period: dict[str, Any]
    now: datetime
    calendar: str | None
    shifts: list[ShiftLoad]
    people: list[PersonLoad]

    def tables(self) -> list[Table]:
        return [
            Table(
                "people",
                "Load per person over the period (hours from the fairness report)",
                (
                    "person",
                    "shifts",
                    "hours",
                    "weekend hours",
                    "holiday hours",
                    "triaged",
                    "served",
                    "comments",
                    "notifications",
                    "outside hours",
                    "SLO breaches",
                ),
                tuple(
                    (
                        p.person,
                        p.shifts,
                        p.hours,
                        p.weekend_hours,
                        p.holiday_hours,
                        p.triaged,
                        p.served,
                        p.comments,
                        p.notifications,
                        p.outside_hours,
                        p.slo_breaches,
                    )
                    for p in self.people
                ),
            ),
            Table(
                "shifts",
                "Load per shift",
                (
                    "layer",
                    "person",
                    "start",
                    "end",
                    "hours",
                    "triaged",
                    "served",
                    "comments",
                    "notifications",
                    "outside hours",
                    "SLO breaches",
                ),
                tuple(
                    (
                        s.layer,
                        s.person,
                        s.start.isoformat(),
                        s.end.isoformat(),
                        s.hours,
                        s.triaged,
                        s.served,
                        s.comments,
                        s.notifications,
                        s.outside_hours,
                        s.slo_breaches,
                    )
                    for s in self.shifts
                ),
            ),
        ]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def oncall_load(
    session: Session, policy: Policy, desk: str, period: Period, now: datetime
) -> OncallLoad:
    spec = desk_policy(policy, desk)
    for_reports(session)
    rotation = desk_rotation_name(policy, desk)
    found = loaded_in(session, policy, rotation)
    since, until = period.since, min(period.until, max(now, period.since))
    shifts = [
        x
        for x in found.schedule.shifts(since, until)
        if max(x.utc_start, since) < min(x.utc_end, until)
    ]
    cal = desk_calendar(policy, desk)
    open_spells = list(cal.intervals(since, until)) if cal is not None and since < until else []
    edges = sorted(
        {since, until}
        | {max(min(t, until), since) for x in shifts for t in (x.utc_start, x.utc_end)}
        | {t for spell in open_spells for t in spell}
    )
    # Interval i is [edges[i], edges[i+1]); it is office hours when it lies in an open spell.
    in_hours = _in_hours(edges, open_spells)
    people = sorted({x.person for x in shifts})
    ids = dict(session.execute(select(User.name, User.id).where(User.name.in_(people))).all())
    by_id = {v: k for k, v in ids.items()}
    work = _work(session, spec, desk, edges, list(by_id))
    notices = _notices(session, desk, edges, by_id)
    breaches = _breaches(session, desk, edges, now)

    rows: list[ShiftLoad] = []
    for x in sorted(shifts, key=lambda s: (s.utc_start, s.layer)):
        lo, hi = max(x.utc_start, since), min(x.utc_end, until)
        first, last = edges.index(lo), edges.index(hi)
        tally: dict[str, int] = defaultdict(int)
        outside = 0
        for i in range(first, last):
            for what in (TRIAGED, SERVED, COMMENTS):
                tally[what] += work.get((i, x.person, what), 0)
            n = notices.get((i, x.person), 0)
            tally["notifications"] += n
            if not in_hours[i]:
                outside += n
            tally["breaches"] += breaches.get(i, 0)
        rows.append(
            ShiftLoad(
                layer=x.layer,
                person=x.person,
                start=lo.astimezone(found.zone),
                end=hi.astimezone(found.zone),
                hours=round((hi - lo).total_seconds() / 3600, 2),
                triaged=tally[TRIAGED],
                served=tally[SERVED],
                comments=tally[COMMENTS],
                notifications=tally["notifications"],
                outside_hours=outside if cal is not None else None,
                slo_breaches=tally["breaches"],
            )
        )
    fair: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    if since < until:
        for f in fairness_report(session, policy, rotation, since, until).rows:
            acc = fair[f.person]
            acc[0] += f.shifts
            acc[1] += f.hours
            acc[2] += f.weekend_hours
            acc[3] += f.holiday_hours
    totals = []
    for person in people:
        mine = [r for r in rows if r.person == person]
        hours = fair[person]
        totals.append(
            PersonLoad(
                person=person,
                shifts=int(hours[0]),
                hours=round(hours[1], 2),
                weekend_hours=round(hours[2], 2),
                holiday_hours=round(hours[3], 2),
                triaged=sum(r.triaged for r in mine),
                served=sum(r.served for r in mine),
                comments=sum(r.comments for r in mine),
                notifications=sum(r.notifications for r in mine),
                outside_hours=sum(r.outside_hours or 0 for r in mine) if cal is not None else None,
                slo_breaches=sum(r.slo_breaches for r in mine),
            )
        )
    return OncallLoad(
        desk=desk,
        rotation=rotation,
        period=period.as_json(),
        now=now,
        calendar=spec.calendar,
        shifts=rows,
        people=totals,
    )


def _in_hours(edges: list[datetime], spells: list[tuple[datetime, datetime]]) -> list[bool]:
    """Per interval [edges[i], edges[i+1]): whether it lies in an open spell (both sorted;
    every spell edge is an edge, so an interval is wholly in or out)."""
    out, j = [], 0
    for i in range(len(edges) - 1):
        while j < len(spells) and spells[j][1] <= edges[i]:
            j += 1
        out.append(j < len(spells) and spells[j][0] <= edges[i] and edges[i + 1] <= spells[j][1])
    return out


def _work(
    session: Session, spec: Any, desk: str, edges: list[datetime], actor_ids: list[int]
) -> dict[tuple[int, str, str], int]:
    """(interval, person, what) → how many: triage, serving moves and comments. Summed from
    the ``did`` tallies (:mod:`dutydesk.reports.tallies`); the hours an edge splits (an
    override starting at 10:30, or now) are counted from the events."""
    if not actor_ids or len(edges) < 2:
        return {}
    moves = [c for c in (spec.started_column, spec.done_column) if c]
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(actor_ids))).all())
    kinds = {"triaged": TRIAGED, "commented": COMMENTS, "assignee": SERVED}
    kinds |= {f"status:{c}": SERVED for c in moves}
    out: dict[tuple[int, str, str], int] = defaultdict(int)
    for i, actor, did, n in tallies.summed(
        session, desk, tallies.DID, edges, a=[str(a) for a in actor_ids], b=list(kinds)
    ):
        if 0 <= i < len(edges) - 1:
            out[(i, names[int(actor)], kinds[did])] += n
    split = tallies.split_hours(edges)
    if not split:
        return dict(out)
    what = case(
        (Event.type == "triaged", literal(TRIAGED)),
        (Event.type == "commented", literal(COMMENTS)),
        else_=literal(SERVED),
    )
    b = bucket_index(Event.at, edges, _dialect(session))
    rows = session.execute(
        select(b, Event.actor_id, what, func.count())
        .select_from(Event)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(
            or_(*(and_(Event.at >= h, Event.at < h + tallies.HOUR) for h in split)),
            Event.at >= edges[0],
            Event.at < edges[-1],
            Event.actor_id.in_(actor_ids),
            Ticket.desk.concat("") == desk,  # the minutes of events lead, not the desk
            or_(
                Event.type.in_(["triaged", "commented"]),
                and_(
                    Event.type == "changed",
                    Event.field == "status",
                    cast(Event.after, String).in_([json_text(c) for c in moves]),
                ),
                and_(Event.type == "changed", Event.field == "assignee"),
            ),
        )
        .group_by(b, Event.actor_id, what)
    ).all()
    for i, a, w, n in rows:
        out[(i, names[a], w)] += n
    return dict(out)


def _notices(
    session: Session, desk: str, edges: list[datetime], by_id: dict[int, str]
) -> dict[tuple[int, str], int]:
    if not by_id or len(edges) < 2:
        return {}
    recipients = {recipient_of(i): name for i, name in by_id.items()}
    b = bucket_index(OutboxMessage.created_at, edges, _dialect(session))
    rows = session.execute(
        select(b, OutboxMessage.recipient, func.count())
        .where(
            OutboxMessage.kind == NOTICE,
            OutboxMessage.desk == desk,
            OutboxMessage.created_at >= edges[0],
            OutboxMessage.created_at < edges[-1],
            OutboxMessage.recipient.in_(list(recipients)),
        )
        .group_by(b, OutboxMessage.recipient)
    ).all()
    return {(i, recipients[r]): n for i, r, n in rows if r in recipients}


def _breaches(session: Session, desk: str, edges: list[datetime], now: datetime) -> dict[int, int]:
    """Per interval: the desk's clocks that fell due unmet in it (breached, or still running
    or paused past their due instant): two index ranges, by outcome and by state."""
    if len(edges) < 2:
        return {}
    b = bucket_index(TicketClock.due_at, edges, _dialect(session))
    due = (
        TicketClock.desk == desk,
        TicketClock.due_at >= edges[0],
        TicketClock.due_at < min(edges[-1], now),
    )
    out: dict[int, int] = defaultdict(int)
    for unmet in (
        TicketClock.outcome == BREACHED,
        and_(
            TicketClock.state.in_([RUNNING, PAUSED]),
            or_(TicketClock.outcome.is_(None), TicketClock.outcome != BREACHED),
        ),
    ):
        for i, n in session.execute(select(b, func.count()).where(*due, unmet).group_by(b)):
            out[i] += n
    return dict(out)
