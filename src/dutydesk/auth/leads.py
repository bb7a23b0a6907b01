"""Who leads a desk: the lead-role holders, and whoever holds the desk rotation's lead layer
right now (the rotating lead, for as long as their shift lasts).

One rule for every lead power (status notes, on-call changes for others, recomputing clocks,
rebuilding suggestions): each caller asks :func:`leads_desk` or :func:`require_desk_lead`
instead of checking the static role. The rotating lead needs no role beyond the responder
role a person needs to be on call at all; when their shift ends, so do the powers. What they
do is recorded with them as the actor, like any other write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.context import Ctx
from dutydesk.errors import Forbidden
from dutydesk.oncall.loading import loaded_in
from dutydesk.policy.models import Policy
from dutydesk.policy.rotations import LEAD


def rotation_lead(session: Session, policy: Policy, desk: str, at: datetime) -> str | None:
    """Who holds the lead layer of ``desk``'s rotation at ``at`` (None: no lead layer, a gap)."""
    found = policy.desks.get(desk)
    if found is None or not found.rotation or found.rotation not in policy.rotations:
        return None
    loaded = loaded_in(session, policy, found.rotation)
    if not any(x.name == LEAD for x in loaded.spec.layers):
        return None
    shift = loaded.schedule.on_call(at).get(LEAD)
    return shift.person if shift is not None else None


def leads_desk(session: Session, policy: Policy, user: User, desk: str, at: datetime) -> bool:
    """The desk's lead powers: the lead role on it, or holding its rotation's lead shift now."""
    if has_role(user, "lead", desk):
        return True
    return has_role(user, "responder", desk) and rotation_lead(session, policy, desk, at) == (
        user.name
    )


def leads_any(
    session: Session, policy: Policy, user: User, desks: Sequence[str], at: datetime
) -> bool:
    """Lead of one of ``desks`` (of any desk when none are named)."""
    if (has_role(user, "lead") if not desks else False) or any(
        has_role(user, "lead", d) for d in desks
    ):
        return True
    return any(leads_desk(session, policy, user, d, at) for d in (desks or sorted(policy.desks)))


def require_desk_lead(ctx: Ctx, desks: str | Sequence[str] | None, action: str) -> None:
    """Refuses (403) unless the actor leads one of ``desks`` now; the refusal names both ways
    to hold the power and who leads the rotation at the moment."""
    refuse_unless_leading(ctx.session, ctx.policy, ctx.actor, desks, ctx.now, action)


def refuse_unless_leading(
    session: Session,
    policy: Policy,
    actor: User,
    desks: str | Sequence[str] | None,
    at: datetime,
    action: str,
) -> None:
    """:func:`require_desk_lead` for a caller that holds a session rather than a ``Ctx``."""
    named = [desks] if isinstance(desks, str) else list(desks or [])
    if leads_any(session, policy, actor, named, at):
        return
    where = f" on desk {', '.join(named)}" if named else ""
    current = [
        f"{who} leads {d}'s rotation now"
        for d in named
        if (who := rotation_lead(session, policy, d, at))
    ]
    roles = ", ".join(actor.roles) or "no role"
    raise Forbidden(
        f"{actor.name} ({roles}) may not {action}{where}; it needs the lead role{where} "
        f"or the rotation's current lead shift" + (f" ({'; '.join(current)})" if current else "")
    )
