"""The release calendar: the dates a desk releases on (leads add them and move a slipped
release). The meetings that turn daily before a release (:mod:`dutydesk.reports.meetings`)
read it; every change leaves a row in ``release_events`` with its actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.leads import require_desk_lead
from dutydesk.auth.models import User
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, NotFound, field_error
from dutydesk.reports.models import Release, ReleaseEvent

MAX_RELEASES = 500


@dataclass(frozen=True)
class ReleaseOut:
    desk: str
    name: str
    on: date
    version: int

    def as_json(self) -> dict[str, Any]:
        return {
            "desk": self.desk,
            "name": self.name,
            "date": self.on.isoformat(),
            "version": self.version,
        }


@dataclass(frozen=True)
class ReleaseChange:
    release: str
    action: str
    before: str | None
    after: str | None
    note: str | None
    actor: str | None
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "note": self.note,
            "actor": self.actor,
            "at": self.at.isoformat(),
        }


def _out(r: Release) -> ReleaseOut:
    return ReleaseOut(r.desk, r.name, r.on, r.version)


def release_dates(session: Session, desk: str) -> list[date]:
    """The desk's release dates, sorted (what the meetings read)."""
    return sorted(set(session.scalars(select(Release.on).where(Release.desk == desk))))


def list_releases(session: Session, desk: str, since: date | None = None) -> list[ReleaseOut]:
    query = select(Release).where(Release.desk == desk)
    if since is not None:
        query = query.where(Release.on >= since)
    rows = session.scalars(query.order_by(Release.on, Release.name).limit(MAX_RELEASES))
    return [_out(r) for r in rows]


def history(session: Session, desk: str, limit: int = 100) -> list[ReleaseChange]:
    rows = session.execute(
        select(ReleaseEvent, User.name)
        .outerjoin(User, User.id == ReleaseEvent.actor_id)
        .where(ReleaseEvent.desk == desk)
        .order_by(ReleaseEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        ReleaseChange(e.release, e.action, e.before, e.after, e.note, name, e.at)
        for e, name in rows
    ]


def _record(
    ctx: Ctx,
    desk: str,
    name: str,
    action: str,
    before: date | None,
    after: date | None,
    note: str | None,
) -> None:
    ctx.session.add(
        ReleaseEvent(
            desk=desk,
            release=name,
            action=action,
            before=before.isoformat() if before else None,
            after=after.isoformat() if after else None,
            note=note,
            actor_id=ctx.actor.id,
            at=ctx.now,
        )
    )


def _get(session: Session, desk: str, name: str) -> Release:
    row = session.scalars(
        select(Release).where(Release.desk == desk, Release.name == name).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"desk {desk!r} has no release {name!r} on its calendar")
    return row


def add_release(ctx: Ctx, desk: str, name: str, on: date, note: str | None = None) -> ReleaseOut:
    ctx.desk(desk)
    require_desk_lead(ctx, desk, "edit the release calendar")
    exists = ctx.session.scalars(
        select(Release.id).where(Release.desk == desk, Release.name == name)
    ).first()
    if exists is not None:
        raise Conflict(
            f"release {name!r} is already on {desk}'s calendar; move it instead "
            f"(dutydesk release move {name} --date YYYY-MM-DD --desk {desk})"
        )
    row = Release(desk=desk, name=name, on=on, created_at=ctx.now, updated_at=ctx.now, version=1)
    ctx.session.add(row)
    _record(ctx, desk, name, "added", None, on, note)
    ctx.session.flush()
    return _out(row)


def move_release(
    ctx: Ctx,
    desk: str,
    name: str,
    on: date,
    note: str | None = None,
    if_version: int | None = None,
) -> ReleaseOut:
    """A slipped (or pulled-in) release: its new date, with why in ``note``."""
    ctx.desk(desk)
    require_desk_lead(ctx, desk, "edit the release calendar")
    row = _get(ctx.session, desk, name)
    if if_version is not None and row.version != if_version:
        raise Conflict(f"release {name!r} changed meanwhile (version {row.version})")
    if row.on == on:
        raise field_error("date", f"release {name!r} is already on {on.isoformat()}")
    before = row.on
    row.on, row.updated_at, row.version = on, ctx.now, row.version + 1
    _record(ctx, desk, name, "moved", before, on, note)
    ctx.session.flush()
    return _out(row)


def remove_release(ctx: Ctx, desk: str, name: str, note: str | None = None) -> ReleaseOut:
    ctx.desk(desk)
    require_desk_lead(ctx, desk, "edit the release calendar")
    row = _get(ctx.session, desk, name)
    out = _out(row)
    _record(ctx, desk, name, "removed", row.on, None, note)
    ctx.session.delete(row)
    ctx.session.flush()
    return out
