"""Notification use cases: writing notices with a ticket change, folding them into messages.

:func:`on_change` runs inside the ticket use case's transaction (the tickets service calls
it from ``_Change.finish`` and ``file_ticket``), so a change and the notices it causes are
committed together or not at all. It does little work there: a few indexed reads, then one
insert of notice rows; rendering, preferences and destinations happen later in the worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Pool, bindparam, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.context import Ctx
from dutydesk.db import pool_of
from dutydesk.notify import outbox, rules, sources
from dutydesk.notify.channels import PERSONAL_EMAIL
from dutydesk.notify.models import (
    DELIVERED,
    EXPIRED,
    MESSAGE,
    NOTICE,
    SKIPPED,
    NotifyPreference,
)
from dutydesk.policy.models import DeskPolicy, Policy
from dutydesk.policy.notify import PersonNotify, parse_span
from dutydesk.tickets.models import Comment, Event, Ticket, Watcher


def recipient_of(user_id: int) -> str:
    return f"user:{user_id}"


def message_payload(
    kind: str,
    subject: str,
    markdown: str,
    now: datetime,
    policy: Policy,
    *,
    data: dict[str, Any] | None = None,
    expire: bool = True,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "kind": kind,
        "subject": subject,
        "markdown": markdown,
        "data": data or {},
    }
    if expire:
        payload["expires_at"] = (now + parse_span(policy.notify.expire_after)).isoformat()
    return payload


def desk_messages(
    policy: Policy,
    desk: str,
    post: str,
    key: str,
    subject: str,
    markdown: str,
    now: datetime,
    *,
    data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows posting one message to each of the desk's channels, if the desk posts ``post``."""
    spec = policy.desks[desk].notify
    if post not in spec.post:
        return []
    payload = message_payload(f"desk.{post}", subject, markdown, now, policy, data=data)
    return [
        outbox.row(
            MESSAGE, f"{key}:{ch}", now, payload, now, channel=ch, recipient=f"#{ch}", desk=desk
        )
        for ch in spec.channels
    ]


def notice_row(
    policy: Policy,
    user: User,
    reason: str,
    key: str,
    lines: Sequence[str],
    now: datetime,
    *,
    ticket: str | None = None,
    title: str = "",
    desk: str | None = None,
    urgent: bool = False,
    actor: str | None = None,
) -> dict[str, Any]:
    window = parse_span(policy.notify.batch_window)
    payload = {
        "user": user.id,
        "name": user.name,
        "reason": reason,
        "ticket": ticket,
        "title": title,
        "lines": list(lines),
        "actor": actor,
        "at": now.isoformat(),
        "expires_at": (now + parse_span(policy.notify.expire_after)).isoformat(),
    }
    return outbox.row(
        NOTICE,
        key,
        rules.batch_due(now, window, urgent),
        payload,
        now,
        recipient=recipient_of(user.id),
        desk=desk,
    )


# ----------------------------------------------------------------------------- the hook

# Built once (expanding IN): the hook runs in every ticket transaction.
_USERS_BY_ID = select(User).where(User.id.in_(bindparam("ids", expanding=True)))
_USERS_BY_NAME = select(User).where(User.name.in_(bindparam("names", expanding=True)))


# A user's name never changes and nobody is deleted, so name → id holds as long as the
# database does (one map per database).
_ids_by_name: WeakKeyDictionary[Pool, dict[str, int]] = WeakKeyDictionary()
_USERS_HELD = "dutydesk.notify.users"  # session.info: users this transaction loaded


def _id_by_name(s: Session) -> dict[str, int]:
    return _ids_by_name.setdefault(pool_of(s), {})


def _users(s: Session, ids: set[int], names: set[str]) -> dict[int, User]:
    """Users by id and by name. The session keeps those it loaded (its identity map holds
    objects only weakly): a write transaction carrying several filings asks for the same
    on-call people each time, and users change only through the ORM, so through these same
    objects."""
    id_by_name = _id_by_name(s)
    held: dict[int, User] = s.info.setdefault(_USERS_HELD, {})
    unknown = [n for n in names if n not in id_by_name]
    if unknown:
        for u in s.scalars(_USERS_BY_NAME, {"names": unknown}):
            id_by_name[u.name] = u.id
            held[u.id] = u
    wanted = ids | {id_by_name[n] for n in names if n in id_by_name}
    missing = [uid for uid in wanted if uid not in held]
    if missing:
        held.update((u.id, u) for u in s.scalars(_USERS_BY_ID, {"ids": missing}))
    return {uid: held[uid] for uid in wanted if uid in held}


