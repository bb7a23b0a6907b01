"""Mail threads per ticket: the Message-IDs we sent or took in, and the References a
notification carries so a reply to it finds its ticket again."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.errors import NotFound
from dutydesk.mailgate.models import INBOUND, OUTBOUND, MailMessage
from dutydesk.policy.models import Policy
from dutydesk.tickets.models import Ticket, ticket_key
from dutydesk.tickets.recorder import parse_key

_ROOT = re.compile(r"^ticket\.([a-z][a-z0-9_-]*-\d+)@(.+)$")
_DELIVERY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def message_domain(policy: Policy) -> str:
    return policy.mail.message_domain(policy.notify.email.sender)


def ticket_root(key: str, domain: str) -> str:
    """The thread root every mail about a ticket refers to, even before any was recorded."""
    return f"ticket.{key.lower()}@{domain}"


def thread_of(session: Session, policy: Policy, key: str) -> dict[str, Any] | None:
    """What a notification about ``key`` threads under: the mail that filed the ticket (so
    the reporter's program shows our notice under their own message) and the ticket's root."""
    try:
        desk, number = parse_key(key)
    except NotFound:
        return None
    ticket_id = session.scalar(
        select(Ticket.id).where(Ticket.desk == desk, Ticket.number == number)
    )
    if ticket_id is None:
        return None
    first_in = session.scalar(
        select(MailMessage.message_id)
        .where(MailMessage.ticket_id == ticket_id, MailMessage.direction == INBOUND)
        .order_by(MailMessage.created_at)
        .limit(1)
    )
    root = ticket_root(key, message_domain(policy))
    return {"ticket": key, "ticket_id": ticket_id, "references": [*filter(None, [first_in]), root]}


def record_outgoing(
    session: Session, ticket_id: int, message_ids: Iterable[str], now: datetime
) -> None:
    """Remember Message-IDs we are about to send about a ticket (a reply names one)."""
    for mid in message_ids:
        if session.get(MailMessage, mid) is None:
            session.add(
                MailMessage(message_id=mid, ticket_id=ticket_id, direction=OUTBOUND, created_at=now)
            )


def ticket_for_thread(session: Session, ids: Iterable[str], domain: str) -> Ticket | None:
    """The ticket a reply belongs to, from its In-Reply-To and References (newest first)."""
    wanted = list(ids)
    if not wanted:
        return None
    known = dict(
        session.execute(
            select(MailMessage.message_id, MailMessage.ticket_id).where(
                MailMessage.message_id.in_(wanted)
            )
        ).all()
    )
    for mid in wanted:
        if mid in known:
            return session.get(Ticket, known[mid])
        match = _ROOT.match(mid)
        if match and match.group(2).lower() == domain.lower():
            desk, number = parse_key(match.group(1))
            found = session.scalar(
                select(Ticket).where(Ticket.desk == desk, Ticket.number == number)
            )
            if found is not None:
                return found
    return None


def is_ours(session: Session, message_id: str | None, domain: str) -> bool:
    """Whether a Message-ID is one we wrote: mail we sent coming back is a loop."""
    if not message_id:
        return False
    local, _, right = message_id.rpartition("@")
    if right.lower() == domain.lower() and (_DELIVERY.match(local) or _ROOT.match(message_id)):
        return True  # the shape of our notifications' ids, recorded or not
    row = session.get(MailMessage, message_id)
    return row is not None and row.direction == OUTBOUND


def key_of(ticket: Ticket) -> str:
    return ticket_key(ticket.desk, ticket.number)
