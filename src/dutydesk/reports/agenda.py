"""Meeting agendas: which tickets each kind of meeting looks at (pure selection) and the
markdown posted to the desk channel before it.

* ``triage`` (SET, Tue/Thu, daily before a release): tickets awaiting triage, triaged tickets
  without an owning team, non-bugs to convert (kinds other than bug, escalation, tech-debt,
  story and feature-request).
* ``status`` (SET, after triage): each member's tickets in the assignee columns, and blockers;
  when nothing waits in the intake column, a note that members may take feature-team work.
* ``weekly-triage`` (infra): ALL open tickets — the queue and the backlog below admission.
* ``handoff`` (infra, Monday): the on-call domain's handoff report (outgoing shift, tickets
  touched, open urgent tickets, awaiting triage, idle claims, SLO breaches, who comes in);
  for a desk without a rotation: open urgent tickets (the desk's ``urgent`` priorities) with
  the time since their last update, tickets awaiting triage, claimed tickets gone idle (the
  rule in :mod:`dutydesk.tickets.idle`).

A past meeting's agenda is historical: it shows the tickets as they were when the agenda
was posted (``post_at``), read back from the event history (each event stores before and
after), never today's tickets under an old date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from dutydesk.durations import format_span
from dutydesk.errors import NotFound, field_error
from dutydesk.notify.rules import link
from dutydesk.oncall.availability import free_people
from dutydesk.oncall.handoff import handoff_report, render_markdown
from dutydesk.policy.models import Policy
from dutydesk.reports.meetings import Occurrence, meetings_of, occurrences
from dutydesk.reports.releases import release_dates
from dutydesk.slo.policy import desk_calendar, desk_zone, is_business_day
from dutydesk.tickets.as_of import Row, load_rows, load_rows_at
from dutydesk.tickets.idle import idle_rule, is_idle

NOT_TO_CONVERT = frozenset({"bug", "escalation", "tech-debt", "story", "feature-request"})
MAX_ITEMS = 50


@dataclass
class Section:
    title: str
    items: list[str] = field(default_factory=list)
    more: int = 0
    keys: list[str] = field(default_factory=list)  # the ticket each item names, if any


@dataclass
class Agenda:
    desk: str
    meeting: str
    kind: str
    start: datetime
    sections: list[Section]
    text: str = ""
    as_of: datetime | None = None  # the instant the tickets are shown as of

    def as_json(self) -> dict[str, Any]:
        return {
            "desk": self.desk,
            "meeting": self.meeting,
            "agenda": self.kind,
            "start": self.start.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "sections": [
                {"title": s.title, "items": s.items, "more": s.more, "keys": s.keys}
                for s in self.sections
            ],
            "text": self.text,
        }


def _item(r: Row, now: datetime, base_url: str | None, *, extra: str = "") -> str:
    p = f"[{r.priority}] " if r.priority else ""
    who = f" — {r.assignee}" if r.assignee else ""
    return f"{link(r.key, base_url)} {p}{r.title}{who}{extra}"


def _section(title: str, rows: Sequence[Row], fmt: Callable[[Row], str]) -> Section:
    return Section(
        f"{title} ({len(rows)})",
        [fmt(r) for r in rows[:MAX_ITEMS]],
        max(0, len(rows) - MAX_ITEMS),
        [r.key for r in rows[:MAX_ITEMS]],
    )


def select_triage(
    rows: Sequence[Row], now: datetime, has_teams: bool, base_url: str | None = None
) -> list[Section]:
    awaiting = [r for r in rows if not r.triaged]
    no_team = [r for r in rows if r.triaged and r.team is None] if has_teams else []
    convert = [r for r in rows if r.kind not in NOT_TO_CONVERT]
    out = [
        _section(
            "Awaiting triage",
            awaiting,
            lambda r: _item(
                r, now, base_url, extra=f" (filed {format_span(now - r.created_at)} ago)"
            ),
        )
    ]
    if has_teams:
        out.append(_section("No owning team", no_team, lambda r: _item(r, now, base_url)))
    out.append(
        _section(
            "Non-bugs to convert", convert, lambda r: _item(r, now, base_url, extra=f" ({r.kind})")
        )
    )
    return out


def select_status(
    rows: Sequence[Row],
    assignee_columns: Sequence[str],
    intake: str,
    base_url: str | None = None,
    free: Sequence[str] = (),
    routed_here: Callable[[str | None], bool] = lambda team: True,
) -> list[Section]:
    """``free``: the people on call with no open ticket (:mod:`dutydesk.oncall.availability`);
    only they are called free, never the whole desk. ``routed_here``: whether a ticket of a
    team is the desk's own work (a ticket routed to a feature team is not waiting here)."""
    working: dict[str, list[Row]] = {}
    for r in rows:
        if r.status in assignee_columns and r.assignee:
            working.setdefault(r.assignee, []).append(r)
    out = []
    for person in sorted(working):
        out.append(
            Section(
                person,
                [
                    f"{link(r.key, base_url)} {r.title} ({r.status})"
                    + (f" — blocked: {r.blocked_reason}" if r.blocked else "")
                    for r in working[person]
                ],
                keys=[r.key for r in working[person]],
            )
        )
    blocked = [r for r in rows if r.blocked]
    out.append(
        _section(
            "Blockers",
            blocked,
            lambda r: f"{link(r.key, base_url)} {r.title}: {r.blocked_reason or 'blocked'}",
        )
    )
    if not any(r.status == intake and routed_here(r.team) for r in rows):
        out.append(Section(f"Nothing in {intake}", ["the queue is empty"]))
    if free:
        out.append(
            Section(
                "Free to take feature-team work",
                [f"{p} (on call, no open ticket assigned)" for p in free],
            )
        )
    return out