def on_change(
    ctx: Ctx,
    ticket: Ticket,
    desk: DeskPolicy,
    events: Sequence[Event],
    *,
    watcher_ids: set[int] | None = None,
    known_users: Sequence[User] = (),
) -> None:
    """Write the notices and desk posts one ticket change causes (same transaction).

    A caller that already knows the ticket's watchers or holds some users (filing does)
    passes them and saves the queries.
    """
    if not events:
        return
    s, policy, now = ctx.session, ctx.policy, ctx.now
    changes = [rules.Change(e.type, e.field, e.before, e.after, e.data or {}) for e in events]
    filed = any(c.type == "filed" for c in changes)

    comments: dict[int, rules.CommentFacts] = {}
    mention_names: dict[str, tuple[int, str]] = {}
    for c in changes:
        if c.type == "commented" and c.data.get("comment_id") and c.data.get("kind") != "reference":
            comment = s.get(Comment, int(c.data["comment_id"]))
            if comment is None:
                continue
            comments[comment.id] = rules.CommentFacts(ctx.actor.name, comment.body, comment.public)
            for name in rules.parse_mentions(comment.body):
                mention_names.setdefault(name, (comment.id, rules.excerpt(comment.body)))

    oncall_names = sources.oncall_people(s, policy, ticket.desk, now) if filed else []

    # No autoflush: the use case's own writes are flushed once, at commit.
    with s.no_autoflush:
        if watcher_ids is None:
            watcher_ids = set(
                s.scalars(select(Watcher.user_id).where(Watcher.ticket_id == ticket.id))
            )
            watcher_ids |= {
                w.user_id for w in s.new if isinstance(w, Watcher) and w.ticket_id == ticket.id
            }
        users = {u.id: u for u in known_users}
        involved = watcher_ids | {ticket.reporter_id, ticket.assignee_id}
        ids = {i for i in involved if i is not None} - set(users)
        names = (set(mention_names) | set(oncall_names)) - {u.name for u in known_users}
        users.update(_users(s, ids, names))
    by_name = {u.name: u for u in users.values()}
    insiders = frozenset(uid for uid, u in users.items() if has_role(u, "responder", ticket.desk))

    mentioned: dict[int, str] = {}
    for name, (cid, text) in mention_names.items():
        user = by_name.get(name)
        if user is None or not user.active:
            continue
        if comments[cid].public or user.id in insiders:
            mentioned[user.id] = text
    assignee = users.get(ticket.assignee_id) if ticket.assignee_id else None
    facts = rules.TicketFacts(
        key=ticket.key,
        desk=ticket.desk,
        title=ticket.title,
        priority=ticket.priority,
        status=ticket.status,
        reporter_id=ticket.reporter_id,
        assignee_id=ticket.assignee_id,
        assignee=assignee.name if assignee else None,
        watchers=frozenset(watcher_ids),
        insiders=insiders,
        urgent_priority=desk.priorities[0] if desk.priorities else None,
    )
    oncall_ids = [by_name[n].id for n in oncall_names if n in by_name]
    notices, posts = rules.who_hears(
        facts,
        ctx.actor.id,
        ctx.actor.name,
        changes,
        comments=comments,
        mentioned=mentioned,
        oncall=oncall_ids,
    )
    seq = max(e.seq for e in events)
    rows: list[dict[str, Any]] = []
    for n in notices:
        user = users[n.user_id]
        if not user.active:
            continue
        rows.append(
            notice_row(
                policy,
                user,
                n.reason,
                f"notice:{ticket.id}:{seq}:{user.id}",
                n.lines,
                now,
                ticket=ticket.key,
                title=ticket.title,
                desk=ticket.desk,
                urgent=n.urgent,
                actor=ctx.actor.name,
            )
        )
    for post in posts:
        text = _link_key(post.text, ticket.key, policy.notify.base_url)
        rows += desk_messages(
            policy,
            ticket.desk,
            post.what,
            f"post:{post.what}:{ticket.id}:{seq}",
            f"{ticket.key}: {ticket.title}",
            text,
            now,
            data={
                "ticket": ticket.key,
                "title": ticket.title,
                "priority": ticket.priority,
                "status": ticket.status,
                "event": post.what,
            },
        )
    outbox.insert_ignore(s, rows)


