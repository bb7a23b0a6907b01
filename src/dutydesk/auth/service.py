"""Who may do what, and the credentials that say who someone is."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import ApiToken, User, WebSession
from dutydesk.errors import Conflict, Forbidden, Invalid, NotFound
from dutydesk.policy.models import ROLES

_hasher = PasswordHasher()
RANK = {role: i for i, role in enumerate(ROLES)}  # reporter < responder < lead < admin
SESSION_DAYS = 14


def highest_role(user: User) -> str:
    return max(user.roles, key=lambda r: RANK.get(r, -1), default="reporter")


def has_role(user: User, role: str, desk: str | None = None) -> bool:
    """Admins may do anything; others need the role (or a higher one) on the desk."""
    if "admin" in user.roles:
        return True
    if not user.active or RANK[highest_role(user)] < RANK[role]:
        return False
    if role == "reporter" or desk is None:
        return True
    return not user.desks or desk in user.desks


def require(user: User, role: str, desk: str | None = None, action: str = "do this") -> None:
    if not has_role(user, role, desk):
        where = f" on desk {desk!r}" if desk else ""
        raise Forbidden(
            f"{user.name} ({', '.join(user.roles) or 'no role'}) may not {action}{where}; "
            f"it needs the {role} role{where}"
        )


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise Invalid(
            "password: use at least 8 characters",
            errors=[{"field": "password", "message": "use at least 8 characters"}],
        )
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Login names by user id, in one query; ``None`` ids are ignored."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def user_by_name(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user named {name!r}; `dutydesk users` lists them")
    return user


def create_user(
    session: Session,
    name: str,
    *,
    roles: list[str],
    now: datetime,
    desks: list[str] | None = None,
    display_name: str = "",
    email: str | None = None,
    team: str | None = None,
    password: str | None = None,
) -> User:
    for role in roles:
        if role not in RANK:
            raise Invalid(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"a user named {name!r} already exists")
    user = User(
        name=name,
        display_name=display_name or name,
        email=email,
        roles=roles,
        desks=desks or [],
        team=team,
        password_hash=hash_password(password) if password else None,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, user: User, now: datetime, name: str = "") -> str:
    """Returns the token once; only its hash is kept."""
    token = "ddk_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id, name=name, token_hash=sha256(token), prefix=token[:8], created_at=now
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.execute(
        select(User, ApiToken.revoked_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == sha256(token))
    ).first()
    if row is None or row[1] is not None or not row[0].active:
        return None
    return row[0]


def open_session(session: Session, user: User, now: datetime) -> tuple[str, str]:
    """A browser session: returns (cookie value, CSRF token)."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            user_id=user.id,
            session_hash=sha256(cookie),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(days=SESSION_DAYS),
        )
    )
    session.flush()
    return cookie, csrf


def session_user(session: Session, cookie: str, now: datetime) -> tuple[User, str] | None:
    row = session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.session_hash == sha256(cookie))
    ).first()
    if row is None or row[1].expires_at <= now or not row[0].active:
        return None
    return row[0], row[1].csrf_token


def close_session(session: Session, cookie: str, now: datetime) -> None:
    ws = session.scalar(select(WebSession).where(WebSession.session_hash == sha256(cookie)))
    if ws is not None:
        ws.expires_at = now  # history keeps the row; an expired session lets nobody in
