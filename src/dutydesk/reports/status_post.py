"""The weekly status post (DESIGN.md §6), computed from the event history.

The window of the post for local date ``D`` runs from the post instant of ``D - 7 days``
(exclusive) to the post instant of ``D`` (inclusive): consecutive posts' windows meet exactly,
across DST too, so no ticket is counted in two of them. A post for a future date (or this
week's, before it is made) has the same window; it simply has no events after now yet.

Definitions, for a post whose window is ``(start, end]``:

* *Bugs resolved*: tickets whose resolution was set to one of ``status_post.resolutions``
  (default ``fixed``) inside the window, that are still resolved so at ``end`` and are bugs
  (a kind of ``status_post.bug_kinds`` as of ``end``). "Reported by customers" counts those
  customer-reported.
* *Bug fix PRs submitted*: bugs whose fix was submitted inside the window. A ticket's fix is
  submitted once, when its first PR link is added (at filing, if it was filed with one), or
  when it first moves into the ``status_post.submitted`` column (default ``Submitted``) if
  that comes first: counted once per ticket, in one week only.
* *In progress fixes*: tickets in the desk's started column at ``end``, in queue order.
* *Next in the queue*: the first ``status_post.next`` (3–5) open, unblocked tickets in the
  intake column at ``end`` that were the desk's own work then (not routed to a feature team:
  ``DeskPolicy.routed_here`` of their team at ``end``), in the queue's current order.
* *Notes*: what leads added for the week (``dutydesk report note``) since the window opened,
  then blocked tickets among the in-progress ones as qualifiers; ``none`` when empty.

Every field "as of ``end``" is the current value with later events undone (each event
stores before/after), so a post for a past date reads the history, not today's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
from dutydesk.policy.notify import WEEKDAYS, StatusPostPolicy
from dutydesk.reports.models import StatusNote
from dutydesk.slo.policy import desk_zone
from dutydesk.tickets.models import Event, Ticket

WINDOW = timedelta(days=7)
FIELDS = (
    "status",
    "resolution",
    "kind",
    "customer_reported",
    "assignee",
    "blocked",
    "title",
    "pr_links",
    "team",
)


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
    pr_links: tuple[str, ...] = ()
    team: str | None = None

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

    def last_change(self, name: str, end: datetime, to: Iterable[Any]) -> datetime | None:
        wanted = set(to)
        found = [
            c.at for c in self.changes if c.field == name and c.at <= end and c.after in wanted
        ]
        return found[-1] if found else None


def fix_submitted(h: TicketHistory, column: str) -> tuple[datetime, str] | None:
    """When (and how) a ticket's fix was submitted: its first PR link, or its first move into
    ``column`` when no link came before. ``changes`` must hold every ``pr_links`` change and
    every move into ``column`` of the ticket (not only the window's)."""
    links = [c for c in h.changes if c.field == "pr_links"]
    found: list[tuple[datetime, str]] = []
    if links[0].before if links else h.pr_links:
        found.append((h.created_at, "filed with a PR link"))
    else:
        first = next((c for c in links if not c.before and c.after), None)
        if first is not None:
            found.append((first.at, f"first PR link added: {first.after[0]}"))
    moved = next((c for c in h.changes if c.field == "status" and c.after == column), None)
    if moved is not None:
        found.append((moved.at, f"moved into {column}"))
    return min(found, key=lambda f: f[0]) if found else None


@dataclass(frozen=True)
class Counted:
    """One ticket behind a figure: when it counted and why (``--explain``)."""

    key: str
    title: str
    customer: bool
    at: datetime | None = None
    why: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "customer": self.customer,
            "at": self.at.isoformat() if self.at else None,
            "why": self.why,
        }


