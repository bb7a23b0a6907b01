from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime
from dutydesk.tickets.ordering import Orderable


class DeskCounter(Base):
    """Next ticket number per desk, taken inside the filing transaction."""

    __tablename__ = "desk_counters"

    desk: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)


def ticket_key(desk: str, number: int) -> str:
    """A ticket's key, as people write it: ``INFRA-42``."""
    return f"{desk.upper()}-{number}"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("desk", "number", name="uq_tickets_desk_number"),
        # The queue's first page is one range scan on this index.
        Index("ix_tickets_queue", "desk", "in_queue", "order_key"),
        Index("ix_tickets_desk_open", "desk", "is_open", "id"),
        Index("ix_tickets_desk_status", "desk", "status", "id"),
        Index("ix_tickets_assignee_open", "assignee_id", "is_open", "id"),
        Index("ix_tickets_desk_created", "desk", "created_at"),
        Index("ix_tickets_desk_resolved", "desk", "resolved_at"),
        # Reports count and time tickets by filing and resolution without reading the rows
        # (descriptions make them long): these cover what the toil report reads.
        Index("ix_tickets_report_filed", "desk", "created_at", "category", "kind"),
        Index("ix_tickets_report_done", "desk", "resolved_at", "created_at", "category", "kind"),
        Index("ix_tickets_desk_updated", "desk", "updated_at"),  # the queue page's sort
        Index(  # SET figures: the period's resolved tickets, read from the index alone
            "ix_tickets_report_resolved_kind",
            "desk",
            "resolved_at",
            "is_open",
            "kind",
            "resolution",
            "customer_reported",
            "created_at",
        ),
        Index("ix_tickets_report_kind_filed", "desk", "kind", "created_at", "team", "category"),
        # Queue health's open tickets (by column and priority, age, owner), from the index.
        Index(
            "ix_tickets_open_owner",
            "desk",
            "is_open",
            "assignee_id",
            "created_at",
            "status",
            "priority",
        ),
        Index("ix_tickets_reporter_updated", "reporter_id", "updated_at"),  # My requests
        # Idle claims, longest idle first: one range of this index (tickets.idle).
        Index("ix_tickets_claims", "desk", "is_open", "claim_active_at", "id", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(60))
    priority: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(60))
    resolution: Mapped[str | None] = mapped_column(String(40))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str | None] = mapped_column(String(60))
    # Labels are kept here for display and in ticket_labels for index-driven filtering.
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    fix_target: Mapped[str] = mapped_column(String(20), default="none")
    pr_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rank: Mapped[str] = mapped_column(String(64))
    order_key: Mapped[str] = mapped_column(String(128))
    in_queue: Mapped[bool] = mapped_column(Boolean, default=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Last public comment or status change by a responder: what update cadences measure.
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While claimed: the assignee's last event on it or the last assignment, whichever is
    # later (its filing when neither); None while nobody is assigned. Kept by every change.
    claim_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    event_seq: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def key(self) -> str:
        return ticket_key(self.desk, self.number)

    def orderable(self) -> Orderable:
        """The fields the desk's ordering rule reads."""
        return Orderable(
            kind=self.kind,
            priority=self.priority,
            labels=tuple(self.labels or ()),
            fix_target=self.fix_target,
            customer_reported=self.customer_reported,
            team=self.team,
            category=self.category,
            blocked=self.blocked,
        )


class TicketLabel(Base):
    __tablename__ = "ticket_labels"
    __table_args__ = (Index("ix_ticket_labels_label", "label", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(60), primary_key=True)


class Watcher(Base):
    __tablename__ = "ticket_watchers"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """Append-only history; ``seq`` per ticket makes gaps and reordering detectable."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("ticket_id", "seq", name="uq_events_ticket_seq"),
        Index("ix_events_at", "at"),
        Index("ix_events_type_at", "type", "at"),  # one type in a period: handoff notes
        # Idle claims: a ticket's last event by its assignee or assignment, from the index.
        Index("ix_events_ticket_actor", "ticket_id", "actor_id", "field", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SavedFilter(Base):
    __tablename__ = "saved_filters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """First response to a POST with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    etag: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
