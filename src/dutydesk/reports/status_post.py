"""The weekly status post (DESIGN.md §6), computed from the event history.

Definitions, for a post made at instant ``end`` (the window is the 7 days before it):

* *Bugs resolved*: tickets whose resolution was set to one of ``status_post.resolutions``
  (default ``fixed``) inside the window, that are still resolved so at ``end`` and are bugs
  (kind ``bug`` as of ``end``). "Reported by customers" counts those customer-reported.
* *Bug fix PRs submitted*: bugs moved into the ``status_post.submitted`` column (default
  ``Submitted``) inside the window, counted once per ticket even if they moved on to Done.
* *In progress fixes*: tickets in the desk's started column at ``end``, in queue order.
* *Next in the queue*: the first ``status_post.next`` (3–5) open, unblocked tickets in the
  intake column at ``end``, in the queue's current order.
* *Notes*: what leads added for the week (``dutydesk report note``) since the window opened,
  then blocked tickets among the in-progress ones as qualifiers; ``none`` when empty.

Every field "as of ``end``" is the current value with later events undone (each event
stores before/after), so a post for a past date reads the history, not today's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.service import user_names
from dutydesk.durations import parse_span
from dutydesk.notify.rules import link
from dutydesk.policy.models import DeskPolicy, Policy
from dutydesk.policy.notify import StatusPostPolicy
from dutydesk.reports.models import StatusNote
from dutydesk.slo.policy import desk_zone
from dutydesk.tickets.models import Event, Ticket

WINDOW = timedelta(days=7)
FIELDS = ("status", "resolution", "kind", "customer_reported", "assignee", "blocked", "title")


@dataclass(frozen=True)
class FieldChange:
    at: datetime
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class TicketHistory:
    """A ticket's current values plus the changes needed to see it at an earlier instant."""

    key: str
    title: str
    kind: str
    customer_reported: bool
    status: str
    resolution: str | None
    assignee: str | None
    blocked: bool
    blocked_reason: str | None
    order_key: str
    created_at: datetime
    changes: tuple[FieldChange, ...] = ()  # ascending by time

    def value_at(self, name: str, at: datetime) -> Any:
        for c in self.changes:
            if c.field == name and c.at > at:
                return c.before
        return getattr(self, name)

    def changed_in(self, name: str, start: datetime, end: datetime, to: Iterable[Any]) -> bool:
        wanted = set(to)
        return any(
            c.field == name and start < c.at <= end and c.after in wanted for c in self.changes
        )


@dataclass(frozen=True)
class Counted:
    key: str
    title: str
    customer: bool


@dataclass
class StatusPost:
    date: date
    start: datetime
    end: datetime
    resolved: list[Counted] = field(default_factory=list)
    submitted: list[Counted] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    next_up: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    text: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "window": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "bugs_resolved": [c.__dict__ for c in self.resolved],
            "bug_fix_prs_submitted": [c.__dict__ for c in self.submitted],
            "in_progress": self.in_progress,
            "next_in_queue": self.next_up,
            "notes": self.notes,
            "text": self.text,
        }


def _line(h: TicketHistory, end: datetime, base_url: str | None, who: bool = True) -> str:
    title = h.value_at("title", end)
    assignee = h.value_at("assignee", end)
    suffix = f" ({assignee})" if who and assignee else ""
    return f"{link(h.key, base_url)} {title}{suffix}"


def compose(
    histories: Sequence[TicketHistory],
    notes: Sequence[str],
    *,
    end: datetime,
    local_date: date,
    tag: str,
    started: str | None,
    intake: str,
    submitted: str,
    resolutions: Sequence[str],
    next_n: int = 5,
    base_url: str | None = None,
) -> StatusPost:
    """The post from ticket histories (pure; see the module docstring for every rule)."""
    start = end - WINDOW
    post = StatusPost(local_date, start, end)
    ordered = sorted(histories, key=lambda h: (h.order_key, h.key))
    for h in ordered:
        if h.created_at > end:
            continue
        is_bug = h.value_at("kind", end) == "bug"
        customer = bool(h.value_at("customer_reported", end))
        if (
            is_bug
            and h.changed_in("resolution", start, end, resolutions)
            and h.value_at("resolution", end) in resolutions
        ):
            post.resolved.append(Counted(h.key, h.value_at("title", end), customer))
        if is_bug and h.changed_in("status", start, end, [submitted]):
            post.submitted.append(Counted(h.key, h.value_at("title", end), customer))
        status = h.value_at("status", end)
        if started is not None and status == started:
            post.in_progress.append(_line(h, end, base_url))
            if h.value_at("blocked", end):
                reason = h.blocked_reason if h.blocked else None
                post.notes.append(f"{h.key} is blocked" + (f": {reason}" if reason else ""))
        elif status == intake and not h.value_at("blocked", end) and len(post.next_up) < next_n:
            post.next_up.append(_line(h, end, base_url, who=False))
    post.notes = [*notes, *post.notes]
    res_c = sum(1 for c in post.resolved if c.customer)
    sub_c = sum(1 for c in post.submitted if c.customer)

    def bullets(items: list[str]) -> str:
        return "\n".join(f"* {item}" for item in items) if items else "* none"

    post.text = (
        f"#{tag} #{tag}-{local_date.isoformat()}\n"
        "\n"
        f"Bugs resolved in the last 7 days: {len(post.resolved)} ({res_c} reported by customers)\n"
        f"Bug fix PRs submitted in the last 7 days: {len(post.submitted)} "
        f"({sub_c} reported by customer)\n"
        "\n"
        "In progress fixes:\n"
        f"{bullets(post.in_progress)}\n"
        "\n"
        "Next in the queue:\n"
        f"{bullets(post.next_up)}\n"
        "\n"
        "Notes:\n"
        f"{bullets(post.notes)}\n"
    )
    return post


