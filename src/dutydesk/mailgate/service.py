"""Taking one mail: file a ticket, or comment on the ticket it answers — the in-process API
behind ``dutydesk mailgate`` (an SMTP-facing process can call :func:`take` the same way).

Everything one mail does — a guest reporter created, the ticket or comment, its attachments,
its Message-ID recorded — happens in one transaction: a refused mail leaves nothing behind.
Filing and commenting go through the tickets' own use cases, so their rules hold here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dutydesk.auth.guests import guest_name, guest_reporter
from dutydesk.auth.models import User
from dutydesk.context import Ctx
from dutydesk.errors import DomainError, Forbidden, RuleViolation
from dutydesk.mailgate import threads
from dutydesk.mailgate.models import INBOUND, MailAttachment, MailMessage
from dutydesk.mailgate.parse import (
    EX_CONFIG,
    EX_DATAERR,
    EX_NOPERM,
    EX_NOUSER,
    Attachment,
    MailRefused,
    ParsedMail,
    parse,
)
from dutydesk.mailgate.text import trim_reply
from dutydesk.policy.ingress import MailDeskPolicy
from dutydesk.state import AppState
from dutydesk.tickets import filing, service
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.recorder import get_ticket
from dutydesk.tickets.schemas import FileTicket
from dutydesk.triage.titles import vague_title_hint

MAX_DESCRIPTION = 50_000
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# Acts only until the sender is known, inside the same transaction; never written anywhere.
_GATEWAY = User(name="mailgate", roles=[], desks=[], active=True)


@dataclass(frozen=True)
class MailOutcome:
    action: Literal["filed", "commented", "ignored"]
    key: str | None
    detail: str
    hints: tuple[str, ...] = ()


def desk_mail(state: AppState, desk: str) -> MailDeskPolicy:
    found = state.policy.desks.get(desk)
    if found is None:
        raise MailRefused(
            EX_CONFIG, f"no desk named {desk!r}; desks are {', '.join(sorted(state.policy.desks))}"
        )
    if found.mail is None:
        raise MailRefused(
            EX_CONFIG,
            f"desk {desk!r} takes no mail: add [desks.{desk}.mail] with its address to the policy",
        )
    return found.mail


def take(state: AppState, desk: str, raw: bytes) -> MailOutcome:
    """File or comment from one raw message; ``MailRefused`` says why not (and the exit code)."""
    rules = desk_mail(state, desk)
    mail = parse(raw, max_bytes=rules.max_message_bytes, max_parts=rules.max_parts)
    if mail.automatic:
        return MailOutcome(
            "ignored", None, f"not answered: an automatic message ({mail.automatic})"
        )
    domain = threads.message_domain(state.policy)
    with state.write(_GATEWAY) as gate:
        s = gate.session
        if threads.is_ours(s, mail.message_id, domain):
            return MailOutcome("ignored", None, "not taken: one of our own messages came back")
        if mail.message_id and s.get(MailMessage, mail.message_id) is not None:
            return MailOutcome("ignored", None, f"already taken: <{mail.message_id}>")
        ctx = replace(gate, actor=_sender(s, mail, desk, rules, gate))
        target = _answered_ticket(s, mail, desk, domain)
        try:
            if target is not None:
                return _comment(ctx, target, mail, rules)
            return _file(ctx, desk, mail, rules)
        except Forbidden as exc:
            raise MailRefused(EX_NOPERM, exc.detail) from exc
        except RuleViolation as exc:
            raise MailRefused(EX_NOPERM, exc.detail) from exc
        except DomainError as exc:
            raise MailRefused(EX_DATAERR, exc.detail) from exc
        except ValidationError as exc:  # what the mail gave does not make a ticket
            raise MailRefused(EX_DATAERR, str(exc.errors()[0].get("msg"))) from exc


def _sender(s: Session, mail: ParsedMail, desk: str, rules: MailDeskPolicy, gate: Ctx) -> User:
    user = s.scalar(
        select(User)
        .where(func.lower(User.email) == mail.sender, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )
    if user is not None:
        return user
    if rules.unknown_senders == "reject":
        raise MailRefused(
            EX_NOUSER,
            f"{mail.sender} is not a user of desk {desk!r}, which takes mail only from its users",
        )
    return guest_reporter(
        s,
        guest_name("mail", mail.sender),
        desk=desk,
        display_name=mail.sender_name or mail.sender,
        email=mail.sender,
        now=gate.now,
    )


def _answered_ticket(s: Session, mail: ParsedMail, desk: str, domain: str) -> Ticket | None:
    """The ticket a mail answers: a key in its subject, else a Message-ID it replies to."""
    for key in mail.subject_keys(desk):
        try:
            return get_ticket(s, key, for_update=False)
        except DomainError:
            continue
    return threads.ticket_for_thread(s, mail.thread_ids, domain)


def _listing(kept: list[Attachment], dropped: list[Attachment], limit: int) -> str:
    if not kept and not dropped:
        return ""
    lines = ["", "**Attachments**"]
    lines += [f"* {a.filename} ({_size(a.size)})" for a in kept]
    lines += [
        f"* {a.filename} ({_size(a.size)}, over the {_size(limit)} limit: not kept)"
        for a in dropped
    ]
    return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def _split(mail: ParsedMail, limit: int) -> tuple[list[Attachment], list[Attachment]]:
    kept = [a for a in mail.attachments if a.size <= limit]
    return kept, [a for a in mail.attachments if a.size > limit]


def _store(
    ctx: Ctx,
    ticket_id: int,
    comment_id: int | None,
    mail: ParsedMail,
    kept: list[Attachment],
    dropped: list[Attachment],
) -> None:
    s = ctx.session
    for a in kept + dropped:
        s.add(
            MailAttachment(
                ticket_id=ticket_id,
                comment_id=comment_id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                data=a.data if a in kept else None,
                created_at=ctx.now,
            )
        )
    if mail.message_id:
        s.add(
            MailMessage(
                message_id=mail.message_id,
                ticket_id=ticket_id,
                comment_id=comment_id,
                direction=INBOUND,
                created_at=ctx.now,
            )
        )
    s.flush()


def _file(ctx: Ctx, desk: str, mail: ParsedMail, rules: MailDeskPolicy) -> MailOutcome:
    kept, dropped = _split(mail, rules.max_attachment_bytes)
    listing = _listing(kept, dropped, rules.max_attachment_bytes)
    body = mail.body
    if len(body) + len(listing) > MAX_DESCRIPTION:
        body = body[: MAX_DESCRIPTION - len(listing) - 40] + "\n\n…(the rest of the mail is cut)"
    title = _REPLY_PREFIX.sub("", mail.subject).strip()
    if len(title) < 3:
        title = f"Mail from {mail.sender_name or mail.sender}"[:300]
    filed = filing.file(ctx, desk, FileTicket(title=title, description=body + listing))
    _store(ctx, filed.ticket.id, None, mail, kept, dropped)
    hint = vague_title_hint(title)
    return MailOutcome(
        "filed", filed.ticket.key, f"filed {filed.ticket.key}", (hint,) if hint else ()
    )


def _comment(ctx: Ctx, ticket: Ticket, mail: ParsedMail, rules: MailDeskPolicy) -> MailOutcome:
    kept, dropped = _split(mail, rules.max_attachment_bytes)
    text = trim_reply(mail.body)
    if not text and not kept and not dropped:
        raise MailRefused(
            EX_DATAERR,
            f"the reply to {ticket.key} has no words of its own above the quoted message",
        )
    listing = _listing(kept, dropped, rules.max_attachment_bytes)
    body = (text + listing)[:MAX_DESCRIPTION] or "(attachments only)"
    changed, comment = service.add_comment(ctx, ticket.key, body, public=True)
    _store(ctx, changed.id, comment.id, mail, kept, dropped)
    return MailOutcome("commented", changed.key, f"commented on {changed.key}")
