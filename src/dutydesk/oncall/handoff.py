"""What the on-call looks at: the triage view of a desk and the handoff report.

Triage view: new tickets (not triaged yet), tickets awaiting an owner (triaged, in the queue,
nobody assigned) and *claimed but idle* tickets (the rule in :mod:`dutydesk.tickets.idle`:
no activity by the assignee for the desk's ``idle_after``). Every ticket carries a one-click
reassignment through ``POST /api/v1/tickets/{key}/assign``.

Handoff report, for the handoff meeting: the handoff nearest to the time asked (the coming one
before the meeting, the one just past after it), the outgoing shift's people and the tickets
they touched while on call (from ticket events), open urgent tickets with the time since
their last update, tickets awaiting triage, idle claimed tickets, SLO breaches during the
shift, the outgoing on-call's *handoff notes* on tickets (:func:`add_handoff_note`: an
internal comment marked as such, so it also stands in the ticket's timeline), and who comes
in. :func:`render_markdown` turns it into a post.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import user_names
from dutydesk.context import Ctx, desk_policy
from dutydesk.durations import format_span
from dutydesk.oncall import rules
from dutydesk.oncall.availability import free_people
from dutydesk.oncall.handoff_then import LIST_LIMIT, row_item, sections_then
from dutydesk.oncall.loading import Loaded, desk_rotation_name, loaded_in
from dutydesk.oncall.schemas import ShiftOut
from dutydesk.oncall.shifts import Shift
from dutydesk.policy.models import DeskPolicy, Policy
from dutydesk.policy.rotations import LEAD, PRIMARY
from dutydesk.slo.models import TicketClock
from dutydesk.tickets import service as tickets
from dutydesk.tickets.as_of import Row, load_rows_at
from dutydesk.tickets.idle import idle_claims
from dutydesk.tickets.models import Comment, Event, Ticket

NOTES_LOOKBACK = timedelta(days=7)  # a handoff without an outgoing shift reads a week back


def add_handoff_note(ctx: Ctx, key: str, text: str) -> dict[str, Any]:
    """The outgoing on-call's note on a ticket for the handoff: shown in the handoff report
    and, as an internal comment marked "handoff note", in the ticket's timeline."""
    ticket, comment = tickets.add_comment(ctx, key, text, False, kind="handoff-note")
    return {
        "key": ticket.key,
        "comment_id": comment.id,
        "author": ctx.actor.name,
        "text": comment.body,
        "at": comment.created_at.isoformat(),
    }


