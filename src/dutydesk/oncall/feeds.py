"""Calendar feeds: a rotation's or a person's shifts as iCalendar, and the secret links
(feed tokens) calendar clients fetch them with."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import sha256, user_names
from dutydesk.context import Ctx
from dutydesk.errors import NotFound
from dutydesk.oncall import ical
from dutydesk.oncall.loading import all_loaded_in, declared_rotation, loaded_in, rotation_desks
from dutydesk.oncall.models import FeedToken
from dutydesk.oncall.permissions import is_lead, may_be_on_call, require_lead
from dutydesk.oncall.reads import check_range
from dutydesk.oncall.schemas import FeedTokenOut
from dutydesk.policy.models import Policy

FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=365)


def rotation_ics(
    session: Session, policy: Policy, rotation: str, start: datetime, end: datetime, now: datetime
) -> bytes:
    check_range(start, end)
    found = loaded_in(session, policy, rotation)
    return ical.export_ics(rotation, found.schedule.shifts(start, end), generated_at=now)


def person_ics(
    session: Session, policy: Policy, person: str, start: datetime, end: datetime, now: datetime
) -> bytes:
    """One calendar with a person's shifts in every rotation they are in."""
    check_range(start, end)
    if session.scalar(select(User.id).where(User.name == person)) is None:
        raise NotFound(f"no user named {person!r}")
    title = f"On call: {person}"
    parts = [
        ical.export_ics(
            found.name,
            found.schedule.person_shifts(person, start, end),
            person=person,
            calendar_name=title,
            generated_at=now,
        )
        for found in all_loaded_in(session, policy)
        if person in found.spec.people or found.overrides
    ]
    if not parts:
        return ical.export_ics("-", [], person=person, calendar_name=title, generated_at=now)
    return ical.merge_ics(parts)


def create_feed_token(ctx: Ctx, kind: str, subject: str) -> FeedTokenOut:
    """A secret calendar URL: rotation feeds by its members or leads, a person's by them or a lead."""
    if kind == "rotation":
        declared_rotation(ctx.policy, subject)
        desks = rotation_desks(ctx.policy, subject)
        if not (may_be_on_call(ctx.actor, desks) or is_lead(ctx, desks)):
            require_lead(ctx, desks, f"create a calendar link for rotation {subject}")
    else:
        if ctx.session.scalar(select(User.id).where(User.name == subject)) is None:
            raise NotFound(f"no user named {subject!r}")
        if subject != ctx.actor.name:
            require_lead(ctx, [], f"create a calendar link for {subject}")
    token = "ddc_" + secrets.token_urlsafe(32)
    row = FeedToken(
        kind=kind,
        subject=subject,
        token_hash=sha256(token),
        prefix=token[:8],
        created_at=ctx.now,
        created_by_id=ctx.actor.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    path = (
        f"/api/v1/rotations/{subject}/calendar.ics"
        if kind == "rotation"
        else f"/api/v1/people/{subject}/calendar.ics"
    )
    out = FeedTokenOut.of(row, {ctx.actor.id: ctx.actor.name})
    out.token, out.url = token, f"{path}?token={token}"
    return out


def list_feed_tokens(session: Session, actor: User) -> list[FeedTokenOut]:
    stmt = select(FeedToken).order_by(FeedToken.id)
    if "admin" not in actor.roles:
        stmt = stmt.where(FeedToken.created_by_id == actor.id)
    rows = list(session.scalars(stmt))
    names = user_names(session, [r.created_by_id for r in rows])
    return [FeedTokenOut.of(r, names) for r in rows]


def revoke_feed_token(ctx: Ctx, token_id: int) -> FeedTokenOut:
    row = ctx.session.get(FeedToken, token_id)
    if row is None:
        raise NotFound(f"no calendar link #{token_id}")
    if row.created_by_id != ctx.actor.id and row.subject != ctx.actor.name:
        desks = rotation_desks(ctx.policy, row.subject) if row.kind == "rotation" else []
        require_lead(ctx, desks, "revoke other people's calendar links")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_id = ctx.now, ctx.actor.id
    return FeedTokenOut.of(row, user_names(ctx.session, [row.created_by_id]))


def feed_token_subject(session: Session, token: str) -> tuple[str, str] | None:
    """(kind, subject) of a live feed token, or None; a link made by someone since
    deactivated is dead with the rest of their access."""
    found = session.execute(
        select(FeedToken, User.active)
        .outerjoin(User, User.id == FeedToken.created_by_id)
        .where(FeedToken.token_hash == sha256(token.strip()))
    ).first()
    if found is None or found[0].revoked_at is not None or found[1] is False:
        return None
    return found[0].kind, found[0].subject
