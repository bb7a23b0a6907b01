"""Logging in, throttled against guessing.

Failed log-ins are rows in the database, so the limits per account and per address hold
across every replica. Past the limit in the window, a log-in is refused with ``429`` and
``Retry-After`` before any password is checked. An unknown name costs the same argon2
verification as a wrong password, so the answer's timing does not tell which it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import LoginFailure, User
from dutydesk.auth.service import open_session, verify_password
from dutydesk.db import Database
from dutydesk.errors import TooManyRequests, Unauthorized
from dutydesk.settings import Settings


@dataclass(frozen=True)
class AccessLimits:
    """Log-in throttling (shared by every replica) and API rate limits (per replica)."""

    login_failures_per_account: int = 10
    login_failures_per_address: int = 100
    login_window: timedelta = timedelta(minutes=15)
    # Token buckets: sustained requests per second and burst; 0 turns a limit off.
    api_rate_per_token: float = 1000.0
    api_burst_per_token: int = 2000
    api_rate_per_address: float = 2000.0
    api_burst_per_address: int = 4000

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessLimits:
        return cls(
            login_failures_per_account=settings.login_failures_per_account,
            login_failures_per_address=settings.login_failures_per_address,
            login_window=timedelta(seconds=settings.login_window_seconds),
            api_rate_per_token=settings.api_rate_per_token,
            api_burst_per_token=settings.api_burst_per_token,
            api_rate_per_address=settings.api_rate_per_address,
            api_burst_per_address=settings.api_burst_per_address,
        )


@dataclass(frozen=True)
class LoggedIn:
    user: User
    cookie: str
    csrf: str


def log_in(
    db: Database,
    limits: AccessLimits,
    username: str,
    password: str,
    address: str,
    now: datetime,
    user_agent: str = "",
) -> LoggedIn:
    """A browser session for the right password; ``Unauthorized`` (one message for an unknown
    name, a wrong password or a deactivated person) or ``TooManyRequests`` otherwise."""
    username, address = username.strip()[:40], address[:64]
    with db.read() as s:
        check_not_throttled(s, limits, username, address, now)
        user = s.scalar(select(User).where(User.name == username))
    # Off any transaction: argon2 takes tens of milliseconds and must hold no lock.
    good = verify_password(user, password) and user is not None and user.active
    with db.write() as s:
        if not good or user is None:
            s.add(LoginFailure(at=now, username=username, address=address))
            s.execute(delete(LoginFailure).where(LoginFailure.at < now - limits.login_window))
        else:
            s.execute(delete(LoginFailure).where(LoginFailure.username == username))
            cookie, csrf = open_session(s, user, now, user_agent)
    if not good or user is None:
        raise Unauthorized("unknown user or wrong password")
    return LoggedIn(user, cookie, csrf)


def check_not_throttled(
    session: Session, limits: AccessLimits, username: str, address: str, now: datetime
) -> None:
    since = now - limits.login_window
    checks = (
        ("account", LoginFailure.username, username, limits.login_failures_per_account),
        ("address", LoginFailure.address, address, limits.login_failures_per_address),
    )
    for what, column, value, limit in checks:
        if limit <= 0:
            continue
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                column == value, LoginFailure.at > since
            )
        ).one()
        if count >= limit and oldest is not None:
            wait = max(1, math.ceil((oldest + limits.login_window - now).total_seconds()))
            raise TooManyRequests(
                f"too many failed log-ins for this {what}; try again in {wait} s",
                retry_after=wait,
            )
