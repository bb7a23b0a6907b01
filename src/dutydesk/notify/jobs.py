"""Periodic jobs and timers: planned from policy, deduplicated per (job, period), run once.

Each worker tick plans the jobs whose instant fell in ``(cursor, now]`` (never further back
than ``notify.catch_up``) and inserts them as ``job`` rows with ``dedupe_key =
job:<name>:<desk or rotation>:<period>``; a second worker planning the same window inserts
nothing. Running a job (locked, in one transaction) writes its messages or notices and marks
the job delivered, so a periodic post happens exactly once whatever the number of workers.

Timers read due instants from indexed rows, never all tickets: SLO at-risk and breach come
from ``ticket_clocks`` (``(state, at_risk_at)`` / ``(state, due_at)`` indexes) through a
window that starts where the last scan stopped.

Extension points, one function each: :func:`schedule_slo_timers`, :func:`schedule_handoff`,
:func:`schedule_eod_nudges`, :func:`schedule_meetings`, :func:`schedule_idle_checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.durations import format_span, parse_days, parse_span
from dutydesk.notify import outbox, sources
from dutydesk.notify.models import NotifyCursor, OutboxMessage
from dutydesk.notify.service import desk_messages, notice_row
from dutydesk.policy.models import Policy
from dutydesk.policy.notify import parse_weekly
from dutydesk.reports import agenda as agendas
from dutydesk.reports.meetings import meetings_of, occurrences
from dutydesk.reports.status_post import post_instant, status_post
from dutydesk.slo.models import TicketClock
from dutydesk.state import AppState
from dutydesk.tickets.models import Ticket, ticket_key

SLACK = timedelta(minutes=2)  # rescan this much before the cursor: commits land late


@dataclass(frozen=True)
class Planned:
    key: str
    due_at: datetime
    payload: dict[str, Any]
    desk: str | None = None


def _days(start: datetime, end: datetime, zone: Any) -> Iterator[date]:
    d = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while d <= last:
        yield d
        d += timedelta(days=1)


def _in(start: datetime, end: datetime, at: datetime) -> bool:
    return start < at <= end


def schedule_meetings(policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    """Agendas before each meeting; the status post when its meeting ends."""
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        zone = sources.desk_zone(policy, name)
        cal = sources.desk_calendar(policy, name)
        first, *_, last = list(_days(start, end, zone))

        def business(d: date, cal: Any = cal) -> bool:
            return sources.is_business_day(cal, d)

        for m in meetings_of(desk):
            for occ in occurrences(name, m, zone, business, first, last):
                if "agenda" in desk.notify.post and _in(start, end, occ.post_at):
                    out.append(
                        Planned(
                            f"job:agenda:{name}:{m.name}:{occ.day}",
                            occ.post_at,
                            {
                                "job": "agenda",
                                "desk": name,
                                "meeting": m.name,
                                "date": str(occ.day),
                            },
                            name,
                        )
                    )
                sp = desk.status_post
                if (
                    sp is not None
                    and sp.after == m.name
                    and "status-post" in desk.notify.post
                    and occ.start.strftime("%a").lower() in sp.days
                    and _in(start, end, occ.end)
                ):
                    out.append(
                        Planned(
                            f"job:status-post:{name}:{occ.day}",
                            occ.end,
                            {"job": "status-post", "desk": name, "date": str(occ.day)},
                            name,
                        )
                    )
    return out


def schedule_oncall_summaries(policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        spec = desk.notify.oncall_summary
        if spec is None or not desk.rotation or "oncall-summary" not in desk.notify.post:
            continue
        weekdays, at = parse_weekly(spec)
        zone = sources.desk_zone(policy, name)
        for d in _days(start, end, zone):
            when = datetime.combine(d, at).replace(tzinfo=zone)
            if d.weekday() in weekdays and _in(start, end, when):
                out.append(
                    Planned(
                        f"job:oncall-summary:{name}:{d}",
                        when,
                        {"job": "oncall-summary", "desk": name, "date": str(d)},
                        name,
                    )
                )
    return out


def schedule_eod_nudges(policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    """Before the close of each business day: open top-priority tickets without an update."""
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        before = desk.notify.eod_nudge
        cal = sources.desk_calendar(policy, name)
        if before is None or cal is None:
            continue
        for d in _days(start, end, cal.timezone):
            if not cal.is_business_day(d):
                continue
            when = cal.closing_time(d) - parse_span(before)
            if _in(start, end, when):
                out.append(
                    Planned(
                        f"job:eod:{name}:{d}",
                        when,
                        {"job": "eod", "desk": name, "date": str(d)},
                        name,
                    )
                )
    return out


def schedule_idle_checks(policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        if desk.notify.idle_check is None or not desk.rotation:
            continue
        _, at = parse_weekly("daily " + desk.notify.idle_check)
        cal = sources.desk_calendar(policy, name)
        zone = sources.desk_zone(policy, name)
        for d in _days(start, end, zone):
            when = datetime.combine(d, at).replace(tzinfo=zone)
            if sources.is_business_day(cal, d) and _in(start, end, when):
                out.append(
                    Planned(
                        f"job:idle:{name}:{d}",
                        when,
                        {"job": "idle", "desk": name, "date": str(d)},
                        name,
                    )
                )
    return out


def schedule_handoff(
    session: Session, policy: Policy, start: datetime, end: datetime
) -> list[Planned]:
    """Remind the incoming on-call ``handoff_reminder`` before a shift, and when it starts."""
    out: list[Planned] = []
    seen: set[str] = set()
    for name, desk in policy.desks.items():
        rotation = desk.rotation
        if not rotation or rotation not in policy.rotations or rotation in seen:
            continue
        seen.add(rotation)
        n, business = parse_days(desk.notify.handoff_reminder)
        cal = sources.desk_calendar(policy, name) if business else None
        zone = sources.desk_zone(policy, name)
        horizon = end + timedelta(days=2 * n + 14)
        for shift in sources.shift_starts(session, policy, rotation, start, horizon):
            begin = shift.utc_start
            if business:
                remind = sources.business_days_before(cal, begin, n, zone)
            else:
                remind = begin - timedelta(days=n)
            base = {
                "rotation": rotation,
                "desk": name,
                "layer": shift.layer,
                "person": shift.person,
                "start": begin.isoformat(),
                "end": shift.utc_end.isoformat(),
            }
            ident = f"{rotation}:{shift.layer}:{begin.isoformat()}"
            if n > 0 and _in(start, end, remind):
                out.append(
                    Planned(
                        f"job:handoff-reminder:{ident}",
                        remind,
                        {"job": "handoff-reminder", **base},
                        name,
                    )
                )
            if _in(start, end, begin):
                out.append(
                    Planned(
                        f"job:handoff-start:{ident}", begin, {"job": "handoff-start", **base}, name
                    )
                )
    return out


def plan(session: Session, policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    return [
        *schedule_meetings(policy, start, end),
        *schedule_oncall_summaries(policy, start, end),
        *schedule_eod_nudges(policy, start, end),
        *schedule_idle_checks(policy, start, end),
        *schedule_handoff(session, policy, start, end),
    ]


# ----------------------------------------------------------------------------- cursors


def window(session: Session, name: str, now: datetime, catch_up: timedelta) -> datetime:
    """Where the scan ``name`` starts: its cursor, but never before now - catch_up."""
    row = session.get(NotifyCursor, name)
    floor = now - catch_up
    if row is None or row.at > now:  # first run, or a clock set back: rely on dedupe keys
        return floor
    return max(row.at, floor)


def advance(session: Session, name: str, at: datetime) -> None:
    """Move a cursor forward (never back); safe when two workers create it at once."""
    table = NotifyCursor.__table__
    stmt = outbox.dialect_insert(session, table).values(name=name, at=at)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
    session.execute(
        update(NotifyCursor).where(NotifyCursor.name == name, NotifyCursor.at < at).values(at=at)
    )


def plan_jobs(session: Session, policy: Policy, now: datetime) -> int:
    """Insert the periodic jobs due in (cursor, now]; returns how many were new."""
    start = window(session, "plan", now, parse_span(policy.notify.catch_up))
    rows = [
        outbox.row("job", p.key, p.due_at, p.payload, now, desk=p.desk)
        for p in plan(session, policy, start, now)
    ]
    advance(session, "plan", now)
    return outbox.insert_ignore(session, rows)


# ----------------------------------------------------------------------------- SLO timers


def slo_timer_query(
    what: str, desk: str, start: datetime, end: datetime
) -> Select[TicketClock, Ticket]:
    """A desk's running clocks that became at risk (or breached) in (start, end]: one range
    scan on ``(desk, state, at_risk_at)`` / ``(desk, state, due_at)``, whatever the number of
    open tickets."""
    col = TicketClock.at_risk_at if what == "at-risk" else TicketClock.due_at
    return (
        select(TicketClock, Ticket)
        .join(Ticket, Ticket.id == TicketClock.ticket_id)
        .where(TicketClock.desk == desk, TicketClock.state == "running", col > start, col <= end)
        .order_by(col)
        .limit(5000)
    )


def schedule_slo_timers(session: Session, policy: Policy, now: datetime) -> int:
    """Notices for SLO clocks that became at risk or breached since the last scan."""
    catch_up = parse_span(policy.notify.catch_up)
    rows: list[dict[str, Any]] = []
    oncall: dict[str, list[User]] = {}  # per desk, once per scan
    for what in ("at-risk", "breach"):
        name = f"slo-{what}"
        start = window(session, name, now, catch_up) - SLACK
        for desk in policy.desks:
            for clock, ticket in session.execute(slo_timer_query(what, desk, start, now)).all():
                rows += _slo_rows(session, policy, clock, ticket, what, now, oncall)
        advance(session, name, now)
    return outbox.insert_ignore(session, rows)


def _users(session: Session, names: list[str]) -> list[User]:
    if not names:
        return []
    return list(session.scalars(select(User).where(User.name.in_(names), User.active.is_(True))))


def _slo_rows(
    session: Session,
    policy: Policy,
    clock: Any,
    ticket: Ticket,
    what: str,
    now: datetime,
    oncall: dict[str, list[User]],
) -> list[dict[str, Any]]:
    if ticket.desk not in policy.desks:
        return []
    zone = sources.desk_zone(policy, ticket.desk)
    due = clock.due_at.astimezone(zone).strftime("%a %H:%M")
    cadence = bool(clock.cadence)
    if cadence and ticket.assignee_id:
        people = [u for u in [session.get(User, ticket.assignee_id)] if u is not None and u.active]
    else:
        if ticket.desk not in oncall:
            found = sources.oncall(session, policy, ticket.desk, now)
            oncall[ticket.desk] = _users(session, found.people() if found else [])
        people = oncall[ticket.desk]
    prio = f" ({ticket.priority})" if ticket.priority else ""
    if cadence:
        reason = "update-due"
        line = (
            f"{ticket.key}{prio} needs an update by {due}: {ticket.title}"
            if what == "at-risk"
            else f"{ticket.key}{prio} is overdue for an update (was due {due}): {ticket.title}"
        )
    else:
        reason = "slo"
        line = (
            f"{ticket.key} is at risk of missing its {clock.name} SLO (due {due}): {ticket.title}"
            if what == "at-risk"
            else f"{ticket.key} missed its {clock.name} SLO (due {due}): {ticket.title}"
        )
    rows = [
        notice_row(
            policy,
            u,
            reason,
            f"notice:slo:{clock.id}:{what}:{u.id}",
            [line],
            now,
            ticket=ticket.key,
            title=ticket.title,
            desk=ticket.desk,
            urgent=what == "breach",
        )
        for u in people
    ]
    if what == "breach" and not cadence:
        rows += desk_messages(
            policy,
            ticket.desk,
            "slo-breach",
            f"post:slo-breach:{clock.id}",
            f"{ticket.key} missed its {clock.name} SLO",
            line,
            now,
            data={"ticket": ticket.key, "slo": clock.name, "due": clock.due_at.isoformat()},
        )
    return rows


# ----------------------------------------------------------------------------- running jobs


def _local_day(raw: Any) -> date:
    return date.fromisoformat(str(raw))


def _agenda(
    session: Session, state: AppState, p: dict[str, Any], key: str, now: datetime
) -> list[dict[str, Any]]:
    policy = state.policy
    occ = agendas.next_occurrence(policy, p["desk"], _local_day(p["date"]), p["meeting"], now)
    ag = agendas.build(session, state, occ, now)
    return desk_messages(
        policy,
        p["desk"],
        "agenda",
        f"msg:{key}",
        f"Agenda: {occ.meeting.name} meeting",
        ag.text,
        now,
        data=ag.as_json(),
    )


def _status_post(
    session: Session, state: AppState, p: dict[str, Any], key: str, now: datetime
) -> list[dict[str, Any]]:
    policy = state.policy
    day = _local_day(p["date"])
    end = min(post_instant(policy, p["desk"], day), now)
    post = status_post(session, policy, p["desk"], end, day)
    return desk_messages(
        policy,
        p["desk"],
        "status-post",
        f"msg:{key}",
        post.text.splitlines()[0],
        post.text,
        now,
        data=post.as_json(),
    )


def _oncall_summary(
    session: Session, state: AppState, p: dict[str, Any], key: str, now: datetime
) -> list[dict[str, Any]]:
    policy = state.policy
    lines = agendas._oncall_lines(session, policy, p["desk"], now)
    if not lines:
        return []
    text = (
        f"**On call for {policy.desks[p['desk']].title or p['desk']}**\n\n"
        + "\n".join(f"* {x}" for x in lines)
        + "\n"
    )
    return desk_messages(policy, p["desk"], "oncall-summary", f"msg:{key}", "On call", text, now)


def _eod(
    session: Session, state: AppState, p: dict[str, Any], key: str, now: datetime
) -> list[dict[str, Any]]:
    policy = state.policy
    desk_name = p["desk"]
    desk = policy.desks[desk_name]
    cal = sources.desk_calendar(policy, desk_name)
    day = _local_day(p["date"])
    if cal is None or not cal.is_business_day(day):
        return []
    opened = cal.next_open(datetime.combine(day, time(0)).replace(tzinfo=cal.timezone))
    closes = cal.closing_time(day).astimezone(cal.timezone).strftime("%H:%M")
    urgent = desk.priorities[:2]
    # Columns, not ORM tickets: a desk may hold thousands of assigned urgent tickets, and
    # only those without an update since the day opened get a nudge.
    stale = session.execute(
        select(Ticket.id, Ticket.number, Ticket.priority, Ticket.title, Ticket.assignee_id)
        .where(
            Ticket.desk == desk_name,
            Ticket.is_open.is_(True),
            Ticket.priority.in_(urgent),
            Ticket.assignee_id.is_not(None),
            or_(Ticket.last_update_at.is_(None), Ticket.last_update_at < opened),
        )
        .order_by(Ticket.order_key)
    ).all()
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({t.assignee_id for t in stale}), User.active.is_(True))
        )
    }
    rows = []
    for t in stale:
        user = users.get(t.assignee_id)
        if user is None:
            continue
        ticket_ref = ticket_key(desk_name, t.number)
        rows.append(
            notice_row(
                policy,
                user,
                "end-of-day",
                f"notice:eod:{desk_name}:{day}:{t.id}",
                [
                    f"{ticket_ref} ({t.priority}) has no update today: leave a final status "
                    f"update before {closes}"
                ],
                now,
                ticket=ticket_ref,
                title=t.title,
                desk=desk_name,
                urgent=True,
            )
        )
    return rows


def _idle(
    session: Session, state: AppState, p: dict[str, Any], key: str, now: datetime
) -> list[dict[str, Any]]:
    policy = state.policy
    desk_name = p["desk"]
    desk = policy.desks[desk_name]
    rows_ = [r for r in agendas.load_rows(session, desk_name) if r.assignee]
    idle = agendas._idle_rule(policy, desk_name, desk, now)
    stale = [r for r in rows_ if idle(r)]
    found = sources.oncall(session, policy, desk_name, now)
    if not stale or found is None:
        return []
    lines = [
        f"{r.key} claimed by {r.assignee}, idle {format_span(now - r.last_activity)}: {r.title}"
        for r in stale
    ]
    return [
        notice_row(
            policy,
            u,
            "idle",
            f"notice:{key}:{u.id}",
            lines,
            now,
            ticket=f"{desk_name} idle claims",
            desk=desk_name,
        )
        for u in _users(session, found.people())
    ]


def _handoff(
    session: Session, state: AppState, p: dict[str, Any], key: str, now: datetime
) -> list[dict[str, Any]]:
    policy = state.policy
    users = _users(session, [p["person"]])
    if not users:
        return []
    zone = sources.desk_zone(policy, p["desk"])
    begin = datetime.fromisoformat(p["start"]).astimezone(zone)
    end = datetime.fromisoformat(p["end"]).astimezone(zone)
    layer = "" if p["layer"] == "primary" else f" ({p['layer']})"
    when = f"{begin:%a %Y-%m-%d %H:%M} to {end:%a %Y-%m-%d %H:%M} {zone.key}"
    if p["job"] == "handoff-reminder":
        line = f"Your on-call shift for {p['desk']}{layer} starts soon: {when}"
    else:
        line = f"Your on-call shift for {p['desk']}{layer} starts now: {when}"
    return [
        notice_row(
            policy,
            users[0],
            "handoff",
            f"notice:{key}",
            [line],
            now,
            ticket=f"{p['desk']} on call",
            desk=p["desk"],
            urgent=True,
        )
    ]


Runner = Callable[[Session, "AppState", dict[str, Any], str, datetime], list[dict[str, Any]]]
RUNNERS: dict[str, Runner] = {
    "agenda": _agenda,
    "status-post": _status_post,
    "oncall-summary": _oncall_summary,
    "eod": _eod,
    "idle": _idle,
    "handoff-reminder": _handoff,
    "handoff-start": _handoff,
}


def run(session: Session, state: AppState, job: OutboxMessage, now: datetime) -> int:
    """Run one job row (already locked by the caller); returns the rows it wrote."""
    policy = state.policy
    p = dict(job.payload)
    runner = RUNNERS.get(str(p.get("job")))
    if runner is None:
        raise ValueError(f"unknown job {p.get('job')!r}")
    if p.get("desk") is not None and p["desk"] not in policy.desks:
        return 0  # the desk left the policy since
    rows = runner(session, state, p, job.dedupe_key, now)
    return outbox.insert_ignore(session, rows)
