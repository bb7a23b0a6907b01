"""Who may do what, and the credentials that say who someone is."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import ApiToken, User, WebSession
from dutydesk.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from dutydesk.policy.models import ROLES

_hasher = PasswordHasher()
RANK = {role: i for i, role in enumerate(ROLES)}  # reporter < responder < lead < admin
SESSION_DAYS = 14


def highest_role(user: User) -> str:
    return max(user.roles, key=lambda r: RANK.get(r, -1), default="reporter")


def has_role(user: User, role: str, desk: str | None = None) -> bool:
    """Admins may do anything; others need the role (or a higher one) on the desk. Nobody
    deactivated may do anything."""
    if not user.active:
        return False
    if "admin" in user.roles:
        return True
    if RANK[highest_role(user)] < RANK[role]:
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


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(user: User | None, password: str) -> bool:
    """Checks the password; with no user or no password set, a dummy hash is checked all the
    same, so an unknown name takes as long to refuse as a wrong password."""
    stored = user.password_hash if user is not None else None
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
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


def create_token(
    session: Session,
    user: User,
    now: datetime,
    name: str = "",
    expires_at: datetime | None = None,
) -> str:
    """Returns the token once; only its hash is kept."""
    return issue_token(session, user, now, name, expires_at)[1]


def issue_token(
    session: Session,
    user: User,
    now: datetime,
    name: str = "",
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """The stored row and the secret, which is shown once and never kept."""
    token = "ddk_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=sha256(token),
        prefix=token[:8],
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, token


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid bearer token acts for, and what a cache of it must respect."""

    user: User
    token_id: int
    expires_at: datetime | None
    last_used_at: datetime | None


def token_holder(session: Session, token: str, now: datetime) -> TokenHolder:
    """The holder of a usable token; an unknown, revoked or expired token, or one whose user
    is deactivated, is refused with the reason."""
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == sha256(token))
    ).first()
    if row is None:
        raise Unauthorized("the token is unknown; `dutydesk token create` makes one")
    user, api_token = row
    if api_token.revoked_at is not None:
        raise Unauthorized("the token was revoked; create a new one", reason="token-revoked")
    if api_token.expires_at is not None and api_token.expires_at <= now:
        raise Unauthorized(
            f"the token expired at {api_token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one",
            reason="token-expired",
        )
    if not user.active:
        raise Unauthorized(f"{user.name} is deactivated", reason="user-deactivated")
    return TokenHolder(user, api_token.id, api_token.expires_at, api_token.last_used_at)


def open_session(
    session: Session, user: User, now: datetime, user_agent: str = ""
) -> tuple[str, str]:
    """A browser session: returns (cookie value, CSRF token)."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            user_id=user.id,
            session_hash=sha256(cookie),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(days=SESSION_DAYS),
            last_seen_at=now,
            user_agent=user_agent[:200] or None,
        )
    )
    session.flush()
    return cookie, csrf


def session_user(session: Session, cookie: str, now: datetime) -> tuple[User, str] | None:
    found = session_seen(session, cookie, now)
    return None if found is None else (found[0], found[1])


def session_seen(
    session: Session, cookie: str, now: datetime
) -> tuple[User, str, datetime | None] | None:
    """The session's person, CSRF token and when it was last seen (None: no valid session)."""
    row = session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.session_hash == sha256(cookie))
    ).first()
    if row is None or row[1].expires_at <= now or not row[0].active:
        return None
    return row[0], row[1].csrf_token, row[1].last_seen_at


def close_session(session: Session, cookie: str, now: datetime) -> None:
    ws = session.scalar(select(WebSession).where(WebSession.session_hash == sha256(cookie)))
    if ws is not None:
        ws.expires_at = now  # history keeps the row; an expired session lets nobody in
