"""Reading the files that came with mail: the list on a ticket, and one kept file's bytes.

Whoever may read a ticket may read what was mailed to it in the open; a file that came with
an internal comment is for those who read internal comments. A file over the desk's size
limit was listed, never kept: asking for it says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.errors import NotFound
from dutydesk.mailgate.models import MailAttachment
from dutydesk.tickets.models import Comment
from dutydesk.tickets.recorder import get_ticket

# "type/subtype" as RFC 6838 spells names; anything else is served as plain bytes.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    ticket: str
    filename: str
    content_type: str
    size: int
    kept: bool
    created_at: datetime

    @property
    def url(self) -> str | None:
        return f"/api/v1/tickets/{self.ticket}/attachments/{self.id}" if self.kept else None


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    data: bytes

    def headers(self) -> dict[str, str]:
        """Always a download, never rendered in the page's origin: ``attachment`` and no
        sniffing (the API's ``default-src 'none'`` policy is added to every answer)."""
        return {
            "Content-Disposition": content_disposition(self.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        }


def media_type(declared: str) -> str:
    """The type the mail declared, when it is a well-formed media type; else plain bytes."""
    value = declared.split(";", 1)[0].strip().lower()
    return value if _MEDIA_TYPE.fullmatch(value) else OCTET_STREAM


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the exact name in RFC 5987 encoding."""
    name = filename.replace("/", "_").replace("\\", "_").strip() or "attachment"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"%;' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _readable(session: Session, key: str, internal: bool) -> tuple[int, set[int]]:
    """The ticket's id and the ids of its comments the reader may not see."""
    ticket = get_ticket(session, key)
    hidden: set[int] = set()
    if not internal:
        hidden = set(
            session.scalars(
                select(Comment.id).where(Comment.ticket_id == ticket.id, Comment.public.is_(False))
            )
        )
    return ticket.id, hidden


def listing(session: Session, key: str, *, internal: bool) -> list[AttachmentInfo]:
    """The files mailed to a ticket, oldest first; ``kept`` says whether they can be read."""
    ticket_id, hidden = _readable(session, key, internal)
    rows = session.execute(
        select(
            MailAttachment.id,
            MailAttachment.comment_id,
            MailAttachment.filename,
            MailAttachment.content_type,
            MailAttachment.size,
            MailAttachment.data.is_not(None),
            MailAttachment.created_at,
        )
        .where(MailAttachment.ticket_id == ticket_id)
        .order_by(MailAttachment.id)
    )
    return [
        AttachmentInfo(aid, key.upper(), name, media_type(ctype), size, bool(kept), at)
        for aid, comment, name, ctype, size, kept, at in rows
        if comment not in hidden
    ]


def download(session: Session, key: str, attachment_id: int, *, internal: bool) -> Download:
    ticket_id, hidden = _readable(session, key, internal)
    found = session.get(MailAttachment, attachment_id)
    if found is None or found.ticket_id != ticket_id or found.comment_id in hidden:
        raise NotFound(f"ticket {key.upper()} has no attachment {attachment_id}")
    if found.data is None:
        raise NotFound(
            f"{found.filename!r} ({found.size} bytes) was over the desk's attachment size "
            "limit when it was mailed: it was listed, not kept"
        )
    return Download(found.filename, media_type(found.content_type), found.data)
