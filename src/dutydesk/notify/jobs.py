"""The registry of scheduled jobs: planned from policy, deduplicated per (job, period), run
once, their rows fanned out and delivered.

What a job says lives with its domain (``<domain>/jobs.py``: a ``plan`` and one runner per
job name); this module only knows which runner a name maps to (:data:`RUNNERS`), when to
plan, and how to write what runners return.

Each worker tick plans the jobs whose instant fell in ``(cursor, now]`` (never further back
than ``notify.catch_up``) and inserts them as ``job`` rows with ``dedupe_key =
job:<name>:<desk or rotation>:<period>``; a second worker planning the same window inserts
nothing. Running a job (locked, in one transaction) writes its messages or notices and marks
the job delivered, so a periodic post happens exactly once whatever the number of workers.

SLO timers come from ``slo.jobs`` through a window that starts where the last scan stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.durations import parse_span
from dutydesk.notify import inbox, outbox, service
from dutydesk.notify.models import NotifyCursor, OutboxMessage
from dutydesk.notify.rows import Job, JobRow, OnCallNotice, OutboxRow, Planned, notice_row
from dutydesk.oncall import jobs as oncall_jobs
from dutydesk.oncall.lookup import oncall_people
from dutydesk.policy.models import Policy
from dutydesk.reports import jobs as reports_jobs
from dutydesk.slo import jobs as slo_jobs
from dutydesk.tickets import jobs as tickets_jobs

SLACK = timedelta(minutes=2)  # rescan this much before the cursor: commits land late

Runner = Callable[[Session, Policy, Job, datetime], Sequence[JobRow]]

# Job name (the payload's "job") → the domain runner that decides what it says.
RUNNERS: dict[str, Runner] = {
    "agenda": reports_jobs.run_agenda,
    "status-post": reports_jobs.run_status_post,
    "oncall-summary": oncall_jobs.run_summary,
    "idle": oncall_jobs.run_idle,
    "handoff-reminder": oncall_jobs.run_handoff,
    "handoff-start": oncall_jobs.run_handoff,
    "eod": tickets_jobs.run_eod,
}


def plan(session: Session, policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    """Every domain's jobs due in (start, end]."""
    return [
        *reports_jobs.plan(session, policy, start, end),
        *oncall_jobs.plan(session, policy, start, end),
        *tickets_jobs.plan(policy, start, end),
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
    rows = [p.row(now) for p in plan(session, policy, start, now)]
    advance(session, "plan", now)
    return outbox.insert_ignore(session, rows)


def scan_timers(session: Session, policy: Policy, now: datetime) -> int:
    """Notices for SLO clocks that became at risk or breached since the last scan."""
    catch_up = parse_span(policy.notify.catch_up)
    rows: list[JobRow] = []
    for what in slo_jobs.TIMERS:
        name = f"slo-{what}"
        start = window(session, name, now, catch_up) - SLACK
        rows += slo_jobs.run_timers(session, policy, what, start, now)
        advance(session, name, now)
    return write(session, policy, rows, now)


# ----------------------------------------------------------------------------- running


def run(session: Session, policy: Policy, job: OutboxMessage, now: datetime) -> int:
    """Run one job row (already locked by the caller); returns the rows it wrote."""
    p = dict(job.payload)
    runner = RUNNERS.get(str(p.get("job")))
    if runner is None:
        raise ValueError(f"unknown job {p.get('job')!r}")
    if p.get("desk") is not None and p["desk"] not in policy.desks:
        return 0  # the desk left the policy since
    return write(session, policy, runner(session, policy, Job(job.dedupe_key, p), now), now)


def write(session: Session, policy: Policy, rows: Sequence[JobRow], now: datetime) -> int:
    """Insert what a job or a timer scan returned, deduplicated; a notice for whoever is on
    call becomes one notice per active person on call (looked up once per desk)."""
    out: list[OutboxRow] = []
    oncall: dict[str, list[User]] = {}
    for r in rows:
        if isinstance(r, OutboxRow):
            out.append(r)
            continue
        if r.desk not in oncall:
            oncall[r.desk] = _active_users(session, oncall_people(session, policy, r.desk, now))
        out += [_notice_to(policy, u, r, now) for u in oncall[r.desk]]
    out = service.personalize(session, policy, out)
    written = outbox.insert_ignore(session, out)
    inbox.record(session, out)
    return written


def _notice_to(policy: Policy, user: User, n: OnCallNotice, now: datetime) -> OutboxRow:
    return notice_row(
        policy,
        user,
        n.reason,
        f"{n.key}:{user.id}",
        n.lines,
        now,
        ticket=n.ticket,
        title=n.title,
        desk=n.desk,
        urgent=n.urgent,
    )


def _active_users(session: Session, names: list[str]) -> list[User]:
    if not names:
        return []
    return list(session.scalars(select(User).where(User.name.in_(names), User.active.is_(True))))