def _link_key(text: str, key: str, base_url: str | None) -> str:
    return text.replace(key, rules.link(key, base_url), 1) if base_url else text


# ----------------------------------------------------------------------------- preferences


@dataclass(frozen=True)
class Prefs:
    via: tuple[str, ...]
    chat_channel: str | None
    mute: frozenset[str]
    source: str  # "default" | "policy" | "user"


def preferences(session: Session, policy: Policy, user: User) -> Prefs:
    row = session.get(NotifyPreference, user.id)
    if row is not None:
        return Prefs(tuple(row.via), row.chat_channel, frozenset(row.mute), "user")
    person = policy.people.get(user.name)
    declared = person.notify if person is not None else PersonNotify()
    return Prefs(
        tuple(declared.via),
        declared.chat_channel,
        frozenset(declared.mute),
        "policy" if person is not None else "default",
    )


def destinations(policy: Policy, user: User, prefs: Prefs) -> list[tuple[str, str]]:
    """(channel, address or @handle) pairs that reach this person."""
    out: list[tuple[str, str]] = []
    if "email" in prefs.via and user.email:
        out.append((PERSONAL_EMAIL, user.email))
    if "chat" in prefs.via and prefs.chat_channel in policy.notify.channels:
        kind = policy.notify.channels[prefs.chat_channel].type
        person = policy.people.get(user.name)
        declared = next((v for k, v in person.chat.items() if k == kind), None) if person else None
        handle = declared or user.name
        out.append((prefs.chat_channel, "@" + handle.lstrip("@")))
    return out


# ----------------------------------------------------------------------------- folding


def _expired(payload: dict[str, Any], now: datetime) -> bool:
    raw = payload.get("expires_at")
    return raw is not None and datetime.fromisoformat(str(raw)) < now


def fold(session: Session, policy: Policy, recipient: str, now: datetime) -> int:
    """Fold one person's pending notices into one message per destination; returns messages.

    Runs once the first notice's batching window has passed, and takes every notice of the
    person written by ``now`` — so changes within the window arrive as one message.
    """
    rows = outbox.pending_for(session, recipient, NOTICE, now)
    if not any(r.due_at <= now for r in rows):
        return 0
    user = session.get(User, int(recipient.split(":", 1)[1]))
    if user is None:
        for r in rows:
            r.state, r.last_error = SKIPPED, "user is gone"
        return 0
    prefs = preferences(session, policy, user)
    fresh = []
    for r in rows:
        if _expired(r.payload, now):
            r.state, r.last_error = EXPIRED, "older than notify.expire_after"
        elif r.payload.get("reason") in prefs.mute:
            r.state, r.last_error = SKIPPED, f"muted: {r.payload.get('reason')}"
        else:
            fresh.append(r)
    if not fresh:
        return 0
    dests = destinations(policy, user, prefs) if user.active else []
    if not dests:
        for r in fresh:
            r.state, r.last_error = SKIPPED, "no way to reach this person (e-mail or chat)"
        return 0
    rendered = rules.render_digest(
        user.display_name or user.name, [r.payload for r in fresh], policy.notify.base_url
    )
    payload = message_payload(
        "digest",
        rendered.subject,
        rendered.markdown,
        now,
        policy,
        data={
            "user": user.name,
            "notices": [
                {k: r.payload.get(k) for k in ("ticket", "reason", "lines")} for r in fresh
            ],
        },
        expire=False,
    )
    first = fresh[0].id
    out = [
        outbox.row(
            MESSAGE,
            f"digest:{user.id}:{first}:{ch}",
            now,
            payload,
            now,
            channel=ch,
            recipient=to,
            desk=fresh[0].desk,
        )
        for ch, to in dests
    ]
    outbox.insert_ignore(session, out)
    for r in fresh:
        r.state, r.delivered_at = DELIVERED, now
    return len(out)
