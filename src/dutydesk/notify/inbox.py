"""The in-product inbox: every notice a person is sent also lands here, with an unread state
they clear (one, several, or all). Written beside the outbox notice in the same transaction,
with its dedupe key, so a change expanded twice lands once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from dutydesk.context import Ctx
from dutydesk.errors import NotFound
from dutydesk.notify.models import NOTICE, InboxItem
from dutydesk.notify.outbox import dialect_insert
from dutydesk.notify.rows import OutboxRow
from dutydesk.notify.schemas import InboxItemOut, InboxMarked, InboxPage

INBOX: Table = InboxItem.__table__  # type: ignore[assignment]
MAX_PAGE = 100


def record(session: Session, rows: Sequence[OutboxRow]) -> int:
    """One inbox item per notice row (others are ignored); returns how many were new."""
    items = [_item(r) for r in rows if r.kind == NOTICE and r.payload.get("user") is not None]
    if not items:
        return 0
    stmt = dialect_insert(session, INBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])
    done = session.execute(stmt, items)
    return max(0, int(getattr(done, "rowcount", 0) or 0))


def _item(r: OutboxRow) -> dict[str, Any]:
    p = r.payload
    return {
        "user_id": int(p["user"]),
        "dedupe_key": r.dedupe_key[:200],
        "at": r.created_at,
        "reason": str(p.get("reason") or "")[:40],
        "ticket": (str(p["ticket"])[:40] if p.get("ticket") else None),
        "title": str(p.get("title") or "")[:300],
        "lines": [str(line) for line in p.get("lines", [])],
        "actor": (str(p["actor"])[:40] if p.get("actor") else None),
        "read_at": None,
    }


def unread_count(session: Session, user_id: int, cap: int | None = None) -> int:
    """Unread notifications; with ``cap``, counted no further (the header shows "99+"), so
    every page's count stays one short index range however much is unread."""
    query = select(InboxItem.id).where(InboxItem.user_id == user_id, InboxItem.read_at.is_(None))
    if cap is not None:
        query = query.limit(cap)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def item_out(row: InboxItem) -> InboxItemOut:
    return InboxItemOut(
        id=row.id,
        at=row.at,
        reason=row.reason,
        ticket=row.ticket,
        title=row.title,
        lines=list(row.lines or []),
        actor=row.actor,
        read=row.read_at is not None,
    )


def listing(
    session: Session,
    user_id: int,
    *,
    unread_only: bool = False,
    before: int | None = None,
    limit: int = 50,
) -> InboxPage:
    """Newest first, a page at a time (``before``: the last id of the page before)."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(InboxItem).where(InboxItem.user_id == user_id)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    if before is not None:
        query = query.where(InboxItem.id < before)
    rows = session.scalars(query.order_by(InboxItem.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return InboxPage(
        items=[item_out(r) for r in rows],
        unread=unread_count(session, user_id),
        next_before=rows[-1].id if more and rows else None,
    )


def mark(ctx: Ctx, ids: Sequence[int], *, all_: bool = False, read: bool = True) -> InboxMarked:
    """Mark your notifications read (or unread again); ids of others' are left alone."""
    stmt = update(InboxItem).where(InboxItem.user_id == ctx.actor.id)
    if all_:
        stmt = stmt.where(InboxItem.read_at.is_(None))
    elif ids:
        stmt = stmt.where(InboxItem.id.in_(list(ids)))
        stmt = stmt.where(InboxItem.read_at.is_(None) if read else InboxItem.read_at.is_not(None))
    else:
        return InboxMarked(changed=0, unread=unread_count(ctx.session, ctx.actor.id))
    done = ctx.session.execute(stmt.values(read_at=ctx.now if read else None))
    changed = int(done.rowcount or 0)  # type: ignore[attr-defined]
    return InboxMarked(changed=changed, unread=unread_count(ctx.session, ctx.actor.id))


def open_item(ctx: Ctx, item_id: int) -> str | None:
    """Mark one of your notifications read; returns its ticket key (None: not yours, or
    about no ticket)."""
    row = ctx.session.get(InboxItem, item_id)
    if row is None or row.user_id != ctx.actor.id:
        raise NotFound(f"you have no notification {item_id}")
    if row.read_at is None:
        row.read_at = ctx.now
    return row.ticket
