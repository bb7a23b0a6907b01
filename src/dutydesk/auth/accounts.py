"""People as admins and they themselves manage them: adding someone, changing their roles and
desks, changing one's own password, and one's browser sessions (listed with when each was last
seen; one ended, or all but this one). The web pages, the API and the CLI all call these; each
change to someone's access writes an audit event."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dutydesk.auth import audit
from dutydesk.auth.models import User, WebSession
from dutydesk.auth.schemas import AccountOut, NewUserIn, SessionOut, UserPatchIn
from dutydesk.auth.service import (
    RANK,
    create_user,
    hash_password,
    require,
    sha256,
    user_by_name,
    verify_password,
)
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, NotFound, field_error
from dutydesk.policy.models import ROLES

LOGIN_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")
LAST_SEEN_GRAIN = timedelta(minutes=1)
MAX_SESSIONS_SHOWN = 100
MAX_PEOPLE_PAGE = 200


def account_out(user: User) -> AccountOut:
    return AccountOut(
        name=user.name,
        display_name=user.display_name,
        email=user.email,
        roles=list(user.roles),
        desks=list(user.desks),
        team=user.team,
        active=user.active,
        managed_by_policy=user.managed_by_policy,
        deactivated_at=user.deactivated_at,
        deactivated_reason=user.deactivated_reason,
    )


def list_accounts(
    session: Session,
    reader: User,
    *,
    q: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[AccountOut]:
    """People by login name, a page at a time (``after``: the last name of the page before),
    optionally those whose login or full name contains ``q`` (admins)."""
    require(reader, "admin", None, "manage people")
    query = select(User).order_by(User.name).limit(max(1, min(limit, MAX_PEOPLE_PAGE)))
    if q:
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            func.lower(User.name).like(like, escape="\\")
            | func.lower(User.display_name).like(like, escape="\\")
        )
    if after:
        query = query.where(User.name > after)
    return [account_out(u) for u in session.scalars(query)]


def _check_roles(ctx: Ctx, roles: list[str], desks: list[str]) -> None:
    if not roles:
        raise field_error("roles", f"give at least one role: {', '.join(ROLES)}")
    for role in roles:
        if role not in RANK:
            raise field_error("roles", f"{role!r} is unknown; use one of {', '.join(ROLES)}")
    for desk in desks:
        if desk not in ctx.policy.desks:
            raise field_error(
                "desks", f"{desk!r} is not a desk; use one of {', '.join(ctx.policy.desks)}"
            )


def add_user(ctx: Ctx, body: NewUserIn) -> AccountOut:
    """A new person (admins). Their password, if given, is theirs to change; without one they
    log in once an admin sets it (``dutydesk users add --password-stdin``)."""
    require(ctx.actor, "admin", None, "add people")
    if not LOGIN_NAME.match(body.name):
        raise field_error(
            "name", "use a lower-case login name: a letter, then letters, digits, '.', '_' or '-'"
        )
    if body.name in ctx.policy.people:
        raise field_error("name", f"{body.name!r} is declared in the policy file already")
    _check_roles(ctx, body.roles, body.desks)
    if ctx.session.scalar(select(User.id).where(User.name == body.name)) is not None:
        raise Conflict(f"a user named {body.name!r} already exists")
    if body.password is not None and len(body.password) < 8:
        raise field_error("password", "use at least 8 characters")
    user = create_user(
        ctx.session,
        body.name,
        roles=body.roles,
        desks=body.desks,
        display_name=body.display_name,
        email=body.email or None,
        team=body.team or None,
        password=body.password,
        now=ctx.now,
    )
    audit.record(
        ctx.session,
        ctx.now,
        ctx.actor,
        "user.created",
        user,
        roles=list(user.roles),
        desks=list(user.desks),
    )
    return account_out(user)


def change_user(ctx: Ctx, name: str, body: UserPatchIn) -> AccountOut:
    """Roles, desks and contact details (admins). People the policy file declares follow the
    file, which would undo a change at the next start: a change to them is refused with
    where to make it."""
    require(ctx.actor, "admin", None, "change people's roles and desks")
    user = user_by_name(ctx.session, name)
    before = {
        "roles": list(user.roles),
        "desks": list(user.desks),
        "display_name": user.display_name,
        "email": user.email,
        "team": user.team,
    }
    after = dict(before)
    if body.roles is not None:
        after["roles"] = list(dict.fromkeys(body.roles))
    if body.desks is not None:
        after["desks"] = list(dict.fromkeys(body.desks))
    if body.display_name is not None:
        after["display_name"] = body.display_name or user.name
    if body.email is not None:
        after["email"] = body.email or None
    if body.team is not None:
        after["team"] = body.team or None
    changed = [k for k in before if before[k] != after[k]]
    if not changed:
        return account_out(user)
    if user.managed_by_policy:
        raise Conflict(
            f"{name} is declared in the policy file; change [people.{name}] there and "
            f"restart (the file wins at every start): {', '.join(changed)}"
        )
    roles, desks = list(after["roles"] or []), list(after["desks"] or [])
    _check_roles(ctx, roles, desks)
    if user.id == ctx.actor.id and "admin" not in roles:
        raise Conflict("you cannot take your own admin role away; ask another admin")
    if "roles" in changed or "desks" in changed:
        audit.record(
            ctx.session,
            ctx.now,
            ctx.actor,
            "user.roles_changed",
            user,
            roles={"before": before["roles"], "after": roles},
            desks={"before": before["desks"], "after": desks},
        )
    user.roles, user.desks = roles, desks
    user.display_name = str(after["display_name"])
    user.email = after["email"]  # type: ignore[assignment]
    user.team = after["team"]  # type: ignore[assignment]
    if set(changed) - {"roles", "desks"}:
        audit.record(
            ctx.session,
            ctx.now,
            ctx.actor,
            "user.changed",
            user,
            fields=[k for k in changed if k not in ("roles", "desks")],
        )
    ctx.session.flush()
    return account_out(user)


def change_password(ctx: Ctx, old: str, new: str, keep_cookie: str | None) -> int:
    """Your own password: the old one proves it is you. Every other browser session ends
    (a stolen session cannot outlive the change); returns how many ended."""
    user = ctx.session.get(User, ctx.actor.id)
    assert user is not None
    if not verify_password(user, old):
        raise field_error("old_password", "this is not your current password")
    if new == old:
        raise field_error("new_password", "choose a password different from the current one")
    user.password_hash = hash_password_field(new)
    ended = _end_sessions(ctx, user, keep_cookie)
    audit.record(
        ctx.session, ctx.now, ctx.actor, "user.password_changed", user, sessions_ended=ended
    )
    return ended


def hash_password_field(password: str) -> str:
    if len(password) < 8:
        raise field_error("new_password", "use at least 8 characters")
    if len(password) > 200:
        raise field_error("new_password", "use at most 200 characters")
    return hash_password(password)


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str | None) -> str:
    """ "Chrome on Linux" from a User-Agent header, as session lists show it; the CLI's and
    scripts' own names (``python-httpx/0.28``) stay as they are."""
    if not user_agent:
        return "unknown browser"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser is None:
        return user_agent[:60]
    return f"{browser} on {system}" if system else browser