def select_weekly_triage(
    rows: Sequence[Row], now: datetime, base_url: str | None = None
) -> list[Section]:
    def fmt(r: Row) -> str:
        return _item(
            r, now, base_url, extra=f" ({r.status}, {format_span(now - r.created_at)} old)"
        )

    return [
        _section("Queue", [r for r in rows if r.in_queue], fmt),
        _section(
            "Awaiting triage in the backlog (no queue criterion ticked)",
            [r for r in rows if not r.in_queue and not r.triaged],
            fmt,
        ),
        _section(
            "Backlog (below the queue's admission priorities)",
            [r for r in rows if not r.in_queue and r.triaged],
            fmt,
        ),
    ]


def select_handoff(
    rows: Sequence[Row],
    now: datetime,
    urgent: Sequence[str],
    idle: Callable[[Row], bool],
    base_url: str | None = None,
) -> list[Section]:
    """The handoff agenda of a desk without a rotation (one with a rotation posts the
    on-call domain's handoff report)."""
    hot = [r for r in rows if r.priority in urgent]
    return [
        Section("On call", ["no rotation"]),
        _section(
            f"Open {'/'.join(urgent)}",
            hot,
            lambda r: _item(
                r, now, base_url, extra=f" (last update {format_span(now - r.last_activity)} ago)"
            ),
        ),
        _section(
            "Awaiting triage",
            [r for r in rows if not r.triaged],
            lambda r: _item(
                r, now, base_url, extra=f" (filed {format_span(now - r.created_at)} ago)"
            ),
        ),
        _section(
            "Claimed but idle",
            [r for r in rows if r.assignee and idle(r)],
            lambda r: _item(
                r, now, base_url, extra=f" (idle {format_span(now - (r.assignee_activity or now))})"
            ),
        ),
    ]


