"""Where messages go: Slack/Mattermost incoming webhooks, a signed JSON webhook, SMTP e-mail.

Each channel is built once per worker from policy plus the environment (secrets live only
there). Every attempt carries the message's stable delivery id — ``Idempotency-Key`` and
``X-Dutydesk-Delivery`` headers on webhooks, the ``Message-ID`` of an e-mail — so a receiver
can drop a redelivery; at-least-once delivery never becomes a visible duplicate.

Signed webhook (``type = "webhook"``): the body is JSON; ``X-Dutydesk-Timestamp`` is the Unix
time of the attempt and ``X-Dutydesk-Signature`` is ``sha256=`` + hex HMAC-SHA256 of
``"<timestamp>.<body>"`` with the secret; a receiver recomputes it and refuses old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from dutydesk import markdown as md
from dutydesk.durations import parse_span
from dutydesk.mailgate.threads import message_domain, ticket_root
from dutydesk.notify.chat_text import to_mattermost, to_plain_text, to_slack
from dutydesk.policy.models import Policy
from dutydesk.policy.notify import ChannelPolicy

PERSONAL_EMAIL = "@email"  # the channel name of personal e-mail (not a policy name)
RETRYABLE_STATUS = {408, 409, 425, 429}


@dataclass(frozen=True)
class Outgoing:
    """One message for one destination, as a channel needs it."""

    delivery_id: str
    kind: str
    subject: str
    markdown: str
    to: str | None = None  # e-mail address or "@handle"; None: the channel's own target
    desk: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """An attempt failed. ``permanent``: retrying cannot help (dead-letter at once)."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    name: str
    type: str

    def send(self, msg: Outgoing) -> None: ...


@dataclass(frozen=True)
class NotConfigured:
    name: str
    reason: str


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        r = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timed out: {exc}") from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if r.is_success:
        return
    text = r.text[:200].strip()
    permanent = 400 <= r.status_code < 500 and r.status_code not in RETRYABLE_STATUS
    raise DeliveryError(
        f"HTTP {r.status_code}: {text}",
        permanent=permanent,
        retry_after=_retry_after(r.headers.get("retry-after")),
    )


def _id_headers(msg: Outgoing) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Idempotency-Key": msg.delivery_id,
        "X-Dutydesk-Delivery": msg.delivery_id,
        "User-Agent": "dutydesk",
    }


@dataclass
class ChatWebhook:
    """Slack-compatible or Mattermost incoming webhook (``{"text": …}``, markdown)."""

    name: str
    type: str
    url: str
    client: httpx.Client

    def send(self, msg: Outgoing) -> None:
        text = to_slack(msg.markdown) if self.type == "slack" else to_mattermost(msg.markdown)
        body: dict[str, Any] = {"text": text}
        if msg.to:  # a direct message: "@handle" (Mattermost; legacy Slack webhooks)
            body["channel"] = msg.to
        _post(self.client, self.url, json.dumps(body).encode(), _id_headers(msg))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass
