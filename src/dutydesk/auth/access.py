"""Taking access away and giving it back: deactivating a person ends their sessions and
revokes their tokens in the same transaction; their name stays on everything they did.
People declared in the policy file follow it: one removed from the file is deactivated at the
next start, and one who comes back is reactivated."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dutydesk.auth import audit
from dutydesk.auth.models import ApiToken, User, WebSession
from dutydesk.auth.schemas import StandingOut
from dutydesk.auth.service import require, user_by_name
from dutydesk.context import Ctx
from dutydesk.errors import Conflict

REMOVED_FROM_POLICY = "removed from the policy file"


def standing(user: User) -> StandingOut:
    return StandingOut(
        name=user.name,
        active=user.active,
        deactivated_at=user.deactivated_at,
        deactivated_reason=user.deactivated_reason,
    )


def deactivate(ctx: Ctx, name: str, reason: str = "") -> StandingOut:
    require(ctx.actor, "admin", None, "deactivate people")
    user = user_by_name(ctx.session, name)
    if user.id == ctx.actor.id:
        raise Conflict("you cannot deactivate yourself; ask another admin")
    if user.active:
        take_away(ctx.session, user, ctx.now, ctx.actor, reason or "deactivated by an admin")
    return standing(user)


def reactivate(ctx: Ctx, name: str) -> StandingOut:
    require(ctx.actor, "admin", None, "reactivate people")
    user = user_by_name(ctx.session, name)
    if not user.active:
        give_back(ctx.session, user, ctx.now, ctx.actor)
    return standing(user)


def take_away(session: Session, user: User, now: datetime, actor: User | None, reason: str) -> None:
    """Deactivate: sessions end and tokens are revoked now, in this transaction. Other
    replicas stop accepting them within their token cache's half second; sessions are read
    from the database on every request."""
    user.active, user.deactivated_at, user.deactivated_reason = False, now, reason
    sessions = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.expires_at > now)
        .values(expires_at=now)
    )
    tokens = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(
        session,
        now,
        actor,
        "user.deactivated",
        user,
        reason=reason,
        sessions_ended=sessions.rowcount,  # type: ignore[attr-defined]
        tokens_revoked=tokens.rowcount,  # type: ignore[attr-defined]
    )
    session.flush()


def give_back(session: Session, user: User, now: datetime, actor: User | None) -> None:
    """Reactivate; old sessions and tokens stay ended: they log in and make new tokens."""
    user.active, user.deactivated_at, user.deactivated_reason = True, None, None
    audit.record(session, now, actor, "user.reactivated", user)
    session.flush()


def set_roles(
    session: Session, user: User, roles: list[str], desks: list[str], now: datetime
) -> None:
    """Roles and desks as the policy file declares them; a change is audited."""
    if list(user.roles) != roles or list(user.desks) != desks:
        audit.record(
            session,
            now,
            None,
            "user.roles_changed",
            user,
            roles={"before": list(user.roles), "after": roles},
            desks={"before": list(user.desks), "after": desks},
        )
        user.roles, user.desks = roles, desks


def follow_policy(session: Session, declared: Collection[str], now: datetime) -> None:
    """People the policy declares are policy-managed; a managed person no longer declared
    loses access, and one deactivated only for leaving the file gets it back on return."""
    users = session.scalars(
        select(User).where((User.managed_by_policy.is_(True)) | (User.name.in_(declared)))
    ).all()
    for user in users:
        if user.name in declared:
            user.managed_by_policy = True
            if not user.active and user.deactivated_reason == REMOVED_FROM_POLICY:
                give_back(session, user, now, None)
        elif user.active:
            take_away(session, user, now, None, REMOVED_FROM_POLICY)
