"""The reports domain's scheduled jobs: meeting agendas and the weekly status post.

``agenda``: before each meeting the desk declares (``post_at``), its agenda to the desk's
channels. ``status-post``: when the meeting the status post follows ends, on the days it is
posted. Both only where the desk's ``notify.post`` lists them. Notify's registry runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import partial

from sqlalchemy.orm import Session

from dutydesk.notify.rows import Job, JobRow, Planned, desk_messages, in_window, local_days
from dutydesk.policy.models import Policy
from dutydesk.reports import agenda as agendas
from dutydesk.reports.meetings import meetings_of, occurrences
from dutydesk.reports.releases import release_dates
from dutydesk.reports.status_post import status_post
from dutydesk.slo.policy import desk_calendar, desk_zone, is_business_day


def plan(session: Session, policy: Policy, start: datetime, end: datetime) -> list[Planned]:
    """Agendas before each meeting (the release calendar decides the daily ones); the
    status post when its meeting ends."""
    out: list[Planned] = []
    for name, desk in policy.desks.items():
        releases = release_dates(session, name) if desk.meetings or desk.triage_meetings else []
        zone = desk_zone(policy, name)
        cal = desk_calendar(policy, name)
        first, *_, last = list(local_days(start, end, zone))
        business = partial(is_business_day, cal)
        for m in meetings_of(desk):
            for occ in occurrences(name, m, zone, business, first, last, releases):
                if "agenda" in desk.notify.post and in_window(start, end, occ.post_at):
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
                    and in_window(start, end, occ.end)
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


def run_agenda(session: Session, policy: Policy, job: Job, now: datetime) -> Sequence[JobRow]:
    p = job.payload
    day = date.fromisoformat(str(p["date"]))
    occ = agendas.occurrence_on(session, policy, p["desk"], day, p["meeting"], now)
    ag = agendas.build(session, policy, occ, now)
    return desk_messages(
        policy,
        p["desk"],
        "agenda",
        f"msg:{job.key}",
        f"Agenda: {occ.meeting.name} meeting",
        ag.text,
        now,
        data=ag.as_json(),
    )


def run_status_post(session: Session, policy: Policy, job: Job, now: datetime) -> Sequence[JobRow]:
    p = job.payload
    day = date.fromisoformat(str(p["date"]))
    post = status_post(session, policy, p["desk"], now, day)
    return desk_messages(
        policy,
        p["desk"],
        "status-post",
        f"msg:{job.key}",
        post.text.splitlines()[0],
        post.text,
        now,
        data=post.as_json(),
    )