@dataclass(frozen=True)
class Listed:
    """A ticket under "In progress fixes" or "Next in the queue"."""

    key: str
    title: str
    assignee: str | None
    blocked: bool
    line: str

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "assignee": self.assignee,
            "blocked": self.blocked,
        }


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
    in_progress_tickets: list[Listed] = field(default_factory=list)
    next_tickets: list[Listed] = field(default_factory=list)
    blocked_notes: list[str] = field(default_factory=list)  # keys of the blocked qualifiers
    made: bool = True  # False: the post instant is still ahead (a preview)

    def explain(self) -> dict[str, list[dict[str, Any]]]:
        """Every ticket behind every number and list of the post."""
        return {
            "bugs_resolved": [c.as_json() for c in self.resolved],
            "bugs_resolved_by_customers": [c.as_json() for c in self.resolved if c.customer],
            "bug_fix_prs_submitted": [c.as_json() for c in self.submitted],
            "bug_fix_prs_submitted_by_customers": [
                c.as_json() for c in self.submitted if c.customer
            ],
            "in_progress": [t.as_json() for t in self.in_progress_tickets],
            "next_in_queue": [t.as_json() for t in self.next_tickets],
            "blocked": [{"key": k} for k in self.blocked_notes],
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "window": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "made": self.made,
            "bugs_resolved": [c.as_json() for c in self.resolved],
            "bug_fix_prs_submitted": [c.as_json() for c in self.submitted],
            "in_progress": self.in_progress,
            "next_in_queue": self.next_up,
            "notes": self.notes,
            "explain": self.explain(),
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
    start: datetime | None = None,
    bug_kinds: Sequence[str] = ("bug",),
    routed_here: Callable[[str | None], bool] = lambda team: True,
) -> StatusPost:
    """The post from ticket histories (pure; see the module docstring for every rule)."""
    start = end - WINDOW if start is None else start
    post = StatusPost(local_date, start, end)
    ordered = sorted(histories, key=lambda h: (h.order_key, h.key))
    for h in ordered:
        if h.created_at > end:
            continue
        kind = h.value_at("kind", end)
        is_bug = kind in bug_kinds
        customer = bool(h.value_at("customer_reported", end))
        title = h.value_at("title", end)
        if (
            is_bug
            and h.changed_in("resolution", start, end, resolutions)
            and h.value_at("resolution", end) in resolutions
        ):
            when = h.last_change("resolution", end, resolutions)
            why = f"{kind}, resolved {h.value_at('resolution', end)}"
            post.resolved.append(Counted(h.key, title, customer, when, why))
        fix = fix_submitted(h, submitted) if is_bug else None
        if fix is not None and start < fix[0] <= end:
            post.submitted.append(Counted(h.key, title, customer, fix[0], f"{kind}, {fix[1]}"))
        status = h.value_at("status", end)
        blocked = bool(h.value_at("blocked", end))
        assignee = h.value_at("assignee", end)
        if started is not None and status == started:
            line = _line(h, end, base_url)
            post.in_progress.append(line)
            post.in_progress_tickets.append(Listed(h.key, title, assignee, blocked, line))
            if blocked:
                reason = h.blocked_reason if h.blocked else None
                post.notes.append(f"{h.key} is blocked" + (f": {reason}" if reason else ""))
                post.blocked_notes.append(h.key)
        elif (
            status == intake
            and not blocked
            and routed_here(h.value_at("team", end))
            and len(post.next_up) < next_n
        ):
            line = _line(h, end, base_url, who=False)
            post.next_up.append(line)
            post.next_tickets.append(Listed(h.key, title, None, False, line))
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


def post_window(policy: Policy, desk_name: str, day: date) -> tuple[datetime, datetime]:
    """The window ``(start, end]`` of the post for local date ``day`` (module docstring)."""
    return (
        post_instant(policy, desk_name, day - WINDOW),
        post_instant(policy, desk_name, day),
    )


def post_day(policy: Policy, desk_name: str, now: datetime) -> date:
    """This week's post: the first posting day whose post is not made yet at ``now``."""
    desk = policy.desks[desk_name]
    days = settings(desk, desk_name).days
    day = now.astimezone(desk_zone(policy, desk_name)).date()
    for _ in range(15):
        if WEEKDAYS[day.weekday()] in days and post_instant(policy, desk_name, day) > now:
            return day
        day += timedelta(days=1)
    return day


