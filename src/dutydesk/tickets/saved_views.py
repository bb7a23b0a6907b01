"""Saved views: a person's own or a desk's shared named ticket filters.

Views declared in the policy (``[saved_filters.NAME]``) are written at start and stay as the
policy says; people add their own beside them (personal) or for everyone on a desk
(desk-wide, responders of that desk). The web queue page and the API read the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, Forbidden, NotFound, field_error
from dutydesk.tickets.models import SavedFilter
from dutydesk.tickets.schemas import saved_filter

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


@dataclass(frozen=True)
class NewView:
    name: str
    description: str
    query: dict[str, Any]
    shared: bool
    desk: str


def slug(text: str) -> str:
    """A view's name from what someone typed: 'My P0s on infra' -> 'my-p0s-on-infra'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def save(ctx: Ctx, view: NewView) -> SavedFilter:
    """Store a view; its name is unique across desks and people (it is the view's address)."""
    ctx.desk(view.desk)
    name = slug(view.name)
    if not NAME.fullmatch(name):
        raise field_error("name", "give the view a name of letters and digits, e.g. “my P0s”")
    if view.shared and not has_role(ctx.actor, "responder", view.desk):
        raise Forbidden(
            f"{ctx.actor.name} may not save a view for everyone on desk {view.desk!r}: it needs "
            "the responder role there; save it as a personal view instead"
        )
    if name in ctx.policy.saved_filters:
        raise Conflict(f"“{name}” is a view the policy declares; choose another name")
    if ctx.session.scalar(select(SavedFilter.id).where(SavedFilter.name == name)) is not None:
        raise Conflict(f"a saved view named “{name}” exists already; choose another name")
    saved_filter(view.query)  # refuse a filter that cannot run
    row = SavedFilter(
        name=name,
        description=view.description[:300] or view.name[:300],
        query=view.query,
        owner_id=ctx.actor.id,
        shared=view.shared,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def may_delete(row: SavedFilter, user: User, declared: Collection[str]) -> bool:
    """Whether ``user`` may remove the view: never one the policy declares; its owner may,
    and for a desk-wide view a lead of the view's desk."""
    if row.name in declared or row.owner_id is None:
        return False
    desk = (row.query or {}).get("desk")
    lead = row.shared and has_role(user, "lead", desk if isinstance(desk, str) else None)
    return row.owner_id == user.id or lead


def delete(ctx: Ctx, name: str) -> None:
    """Remove a view: its owner may, and for a desk-wide view the desk's leads too."""
    row = ctx.session.scalar(select(SavedFilter).where(SavedFilter.name == name))
    if row is None or not (row.shared or row.owner_id == ctx.actor.id):
        raise NotFound(f"no saved view named {name!r}")
    if name in ctx.policy.saved_filters or row.owner_id is None:
        raise Conflict(f"“{name}” is declared in the policy; change it in dutydesk.toml")
    if not may_delete(row, ctx.actor, ctx.policy.saved_filters):
        raise Forbidden(f"only its owner or a lead of the desk may delete the view “{name}”")
    ctx.session.delete(row)
