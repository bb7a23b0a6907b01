"""Notification use cases: fanning out queued ticket changes, folding notices.

A ticket change writes one ``notify_changes`` row in its own transaction
(``tickets.changes.record_change``): tickets sit below notify and never call it. The worker
then expands (:func:`expand`) each queued change into notice and desk-post rows, many
changes to a transaction, and later folds the notices into messages: who is on call, who
may read an internal comment, preferences and rendering all stay off the request's path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Pool, bindparam, delete, func, select
from sqlalchemy.orm import Session

from dutydesk.auth import audit
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, require
from dutydesk.context import Ctx
from dutydesk.db import pool_of
from dutydesk.durations import format_span, parse_span
from dutydesk.errors import field_error
from dutydesk.mailgate import threads as mail_threads
from dutydesk.notify import outbox, rules
from dutydesk.notify.channels import PERSONAL_EMAIL
from dutydesk.notify.models import (
    DELIVERED,
    EXPIRED,
    MESSAGE,
    NOTICE,
    SKIPPED,
    NotifyChange,
    NotifyPreference,
)
from dutydesk.notify.queued import QueuedChange
from dutydesk.notify.rows import OutboxRow, desk_messages, message_payload, notice_row
from dutydesk.notify.schemas import PrefsIn, PrefsOut
from dutydesk.oncall.lookup import oncall_people
from dutydesk.policy.models import Policy
from dutydesk.policy.notify import REASONS, PersonNotify

# ----------------------------------------------------------------------------- fan-out

# Built once (expanding IN): every expansion asks for people.
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
    objects only weakly): one expansion carries many changes, which ask for the same on-call
    people each time."""
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


def queued_changes(s: Session, limit: int) -> list[tuple[int, QueuedChange]]:
    """The oldest changes waiting to be fanned out: (queue id, change)."""
    stmt = select(NotifyChange.id, NotifyChange.payload).order_by(NotifyChange.id).limit(limit)
    return [(i, QueuedChange.from_json(p)) for i, p in s.execute(stmt)]


def queued_count(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(NotifyChange)) or 0)


def forget_changes(s: Session, ids: Sequence[int]) -> None:
    """Drop fanned-out changes from the queue (in the transaction that wrote their rows)."""
    if ids:
        s.execute(delete(NotifyChange).where(NotifyChange.id.in_(ids)))


def expand(s: Session, policy: Policy, changes: Sequence[QueuedChange]) -> list[OutboxRow]:
    """The outbox rows (notices, desk posts) that queued changes cause, oldest first.

    Their dedupe keys name the ticket and the change's last event, so expanding a change
    twice (two workers, a crash before the queue row went) writes its rows once.
    """
    rows: list[OutboxRow] = []
    for change in changes:
        rows += _rows_for_change(s, policy, change)
    return rows


