"""The on-call domain's scheduled jobs.

* ``oncall-summary``: on the desk's ``notify.oncall_summary`` days, who is on call now and
  next, to the desk's channels;
* ``idle``: each business day at ``notify.idle_check``, the claimed-but-idle tickets
  (:mod:`dutydesk.tickets.idle`) to whoever is on call;
* ``handoff-reminder`` / ``handoff-start``: the incoming on-call, ``notify.handoff_reminder``
  before a shift and when it starts.

Notify's registry runs them and delivers what they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import user_names
from dutydesk.durations import format_span, parse_days
from dutydesk.notify.rows import (
    Job,
    JobRow,
    OnCallNotice,
    Planned,
    desk_messages,
    in_window,
    local_days,
    notice_row,
)
from dutydesk.oncall.lookup import oncall, shift_starts
from dutydesk.policy.models import Policy
from dutydesk.policy.notify import parse_weekly
from dutydesk.slo.policy import business_days_before, desk_calendar, desk_zone, is_business_day
from dutydesk.tickets.idle import idle_claims


def plan(session: Session, policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    return [
        *plan_summaries(policy, start, end),
        *plan_idle_checks(policy, start, end),
        *plan_handoffs(session, policy, start, end),
    ]


def plan_summaries(policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        spec = desk.notify.oncall_summary
        if spec is None or not desk.rotation or "oncall-summary" not in desk.notify.post:
            continue
        weekdays, at = parse_weekly(spec)
        zone = desk_zone(policy, name)
        # "daily" means each business day unless the policy says every day; named days
        # are the policy's own choice.
        business_only = len(weekdays) == 7 and desk.notify.daily_posts == "business-days"
        cal = desk_calendar(policy, name) if business_only else None
        for d in local_days(start, end, zone):
            when = datetime.combine(d, at).replace(tzinfo=zone)
            if business_only and not is_business_day(cal, d):
                continue
            if d.weekday() in weekdays and in_window(start, end, when):
                out.append(
                    Planned(
                        f"job:oncall-summary:{name}:{d}",
                        when,
                        {"job": "oncall-summary", "desk": name, "date": str(d)},
                        name,
                    )
                )
    return out


def plan_idle_checks(policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        if desk.notify.idle_check is None or not desk.rotation:
            continue
        _, at = parse_weekly("daily " + desk.notify.idle_check)
        cal = desk_calendar(policy, name)
        zone = desk_zone(policy, name)
        for d in local_days(start, end, zone):
            when = datetime.combine(d, at).replace(tzinfo=zone)
            if is_business_day(cal, d) and in_window(start, end, when):
                out.append(
                    Planned(
                        f"job:idle:{name}:{d}",
                        when,
                        {"job": "idle", "desk": name, "date": str(d)},
                        name,
                    )
                )
    return out


def plan_handoffs(
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
        cal = desk_calendar(policy, name) if business else None
        zone = desk_zone(policy, name)
        horizon = end + timedelta(days=2 * n + 14)
        for shift in shift_starts(session, policy, rotation, start, horizon):
            begin = shift.utc_start
            if business:
                remind = business_days_before(cal, begin, n, zone)
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
            if n > 0 and in_window(start, end, remind):
                out.append(
                    Planned(
                        f"job:handoff-reminder:{ident}",
                        remind,
                        {"job": "handoff-reminder", **base},
                        name,
                    )
                )
            if in_window(start, end, begin):
                out.append(
                    Planned(
                        f"job:handoff-start:{ident}", begin, {"job": "handoff-start", **base}, name
                    )
                )
    return out


def run_summary(session: Session, policy: Policy, job: Job, now: datetime) -> Sequence[JobRow]:
    desk = job.payload["desk"]
    found = oncall(session, policy, desk, now)
    lines = found.lines() if found is not None else []
    if not lines:
        return []
    text = (
        f"**On call for {policy.desks[desk].title or desk}**\n\n"
        + "\n".join(f"* {x}" for x in lines)
        + "\n"
    )
    return desk_messages(policy, desk, "oncall-summary", f"msg:{job.key}", "On call", text, now)


def run_idle(session: Session, policy: Policy, job: Job, now: datetime) -> Sequence[JobRow]:
    desk = job.payload["desk"]
    claims = idle_claims(session, policy, desk, now)
    if not claims:
        return []
    names = user_names(session, [c.ticket.assignee_id for c in claims])
    lines = tuple(
        f"{c.ticket.key} claimed by {names.get(c.ticket.assignee_id or 0)}, "
        f"idle {format_span(now - c.last_activity)}: {c.ticket.title}"
        for c in claims
    )
    return [OnCallNotice(desk, "idle", f"notice:{job.key}", lines, ticket=f"{desk} idle claims")]


def run_handoff(session: Session, policy: Policy, job: Job, now: datetime) -> Sequence[JobRow]:
    p = job.payload
    user = session.scalar(select(User).where(User.name == p["person"], User.active.is_(True)))
    if user is None:
        return []
    zone = desk_zone(policy, p["desk"])
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
            user,
            "handoff",
            f"notice:{job.key}",
            [line],
            now,
            ticket=f"{p['desk']} on call",
            desk=p["desk"],
            urgent=True,
        )
    ]