def load_histories(
    session: Session,
    desk_name: str,
    desk: DeskPolicy,
    start: datetime,
    next_n: int,
    submitted: str = "Submitted",
    end: datetime | None = None,
) -> list[TicketHistory]:
    sp_cols = [c for c in (desk.started_column, desk.intake_column) if c]
    moved = select(Event.ticket_id).where(
        Event.at > start,
        Event.type == "changed",
        Event.field.in_(("status", "resolution", "pr_links", "team")),
    )
    filed = select(Ticket.id).where(Ticket.desk == desk_name, Ticket.created_at > start)
    if end is not None:
        filed = filed.where(Ticket.created_at <= end)
    current_started = select(Ticket.id).where(
        Ticket.desk == desk_name, Ticket.status == desk.started_column
    )
    top_intake = (
        select(Ticket.id)
        .where(
            Ticket.desk == desk_name,
            Ticket.status == desk.intake_column,
            Ticket.is_open,
            Ticket.in_queue,
        )
        .order_by(Ticket.order_key)
        .limit(next_n * 4 + 20)
    )
    ids = set(
        session.scalars(
            moved.join(Ticket, Ticket.id == Event.ticket_id).where(Ticket.desk == desk_name)
        )
    )
    ids |= set(session.scalars(filed))
    if sp_cols:
        ids |= set(session.scalars(current_started))
        ids |= set(session.scalars(top_intake))
    if not ids:
        return []
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids))))
    names = user_names(session, (t.assignee_id for t in tickets))
    changes: dict[int, list[FieldChange]] = {}
    seen: set[tuple[int, int]] = set()
    # The window's changes undo today's values; every PR-link change and every status change
    # (whenever it happened) say when a fix was first submitted.
    queries = (
        select(Event).where(
            Event.ticket_id.in_(ids),
            Event.at > start,
            or_(Event.type == "changed", Event.type == "unblocked"),
            Event.field.in_(FIELDS),
        ),
        select(Event).where(
            Event.ticket_id.in_(ids),
            Event.at <= start,
            Event.type == "changed",
            Event.field.in_(("pr_links", "status")),
        ),
    )
    for query in queries:
        for e in session.scalars(query.order_by(Event.ticket_id, Event.seq)):
            if (e.ticket_id, e.seq) in seen:
                continue
            if e.at <= start and e.field == "status" and e.after != submitted:
                continue
            seen.add((e.ticket_id, e.seq))
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
            pr_links=tuple(t.pr_links or ()),
            team=t.team,
        )
        for t in tickets
    ]


def notes_between(session: Session, desk: str, start: datetime, end: datetime) -> list[str]:
    """The notes of a window as they stood at ``end`` (a note removed later still shows in
    the post it was part of)."""
    return [n.text for n in note_rows(session, desk, start, end)]


def note_rows(session: Session, desk: str, start: datetime, end: datetime) -> list[StatusNote]:
    return list(
        session.scalars(
            select(StatusNote)
            .where(
                StatusNote.desk == desk,
                StatusNote.created_at > start,
                StatusNote.created_at <= end,
                or_(StatusNote.removed_at.is_(None), StatusNote.removed_at > end),
            )
            .order_by(StatusNote.created_at, StatusNote.id)
        )
    )


def status_post(
    session: Session, policy: Policy, desk_name: str, now: datetime, day: date | None = None
) -> StatusPost:
    """The post for local date ``day`` (default: this week's, :func:`post_day`) of a desk
    (any desk; SET is the one that posts it weekly). Its window never depends on ``now``:
    ``now`` only says whether the post is made yet."""
    desk = policy.desks[desk_name]
    sp = settings(desk, desk_name)
    day = day or post_day(policy, desk_name, now)
    start, end = post_window(policy, desk_name, day)
    histories = load_histories(session, desk_name, desk, start, sp.next, sp.submitted, end)
    post = compose(
        histories,
        notes_between(session, desk_name, start, end),
        end=end,
        start=start,
        local_date=day,
        tag=sp.tag,
        started=desk.started_column,
        intake=desk.intake_column,
        submitted=sp.submitted,
        resolutions=sp.resolutions,
        next_n=sp.next,
        base_url=policy.notify.base_url,
        bug_kinds=sp.bug_kinds,
        routed_here=desk.routed_here,
    )
    post.made = end <= now
    return post