def _rows_for_change(s: Session, policy: Policy, p: QueuedChange) -> list[OutboxRow]:
    t = p.ticket
    desk = policy.desks.get(t.desk)
    if desk is None:  # the desk left the policy since: nobody to tell
        return []
    now, actor_id, actor_name, changes = p.at, p.actor_id, p.actor_name, list(p.changes)
    comments = {
        cid: rules.CommentFacts(actor_name, c.body, c.public) for cid, c in p.comments.items()
    }
    mention_names: dict[str, tuple[int, str]] = {}
    for cid, c in comments.items():
        for name in rules.parse_mentions(c.body):
            mention_names.setdefault(name, (cid, rules.excerpt(c.body)))
    filed = any(c.type == "filed" for c in changes)
    oncall_names = oncall_people(s, policy, t.desk, now) if filed else []

    watcher_ids = set(p.watchers)
    involved = watcher_ids | {t.reporter_id, t.assignee_id}
    ids = {i for i in involved if i is not None}
    users = _users(s, ids, set(mention_names) | set(oncall_names))
    by_name = {u.name: u for u in users.values()}
    insiders = frozenset(uid for uid, u in users.items() if has_role(u, "responder", t.desk))

    mentioned: dict[int, str] = {}
    for name, (cid, text) in mention_names.items():
        user = by_name.get(name)
        if user is None or not user.active:
            continue
        if comments[cid].public or user.id in insiders:
            mentioned[user.id] = text
    assignee = users.get(t.assignee_id) if t.assignee_id else None
    facts = rules.TicketFacts(
        key=t.key,
        desk=t.desk,
        title=t.title,
        priority=t.priority,
        status=t.status,
        reporter_id=t.reporter_id,
        assignee_id=t.assignee_id,
        assignee=assignee.name if assignee else None,
        watchers=frozenset(watcher_ids),
        insiders=insiders,
        urgent_priority=desk.priorities[0] if desk.priorities else None,
    )
    oncall_ids = [by_name[n].id for n in oncall_names if n in by_name]
    prefs = preferences_of(s, policy, {uid: u.name for uid, u in users.items()})
    notices, posts = rules.who_hears(
        facts,
        actor_id,
        actor_name,
        changes,
        comments=comments,
        mentioned=mentioned,
        oncall=oncall_ids,
        muted={uid: found.mute for uid, found in prefs.items() if found.mute},
    )
    seq = p.seq
    rows: list[OutboxRow] = []
    for n in notices:
        user = users[n.user_id]
        if not user.active:
            continue
        rows.append(
            notice_row(
                policy,
                user,
                n.reason,
                f"notice:{t.id}:{seq}:{user.id}",
                n.lines,
                now,
                ticket=t.key,
                title=t.title,
                desk=t.desk,
                urgent=n.urgent,
                actor=actor_name,
                window=window_of(policy, prefs.get(user.id)),
            )
        )
    for post in posts:
        text = _link_key(post.text, t.key, policy.notify.base_url)
        rows += desk_messages(
            policy,
            t.desk,
            post.what,
            f"post:{post.what}:{t.id}:{seq}",
            f"{t.key}: {t.title}",
            text,
            now,
            data={
                "ticket": t.key,
                "title": t.title,
                "priority": t.priority,
                "status": t.status,
                "event": post.what,
            },
        )
    return rows


def _link_key(text: str, key: str, base_url: str | None) -> str:
    return text.replace(key, rules.link(key, base_url), 1) if base_url else text


# ----------------------------------------------------------------------------- preferences


@dataclass(frozen=True)
class Prefs:
    via: tuple[str, ...]
    chat_channel: str | None
    mute: frozenset[str]
    source: str  # "default" | "policy" | "user"
    digest_window: str | None = None  # theirs; None: the policy's batch window


def _from_row(row: NotifyPreference) -> Prefs:
    return Prefs(tuple(row.via), row.chat_channel, frozenset(row.mute), "user", row.digest_window)


def _declared(policy: Policy, name: str) -> Prefs:
    person = policy.people.get(name)
    declared = person.notify if person is not None else PersonNotify()
    return Prefs(
        tuple(declared.via),
        declared.chat_channel,
        frozenset(declared.mute),
        "policy" if person is not None else "default",
    )


def preferences(session: Session, policy: Policy, user: User) -> Prefs:
    row = session.get(NotifyPreference, user.id)
    return _from_row(row) if row is not None else _declared(policy, user.name)


def preferences_of(session: Session, policy: Policy, people: Mapping[int, str]) -> dict[int, Prefs]:
    """Preferences of many people (id → login name) in one query."""
    if not people:
        return {}
    rows = session.scalars(
        select(NotifyPreference).where(NotifyPreference.user_id.in_(list(people)))
    )
    found = {r.user_id: _from_row(r) for r in rows}
    return {uid: found.get(uid) or _declared(policy, name) for uid, name in people.items()}


def window_of(policy: Policy, prefs: Prefs | None) -> timedelta:
    """How long a person's notices wait to be folded into one message."""
    if prefs is not None and prefs.digest_window:
        return parse_span(prefs.digest_window)
    return parse_span(policy.notify.batch_window)


