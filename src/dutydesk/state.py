"""What a running dutydesk holds: the database, the policy and the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from dutydesk.auth.cache import TokenCache
from dutydesk.auth.models import User
from dutydesk.auth.service import create_user, hash_password
from dutydesk.clock import Clock, system_clock
from dutydesk.context import Ctx
from dutydesk.db import Database
from dutydesk.policy.models import Policy
from dutydesk.tickets.models import DeskCounter, SavedFilter
from dutydesk.tickets.schemas import saved_filter

T = TypeVar("T")


@dataclass
class AppState:
    db: Database
    policy: Policy
    clock: Clock = system_clock
    tokens: TokenCache = field(default_factory=TokenCache)

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def write(self, actor: User) -> Iterator[Ctx]:
        """One use case, one transaction. ``actor`` was just loaded by authentication."""
        with self.db.write() as session:
            yield Ctx(session, self.policy, actor, self.now())

    async def run(self, actor: User, use_case: Callable[[Ctx], T]) -> T:
        """One use case, one transaction, awaited from the event loop (see ``Database.run_write``:
        on SQLite it may share its commit with other queued use cases)."""
        return await self.db.run_write(
            lambda session: use_case(Ctx(session, self.policy, actor, self.now()))
        )


def sync_policy(db: Database, policy: Policy, now: datetime) -> None:
    """Create or update the people and saved filters that policy declares (policy wins)."""
    with db.write() as s:
        for desk in policy.desks:
            # Counter rows exist up front, so concurrent first filings lock one row.
            if s.get(DeskCounter, desk) is None:
                s.add(DeskCounter(desk=desk, next_number=1))
        for name, person in policy.people.items():
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                create_user(
                    s,
                    name,
                    roles=list(person.roles),
                    desks=person.desks,
                    display_name=person.name,
                    email=person.email,
                    team=person.team,
                    password=person.password,
                    now=now,
                )
                continue
            user.roles, user.desks = list(person.roles), list(person.desks)
            user.team, user.email = person.team, person.email
            user.display_name = person.name or name
            if person.password and not user.password_hash:
                user.password_hash = hash_password(person.password)
        for fname, declared in policy.saved_filters.items():
            saved_filter(declared.query)  # refuse a policy filter that cannot run
            row = s.scalar(select(SavedFilter).where(SavedFilter.name == fname))
            if row is None:
                s.add(
                    SavedFilter(
                        name=fname,
                        description=declared.description,
                        query=declared.query,
                        shared=True,
                        created_at=now,
                    )
                )
            else:
                row.description, row.query = declared.description, declared.query