def render(title: str, sections: Sequence[Section]) -> str:
    lines = [f"**{title}**", ""]
    for s in sections:
        lines.append(f"{s.title}:")
        lines.extend(f"* {item}" for item in s.items)
        if not s.items:
            lines.append("* none")
        if s.more:
            lines.append(f"* … and {s.more} more")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def next_occurrence(
    policy: Policy,
    desk_name: str,
    on: date | None,
    meeting: str | None,
    now: datetime,
    releases: Sequence[date] = (),
) -> Occurrence:
    """The meeting on ``on`` (or the next one from now), optionally by name."""
    desk = policy.desks[desk_name]
    declared = meetings_of(desk)
    if meeting is not None:
        declared = [m for m in declared if m.name == meeting]
        if not declared:
            names = ", ".join(m.name for m in meetings_of(desk)) or "none"
            raise field_error(
                "meeting", f"desk {desk_name!r} has no meeting {meeting!r} (it has: {names})"
            )
    if not declared:
        raise NotFound(f"desk {desk_name!r} declares no meetings ([[desks.{desk_name}.meetings]])")
    zone = desk_zone(policy, desk_name)
    business = partial(is_business_day, desk_calendar(policy, desk_name))
    first = on or now.astimezone(zone).date()
    last = on or first + timedelta(days=62)
    found = [
        o
        for m in declared
        for o in occurrences(desk_name, m, zone, business, first, last, releases)
    ]
    if on is None:
        found = [o for o in found if o.end > now]
    if not found:
        when = on.isoformat() if on else "the next two months"
        raise NotFound(
            f"no {meeting or ''} meeting of desk {desk_name!r} on {when}".replace("  ", " ")
        )
    return min(found, key=lambda o: (o.start, o.meeting.name))


def occurrence_on(
    session: Session,
    policy: Policy,
    desk_name: str,
    on: date | None,
    meeting: str | None,
    now: datetime,
) -> Occurrence:
    """:func:`next_occurrence` with the desk's release calendar."""
    return next_occurrence(policy, desk_name, on, meeting, now, release_dates(session, desk_name))


def past_occurrences(
    session: Session, policy: Policy, desk_name: str, now: datetime, days: int = 28
) -> list[Occurrence]:
    """The desk's meetings of the last ``days`` days that have started, newest first."""
    desk = policy.desks[desk_name]
    zone = desk_zone(policy, desk_name)
    business = partial(is_business_day, desk_calendar(policy, desk_name))
    releases = release_dates(session, desk_name)
    last = now.astimezone(zone).date()
    found = [
        o
        for m in meetings_of(desk)
        for o in occurrences(
            desk_name, m, zone, business, last - timedelta(days=days), last, releases
        )
        if o.start <= now
    ]
    return sorted(found, key=lambda o: (o.start, o.meeting.name), reverse=True)


def build(session: Session, policy: Policy, occ: Occurrence, now: datetime) -> Agenda:
    """The agenda as posted: a meeting whose agenda went out before ``now`` reads the tickets
    as they were at ``post_at``."""
    desk_name, desk = occ.desk, policy.desks[occ.desk]
    kind = occ.meeting.agenda
    as_of = min(now, occ.post_at)
    if kind == "handoff" and desk.rotation:
        past = as_of if as_of < now else None  # as posted, from the event history
        text = render_markdown(handoff_report(session, policy, desk_name, as_of, as_of=past))
        agenda = Agenda(desk_name, occ.meeting.name, kind, occ.start, [])
        agenda.text = text if text.endswith("\n") else text + "\n"
        agenda.as_of = as_of
        return agenda
    if as_of < now:
        rows = load_rows_at(session, policy, desk_name, as_of)
    else:
        rows = load_rows(session, desk_name)
    now = as_of
    base = policy.notify.base_url
    if kind == "triage":
        sections = select_triage(rows, now, bool(desk.teams), base)
    elif kind == "status":
        free = free_people(session, policy, desk_name, now) if desk.rotation else []
        sections = select_status(
            rows, desk.assignee_columns, desk.intake_column, base, free, desk.routed_here
        )
    elif kind == "weekly-triage":
        sections = select_weekly_triage(rows, now, base)
    else:
        rule = idle_rule(policy, desk_name)

        def idle(r: Row) -> bool:
            return r.assignee_activity is not None and is_idle(
                rule,
                is_open=True,
                assigned=r.assignee is not None,
                last_activity=r.assignee_activity,
                now=now,
            )

        sections = select_handoff(rows, now, desk.urgent_priorities, idle, base)
    when = occ.start.strftime("%a %Y-%m-%d %H:%M")
    title = f"{desk.title or desk_name}: {occ.meeting.name} meeting, {when} ({occ.start.tzinfo})"
    agenda = Agenda(desk_name, occ.meeting.name, kind, occ.start, sections)
    agenda.text = render(title, sections)
    agenda.as_of = as_of
    return agenda