def personalize(session: Session, policy: Policy, rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    """Each person's preferences on notices a job or timer wrote: a muted reason is not
    written at all, and the notice waits for their own digest window."""
    people = {
        int(r.payload["user"]): str(r.payload.get("name") or "")
        for r in rows
        if r.kind == NOTICE and r.payload.get("user") is not None
    }
    prefs = preferences_of(session, policy, people)
    out: list[OutboxRow] = []
    for r in rows:
        uid = r.payload.get("user") if r.kind == NOTICE else None
        p = prefs.get(int(uid)) if uid is not None else None
        if p is None:
            out.append(r)
        elif rules.hears(p.mute, r.payload.get("reason")):
            if p.digest_window:
                due = rules.batch_due(
                    r.created_at, window_of(policy, p), bool(r.payload.get("urgent"))
                )
                r = replace(r, due_at=due)
            out.append(r)
    return out


DIGEST_MAX = timedelta(hours=12)


def set_preferences(ctx: Ctx, body: PrefsIn) -> PrefsOut:
    """Your own notification preferences: channels, muted reasons, digest window."""
    for reason in body.mute:
        if reason not in REASONS:
            raise field_error("mute", f"{reason!r} is not one of {', '.join(REASONS)}")
    channels = ctx.policy.notify.channels
    if body.chat_channel is not None and (
        body.chat_channel not in channels
        or channels[body.chat_channel].type not in ("slack", "mattermost")
    ):
        raise field_error(
            "chat_channel", f"{body.chat_channel!r} is not a chat channel of this install"
        )
    if "chat" in body.via and body.chat_channel is None:
        raise field_error("chat_channel", "'chat' needs chat_channel")
    window = (body.digest_window or "").strip() or None
    if window is not None:
        try:
            span = parse_span(window)
        except (ValueError, OverflowError) as exc:
            raise field_error("digest_window", str(exc)) from exc
        limit = min(DIGEST_MAX, parse_span(ctx.policy.notify.expire_after) / 2)
        if span < timedelta(0) or span > limit:
            raise field_error(
                "digest_window", f"give a window from '0 minutes' up to {format_span(limit)}"
            )
    row = ctx.session.get(NotifyPreference, ctx.actor.id)
    if row is None:
        row = NotifyPreference(user_id=ctx.actor.id)
        ctx.session.add(row)
    row.via, row.chat_channel = list(dict.fromkeys(body.via)), body.chat_channel
    row.mute = sorted(set(body.mute))
    row.digest_window = window
    row.updated_at = ctx.now
    ctx.session.flush()
    return prefs_out(ctx.policy, _from_row(row))


def prefs_out(policy: Policy, p: Prefs) -> PrefsOut:
    return PrefsOut(
        via=list(p.via),
        chat_channel=p.chat_channel,
        mute=sorted(p.mute),
        digest_window=p.digest_window,
        default_digest_window=policy.notify.batch_window,
        source=p.source,
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
        elif not rules.hears(prefs.mute, r.payload.get("reason")):
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
    # A message about one ticket threads under it by e-mail (see ``mailgate.threads``).
    about = {r.payload.get("ticket") for r in fresh}
    thread = (
        mail_threads.thread_of(session, policy, str(next(iter(about))))
        if len(about) == 1 and None not in about
        else None
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
            **(
                {"thread": {"ticket": thread["ticket"], "references": thread["references"]}}
                if thread
                else {}
            ),
        },
        expire=False,
    )
    first = fresh[0].id
    out = [
        OutboxRow(
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
    if thread:
        domain = mail_threads.message_domain(policy)
        mailed = [r for r in out if _by_email(policy, r.channel)]
        mail_threads.record_outgoing(
            session, thread["ticket_id"], [f"{r.delivery_id}@{domain}" for r in mailed], now
        )
    for r in fresh:
        r.state, r.delivered_at = DELIVERED, now
    return len(out)


def _by_email(policy: Policy, channel: str | None) -> bool:
    declared = policy.notify.channels.get(channel or "")
    return channel == PERSONAL_EMAIL or (declared is not None and declared.type == "email")


# ----------------------------------------------------------------------------- admin


def retry_deliveries(
    ctx: Ctx,
    *,
    ids: Sequence[int] = (),
    state: str | None = None,
    channel: str | None = None,
) -> int:
    """Put dead or parked messages back in line (admins), audited with what was retried."""
    require(ctx.actor, "admin", None, "retry deliveries")
    if not ids and state is None:
        raise field_error("ids", "name message ids, or a state ('dead' or 'parked') to retry all")
    n = outbox.retry(ctx.session, ctx.now, ids=ids, state=state, channel=channel)
    audit.record(
        ctx.session,
        ctx.now,
        ctx.actor,
        "outbox.retried",
        None,
        ids=list(ids),
        state=state,
        channel=channel,
        retried=n,
    )
    return n
