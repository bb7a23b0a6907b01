"""Pure rules: who hears what, how notices batch into one message, how retries back off.

No database and no clock here: the service hands in plain facts and writes what comes back.

Who hears what for one change to a ticket (all events one use case wrote):

* the desk channel: a new ticket ("new"), and a ticket that becomes P0 ("p0"; a ticket filed
  as P0 gets one post, not two);
* the on-call: a new ticket to triage;
* the reporter: triaged ("someone has seen it", with priority and owner), blocked, moved out
  of the queue to the backlog, resolved (with the resolution, and the original of a
  duplicate), and public comments by others (someone may be asking them something);
* the assignee: being assigned;
* anyone @mentioned in a comment they can read;
* watchers: changes they follow (status, priority, assignee, team, kind, title, blocking,
  resolution, comments they can read, a duplicate linked to the ticket);
* nobody hears of their own action; each person gets one notice per change, carrying the
  most specific reason and every line that concerns them;
* a person's own preferences are obeyed here: what they hear for a reason they muted is
  dropped (a muted "watching" still leaves them the lines they get as the assignee).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta
from typing import Any

# Most specific first: a person who is both reporter and watcher hears as the reporter.
REASON_ORDER = ("assignee", "mention", "reporter", "oncall", "watching")
MENTION = re.compile(r"(?<![\w@.])@([a-z][a-z0-9_-]{0,39})\b")
FOLLOWED_FIELDS = ("status", "priority", "assignee", "team", "kind", "title", "resolution")


@dataclass(frozen=True)
class TicketFacts:
    """What the rules need to know about the ticket after the change."""

    key: str
    desk: str
    title: str
    priority: str | None
    status: str
    reporter_id: int
    assignee_id: int | None
    assignee: str | None  # name
    watchers: frozenset[int] = frozenset()
    insiders: frozenset[int] = frozenset()  # may read internal comments (desk responders)
    urgent_priority: str | None = "P0"  # the desk's first priority


@dataclass(frozen=True)
class Change:
    """One event of the change, as stored (field names without ``_id``)."""

    type: str
    field: str | None = None
    before: Any = None
    after: Any = None
    data: Mapping[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class CommentFacts:
    author: str
    body: str
    public: bool


@dataclass(frozen=True)
class Notice:
    """Person ``user_id`` should hear ``lines`` about the ticket, because of ``reason``."""

    user_id: int
    reason: str
    lines: tuple[str, ...]
    urgent: bool = False


@dataclass(frozen=True)
class DeskPost:
    what: str  # "new" | "p0"
    text: str


def hears(muted: Collection[str], reason: str | None) -> bool:
    """Whether a person who muted ``muted`` hears a notice given for ``reason``."""
    return reason not in muted


def parse_mentions(text: str) -> list[str]:
    """User names @mentioned in markdown text, in order, once each (not e-mail addresses)."""
    found: list[str] = []
    for name in MENTION.findall(text):
        if name not in found:
            found.append(name)
    return found


def excerpt(text: str, limit: int = 160) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def describe(change: Change, comments: Mapping[int, CommentFacts]) -> str | None:
    """One line a watcher would want to read about this event, or None if it is noise."""
    if change.type == "changed" and change.field in FOLLOWED_FIELDS:
        if change.field == "resolution":
            return None if change.after is None else f"resolved: {change.after}"
        before = change.before if change.before not in (None, "") else "-"
        after = change.after if change.after not in (None, "") else "-"
        return f"{change.field}: {before} → {after}"
    if change.type == "blocked":
        return f"blocked: {change.after}"
    if change.type == "unblocked":
        return "unblocked"
    if change.type == "duplicate_linked":
        return f"{change.after} was closed as a duplicate of this ticket"
    if change.type == "linked" and change.field == "converted_to":
        return _converted_line(change)
    if change.type == "commented":
        c = comments.get(int(change.data.get("comment_id", 0)))
        if c is None or change.data.get("kind") == "reference":
            return None
        tag = "comment" if c.public else "internal comment"
        return f"{tag} by {c.author}: {excerpt(c.body)}"
    return None


def _converted_line(change: Change) -> str:
    kind = change.data.get("kind") or "story"
    return (
        f"converted to {kind} {change.after} on desk {change.data.get('desk')}: it continues there"
    )


def _resolution_line(changes: Sequence[Change], ticket: TicketFacts) -> str | None:
    resolution = next(
        (c.after for c in changes if c.type == "changed" and c.field == "resolution" and c.after),
        None,
    )
    if resolution is None:
        return None
    if resolution == "duplicate":
        original = next(
            (c.after for c in changes if c.type == "changed" and c.field == "duplicate_of"), None
        )
        return f"{ticket.key} was resolved as a duplicate of {original or 'another ticket'}"
    return f"{ticket.key} was resolved: {resolution}"


def _reporter_lines(
    ticket: TicketFacts, changes: Sequence[Change], comments: Mapping[int, CommentFacts]
) -> list[str]:
    lines: list[str] = []
    for c in changes:
        if c.type == "triaged":
            owner = ticket.assignee or "not assigned yet"
            lines.append(
                f"{ticket.key} has been triaged: priority {ticket.priority or '-'}, owner {owner}"
            )
        elif c.type == "blocked":
            lines.append(f"{ticket.key} is blocked: {c.after}")
        elif c.type == "linked" and c.field == "converted_to":
            lines.append(f"{ticket.key} was {_converted_line(c)}")
        elif c.type == "admission" and c.data.get("to") == "backlog":
            lines.append(
                f"{ticket.key} left the queue for the backlog (priority {ticket.priority}); "
                "the weekly triage looks at it"
            )
        elif c.type == "commented":
            cf = comments.get(int(c.data.get("comment_id", 0)))
            if cf is not None and cf.public and c.data.get("kind") != "reference":
                lines.append(f"comment by {cf.author}: {excerpt(cf.body)}")
    resolved = _resolution_line(changes, ticket)
    if resolved:
        lines.append(resolved)
    return lines


def who_hears(
    ticket: TicketFacts,
    actor_id: int | None,
    actor: str,
    changes: Sequence[Change],
    *,
    comments: Mapping[int, CommentFacts] | None = None,
    mentioned: Mapping[int, str] | None = None,
    oncall: Iterable[int] = (),
    muted: Mapping[int, Collection[str]] | None = None,
) -> tuple[list[Notice], list[DeskPost]]:
    """The notices and desk posts one change produces (see the module docstring);
    ``muted`` holds the reasons each person chose not to hear of."""
    comments = comments or {}
    mentioned = mentioned or {}
    muted = muted or {}
    per_person: dict[int, tuple[set[str], list[str]]] = {}

    def tell(uid: int | None, reason: str, lines: Iterable[str]) -> None:
        lines = [line for line in lines if line]
        if uid is None or uid == actor_id or not lines or not hears(muted.get(uid, ()), reason):
            return
        reasons, got = per_person.setdefault(uid, (set(), []))
        reasons.add(reason)
        for line in lines:
            if line not in got:
                got.append(line)

    filed = any(c.type == "filed" for c in changes)
    posts: list[DeskPost] = []
    became_urgent = ticket.urgent_priority is not None and any(
        c.type == "changed" and c.field == "priority" and c.after == ticket.urgent_priority
        for c in changes
    )
    if filed:
        urgent = ticket.priority is not None and ticket.priority == ticket.urgent_priority
        label = f"New {ticket.priority} ticket" if urgent else "New ticket"
        posts.append(
            DeskPost("p0" if urgent else "new", f"{label} {ticket.key}: {ticket.title} ({actor})")
        )
        for uid in oncall:
            tell(uid, "oncall", [f"New ticket to triage: {ticket.key} {ticket.title} ({actor})"])
    elif became_urgent:
        posts.append(
            DeskPost(
                "p0",
                f"{ticket.key} is now {ticket.urgent_priority}: {ticket.title} "
                f"(owner {ticket.assignee or 'none yet'})",
            )
        )

    tell(ticket.reporter_id, "reporter", _reporter_lines(ticket, changes, comments))

    for c in changes:
        if (
            c.type == "changed"
            and c.field == "assignee"
            and c.after is not None
            and ticket.assignee_id is not None
            and c.after == ticket.assignee
        ):
            tell(
                ticket.assignee_id,
                "assignee",
                [f"{ticket.key} was assigned to you by {actor}: {ticket.title}"],
            )

    for uid, comment_line in mentioned.items():
        tell(uid, "mention", [f"{actor} mentioned you on {ticket.key}: {comment_line}"])

    if not filed:
        public_lines: list[str] = []
        inside_lines: list[str] = []
        for c in changes:
            line = describe(c, comments)
            if line is None:
                continue
            inside_lines.append(line)
            cf = comments.get(int(c.data.get("comment_id", 0))) if c.type == "commented" else None
            if cf is None or cf.public:
                public_lines.append(line)
        assigned_now = any(
            r == "assignee" for r in per_person.get(ticket.assignee_id or 0, ((),))[0]
        )
        for uid in sorted(ticket.watchers):
            if uid == ticket.reporter_id:
                continue  # the reporter hears what concerns them, above
            lines = inside_lines if uid in ticket.insiders else public_lines
            if assigned_now and uid == ticket.assignee_id:
                lines = [line for line in lines if not line.startswith("assignee:")]
            tell(uid, "watching", lines)

    urgent_ticket = ticket.priority is not None and ticket.priority == ticket.urgent_priority
    notices = []
    for uid, (reasons, lines) in per_person.items():
        reason = next(r for r in REASON_ORDER if r in reasons)
        notices.append(Notice(uid, reason, tuple(lines), urgent=urgent_ticket))
    notices.sort(key=lambda n: n.user_id)
    return notices, posts


# ----------------------------------------------------------------------------- batching


@dataclass(frozen=True)
class Rendered:
    subject: str
    markdown: str


def batch_due(now: datetime, window: timedelta, urgent: bool) -> datetime:
    """When a notice may go out: after the batching window, or at once when urgent."""
    return now if urgent else now + window


DIGEST_TICKETS = 50


def render_digest(
    person: str, notices: Sequence[Mapping[str, Any]], base_url: str | None
) -> Rendered:
    """All of one person's pending notices as one message, grouped by ticket in order.

    Each notice is a payload as stored: ``ticket``, ``title``, ``lines``, ``reason``. Past
    ``DIGEST_TICKETS`` tickets the rest is counted, not listed: nobody reads further, and
    chat services cut long messages off (Slack at 40,000 characters).
    """
    groups: dict[str, tuple[str, list[str]]] = {}
    for n in notices:
        key = str(n.get("ticket") or n.get("subject") or "dutydesk")
        title, lines = groups.setdefault(key, (str(n.get("title") or ""), []))
        for line in n.get("lines", []):
            if line not in lines:
                lines.append(str(line))
    count = sum(len(lines) for _, lines in groups.values())
    if len(groups) == 1:
        [(key, (title, lines))] = groups.items()
        first = lines[0] if lines else title
        subject = first if key in first else f"{key}: {first}"
    else:
        subject = f"{count} updates on {len(groups)} tickets"
    parts = [f"Hello {person}, here is what changed:"] if len(groups) > 1 or count > 1 else []
    shown = list(groups.items())[:DIGEST_TICKETS]
    for key, (title, lines) in shown:
        head = link(key, base_url) + (f" — {title}" if title else "")
        parts.append(f"**{head}**")
        parts.extend(f"* {line}" for line in lines)
        parts.append("")
    if len(groups) > len(shown):
        more = count - sum(len(lines) for _, (_, lines) in shown)
        where = f": [see your work]({base_url.rstrip('/')}/me)" if base_url else ""
        parts.append(f"…and {more} more updates on {len(groups) - len(shown)} more tickets{where}")
    return Rendered(excerpt(subject, 120), "\n".join(parts).strip() + "\n")


def link(key: str, base_url: str | None) -> str:
    """A ticket key as a markdown link when the install says where it lives."""
    if not base_url or not re.match(r"^[A-Z][A-Z0-9_-]*-\d+$", key):
        return key
    return f"[{key}]({base_url.rstrip('/')}/tickets/{key})"


# ----------------------------------------------------------------------------- retries


def retry_delay(attempt: int, first: timedelta, cap: timedelta, factor: float = 2.0) -> timedelta:
    """Wait before attempt ``attempt + 1``: first, first×factor, … never above ``cap``."""
    if attempt < 1:
        return first
    seconds = first.total_seconds() * factor ** (attempt - 1)
    return min(timedelta(seconds=seconds), cap)
