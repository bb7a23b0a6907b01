from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
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
