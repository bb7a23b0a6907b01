"""Guest reporters: people who reach a desk from outside (a GitHub user, a mail sender) and
have no account. They may file and follow their own tickets, as any reporter; they have no
password or token, so nobody logs in as them."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import create_user

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def guest_name(prefix: str, handle: str) -> str:
    """A stable login name for an outsider: ``gh-octocat``, ``mail-jose-example-com``; a
    handle too long for 40 characters keeps a digest of the whole so two never collide."""
    clean = _UNSAFE.sub("-", handle.lower()).strip("-") or "guest"
    name = f"{prefix}-{clean}"
    if len(name) <= 40:
        return name
    digest = hashlib.sha256(handle.lower().encode()).hexdigest()[:8]
    return f"{name[:31]}-{digest}"


def guest_reporter(
    session: Session,
    name: str,
    *,
    desk: str,
    display_name: str,
    now: datetime,
    email: str | None = None,
) -> User:
    """The guest of that name, created (a reporter on ``desk``) in the caller's transaction."""
    user = session.scalar(select(User).where(User.name == name))
    if user is not None:
        return user
    return create_user(
        session,
        name,
        roles=["reporter"],
        desks=[desk],
        display_name=display_name[:120],
        email=email,
        now=now,
    )