class SignedWebhook:
    """A generic JSON webhook, signed with HMAC-SHA256 (see the module docstring)."""

    name: str
    url: str
    secret: str | None
    client: httpx.Client
    type: str = "webhook"

    def send(self, msg: Outgoing) -> None:
        body = json.dumps(
            {
                "id": msg.delivery_id,
                "kind": msg.kind,
                "desk": msg.desk,
                "to": msg.to,
                "subject": msg.subject,
                "text": msg.markdown,
                "data": dict(msg.data),
            },
            sort_keys=True,
        ).encode()
        headers = _id_headers(msg)
        if self.secret:
            ts = str(int(time.time()))
            headers["X-Dutydesk-Timestamp"] = ts
            headers["X-Dutydesk-Signature"] = sign(self.secret, ts, body)
        _post(self.client, self.url, body, headers)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: str  # "none" | "starttls" | "ssl"

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """``smtp://[user[:pass]@]host[:port][?starttls=1]`` or ``smtps://…``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://user:pass@host:587?starttls=1")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        tls = "ssl" if parts.scheme == "smtps" else "starttls" if starttls else "none"
        default_port = 465 if tls == "ssl" else 587 if tls == "starttls" else 25
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


@dataclass
class EmailChannel:
    """SMTP with stdlib smtplib: text/plain (the markdown as plain text) plus text/html."""

    name: str
    target: SmtpTarget
    sender: str
    default_to: tuple[str, ...]
    timeout: float
    type: str = "email"
    domain: str = "dutydesk.invalid"  # of our Message-IDs (policy ``[mail] domain``)
    reply_to: Mapping[str, str] = field(default_factory=dict)  # desk → its inbound address
    image_hosts: tuple[str, ...] = ()  # policy web.image_hosts: other images become links

    def build(self, msg: Outgoing) -> EmailMessage:
        to = [msg.to] if msg.to else list(self.default_to)
        if not to:
            raise DeliveryError("no recipient address", permanent=True)
        em = EmailMessage()
        em["From"] = self.sender
        em["To"] = ", ".join(to)
        em["Subject"] = msg.subject
        em["Date"] = formatdate(localtime=False)
        em["Message-ID"] = f"<{msg.delivery_id}@{self.domain}>"
        em["X-Dutydesk-Delivery"] = msg.delivery_id
        self._thread(em, msg)
        em["Auto-Submitted"] = "auto-generated"
        em.set_content(to_plain_text(msg.markdown))
        html = md.render(msg.markdown, self.image_hosts)
        em.add_alternative(f"<!doctype html><html><body>{html}</body></html>", subtype="html")
        return em

    def _thread(self, em: EmailMessage, msg: Outgoing) -> None:
        """Mail about one ticket threads under it, and a reply goes to the desk's inbound
        address, where ``dutydesk mailgate`` makes it a comment on that ticket."""
        thread = msg.data.get("thread")
        key = thread.get("ticket") if isinstance(thread, Mapping) else msg.data.get("ticket")
        if isinstance(key, str) and key:
            refs = [str(r) for r in (thread or {}).get("references", [])]
            root = ticket_root(key, self.domain)
            refs += [root] if root not in refs else []
            em["In-Reply-To"] = f"<{refs[0]}>"
            em["References"] = " ".join(f"<{r}>" for r in refs)
            em["X-Dutydesk-Ticket"] = key
        reply_to = self.reply_to.get(msg.desk or "")
        if reply_to:
            em["Reply-To"] = reply_to

    def send(self, msg: Outgoing) -> None:
        em = self.build(msg)
        t = self.target
        try:
            smtp: smtplib.SMTP
            if t.tls == "ssl":
                smtp = smtplib.SMTP_SSL(
                    t.host, t.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
            with smtp:
                if t.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if t.username:
                    smtp.login(t.username, t.password or "")
                smtp.send_message(em)
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=permanent
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(500 <= c < 600 for c in codes)
            raise DeliveryError(
                f"recipients refused: {exc.recipients}", permanent=permanent
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


@dataclass
class ChannelSet:
    """Every channel of the policy, each either usable or not configured (with why)."""

    channels: dict[str, Channel | NotConfigured]
    client: httpx.Client

    def get(self, name: str) -> Channel | NotConfigured:
        found = self.channels.get(name)
        if found is None:
            return NotConfigured(name, f"channel {name!r} is not declared in policy")
        return found

    def status(self) -> list[dict[str, Any]]:
        out = []
        for name, ch in sorted(self.channels.items()):
            if isinstance(ch, NotConfigured):
                out.append({"name": name, "configured": False, "reason": ch.reason})
            else:
                out.append({"name": name, "configured": True, "type": ch.type})
        return out

    def close(self) -> None:
        self.client.close()


def _build(
    name: str,
    cp: ChannelPolicy,
    env: Mapping[str, str],
    client: httpx.Client,
    sender: str,
    timeout: float,
    mail_identity: dict[str, Any],
    image_hosts: tuple[str, ...] = (),
) -> Channel | NotConfigured:
    url = env.get(cp.url_env, "").strip()
    if not url:
        return NotConfigured(name, f"not configured: set {cp.url_env}")
    if cp.type in ("slack", "mattermost"):
        return ChatWebhook(name, cp.type, url, client)
    if cp.type == "webhook":
        secret = None
        if cp.secret_env:
            secret = env.get(cp.secret_env, "").strip()
            if not secret:
                return NotConfigured(name, f"not configured: set {cp.secret_env} (signing secret)")
        return SignedWebhook(name, url, secret, client)
    try:
        target = SmtpTarget.parse(url)
    except ValueError as exc:
        return NotConfigured(name, f"{cp.url_env}: {exc}")
    return EmailChannel(
        name,
        target,
        cp.sender or sender,
        tuple(cp.to),
        timeout,
        image_hosts=image_hosts,
        **mail_identity,
    )


def load_channels(policy: Policy, env: Mapping[str, str]) -> ChannelSet:
    """Build every channel from policy and the environment; nothing is contacted yet."""
    n = policy.notify
    timeout = parse_span(n.timeout).total_seconds()
    client = httpx.Client(
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=n.concurrency * 2, max_keepalive_connections=n.concurrency * 2
        ),
        follow_redirects=False,
    )
    image_hosts = tuple(policy.web.image_hosts)
    channels: dict[str, Channel | NotConfigured] = {}
    mail_identity: dict[str, Any] = {
        "domain": message_domain(policy),
        "reply_to": {d: desk.mail.address for d, desk in policy.desks.items() if desk.mail},
    }
    for name, cp in n.channels.items():
        channels[name] = _build(
            name, cp, env, client, n.email.sender, timeout, mail_identity, image_hosts
        )
    smtp_url = env.get(n.email.url_env, "").strip()
    if not smtp_url:
        channels[PERSONAL_EMAIL] = NotConfigured(
            PERSONAL_EMAIL, f"not configured: set {n.email.url_env} (personal e-mail)"
        )
    else:
        try:
            channels[PERSONAL_EMAIL] = EmailChannel(
                PERSONAL_EMAIL,
                SmtpTarget.parse(smtp_url),
                n.email.sender,
                (),
                timeout,
                image_hosts=image_hosts,
                **mail_identity,
            )
        except ValueError as exc:
            channels[PERSONAL_EMAIL] = NotConfigured(PERSONAL_EMAIL, f"{n.email.url_env}: {exc}")
    return ChannelSet(channels, client)
