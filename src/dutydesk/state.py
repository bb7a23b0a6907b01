"""What a running dutydesk holds (the database, the policy, the clock), and the one way a
request's write reaches the database: ``AppState.run``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import anyio.to_thread
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.access import follow_policy, set_roles
from dutydesk.auth.cache import TokenCache
from dutydesk.auth.models import User
from dutydesk.auth.service import create_user, hash_password
from dutydesk.auth.throttle import AccessLimits
from dutydesk.clock import Clock, system_clock
from dutydesk.context import Ctx
from dutydesk.db import Database
from dutydesk.errors import Invalid
from dutydesk.group_commit import GroupCommit
from dutydesk.policy.models import Policy
from dutydesk.tickets.models import SavedFilter
from dutydesk.tickets.numbers import sync_counters
from dutydesk.tickets.schemas import saved_filter

T = TypeVar("T")


@dataclass
class AppState:
    db: Database
    policy: Policy
    clock: Clock = system_clock
    tokens: TokenCache = field(default_factory=TokenCache)
    limits: AccessLimits = field(default_factory=AccessLimits)
    # SQLite only: the short, frequent use cases share commits (see ``group_commit``).
    group_commit: GroupCommit | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.db.sqlite:
            self.group_commit = GroupCommit(self.db)

    def now(self) -> datetime:
        return self.clock()

    async def run(self, actor: User, use_case: Callable[[Ctx], T], *, batched: bool = False) -> T:
        """How a request writes, from a web page or the API: one use case, one transaction,
        awaited from the event loop.

        ``batched`` is for the short, frequent use cases only (filing, commenting, moving,
        assigning, triaging): on SQLite they may share one commit with the others queued in
        the same turn of the loop, which runs it in place. Every other write runs on a thread
        of its own, off the loop, however long it takes (on SQLite it waits there for the
        write lock; on PostgreSQL writers proceed side by side).
        """

        def job(session: Session) -> T:
            with _refusing_invalid_input():
                return use_case(Ctx(session, self.policy, actor, self.now()))

        if batched and self.group_commit is not None:
            return await self.group_commit.run(job)
        return await anyio.to_thread.run_sync(self.db.run_job, job)

    @contextmanager
    def write(self, actor: User) -> Iterator[Ctx]:
        """The same, on this thread, for callers that are not on the event loop (chat
        commands, scripts)."""
        with self.db.write() as session, _refusing_invalid_input():
            yield Ctx(session, self.policy, actor, self.now())


@contextmanager
def _refusing_invalid_input() -> Iterator[None]:
    """Input a use case parses itself (a web form's fields) that pydantic refuses is an
    ``Invalid`` refusal, as a request body refused before the use case is."""
    try:
        yield
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())) or "form",
                "message": str(e.get("msg", "invalid")).removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        raise Invalid("; ".join(e["message"] for e in errors[:3]), errors=errors) from exc


def sync_policy(db: Database, policy: Policy, now: datetime) -> None:
    """Create or update the people and saved filters that policy declares (policy wins)."""
    with db.write() as s:
        # Numbering exists up front and ahead of every number in use (copies, restores).
        sync_counters(s.connection(), list(policy.desks))
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
            set_roles(s, user, list(person.roles), list(person.desks), now)
            user.team, user.email = person.team, person.email
            user.display_name = person.name or name
            if person.password and not user.password_hash:
                user.password_hash = hash_password(person.password)
        follow_policy(s, set(policy.people), now)
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
