"""One RFC 5322 message read into what a ticket needs (pure: no database, no clock).

Exit codes follow sysexits(3), so an MTA that pipes mail to ``dutydesk mailgate`` bounces
what should bounce and retries what may succeed later:

* 0 ``EX_OK``: filed, commented, or deliberately ignored (an auto-reply, a loop);
* 65 ``EX_DATAERR``: the message is malformed, too large or has too many parts;
* 67 ``EX_NOUSER``: the sender is unknown and the desk takes mail only from its users;
* 75 ``EX_TEMPFAIL``: the database could not be reached; the MTA should try again;
* 77 ``EX_NOPERM``: the sender may not do what the mail asks (comment on that ticket);
* 78 ``EX_CONFIG``: the desk takes no mail (no ``[desks.NAME.mail]``) or does not exist.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses

from dutydesk.mailgate.text import html_to_text

EX_OK, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL, EX_NOPERM, EX_CONFIG = 0, 65, 67, 75, 77, 78
_MSGID = re.compile(r"<([^<>\s]{1,245})>")
_BRACKETED_KEY = re.compile(r"\[([A-Za-z][A-Za-z0-9_-]{0,39}-\d{1,9})\]")
_BARE_KEY = re.compile(r"\b([A-Za-z][A-Za-z0-9_-]{0,39}-\d{1,9})\b")
_LIST_PRECEDENCE = {"bulk", "junk", "list"}


class MailRefused(Exception):
    """The message cannot be taken; ``code`` is the sysexits code the command exits with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedMail:
    sender: str  # the address, lower-cased
    sender_name: str
    subject: str
    message_id: str | None  # without angle brackets
    thread_ids: tuple[str, ...]  # In-Reply-To first, then References, newest first
    body: str
    attachments: tuple[Attachment, ...] = field(default=())
    automatic: str | None = None  # why this is an auto-reply or a loop, if it is one

    def subject_keys(self, desk: str) -> list[str]:
        """Ticket keys the subject names: ``[INFRA-12]`` anywhere, or a bare key of this
        desk (``Re: INFRA-12: …``)."""
        keys = [k.upper() for k in _BRACKETED_KEY.findall(self.subject)]
        prefix = desk.upper() + "-"
        keys += [k.upper() for k in _BARE_KEY.findall(self.subject) if k.upper().startswith(prefix)]
        return list(dict.fromkeys(keys))


def message_ids(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")


def parse(raw: bytes, *, max_bytes: int, max_parts: int) -> ParsedMail:
    """Read one message, refusing (``MailRefused``) what cannot become a ticket."""
    if len(raw) > max_bytes:
        raise MailRefused(
            EX_DATAERR, f"the message is {len(raw)} bytes; this desk takes at most {max_bytes}"
        )
    if not raw.strip():
        raise MailRefused(EX_DATAERR, "the message is empty")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise MailRefused(EX_DATAERR, "no header section: this is not an RFC 5322 message")
    parts = sum(1 for _ in msg.walk())
    if parts > max_parts:
        raise MailRefused(
            EX_DATAERR, f"the message has {parts} MIME parts; this desk takes at most {max_parts}"
        )
    sender_name, sender = _sender(msg)
    subject = _header(msg, "Subject").strip() or "(no subject)"
    own_ids = message_ids(_header(msg, "Message-ID"))
    thread = message_ids(_header(msg, "In-Reply-To")) + list(
        reversed(message_ids(_header(msg, "References")))
    )
    body, attachments = _content(msg)
    return ParsedMail(
        sender=sender,
        sender_name=sender_name,
        subject=" ".join(subject.split())[:300],
        message_id=own_ids[0] if own_ids else None,
        thread_ids=tuple(dict.fromkeys(thread)),
        body=body,
        attachments=tuple(attachments),
        automatic=_automatic(msg, sender),
    )


def _header(msg: Message, name: str) -> str:
    """A header's decoded text; a header too broken to decode is an error naming it."""
    try:
        value = msg.get(name)
    except (ValueError, TypeError, IndexError) as exc:
        raise MailRefused(EX_DATAERR, f"the {name} header cannot be read: {exc}") from exc
    return str(value) if value is not None else ""


def _sender(msg: Message) -> tuple[str, str]:
    raw = _header(msg, "From")
    if not raw.strip():
        raise MailRefused(EX_DATAERR, "the message has no From header: nobody to file it for")
    found = [(n, a) for n, a in getaddresses([raw]) if "@" in a]
    if len(found) != 1:
        raise MailRefused(
            EX_DATAERR, f"From: {raw[:120]!r} is not one e-mail address; cannot tell who sent it"
        )
    name, addr = found[0]
    local, _, domain = addr.rpartition("@")
    if not local or not domain or " " in addr or len(addr) > 200:
        raise MailRefused(EX_DATAERR, f"From: {addr[:120]!r} is not an e-mail address")
    return name.strip(), addr.lower()


def _automatic(msg: Message, sender: str) -> str | None:
    """Why a message was sent by a machine, not a person — answering it could loop."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in _LIST_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Dutydesk-Delivery"):
        if msg.get(name) is not None:
            return f"{name} header"
    if _header(msg, "X-Auto-Response-Suppress").strip().lower() in ("all", "oof"):
        return "X-Auto-Response-Suppress"
    if msg.get_content_type() == "multipart/report":
        return "a delivery report (bounce)"
    if sender.split("@")[0] in ("mailer-daemon", "postmaster"):
        return f"sent by {sender}"
    return None


def _decoded(part: Message) -> str:
    """A text part as ``str``: its declared charset, else UTF-8, else Latin-1 (never fails)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "latin-1"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1", errors="replace")  # pragma: no cover - latin-1 decodes all


def _content(msg: EmailMessage) -> tuple[str, list[Attachment]]:
    """The body (text/plain, else HTML made text) and every other leaf part as a file."""
    body_part = msg.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        text = _decoded(body_part)
        body = html_to_text(text) if body_part.get_content_type() == "text/html" else text
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart() or part is body_part:
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        if filename is None and ctype in ("text/plain", "text/html"):
            continue  # the other alternative of the body
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        name = (filename or f"part-{len(attachments) + 1}").replace("/", "_").strip()[:255]
        attachments.append(Attachment(name or "attachment", ctype[:120], data))
    return body.replace("\r\n", "\n").strip(), attachments
