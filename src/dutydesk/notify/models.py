"""Tables of the notification domain.

A ticket change writes one ``notify_changes`` row in its own transaction: the facts of the
change (the ticket as it then was, the events, who acted, when). The worker turns each into
the outbox rows it causes, in one transaction that also deletes it, so every change is
heard of exactly once, after its commit and off the request's path.

The outbox holds three kinds of rows:

* ``notice``: "person P should hear of this" (recipient ``user:<id>``). The worker folds
  every pending notice of one person into one message when the first one's batching window
  has passed — that is the per-person batching.
* ``job``: a periodic job for one period (``dedupe_key = job:<name>:<period>``), so any
  number of workers run it once; running it writes ``message`` rows in the same transaction.
* ``message``: one rendered message for one destination (a channel, plus an address or
  handle). Only these leave the building: claimed with a lease (``due_at`` moves to the end
  of the lease, so a worker killed mid-delivery gives the row back), delivered at least once
  with the row's stable ``delivery_id``, retried with backoff, then dead-lettered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime

# Row states. "parked": its channel is not configured (waits, visible to admins, until an
# admin retries it); "expired": a notice or job that became too old to be worth sending.
PENDING, DELIVERED, DEAD, PARKED, EXPIRED, SKIPPED = (
    "pending",
    "delivered",
    "dead",
    "parked",
    "expired",
    "skipped",
)
STATES = (PENDING, DELIVERED, DEAD, PARKED, EXPIRED, SKIPPED)
NOTICE, JOB, MESSAGE = "notice", "job", "message"


class OutboxMessage(Base):
    """A notification written in the same transaction as the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The worker's only hot query: pending rows due before now, oldest first.
        Index("ix_outbox_due", "state", "due_at"),
        # Folding one person's pending notices into one message.
        Index("ix_outbox_recipient", "recipient", "state"),
        # The admin's list of one state (dead letters, parked), newest first, a page at a time.
        Index("ix_outbox_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    channel: Mapped[str | None] = mapped_column(String(40))
    recipient: Mapped[str | None] = mapped_column(String(200))
    desk: Mapped[str | None] = mapped_column(String(40))
    # Sent with every attempt (Idempotency-Key / X-Dutydesk-Delivery / Message-ID) so a
    # receiver can drop a redelivery.
    delivery_id: Mapped[str | None] = mapped_column(String(40))


class NotifyPreference(Base):
    """A person's own choice, overriding what policy says for them."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    via: Mapped[list[str]] = mapped_column(JSON, default=list)
    chat_channel: Mapped[str | None] = mapped_column(String(40))
    mute: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How long their notices wait to be folded into one message ("1 hour"); None: the policy's.
    digest_window: Mapped[str | None] = mapped_column(String(40))


class InboxItem(Base):
    """One notice as its person's inbox shows it, written beside the outbox notice (same
    dedupe key), whatever channels deliver it; ``read_at`` is the inbox's unread state."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_items_user_id", "user_id", "id"),
        Index("ix_inbox_items_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(40))
    ticket: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    lines: Mapped[list[str]] = mapped_column(JSON, default=list)
    actor: Mapped[str | None] = mapped_column(String(40))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChatAccount(Base):
    """A chat user (Slack user id, Mattermost user id) linked to a dutydesk user."""

    __tablename__ = "chat_accounts"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatReplay(Base):
    """Signatures of slash-command requests seen within the timestamp window: replays get 401."""

    __tablename__ = "chat_replays"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class NotifyCursor(Base):
    """How far a timer scan has looked (``slo-at-risk``…), so each scan reads only new rows."""

    __tablename__ = "notify_cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotifyChange(Base):
    """A committed ticket change whose notices and desk posts the worker has yet to write."""

    __tablename__ = "notify_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