def handoff_notes(
    session: Session, desk: str, start: datetime, end: datetime, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Handoff notes written on the desk's tickets in ``[start, end]``, oldest first."""
    rows = session.execute(
        select(Event.data, Ticket.number, Ticket.desk, Ticket.title)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(
            Event.type == "handoff_note",
            Event.at >= start,
            Event.at <= end,
            Ticket.desk == desk,
        )
        .order_by(Event.at, Event.id)
        .limit(LIST_LIMIT)
    ).all()
    ids = [int((d or {}).get("comment_id", 0)) for d, *_ in rows]
    found = {
        c.id: (c, name)
        for c, name in session.execute(
            select(Comment, User.name)
            .outerjoin(User, User.id == Comment.author_id)
            .where(Comment.id.in_(ids))
        ).all()
    }
    out = []
    for cid, (_, number, tdesk, title) in zip(ids, rows, strict=True):
        if cid not in found:
            continue
        c, name = found[cid]
        out.append(
            {
                "key": f"{tdesk.upper()}-{number}",
                "title": title,
                "author": name,
                "text": c.body,
                "html": c.body_html,
                "at": c.created_at.astimezone(zone).isoformat(),
            }
        )
    return out


# ----------------------------------------------------------------------------- tickets


def _suggest(on_call: Mapping[str, Shift], team: str | None, not_: str | None) -> str | None:
    """Who should own a ticket: the on-call of its team's layer, else the primary or lead."""
    order = [team] if team and team in on_call else []
    order += [PRIMARY, LEAD, *on_call]
    for layer in order:
        shift = on_call.get(layer)
        if shift is not None and shift.person != not_:
            return shift.person
    return None


def _item(
    t: Ticket,
    names: Mapping[int, str],
    at: datetime,
    zone: ZoneInfo,
    on_call: Mapping[str, Shift],
    **extra: Any,
) -> dict[str, Any]:
    assignee = names.get(t.assignee_id) if t.assignee_id else None
    last_update = t.last_update_at or t.triaged_at or t.created_at
    suggestion = _suggest(on_call, t.team, assignee)
    return {
        "key": t.key,
        "title": t.title,
        "status": t.status,
        "priority": t.priority,
        "assignee": assignee,
        "team": t.team,
        "blocked": t.blocked,
        "created_at": t.created_at.astimezone(zone).isoformat(),
        "last_update_at": last_update.astimezone(zone).isoformat(),
        "since_update": format_span(at - last_update),
        "url": f"/api/v1/tickets/{t.key}",
        "reassign": {
            "method": "POST",
            "href": f"/api/v1/tickets/{t.key}/assign",
            "body": {"assignee": suggestion},
        },
        "suggested": next_step(t.key, t.triaged_at is not None, suggestion),
        **extra,
    }


def next_step(key: str, triaged: bool, assignee: str | None) -> dict[str, Any] | None:
    """What the on-call does next: an untriaged ticket is triaged (priority and owner in one
    step, which stops its triage clock), a triaged one is assigned."""
    who = assignee or "NAME"
    if not triaged:
        return {
            "action": "triage",
            "method": "POST",
            "href": f"/api/v1/tickets/{key}/triage",
            "body": {"priority": None, "assignee": assignee},
            "command": f"dutydesk triage {key} --priority … --assignee {who}",
        }
    if assignee is None:
        return None
    return {
        "action": "assign",
        "method": "POST",
        "href": f"/api/v1/tickets/{key}/assign",
        "body": {"assignee": assignee},
        "command": f"dutydesk assign {key} {assignee}",
    }


def _open_list(session: Session, desk: str, *conds: Any) -> list[Ticket]:
    """The desk's open tickets that meet ``conds``, in queue order, at most LIST_LIMIT."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.desk == desk, Ticket.is_open.is_(True), *conds)
            .order_by(Ticket.order_key, Ticket.id)
            .limit(LIST_LIMIT)
        )
    )


def _new(session: Session, desk: str) -> list[Ticket]:
    return _open_list(session, desk, Ticket.triaged_at.is_(None))


def _awaiting_owner(session: Session, desk: str) -> list[Ticket]:
    return _open_list(
        session,
        desk,
        Ticket.in_queue.is_(True),
        Ticket.triaged_at.is_not(None),
        Ticket.assignee_id.is_(None),
    )


def _count(session: Session, *conds: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0)


def desk_rotation(session: Session, policy: Policy, desk: str) -> tuple[DeskPolicy, Loaded]:
    return desk_policy(policy, desk), loaded_in(session, policy, desk_rotation_name(policy, desk))


def _idle_items(
    session: Session,
    policy: Policy,
    desk: str,
    at: datetime,
    zone: ZoneInfo,
    on_call: Mapping[str, Shift],
) -> list[dict[str, Any]]:
    idle = idle_claims(session, policy, desk, at, LIST_LIMIT)
    names = user_names(session, [c.ticket.assignee_id for c in idle])
    return [
        _item(
            c.ticket,
            names,
            at,
            zone,
            on_call,
            last_activity_at=c.last_activity.astimezone(zone).isoformat(),
            idle_since=c.idle_since.astimezone(zone).isoformat(),
            idle_for=format_span(at - c.last_activity),
        )
        for c in idle
    ]


def triage_view(session: Session, policy: Policy, desk: str, at: datetime) -> dict[str, Any]:
    """The on-call's list: what to triage, what needs an owner, what was dropped."""
    spec, found = desk_rotation(session, policy, desk)
    zone = found.zone
    on_call = found.schedule.on_call(at)
    new = _new(session, desk)
    owner = _awaiting_owner(session, desk)
    names = user_names(session, [t.assignee_id for t in new + owner])
    idle = _idle_items(session, policy, desk, at, zone, on_call)
    # waiting in the intake column as the desk's own work, not routed to a feature team
    routed_here = (
        or_(Ticket.team.is_(None), Ticket.team.in_(spec.queue_teams))
        if spec.queue_teams is not None
        else True
    )
    intake = _count(
        session,
        Ticket.desk == desk,
        Ticket.is_open.is_(True),
        Ticket.status == spec.intake_column,
        routed_here,
    )
    counts = {
        "new": _count(
            session, Ticket.desk == desk, Ticket.is_open.is_(True), Ticket.triaged_at.is_(None)
        ),
        "awaiting_owner": _count(
            session,
            Ticket.desk == desk,
            Ticket.is_open.is_(True),
            Ticket.in_queue.is_(True),
            Ticket.triaged_at.is_not(None),
            Ticket.assignee_id.is_(None),
        ),
        "idle": len(idle),
        spec.intake_column: intake,
    }
    people = [x.person for x in on_call.values()]
    team_rotation = any(x.team for x in found.spec.layers)
    # Free means on call with no open ticket assigned (one rule: oncall.availability), never
    # everyone on call just because the intake column is empty.
    idle_people = free_people(session, policy, desk, at) if team_rotation else []
    free = intake == 0 and bool(idle_people)
    notes: list[str] = []
    if idle_people:
        notes.append(
            f"free to take work from their feature teams (on call, no open ticket): "
            f"{', '.join(idle_people)}"
        )
    if intake == 0:
        notes.append(f"{spec.intake_column} is empty: nothing new to triage")
    if not on_call:
        notes.append(f"nobody is on call for {found.name} right now")
    return {
        "desk": desk,
        "rotation": found.name,
        "at": at.astimezone(zone).isoformat(),
        "on_call": [ShiftOut.of(x).model_dump(mode="json") for x in on_call.values()],
        "triager": people[0] if people else None,
        "idle_after": spec.idle_after,
        "new": [_item(t, names, at, zone, on_call) for t in new],
        "awaiting_owner": [_item(t, names, at, zone, on_call) for t in owner],
        "idle": idle,
        "counts": counts,
        "free_for_feature_work": free,
        "notes": notes,
    }


# ----------------------------------------------------------------------------- handoff


def slo_breaches_during(
    session: Session, desk: str, start: datetime, end: datetime
) -> list[tuple[TicketClock, Ticket]]:
    """Hook onto the SLO clocks: clocks of ``desk`` whose due instant passed in [start, end)
    unmet (breached, or still running past due)."""
    return [
        (c, t)
        for c, t in session.execute(
            select(TicketClock, Ticket)
            .join(Ticket, Ticket.id == TicketClock.ticket_id)
            .where(
                TicketClock.desk == desk,
                TicketClock.due_at >= start,
                TicketClock.due_at < end,
                or_(TicketClock.outcome == "breached", TicketClock.outcome.is_(None)),
            )
            .order_by(TicketClock.due_at, TicketClock.id)
            .limit(LIST_LIMIT)
        ).all()
    ]


def _touched(
    session: Session, desk: str, stretches: Sequence[Shift], until: datetime
) -> dict[int, dict[str, Any]]:
    """Events by each outgoing person while they were on call, grouped by ticket."""
    by_person: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for x in stretches:
        by_person[x.person].append((x.utc_start, min(x.utc_end, until)))
    if not by_person:
        return {}
    ids = dict(
        session.execute(select(User.name, User.id).where(User.name.in_(list(by_person)))).all()
    )
    if not ids:
        return {}
    lo = min(s for spans in by_person.values() for s, _ in spans)
    hi = max(e for spans in by_person.values() for _, e in spans)
    rows = session.execute(
        select(Event.ticket_id, Event.actor_id, Event.at, Event.type)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(
            and_(
                Ticket.desk == desk,
                Event.actor_id.in_(list(ids.values())),
                Event.at >= lo,
                Event.at < hi,
            )
        )
        .order_by(Event.at)
    ).all()
    person_of = {v: k for k, v in ids.items()}
    out: dict[int, dict[str, Any]] = {}
    for tid, actor_id, at, kind in rows:
        person = person_of.get(actor_id or 0)
        if person is None or not any(s <= at < e for s, e in by_person[person]):
            continue
        entry = out.setdefault(tid, {"by": set(), "events": 0, "kinds": set(), "last": at})
        entry["by"].add(person)
        entry["events"] += 1
        entry["kinds"].add(kind)
        entry["last"] = max(entry["last"], at)
    return out


def handoff_report(
    session: Session,
    policy: Policy,
    desk: str,
    at: datetime,
    *,
    now: datetime | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """The report of the handoff nearest to ``at``. Asked for a past instant (``at`` before
    ``now``) whose handoff has happened, it is historical: the open urgent tickets, those
    awaiting triage and the idle claims are shown as they were at that handoff (or at
    ``as_of`` when given), read back from the event history, never today's tickets under an
    old date. The current or a coming handoff shows them as they are now."""
    spec, found = desk_rotation(session, policy, desk)
    zone, schedule = found.zone, found.schedule
    window = rules.handoff_window(schedule, at)
    if as_of is None and now is not None and at < now and window.boundary < now:
        as_of = window.boundary.astimezone(UTC)  # a handoff that has happened, asked after it
    incoming = schedule.on_call(window.boundary)
    on_call_now = schedule.on_call(as_of or at)
    outgoing: list[dict[str, Any]] = []
    stretches: list[Shift] = []
    if window.outgoing is not None:
        s, e = window.outgoing
        stretches = schedule.shifts(s, e)
        hours: dict[tuple[str, str], float] = defaultdict(float)
        for x in stretches:
            clip = min(x.utc_end, e) - max(x.utc_start, s)
            hours[(x.layer, x.person)] += clip.total_seconds() / 3600
        outgoing = [
            {"layer": layer, "person": person, "hours": round(h, 1)}
            for (layer, person), h in hours.items()
        ]
    urgent_priorities = spec.urgent_priorities
    touched_map = (
        _touched(session, desk, stretches, min(window.boundary, at).astimezone(zone))
        if window.outgoing
        else {}
    )
    touched_rows = (
        list(session.scalars(select(Ticket).where(Ticket.id.in_(list(touched_map)))))
        if touched_map
        else []
    )
    then: dict[str, Row] = {}
    if as_of is not None:
        then = {r.key: r for r in load_rows_at(session, policy, desk, as_of)}
        urgent_items, new_items, idle = sections_then(
            list(then.values()), policy, desk, as_of, zone, urgent_priorities
        )
        names = user_names(session, [t.assignee_id for t in touched_rows])
    else:
        urgent = _open_list(session, desk, Ticket.priority.in_(urgent_priorities))
        new = _new(session, desk)
        names = user_names(session, [t.assignee_id for t in touched_rows + urgent + new])
        urgent_items = [_item(t, names, at, zone, on_call_now) for t in urgent]
        new_items = [_item(t, names, at, zone, on_call_now) for t in new]
        idle = _idle_items(session, policy, desk, at, zone, on_call_now)
    breaches = []
    if window.outgoing is not None:
        s, e = window.outgoing
        for c, t in slo_breaches_during(session, desk, s, min(e, at)):
            assert c.due_at is not None
            breaches.append(
                {
                    "key": t.key,
                    "title": t.title,
                    "clock": c.name,
                    "target": c.target,
                    "due_at": c.due_at.astimezone(zone).isoformat(),
                    "state": c.outcome or "breached (still running)",
                    "priority": t.priority,
                }
            )
    notes_from = window.outgoing[0] if window.outgoing else at - NOTES_LOOKBACK
    notes = handoff_notes(session, desk, notes_from, max(at, notes_from), zone)
    touched_rows.sort(key=lambda t: touched_map[t.id]["last"], reverse=True)
    touched = []
    for t in touched_rows:
        did = {
            "by": sorted(touched_map[t.id]["by"]),
            "events": touched_map[t.id]["events"],
            "kinds": sorted(touched_map[t.id]["kinds"]),
        }
        if as_of is not None and t.key in then:
            touched.append(row_item(then[t.key], as_of, zone, **did))
        else:
            touched.append(_item(t, names, at, zone, on_call_now, **did))
    return {
        "desk": desk,
        "title": spec.title or desk,
        "rotation": found.name,
        "timezone": found.spec.timezone,
        "at": at.astimezone(zone).isoformat(),
        "handoff_at": window.boundary.astimezone(zone).isoformat(),
        # a past handoff: the instant its tickets are shown as of (None: as they are now)
        "as_of": as_of.astimezone(zone).isoformat() if as_of is not None else None,
        "shift": (
            {
                "start": window.outgoing[0].astimezone(zone).isoformat(),
                "end": window.outgoing[1].astimezone(zone).isoformat(),
            }
            if window.outgoing
            else None
        ),
        "outgoing": outgoing,
        "incoming": [ShiftOut.of(x).model_dump(mode="json") for x in incoming.values()],
        "touched": touched,
        "urgent_priorities": urgent_priorities,
        "open_urgent": urgent_items,
        "awaiting_triage": new_items,
        "idle": idle,
        "slo_breaches": breaches,
        "handoff_notes": notes,
    }


def _local(text: str, zone: ZoneInfo) -> str:
    return rules.fmt_local(datetime.fromisoformat(text), zone)


def _line(t: Mapping[str, Any], extra: str = "") -> str:
    bits = [t["status"]]
    if t.get("priority"):
        bits.insert(0, t["priority"])
    bits.append(f"assignee {t['assignee']}" if t.get("assignee") else "no assignee")
    if t.get("blocked"):
        bits.append("blocked")
    tail = f" — {extra}" if extra else ""
    return f"* {t['key']} {t['title']} ({', '.join(bits)}){tail}"


def render_markdown(report: Mapping[str, Any]) -> str:
    """The handoff report as markdown, ready to post in the team's channel."""
    zone = ZoneInfo(report["timezone"])
    lines = [f"## Handoff: {report['title']} — {_local(report['handoff_at'], zone)}", ""]
    out = ", ".join(f"{o['person']} ({o['layer']}, {o['hours']} h)" for o in report["outgoing"])
    inc = ", ".join(
        f"{x['person']} ({x['layer']}, until {_local(x['end'], zone)})" for x in report["incoming"]
    )
    if report.get("as_of"):
        lines.append(
            f"*A past handoff: tickets as they were at {_local(report['as_of'], zone)}.*  "
        )
    lines.append(f"**Outgoing:** {out or 'nobody'}  ")
    lines.append(f"**Incoming:** {inc or 'nobody — the rotation has a gap'}  ")
    if report["shift"]:
        lines.append(
            f"**Shift:** {_local(report['shift']['start'], zone)} → "
            f"{_local(report['shift']['end'], zone)}"
        )
    sections: list[tuple[str, list[str]]] = [
        (
            "Handoff notes",
            [
                f"* {n['key']} {n['title']} — {n['author'] or 'someone'}: "
                + " ".join(n["text"].split())
                for n in report.get("handoff_notes", [])
            ],
        ),
        (
            "Tickets touched during the shift",
            [
                _line(t, f"{t['events']} change(s) by {', '.join(t['by'])}")
                for t in report["touched"]
            ],
        ),
        (
            f"Open {'/'.join(report['urgent_priorities'])}",
            [_line(t, f"last update {t['since_update']} ago") for t in report["open_urgent"]],
        ),
        (
            "Awaiting triage",
            [_line(t, f"filed {_local(t['created_at'], zone)}") for t in report["awaiting_triage"]],
        ),
        (
            "Claimed but idle",
            [_line(t, f"no activity for {t['idle_for']}") for t in report["idle"]],
        ),
        (
            "SLO breaches during the shift",
            [
                f"* {b['key']} {b['title']} — {b['clock']} ({b['target']}) was due "
                f"{_local(b['due_at'], zone)}"
                for b in report["slo_breaches"]
            ],
        ),
    ]
    for title, items in sections:
        lines += ["", f"### {title} ({len(items)})"]
        lines += items or ["* none"]
    return "\n".join(lines) + "\n"
