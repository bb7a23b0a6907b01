"""Tables of the GitHub bridge: deliveries seen (redelivery is a no-op) and issue links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime


class GithubDelivery(Base):
    """One ``X-GitHub-Delivery`` handled, written in the transaction of what it did."""

    __tablename__ = "github_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    desk: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(60))
    action: Mapped[str | None] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(300))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class GithubIssueLink(Base):
    """A GitHub issue and the ticket it filed; later comments and closings follow it."""

    __tablename__ = "github_issue_links"
    __table_args__ = (UniqueConstraint("repository", "number", name="uq_github_issue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    html_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GithubMirrorCursor(Base):
    """How far the history has been mirrored to GitHub, and which worker holds the pass."""

    __tablename__ = "github_mirror_cursor"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(40))
