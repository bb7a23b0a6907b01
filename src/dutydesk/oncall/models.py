"""On-call tables: what people changed in a rotation, and the history of those changes.

The rotation itself lives in policy (``[rotations.NAME]``); the database holds only the edits
made at run time. People are stored by user name, as policy and the rotation arithmetic name
them (user names are unique and never renamed).

Rows are never deleted. An override, swap or time off that is undone gets ``cancelled_at``;
one that is cut short because it is already under way keeps its past part (its ``end_at``
moves to the moment of the undo), so what happened stays a fact. Every change also appends a
:class:`ScheduleChange` (who, when, what, the affected shifts before and after).

``oncall_rotations`` holds one row per rotation with a version counter, bumped in the
transaction of every change: replicas cache compiled schedules and compare that one integer
per request, and writers lock the row so two concurrent edits of a rotation never both pass
validation against the same state.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime

# Override kinds: made by a person, "take" of the current shift, imported from iCalendar, or a
# "pin" dutydesk adds itself to keep an already-served stretch as it was (see service docs).
OVERRIDE_KINDS = ("manual", "take", "import", "pin")


class RotationState(Base):
    """Per-rotation version counter (cache key across replicas) and write lock."""

    __tablename__ = "oncall_rotations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OverrideRow(Base):
    """``person`` covers ``layer`` of ``rotation`` over [start_at, end_at)."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_rotation", "rotation", "end_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation: Mapped[str] = mapped_column(String(40))
    layer: Mapped[str] = mapped_column(String(60))
    person: Mapped[str] = mapped_column(String(40))
    replaces: Mapped[str | None] = mapped_column(String(40))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(12), default="manual")
    note: Mapped[str] = mapped_column(String(300), default="")
    # The override this one was split from (replace=true cutting an older one in two).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("oncall_overrides.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SwapRow(Base):
    """``person_a`` and ``person_b`` exchange the whole base shifts starting at the two instants."""

    __tablename__ = "oncall_swaps"
    __table_args__ = (Index("ix_oncall_swaps_rotation", "rotation", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation: Mapped[str] = mapped_column(String(40))
    layer: Mapped[str] = mapped_column(String(60))
    person_a: Mapped[str] = mapped_column(String(40))
    shift_a: Mapped[datetime] = mapped_column(UTCDateTime)
    person_b: Mapped[str] = mapped_column(String(40))
    shift_b: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TimeOffRow(Base):
    """A person's declared absence; applies to every rotation they are in."""

    __tablename__ = "oncall_time_off"
    __table_args__ = (Index("ix_oncall_time_off_person", "person", "end_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(40))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MembershipRow(Base):
    """``person`` joins or leaves ``layer`` for shifts starting on or after ``effective``.

    Stored as events and replayed over the policy's member list in date order, so a join in
    February and a leave in March compose instead of one list snapshot hiding the other.
    """

    __tablename__ = "oncall_memberships"
    __table_args__ = (Index("ix_oncall_memberships_rotation", "rotation", "effective"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation: Mapped[str] = mapped_column(String(40))
    layer: Mapped[str] = mapped_column(String(60))
    person: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(8))  # join | leave
    position: Mapped[int | None] = mapped_column(Integer)  # join: index in the list; None = end
    effective: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ScheduleChange(Base):
    """Append-only history of a rotation: who changed what, when, and the shifts it moved."""

    __tablename__ = "oncall_changes"
    __table_args__ = (Index("ix_oncall_changes_rotation", "rotation", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    # Shifts that differ because of the change: as they were, and as they are now.
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FeedToken(Base):
    """A secret for calendar clients (which cannot send headers): only its SHA-256 is kept."""

    __tablename__ = "oncall_feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # rotation | person
    subject: Mapped[str] = mapped_column(String(40))  # rotation or user name
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
