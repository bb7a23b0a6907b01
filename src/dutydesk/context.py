"""What every use case receives: one transaction, the policy, who acts, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.errors import NotFound
from dutydesk.policy.models import DeskPolicy, Policy


@dataclass
class Ctx:
    session: Session
    policy: Policy
    actor: User
    now: datetime

    def desk(self, name: str) -> DeskPolicy:
        return desk_policy(self.policy, name)


def desk_policy(policy: Policy, name: str) -> DeskPolicy:
    desk = policy.desks.get(name)
    if desk is None:
        raise NotFound(f"no desk named {name!r}; desks are {', '.join(sorted(policy.desks))}")
    return desk
