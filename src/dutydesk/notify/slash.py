"""``/dutydesk`` in Slack and Mattermost: verify the request, map the chat user, run a command.

Slack signs each request: ``X-Slack-Signature = v0=hex(HMAC-SHA256(secret, "v0:<ts>:<body>"))``
with ``X-Slack-Request-Timestamp``; a timestamp outside ``notify.slash.max_age`` or a
signature already seen inside that window (a replay) gets 401. Mattermost sends a per-command
token in the form, compared in constant time. Either way the chat user must map to an active
dutydesk user (a linked chat account, the ``chat`` ids declared for a person in policy, or —
if ``match_user_names`` — the same user name); filing goes through the ticket service, so
filing rules, admission and notifications all apply.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.durations import parse_span
from dutydesk.errors import DomainError, Unauthorized
from dutydesk.notify.chat_text import slack_escape, to_mattermost
from dutydesk.notify.models import ChatAccount, ChatReplay
from dutydesk.oncall.lookup import oncall
from dutydesk.policy.models import Policy
from dutydesk.state import AppState
from dutydesk.tickets import filing, queries, recorder
from dutydesk.tickets.schemas import FileTicket
from dutydesk.tickets.workflow import admission_note
from dutydesk.triage.schemas import HintsOut
from dutydesk.triage.service import (
    SimilarTicket,
    filing_hints,
    similar_tickets,
    similar_to_ticket,
)
from dutydesk.triage.titles import sections_hint

USAGE = (
    "Usage: `/dutydesk file [desk:] <title>` · `/dutydesk similar [desk:] <title> | KEY` · "
    "`/dutydesk oncall [desk]` · `/dutydesk queue [desk]` · `/dutydesk show KEY`"
)
KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")


# ----------------------------------------------------------------------------- verification


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(
    secret: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
    max_age: timedelta,
) -> None:
    """Raise Unauthorized unless the request is signed with ``secret`` and fresh."""
    if not secret:
        raise Unauthorized("Slack slash commands are not configured (signing secret unset)")
    if not timestamp or not signature:
        raise Unauthorized("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise Unauthorized("X-Slack-Request-Timestamp is not a Unix time") from exc
    if abs(now.timestamp() - ts) > max_age.total_seconds():
        raise Unauthorized("the request is too old or from the future (replay refused)")
    if not hmac.compare_digest(slack_signature(secret, timestamp, body), signature):
        raise Unauthorized("bad Slack signature")


def verify_token(expected: str | None, sent: str | None) -> None:
    if not expected:
        raise Unauthorized("Mattermost slash commands are not configured (token unset)")
    if not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Unauthorized("bad Mattermost token")


def remember(session: Session, signature: str, now: datetime, max_age: timedelta) -> None:
    """Record a verified signature; seeing it again inside the window is a replay (401)."""
    digest = hashlib.sha256(signature.encode()).hexdigest()
    session.execute(delete(ChatReplay).where(ChatReplay.seen_at < now - 2 * max_age))
    session.add(ChatReplay(signature=digest, seen_at=now))
    try:
        session.flush()
    except IntegrityError as exc:
        raise Unauthorized("this request was already handled (replay refused)") from exc


# ----------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Command:
    name: str
    desk: str | None
    arg: str


def parse(text: str, desks: set[str]) -> Command:
    """'file set: Crash on login' → Command('file', 'set', 'Crash on login')."""
    word, _, rest = text.strip().partition(" ")
    name, rest = word.lower(), rest.strip()
    if name in ("file", "similar"):
        head, sep, tail = rest.partition(":")
        if sep and head.strip().lower() in desks:
            return Command(name, head.strip().lower(), tail.strip())
        return Command(name, None, rest)
    if name in ("oncall", "queue"):
        arg = rest.lower()
        return Command(name, arg if arg in desks else None, "" if arg in desks else rest)
    if name == "show":
        return Command("show", None, rest.upper())
    return Command("help", None, rest)


def reply(text: str, *, public: bool = False) -> dict[str, Any]:
    return {"response_type": "in_channel" if public else "ephemeral", "text": text}


def chat_user(
    session: Session, policy: Policy, platform: str, form: Mapping[str, str]
) -> User | None:
    uid, uname = form.get("user_id", ""), form.get("user_name", "")
    user: User | None = None
    if uid:
        link = session.get(ChatAccount, (platform, uid))
        if link is not None:
            user = session.get(User, link.user_id)
    if user is None:
        for name, person in policy.people.items():
            declared = next((v for k, v in person.chat.items() if k == platform), None)
            if declared and declared in (uid, uname):
                user = session.scalar(select(User).where(User.name == name))
                break
    if user is None and uname and policy.notify.slash.match_user_names:
        user = session.scalar(select(User).where(User.name == uname))
    return user if user is not None and user.active else None


def _desk(policy: Policy, cmd: Command, form: Mapping[str, str]) -> str | None:
    if cmd.desk:
        return cmd.desk
    slash = policy.notify.slash
    for key in (form.get("channel_name", ""), form.get("channel_id", "")):
        if key and key in slash.desks:
            return slash.desks[key]
    if slash.default_desk:
        return slash.default_desk
    return next(iter(policy.desks)) if len(policy.desks) == 1 else None


def handle(state: AppState, platform: str, form: Mapping[str, str]) -> dict[str, Any]:
    """Run one verified command; answers are chat replies (errors too: the chat shows them).

    Answers quote titles and reasons: escaped for the platform, they ping nobody.
    """
    out = _answer(state, platform, form)
    text = str(out["text"])
    out["text"] = slack_escape(text) if platform == "slack" else to_mattermost(text)
    return out


def _answer(state: AppState, platform: str, form: Mapping[str, str]) -> dict[str, Any]:
    policy = state.policy
    cmd = parse(form.get("text", ""), set(policy.desks))
    with state.db.read() as s:
        user = chat_user(s, policy, platform, form)
    if user is None:
        return reply(
            f"Your {platform} account ({form.get('user_name') or form.get('user_id') or '?'}) is "
            "not linked to a dutydesk user; ask an admin to run "
            f"`dutydesk chat link USER --platform {platform} --id {form.get('user_id', 'ID')}`."
        )
    if cmd.name == "help":
        return reply(USAGE)
    desk = _desk(policy, cmd, form)
    try:
        if cmd.name == "show":
            with state.db.read() as s:
                ticket = recorder.get_ticket(s, cmd.arg or "?")
                [t] = queries.present(s, policy, [ticket])
            lines = [
                f"*{t.key}* {t.title}",
                f"{t.status} · {t.priority or ('no priority' if t.triaged_at else 'untriaged')} · assignee {t.assignee or '-'} · "
                f"reporter {t.reporter}" + (f" · blocked: {t.blocked_reason}" if t.blocked else ""),
            ]
            return reply("\n".join(lines))
        if (
            cmd.name == "similar"
            and KEY.fullmatch(cmd.arg)
            and cmd.arg.rpartition("-")[0].lower() in policy.desks
        ):
            with state.db.read() as s:
                key = recorder.get_ticket(s, cmd.arg).key
                earlier = similar_to_ticket(s, key, SIMILAR_SHOWN)
            return reply(similar_lines(f"Earlier tickets {key} may repeat", earlier))
        if desk is None:
            return reply(
                f"Which desk? Name one: {', '.join(policy.desks)} (e.g. `/dutydesk {cmd.name} {next(iter(policy.desks))}`)"
            )
        if cmd.name == "file":
            if not cmd.arg:
                return reply(
                    "Give the ticket a title: `/dutydesk file Add a builder for linux web`"
                )
            with state.write(user) as ctx:
                ticket = filing.file_ticket(ctx, desk, FileTicket(title=cmd.arg))
                key, title = ticket.key, ticket.title
                admission = admission_note(
                    policy.desks[desk],
                    is_open=ticket.is_open,
                    in_queue=ticket.in_queue,
                    priority=ticket.priority,
                )
            note = f"\nWeekly triage backlog: {admission}." if admission else ""
            with state.db.read() as s:
                hints = hint_lines(filing_hints(s, policy.desks, key))
            return reply(f"{user.name} filed *{key}*: {title}{note}{hints}", public=True)
        if cmd.name == "similar":
            if not cmd.arg:
                return reply(
                    "Give a title or a ticket key: `/dutydesk similar builder offline` or "
                    "`/dutydesk similar INFRA-12`"
                )
            with state.db.read() as s:
                similar = similar_tickets(s, desk, cmd.arg, "", state.now(), limit=SIMILAR_SHOWN)
            return reply(similar_lines(f"Possible duplicates on {desk}", similar))
        if cmd.name == "oncall":
            with state.db.read() as s:
                found = oncall(s, policy, desk, state.now())
            if found is None:
                return reply(f"Desk {desk} has no rotation.")
            lines = [f"On call for {desk}:", *(f"• {line}" for line in found.lines())]
            return reply("\n".join(lines))
        with state.db.read() as s:
            rows, _ = queries.queue(s, desk, 10, None)
            shown = queries.present(s, policy, rows)
        if not shown:
            return reply(f"The {desk} queue is empty.")
        lines = [f"Top of the {desk} queue:"] + [
            f"{i}. *{t.key}* [{t.priority or 'untriaged'}] {t.title} ({t.assignee or 'unassigned'})"
            for i, t in enumerate(shown, 1)
        ]
        return reply("\n".join(lines))
    except ValidationError as exc:
        first = exc.errors()[0]
        return reply(f"Not filed: {'.'.join(map(str, first['loc']))}: {first['msg']}")
    except DomainError as exc:
        return reply(f"Sorry: {exc.detail}")


def slash_max_age(policy: Policy) -> timedelta:
    return parse_span(policy.notify.slash.max_age)


SIMILAR_SHOWN = 5


def similar_lines(heading: str, found: list[SimilarTicket]) -> str:
    """The similar-tickets answer: open ones first, each with the words it shares."""
    if not found:
        return f"{heading}: none found (no earlier ticket shares its telling words)."
    lines = [f"{heading}:"]
    for i, t in enumerate(found, 1):
        state = "open" if t.open else f"closed, {t.status}"
        words = f" — shares: {', '.join(t.words)}" if t.words else ""
        lines.append(f"{i}. *{t.key}* {t.title} ({state}, score {t.score:.1f}){words}")
    return "\n".join(lines)


def hint_lines(hints: HintsOut) -> str:
    """The filing hints every way in gives: the title nudge and possible duplicates."""
    lines = [f"Hint: {hints.title}"] if hints.title else []
    if sections := sections_hint(hints.sections):
        lines.append(f"Hint: {sections}")
    lines += [f"Possible duplicate: *{s.key}* {s.title}" for s in hints.similar[:3]]
    return "".join(f"\n{line}" for line in lines)
