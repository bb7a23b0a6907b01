"""Outbox rows and job plans as plain values: what every domain's scheduled jobs write.

Layer 2, like the tables: no session, no clock. A domain's ``jobs`` module plans its jobs
(:class:`Planned`) and, when one runs, returns the rows it causes — notices to people,
messages to the desk's channels, and :class:`OnCallNotice` for "whoever is on call", whom
notify's fan-out finds. Notify inserts them deduplicated and delivers them; the domain
decides what they say.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dutydesk.auth.models import User
from dutydesk.durations import parse_span
from dutydesk.notify.models import JOB, MESSAGE, NOTICE, PENDING
from dutydesk.notify.rules import batch_due
from dutydesk.policy.models import Policy


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox row to insert; ``dedupe_key`` makes a second insert of it a no-op."""

    kind: str
    dedupe_key: str
    due_at: datetime
    payload: dict[str, Any]
    created_at: datetime
    channel: str | None = None
    recipient: str | None = None
    desk: str | None = None
    delivery_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def params(self) -> dict[str, Any]:
        """The insert's bound values (a new row: pending, never attempted)."""
        return {
            "kind": self.kind,
            "dedupe_key": self.dedupe_key[:200],
            "due_at": self.due_at,
            "payload": self.payload,
            "attempts": 0,
            "created_at": self.created_at,
            "state": PENDING,
            "channel": self.channel,
            "recipient": self.recipient,
            "desk": self.desk,
            "delivery_id": self.delivery_id,
        }


@dataclass(frozen=True)
class OnCallNotice:
    """A notice for each person on call for ``desk`` (active users only), keyed
    ``<key>:<user id>``; notify's fan-out finds the people when it writes the rows."""

    desk: str
    reason: str
    key: str
    lines: tuple[str, ...]
    ticket: str | None = None
    title: str = ""
    urgent: bool = False


JobRow = OutboxRow | OnCallNotice


@dataclass(frozen=True)
class Planned:
    """A periodic job for one period; ``key`` is ``job:<name>:<desk or rotation>:<period>``."""

    key: str
    due_at: datetime
    payload: dict[str, Any]
    desk: str | None = None

    def row(self, now: datetime) -> OutboxRow:
        return OutboxRow(JOB, self.key, self.due_at, self.payload, now, desk=self.desk)


@dataclass(frozen=True)
class Job:
    """A due job as it runs: its row's dedupe key (what it writes derives its own keys from
    it) and the payload its plan stored."""

    key: str
    payload: Mapping[str, Any]


# ----------------------------------------------------------------------------- planning


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Every local day that (start, end] may touch, with a day to spare on each side."""
    d = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while d <= last:
        yield d
        d += timedelta(days=1)


def in_window(start: datetime, end: datetime, at: datetime) -> bool:
    """Whether a job's instant falls in the planning window (start, end]."""
    return start < at <= end


# ----------------------------------------------------------------------------- rows


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
) -> list[OutboxRow]:
    """Rows posting one message to each of the desk's channels, if the desk posts ``post``."""
    spec = policy.desks[desk].notify
    if post not in spec.post:
        return []
    payload = message_payload(f"desk.{post}", subject, markdown, now, policy, data=data)
    return [
        OutboxRow(
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
    window: timedelta | None = None,
) -> OutboxRow:
    """A notice to one person; folded with their other notices once its batching window
    (theirs, else the policy's) has passed (at once when urgent)."""
    if window is None:
        window = parse_span(policy.notify.batch_window)
    payload = {
        "user": user.id,
        "name": user.name,
        "reason": reason,
        "ticket": ticket,
        "title": title,
        "lines": list(lines),
        "actor": actor,
        "urgent": urgent,
        "at": now.isoformat(),
        "expires_at": (now + parse_span(policy.notify.expire_after)).isoformat(),
    }
    return OutboxRow(
        NOTICE,
        key,
        batch_due(now, window, urgent),
        payload,
        now,
        recipient=recipient_of(user.id),
        desk=desk,
    )
