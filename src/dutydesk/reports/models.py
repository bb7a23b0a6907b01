from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime


class StatusNote(Base):
    """A note the lead adds for the week; the next status post lists the notes since the last."""

    __tablename__ = "status_notes"
    __table_args__ = (Index("ix_status_notes_desk_created", "desk", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class TicketTimes(Base):
    """A done ticket's business time, stored when it is resolved so reports sum instead of
    walking the calendar: seconds from filing to done and in the desk's started column.

    Valid while ``resolved_at`` equals the ticket's and ``basis`` the desk's (a fingerprint of
    its calendar and started column); anything else is recomputed (``tickets.times``)."""

    __tablename__ = "ticket_times"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    basis: Mapped[str] = mapped_column(String(16))
    to_done_seconds: Mapped[float] = mapped_column(Float)
    in_progress_seconds: Mapped[float] = mapped_column(Float)
