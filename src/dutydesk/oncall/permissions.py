"""Who may do what to a rotation: people act for themselves, leads of its desks for anyone.

Being on call needs the responder role on one of the rotation's desks (any desk when the
rotation serves none).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.leads import leads_any, require_desk_lead
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, require
from dutydesk.context import Ctx
from dutydesk.errors import Forbidden, field_error
from dutydesk.oncall.loading import Loaded


def is_lead(who: Ctx | User, desks: Sequence[str]) -> bool:
    """A lead of one of ``desks`` (any desk when none): given a ``Ctx``, the rotation's current
    lead counts too (:mod:`dutydesk.auth.leads`); given only a user, the lead role."""
    if isinstance(who, Ctx):
        return leads_any(who.session, who.policy, who.actor, desks, who.now)
    return any(has_role(who, "lead", d) for d in desks) if desks else has_role(who, "lead")


def require_lead(who: Ctx | User, desks: Sequence[str], action: str) -> None:
    if isinstance(who, Ctx):
        require_desk_lead(who, desks, action)
    elif not is_lead(who, desks):
        require(who, "lead", desks[0] if desks else None, action)


def require_self_or_lead(
    who: Ctx | User, people: Collection[str | None], desks: Sequence[str], action: str
) -> None:
    """People act for themselves; a lead of one of the rotation's desks acts for anyone."""
    actor = who.actor if isinstance(who, Ctx) else who
    if actor.name in people and may_be_on_call(actor, desks):
        return
    if is_lead(who, desks):
        return
    who_may = " or ".join(sorted(p for p in people if p)) or "the people concerned"
    where = f" of desk {', '.join(desks)}" if desks else ""
    raise Forbidden(
        f"{actor.name} may not {action}: only {who_may}, or a lead{where} (the lead role or "
        "the rotation's current lead shift), may do that"
    )


def may_be_on_call(user: User, desks: Sequence[str]) -> bool:
    if not user.active:
        return False
    return (
        any(has_role(user, "responder", d) for d in desks) if desks else has_role(user, "responder")
    )


def eligible_people(session: Session, desks: Sequence[str]) -> dict[str, User]:
    users = session.scalars(select(User).where(User.active.is_(True))).all()
    return {u.name: u for u in users if may_be_on_call(u, desks)}


def check_person(
    session: Session, eligible: Mapping[str, User], name: str, fld: str, loaded: Loaded
) -> None:
    if name in eligible:
        return
    active = session.scalar(select(User.active).where(User.name == name))
    if active is None:
        raise field_error(fld, f"no user named {name!r}; give a person's login name")
    if not active:
        raise field_error(fld, f"{name} is deactivated and cannot be put on call")
    desks = loaded.desks
    where = f"the responder role on desk {' or '.join(desks)}" if desks else "the responder role"
    raise field_error(fld, f"{name} cannot be on call for {loaded.name}: that needs {where}")
