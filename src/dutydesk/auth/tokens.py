"""API tokens as their owners and admins manage them: list (never the secrets), create with
an expiry, revoke. Each creation and revocation writes an audit event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dutydesk.auth import audit
from dutydesk.auth.models import ApiToken, User
from dutydesk.auth.schemas import TokenCreated, TokenOut
from dutydesk.auth.service import TokenHolder, issue_token, require, user_by_name
from dutydesk.context import Ctx
from dutydesk.db import Database
from dutydesk.durations import parse_span
from dutydesk.errors import Forbidden, NotFound, field_error

MAX_LIFETIME = timedelta(days=5 * 366)


def token_out(row: ApiToken, owner: str, now: datetime) -> TokenOut:
    state = (
        "revoked"
        if row.revoked_at is not None
        else "expired"
        if row.expires_at is not None and row.expires_at <= now
        else "active"
    )
    return TokenOut(
        id=row.id,
        user=owner,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        state=state,
    )


def parse_lifetime(text: str | None, field: str = "expires_in") -> timedelta | None:
    """``'90d'`` → 90 days; empty or ``never`` → no expiry."""
    if text is None or text.strip().lower() in ("", "never"):
        return None
    try:
        span = parse_span(text)
    except ValueError as exc:
        raise field_error(field, str(exc)) from exc
    except OverflowError as exc:  # "99999999999999999999d"
        raise field_error(field, "give a lifetime between one second and five years") from exc
    if span <= timedelta(0) or span > MAX_LIFETIME:
        raise field_error(field, "give a lifetime between one second and five years")
    return span


def _owner(session: Session, actor: User, name: str | None, action: str) -> User:
    """Whose tokens: your own, or (admins) anyone's."""
    if name is None or name == actor.name:
        return actor
    require(actor, "admin", None, f"{action} of other people")
    return user_by_name(session, name)


def list_tokens(
    session: Session, actor: User, now: datetime, user: str | None = None, all_: bool = False
) -> list[TokenOut]:
    query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
    if all_:
        require(actor, "admin", None, "list everyone's tokens")
    else:
        query = query.where(ApiToken.user_id == _owner(session, actor, user, "list tokens").id)
    rows = session.execute(query.order_by(ApiToken.id)).all()
    return [token_out(row, owner, now) for row, owner in rows]


def create(ctx: Ctx, name: str, expires_in: str | None, user: str | None = None) -> TokenCreated:
    owner = _owner(ctx.session, ctx.actor, user, "create tokens")
    return create_for(ctx.session, ctx.now, ctx.actor, owner, name, parse_lifetime(expires_in))


def create_for(
    session: Session,
    now: datetime,
    actor: User | None,
    owner: User,
    name: str,
    lifetime: timedelta | None,
) -> TokenCreated:
    """Also the server's command line (``actor`` None), which needs no token to make one."""
    if not owner.active:
        raise field_error("user", f"{owner.name} is deactivated; reactivate them first")
    expires_at = now + lifetime if lifetime is not None else None
    row, secret = issue_token(session, owner, now, name, expires_at)
    audit.record(
        session,
        now,
        actor,
        "token.created",
        owner,
        token_id=row.id,
        name=name,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return TokenCreated(**token_out(row, owner.name, now).model_dump(), token=secret)


def revoke(ctx: Ctx, token_id: int, owner_name: str | None = None) -> TokenOut:
    """Revoke a token of yours (admins: anyone's). Revoking a revoked token changes nothing.
    ``owner_name``: a page about one person revokes only that person's tokens."""
    row = ctx.session.get(ApiToken, token_id)
    if (
        row is not None
        and owner_name is not None
        and row.user_id != user_by_name(ctx.session, owner_name).id
    ):
        row = None
    if row is None:
        raise NotFound(f"no token {token_id}; `dutydesk token list` shows yours")
    owner = ctx.session.get(User, row.user_id)
    assert owner is not None
    if owner.id != ctx.actor.id and not _is_admin(ctx.actor):
        raise Forbidden(f"token {token_id} is not yours; only its owner or an admin may revoke it")
    if row.revoked_at is None:
        row.revoked_at = ctx.now
        audit.record(ctx.session, ctx.now, ctx.actor, "token.revoked", owner, token_id=row.id)
    return token_out(row, owner.name, ctx.now)


def _is_admin(user: User) -> bool:
    return user.active and "admin" in user.roles


LAST_USED_GRAIN = timedelta(minutes=1)


def note_token_use(db: Database, holder: TokenHolder, now: datetime) -> None:
    """Keep ``last_used_at`` to the minute: one small write per token per minute at most,
    not one per request."""
    if holder.last_used_at is not None and now - holder.last_used_at < LAST_USED_GRAIN:
        return
    with db.write() as s:
        s.execute(update(ApiToken).where(ApiToken.id == holder.token_id).values(last_used_at=now))
