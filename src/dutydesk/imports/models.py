"""Where an imported ticket came from, so a second import of the same file updates it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime


class TicketSource(Base):
    """One imported ticket: its id in the source system (unique per desk) and a link back.

    ``fingerprint`` is a hash of the record as last imported: a re-import of an unchanged
    record is recognised without loading the ticket. ``comment_keys`` names the comments
    already imported, so a re-import adds only new ones.
    """

    __tablename__ = "ticket_sources"
    __table_args__ = (UniqueConstraint("desk", "external_id", name="uq_ticket_sources_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    source: Mapped[str] = mapped_column(String(20))  # jsonl, github, jira-csv
    source_url: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    comment_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