def session_out(row: WebSession, current_hash: str | None) -> SessionOut:
    return SessionOut(
        id=row.id,
        browser=browser_label(row.user_agent),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at or row.created_at,
        expires_at=row.expires_at,
        user_agent=row.user_agent or "",
        current=current_hash is not None and row.session_hash == current_hash,
    )


def list_sessions(
    session: Session, user: User, now: datetime, cookie: str | None
) -> list[SessionOut]:
    """Your browser sessions that still let someone in, last seen first."""
    rows = session.scalars(
        select(WebSession)
        .where(WebSession.user_id == user.id, WebSession.expires_at > now)
        .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
        .limit(MAX_SESSIONS_SHOWN)
    ).all()
    current = sha256(cookie) if cookie else None
    return [session_out(r, current) for r in rows]


def end_session(ctx: Ctx, session_id: int) -> SessionOut:
    """Log one of your sessions out (its browser must log in again)."""
    row = ctx.session.get(WebSession, session_id)
    if row is None or row.user_id != ctx.actor.id:
        raise NotFound(f"you have no session {session_id}; your sessions page lists them")
    if row.expires_at > ctx.now:
        row.expires_at = ctx.now
        audit.record(ctx.session, ctx.now, ctx.actor, "session.ended", ctx.actor, session_id=row.id)
    return session_out(row, None)


def end_other_sessions(ctx: Ctx, keep_cookie: str | None) -> int:
    """Log out everywhere but here (with a token: everywhere); returns how many ended."""
    user = ctx.session.get(User, ctx.actor.id)
    assert user is not None
    ended = _end_sessions(ctx, user, keep_cookie)
    audit.record(ctx.session, ctx.now, ctx.actor, "session.ended_others", user, ended=ended)
    return ended


def _end_sessions(ctx: Ctx, user: User, keep_cookie: str | None) -> int:
    stmt = update(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at > ctx.now)
    if keep_cookie:
        stmt = stmt.where(WebSession.session_hash != sha256(keep_cookie))
    done = ctx.session.execute(stmt.values(expires_at=ctx.now))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def note_session_seen(session: Session, cookie: str, now: datetime) -> None:
    """Keep ``last_seen_at`` to the minute: at most one small write per session a minute."""
    session.execute(
        update(WebSession)
        .where(
            WebSession.session_hash == sha256(cookie),
            (WebSession.last_seen_at.is_(None)) | (WebSession.last_seen_at < now - LAST_SEEN_GRAIN),
        )
        .values(last_seen_at=now)
    )
