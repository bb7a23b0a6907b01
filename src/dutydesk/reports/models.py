from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime


class StatusNote(Base):
    """A note the lead adds for the week; the next status post lists the notes since the last.

    Removing a note keeps the row (``removed_at``): a post made before the removal still
    shows it, as it was posted."""

    __tablename__ = "status_notes"
    __table_args__ = (Index("ix_status_notes_desk_created", "desk", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class FollowedCluster(Base):
    """A recurring request the team named, to follow week by week ("did automating builder
    requests reduce them?"). A ticket belongs when its title and description hold every stem.
    Unfollowing stamps ``stopped_at``; the row stays, with who named it and when."""

    __tablename__ = "followed_clusters"
    __table_args__ = (Index("ix_followed_clusters_desk", "desk", "stopped_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    stems: Mapped[list[str]] = mapped_column(JSON)
    words: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Release(Base):
    """A release on a desk's calendar (SET: the meetings turn daily before it)."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("desk", "name", name="uq_releases_desk_name"),
        Index("ix_releases_desk_on", "desk", "on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ReleaseEvent(Base):
    """The release calendar's history: who added, moved or removed a release, and when."""

    __tablename__ = "release_events"
    __table_args__ = (Index("ix_release_events_desk_at", "desk", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    release: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(20))  # added, moved, removed
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketTimes(Base):
    """A done ticket's business time, stored when it is resolved so reports sum instead of
    walking the calendar: seconds from filing to done and in the desk's started column.

    Valid while ``resolved_at`` equals the ticket's and ``basis`` the desk's (a fingerprint of
    its calendar and started column); anything else is recomputed (``tickets.times``)."""

    __tablename__ = "ticket_times"
    # Sums: the period's rows in one range. Medians: each group's values read in order, the
    # rows outside the period skipped inside the index, up to the middle rank (LIMIT/OFFSET).
    __table_args__ = (
        Index(
            "ix_ticket_times_period",
            "desk",
            "resolved_at",
            "basis",
            "category",
            "kind",
            "to_done_seconds",
            "in_progress_seconds",
        ),
        Index("ix_ticket_times_done", "desk", "to_done_seconds", "resolved_at", "basis"),
        Index("ix_ticket_times_progress", "desk", "in_progress_seconds", "resolved_at", "basis"),
        Index(
            "ix_ticket_times_category_done",
            "desk",
            "category",
            "to_done_seconds",
            "resolved_at",
            "basis",
        ),
        Index(
            "ix_ticket_times_category_progress",
            "desk",
            "category",
            "in_progress_seconds",
            "resolved_at",
            "basis",
        ),
        Index(
            "ix_ticket_times_kind_done", "desk", "kind", "to_done_seconds", "resolved_at", "basis"
        ),
        Index(
            "ix_ticket_times_kind_progress",
            "desk",
            "kind",
            "in_progress_seconds",
            "resolved_at",
            "basis",
        ),
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    basis: Mapped[str] = mapped_column(String(16))
    to_done_seconds: Mapped[float] = mapped_column(Float)
    in_progress_seconds: Mapped[float] = mapped_column(Float)
    # The ticket's desk, category and kind, kept with the row (rewritten when they change) so
    # the report's sums and medians read this table's indexes alone, without the tickets.
    desk: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))


class TicketMove(Base):
    """A move that re-opened, bounced or submitted a ticket (``tickets.moves`` classifies it),
    written with the move: the reports count these few rows instead of classifying every move
    of their period. ``desk`` follows the ticket (its moves are re-derived when it changes
    desk)."""

    __tablename__ = "ticket_moves"
    __table_args__ = (
        Index(
            "ix_ticket_moves_desk_at", "desk", "at", "ticket_id", "reopen", "bounce", "submitted"
        ),
        Index("ix_ticket_moves_ticket", "ticket_id"),
        # SET figures' fixes submitted per week, by kind and customer, from the index alone.
        Index(
            "ix_ticket_moves_submitted", "desk", "submitted", "at", "kind", "customer", "ticket_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    desk: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reopen: Mapped[int] = mapped_column(Integer)  # 1: a move out of the done column
    bounce: Mapped[int] = mapped_column(Integer)  # 1: handed back (earlier column, team to team)
    submitted: Mapped[int] = mapped_column(Integer)  # 1: into the status post's submitted column
    # The ticket's kind and customer flag, kept with its rows (rewritten when they change), so
    # a week's fixes are counted without reading the tickets.
    kind: Mapped[str] = mapped_column(String(40))
    customer: Mapped[bool] = mapped_column(Boolean)


class DerivedBasis(Base):
    """What a desk's derived rows (``part``: ``moves``) were computed under — a fingerprint of
    the policy they depend on. A report that finds none, or another, rebuilds them first."""

    __tablename__ = "derived_bases"

    desk: Mapped[str] = mapped_column(String(40), primary_key=True)
    part: Mapped[str] = mapped_column(String(20), primary_key=True)
    basis: Mapped[str] = mapped_column(String(16))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketStay(Base):
    """A done ticket's wall-clock seconds in one open column over its life (every stay summed),
    written with its ``ticket_times`` row and valid with it: the SET figures' time in each
    column sums these instead of reading every status move of the period's tickets."""

    __tablename__ = "ticket_stays"
    __table_args__ = (
        Index("ix_ticket_stays_desk_resolved", "desk", "resolved_at", "column", "seconds"),
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    column: Mapped[str] = mapped_column(String(60), primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float)


class ReportTally(Base):
    """Counts per desk, UTC hour and key, kept in the transaction of each ticket change so the
    reports sum a few rows per hour instead of reading every event (:mod:`dutydesk.reports.tallies`).

    ``kind`` says what ``a``, ``b`` and ``n`` mean: ``flow`` — net change of the tickets in
    column ``a`` with current priority ``b``; ``did`` — events of what ``b`` by actor ``a``.
    A row belongs to the ticket's current desk; ``''`` stands for none. A key's count may be
    spread over several ``shard`` rows (summed when read), so concurrent changes on one desk in
    one hour do not queue on one row's lock on PostgreSQL."""

    __tablename__ = "report_tallies"
    __table_args__ = (
        PrimaryKeyConstraint("desk", "kind", "hour", "a", "b", "shard", name="pk_report_tallies"),
        {"sqlite_with_rowid": False},  # the key is the only index, and it covers ``n``
    )

    desk: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    a: Mapped[str] = mapped_column(String(80))
    b: Mapped[str] = mapped_column(String(80))
    shard: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    n: Mapped[int] = mapped_column(Integer)
