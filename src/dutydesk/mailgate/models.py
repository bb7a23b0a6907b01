"""Tables of e-mail in: every Message-ID we sent or took in, and kept attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime

INBOUND, OUTBOUND = "in", "out"


class MailMessage(Base):
    """A Message-ID and the ticket (and comment) it belongs to: how a reply finds its ticket,
    how a redelivered mail is taken once, and how our own mail is told from a reporter's."""

    __tablename__ = "mail_messages"

    message_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    direction: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MailAttachment(Base):
    """A file that came with a mail: kept (``data``) when under the desk's size limit,
    otherwise only its name and size are recorded."""

    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
