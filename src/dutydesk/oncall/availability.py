"""Who on a desk's rotation is free to take other work: on call now, and no open ticket
assigned to them (on any desk). One rule for every page, the API, the CLI and the agendas;
someone with a ticket in progress is never called free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.oncall.loading import desk_rotation_name, loaded_in
from dutydesk.policy.models import Policy
from dutydesk.tickets.models import Ticket


@dataclass(frozen=True)
class MemberLoad:
    """One person on call for a desk now, with the open tickets assigned to them."""

    person: str
    layers: tuple[str, ...]
    open_tickets: int

    @property
    def free(self) -> bool:
        return self.open_tickets == 0


def member_loads(session: Session, policy: Policy, desk: str, at: datetime) -> list[MemberLoad]:
    """Everyone on ``desk``'s rotation at ``at`` (each layer; the lead once, with their
    team), with their open assigned tickets counted in one grouped query."""
    rotation = desk_rotation_name(policy, desk)
    on = loaded_in(session, policy, rotation).schedule.on_call(at)
    layers: dict[str, list[str]] = {}
    for name, shift in on.items():
        layers.setdefault(shift.person, []).append(name)
    if not layers:
        return []
    counts = dict(
        session.execute(
            select(User.name, func.count(Ticket.id))
            .join(Ticket, Ticket.assignee_id == User.id)
            .where(User.name.in_(sorted(layers)), Ticket.is_open.is_(True))
            .group_by(User.name)
        ).all()
    )
    order = {name: i for i, name in enumerate(on)}
    people = sorted(layers, key=lambda p: min(order[x] for x in layers[p]))
    return [MemberLoad(p, tuple(layers[p]), int(counts.get(p, 0))) for p in people]


def free_people(session: Session, policy: Policy, desk: str, at: datetime) -> list[str]:
    """The people on ``desk``'s rotation now with no open ticket assigned."""
    return [m.person for m in member_loads(session, policy, desk, at) if m.free]