# ----------------------------------------------------------------------------- loading


def settings(desk: DeskPolicy, name: str) -> StatusPostPolicy:
    if desk.status_post is not None:
        return desk.status_post
    return StatusPostPolicy(after="", tag=f"{name}-update"[:40])


def post_instant(policy: Policy, desk_name: str, day: date) -> datetime:
    """When the post for ``day`` is made: the end of the ``after`` meeting, else end of day."""
    desk = policy.desks[desk_name]
    zone = desk_zone(policy, desk_name)
    sp = desk.status_post
    meeting = next((m for m in desk.meetings if sp and m.name == sp.after), None)
    if meeting is not None:
        mzone = ZoneInfo(meeting.timezone) if meeting.timezone else zone
        start = datetime.combine(day, meeting.at).replace(tzinfo=mzone)
        return start + parse_span(meeting.duration)
    return datetime.combine(day + timedelta(days=1), time(0)).replace(tzinfo=zone)


def load_histories(
    session: Session, desk_name: str, desk: DeskPolicy, start: datetime, next_n: int
) -> list[TicketHistory]:
    sp_cols = [c for c in (desk.started_column, desk.intake_column) if c]
    moved = select(Event.ticket_id).where(
        Event.at > start,
        Event.type == "changed",
        Event.field.in_(("status", "resolution")),
    )
    current_started = select(Ticket.id).where(
        Ticket.desk == desk_name, Ticket.status == desk.started_column
    )
    top_intake = (
        select(Ticket.id)
        .where(Ticket.desk == desk_name, Ticket.status == desk.intake_column, Ticket.is_open)
        .order_by(Ticket.order_key)
        .limit(next_n * 4 + 20)
    )
    ids = set(
        session.scalars(
            moved.join(Ticket, Ticket.id == Event.ticket_id).where(Ticket.desk == desk_name)
        )
    )
    if sp_cols:
        ids |= set(session.scalars(current_started))
        ids |= set(session.scalars(top_intake))
    if not ids:
        return []
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids))))
    names = user_names(session, (t.assignee_id for t in tickets))
    changes: dict[int, list[FieldChange]] = {}
    for e in session.scalars(
        select(Event)
        .where(
            Event.ticket_id.in_(ids),
            Event.at > start,
            or_(Event.type == "changed", Event.type == "unblocked"),
            Event.field.in_(FIELDS),
        )
        .order_by(Event.ticket_id, Event.seq)
    ):
        changes.setdefault(e.ticket_id, []).append(
            FieldChange(e.at, str(e.field), e.before, e.after)
        )
    return [
        TicketHistory(
            key=t.key,
            title=t.title,
            kind=t.kind,
            customer_reported=t.customer_reported,
            status=t.status,
            resolution=t.resolution,
            assignee=names.get(t.assignee_id) if t.assignee_id else None,
            blocked=t.blocked,
            blocked_reason=t.blocked_reason,
            order_key=t.order_key,
            created_at=t.created_at,
            changes=tuple(sorted(changes.get(t.id, []), key=lambda c: c.at)),
        )
        for t in tickets
    ]


def notes_between(session: Session, desk: str, start: datetime, end: datetime) -> list[str]:
    return list(
        session.scalars(
            select(StatusNote.text)
            .where(
                StatusNote.desk == desk, StatusNote.created_at > start, StatusNote.created_at <= end
            )
            .order_by(StatusNote.created_at, StatusNote.id)
        )
    )


def status_post(
    session: Session, policy: Policy, desk_name: str, end: datetime, day: date | None = None
) -> StatusPost:
    """The post as of ``end`` for a desk (any desk; SET is the one that posts it weekly).

    ``day`` is the date in the hashtag (default: the local date of ``end``).
    """
    desk = policy.desks[desk_name]
    sp = settings(desk, desk_name)
    start = end - WINDOW
    histories = load_histories(session, desk_name, desk, start, sp.next)
    zone = desk_zone(policy, desk_name)
    return compose(
        histories,
        notes_between(session, desk_name, start, end),
        end=end,
        local_date=day or end.astimezone(zone).date(),
        tag=sp.tag,
        started=desk.started_column,
        intake=desk.intake_column,
        submitted=sp.submitted,
        resolutions=sp.resolutions,
        next_n=sp.next,
        base_url=policy.notify.base_url,
    )
