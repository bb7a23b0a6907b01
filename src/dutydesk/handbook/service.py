"""A desk's handbook: read by anyone who can file there, edited by the desk's members
(responders and leads of the desk, admins). Every save is a new version with its author; the
history lists them and any two compare as a line diff."""

from __future__ import annotations

import difflib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dutydesk import markdown
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, require
from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import NotFound, StaleVersion, field_error
from dutydesk.handbook.models import HandbookVersion
from dutydesk.handbook.schemas import DiffLine, DiffOut, HandbookIn, HandbookOut, VersionOut
from dutydesk.policy.models import Policy

MAX_HISTORY = 200
CONTEXT_LINES = 3


def may_edit(user: User, desk: str) -> bool:
    """Desk members edit: "if you see a problem or omission on this page, change it"."""
    return has_role(user, "responder", desk)


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _version_out(row: HandbookVersion, author: str) -> VersionOut:
    return VersionOut(
        desk=row.desk, version=row.version, summary=row.summary, author=author, at=row.at
    )


def _row(session: Session, desk: str, version: int | None = None) -> HandbookVersion | None:
    query = select(HandbookVersion).where(HandbookVersion.desk == desk)
    if version is not None:
        query = query.where(HandbookVersion.version == version)
    return session.scalar(query.order_by(HandbookVersion.version.desc()).limit(1))


def current(
    session: Session, policy: Policy, desk: str, version: int | None = None
) -> HandbookOut | None:
    """The handbook as it reads now (or at ``version``); None when nobody has written it."""
    desk_policy(policy, desk)
    row = _row(session, desk, version)
    if row is None:
        if version is not None:
            raise NotFound(f"the {desk} handbook has no version {version}")
        return None
    author = _names(session, {row.author_id}).get(row.author_id, "?")
    return HandbookOut(
        **_version_out(row, author).model_dump(),
        body=row.body,
        html=markdown.render(row.body, policy.web.image_hosts),
    )


def history(session: Session, policy: Policy, desk: str) -> list[VersionOut]:
    """Every version, newest first (the newest ``MAX_HISTORY``)."""
    desk_policy(policy, desk)
    rows = session.scalars(
        select(HandbookVersion)
        .where(HandbookVersion.desk == desk)
        .order_by(HandbookVersion.version.desc())
        .limit(MAX_HISTORY)
    ).all()
    names = _names(session, {r.author_id for r in rows})
    return [_version_out(r, names.get(r.author_id, "?")) for r in rows]


def save(ctx: Ctx, desk: str, body: HandbookIn) -> VersionOut:
    """A new version. ``base_version`` is the one the editor started from: if someone saved
    meanwhile, the edit is refused (412) rather than silently overwriting theirs."""
    ctx.desk(desk)
    require(ctx.actor, "responder", desk, "edit the handbook")
    text = body.body.replace("\r\n", "\n")
    latest = ctx.session.scalar(
        select(func.max(HandbookVersion.version)).where(HandbookVersion.desk == desk)
    )
    latest = int(latest or 0)
    if body.base_version != latest:
        raise StaleVersion(
            f"the {desk} handbook was changed meanwhile (now version {latest}, your edit "
            f"started from {body.base_version}); reload it, then make your change again"
        )
    before = _row(ctx.session, desk)
    if before is not None and before.body == text:
        raise field_error("body", f"nothing changed from version {latest}")
    if before is None and not text.strip():
        raise field_error("body", "write something first")
    row = HandbookVersion(
        desk=desk,
        version=latest + 1,
        body=text,
        summary=body.summary.strip(),
        author_id=ctx.actor.id,
        at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _version_out(row, ctx.actor.name)


def diff(session: Session, policy: Policy, desk: str, before: int, after: int) -> DiffOut:
    """What changed from version ``before`` (0: nothing) to version ``after``, line by line."""
    desk_policy(policy, desk)
    new = _row(session, desk, after)
    if new is None:
        raise NotFound(f"the {desk} handbook has no version {after}")
    old = _row(session, desk, before) if before else None
    if before and old is None:
        raise NotFound(f"the {desk} handbook has no version {before}")
    names = _names(session, {new.author_id} | ({old.author_id} if old else set()))
    lines: list[DiffLine] = []
    for line in list(
        difflib.unified_diff(
            (old.body if old else "").splitlines(),
            new.body.splitlines(),
            lineterm="",
            n=CONTEXT_LINES,
        )
    )[2:]:  # the two file-name lines say nothing here
        if line.startswith("@@"):
            lines.append(DiffLine(kind="hunk", text=line))
        elif line.startswith("+"):
            lines.append(DiffLine(kind="added", text=line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine(kind="removed", text=line[1:]))
        else:
            lines.append(DiffLine(kind="same", text=line[1:]))
    return DiffOut(
        desk=desk,
        before=_version_out(old, names.get(old.author_id, "?")) if old else None,
        after=_version_out(new, names.get(new.author_id, "?")),
        lines=lines,
    )
