"""A ticket's history as the ticket page shows it (pure): events and comments merged into
one timeline, each event described in a sentence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dutydesk.tickets.models import Comment, Event


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    actor: str | None
    kind: str  # "comment" or "event"
    #: for events: what happened, as (words, ticket key it links to or None); one entry per
    #: change made together by one person in one action
    parts: tuple[tuple[str, str | None], ...] = ()
    html: str = ""  # sanitized comment HTML (rendered from markdown by dutydesk.markdown)
    public: bool = True
    comment_kind: str = "comment"

    @property
    def text(self) -> str:
        return "; ".join(words for words, _ in self.parts)


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
        return value[:16].replace("T", " ") + " UTC"
    return str(value)


_FIELD_NAMES = {
    "assignee": "assignee",
    "triaged_by": "triager",
    "duplicate_of": "duplicate of",
    "pr_links": "PR links",
    "fix_target": "fix target",
    "customer_reported": "customer reported",
    "blocked_reason": "blocked reason",
    "resolved_at": "resolved at",
    "triaged_at": "triaged at",
    "started_at": "started at",
}


# Changes the timeline leaves out because the event beside them says it better
# ("triaged it as P1", "moved it from Triaged to In progress", "moved it above X").
_IMPLIED = {"rank", "triaged_at", "triaged_by", "started_at", "resolved_at"}


def describe_event(e: Event) -> tuple[str, str | None]:
    """One line of history in words, plus a ticket key it refers to (if any)."""
    data = e.data or {}
    if e.type == "filed":
        criteria = data.get("criteria") or []
        tail = f" (criteria: {', '.join(criteria)})" if criteria else ""
        if data.get("converted_from"):
            return f"filed this ticket converted from {data['converted_from']}", str(
                data["converted_from"]
            )
        if data.get("left_out"):
            tail += f". {data['left_out']}"
        return f"filed this ticket{tail}", None
    if e.type == "triaged":
        return (f"triaged it as {e.after}" if e.after else "triaged it"), None
    if e.type == "admission":
        to = str(data.get("to", ""))
        where = (
            "the queue"
            if to == "queue"
            else f"team {to.removeprefix('team:')}'s view"
            if to.startswith("team:")
            else "the weekly triage backlog"
        )
        return f"moved it to {where} ({data.get('reason', '')})", None
    if e.type == "blocked":
        return f"marked it blocked: {e.after}", None
    if e.type == "unblocked":
        return "unblocked it", None
    if e.type == "returned":
        return f"it went back to {e.after} ({data.get('reason', '')})", None
    if e.type == "ranked":
        if data.get("before_key"):
            return f"moved it above {data['before_key']}", data["before_key"]
        if data.get("after_key"):
            return f"moved it below {data['after_key']}", data["after_key"]
        return "reordered it", None
    if e.type == "converted":
        return f"converted it from {e.before} to {e.after}", None
    if e.type == "linked" and e.field == "converted_to":
        return (
            f"converted it to {data.get('kind', 'a story')} {e.after} on desk {data.get('desk')}",
            str(e.after),
        )
    if e.type == "watched":
        return "started watching it", None
    if e.type == "unwatched":
        return "stopped watching it", None
    if e.type == "github_not_mirrored":
        did = f"{data.get('github_action')} the issue on GitHub as {data.get('by')}"
        return f"{did}; not mirrored here: {data.get('reason')}", None
    if e.type == "imported":  # the link back to the source tracker
        verb = "updated it from" if data.get("update") else "imported it from"
        where = f" ({data['url']})" if data.get("url") else ""
        return f"{verb} {data.get('source')} as {data.get('external_id')}{where}", None
    if e.type == "handoff_note":
        return "", None  # the note itself shows as a comment marked "handoff note"
    if e.type == "duplicate_linked":
        return f"{e.after} was closed as a duplicate of this ticket", e.after
    if e.type == "changed":
        name = _FIELD_NAMES.get(e.field or "", e.field or "a field")
        if e.field == "status":
            return f"moved it from {_show(e.before)} to {_show(e.after)}", None
        if e.field == "duplicate_of":
            if e.after:
                return f"marked it a duplicate of {e.after}", str(e.after)
            return f"cleared duplicate of {_show(e.before)}", None
        if e.field in ("description",):
            return "edited the description", None
        if e.field in _IMPLIED:
            return "", None  # bookkeeping that a neighbouring event already says in words
        if e.field == "blocked":
            return ("marked it blocked" if e.after else "cleared blocked"), None
        if e.before in (None, "", []):
            return f"set {name} to {_show(e.after)}", None
        if e.after in (None, "", []):
            return f"cleared {name} (was {_show(e.before)})", None
        return f"changed {name} from {_show(e.before)} to {_show(e.after)}", None
    return e.type.replace("_", " "), None


def timeline(
    events: Sequence[tuple[Event, str | None]],
    comments: Sequence[tuple[Comment, str | None]],
) -> list[TimelineItem]:
    """One history: events in order, each comment shown where its 'commented' event stands.

    ``comments`` holds only what the viewer may see; an event about a comment they may not see
    (an internal note) is left out with it.
    """
    by_id = {c.id: (c, author) for c, author in comments}
    items: list[TimelineItem] = []
    for e, actor in events:
        if e.type == "commented":
            cid = (e.data or {}).get("comment_id")
            found = by_id.pop(cid, None) if isinstance(cid, int) else None
            if found is None:
                continue
            c, author = found
            items.append(
                TimelineItem(
                    at=c.created_at,
                    actor=author,
                    kind="comment",
                    html=c.body_html,
                    public=c.public,
                    comment_kind=str((e.data or {}).get("kind", "comment")),
                )
            )
            continue
        text, ref = describe_event(e)
        if not text:
            continue
        last = items[-1] if items else None
        if last and last.kind == "event" and last.actor == actor and last.at == e.at:
            items[-1] = replace(last, parts=(*last.parts, (text, ref)))
        else:
            items.append(TimelineItem(at=e.at, actor=actor, kind="event", parts=((text, ref),)))
    for c, author in by_id.values():  # comments without an event (imported history)
        items.append(
            TimelineItem(
                at=c.created_at, actor=author, kind="comment", html=c.body_html, public=c.public
            )
        )
    items.sort(key=lambda i: i.at)
    return items
