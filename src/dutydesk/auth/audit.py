"""Audit events: who changed whose access. Written in the transaction of the change itself,
read by admins (``GET /api/v1/audit``, ``dutydesk audit``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from dutydesk.auth.models import AuditEvent, User
from dutydesk.auth.schemas import AuditOut
from dutydesk.auth.service import require, user_by_name

MAX_PAGE = 500


def record(
    session: Session,
    now: datetime,
    actor: User | None,
    action: str,
    subject: User | None,
    **detail: Any,
) -> None:
    """One audit row; ``actor`` None means the policy file or the server's command line."""
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id if actor is not None else None,
            action=action,
            subject_id=subject.id if subject is not None else None,
            detail=detail,
        )
    )


def audit_log(
    session: Session,
    reader: User,
    *,
    user: str | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[AuditOut]:
    """Newest first; ``before`` (an id) pages back. ``user`` matches who acted or was acted on."""
    require(reader, "admin", None, "read the audit log")
    actor, subject = aliased(User), aliased(User)
    query = (
        select(AuditEvent, actor.name, subject.name)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(subject, subject.id == AuditEvent.subject_id)
        .order_by(AuditEvent.id.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    if user is not None:
        uid = user_by_name(session, user).id
        query = query.where(or_(AuditEvent.actor_id == uid, AuditEvent.subject_id == uid))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return [
        AuditOut(
            id=e.id,
            at=e.at,
            actor=actor_name,
            action=e.action,
            subject=subject_name,
            detail=e.detail or {},
        )
        for e, actor_name, subject_name in session.execute(query)
    ]
