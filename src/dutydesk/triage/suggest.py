"""Suggested team, kind and priority for a ticket, learned from what the desk's triagers
decided before: the nearest triaged tickets in the full-text index vote, each by how well it
matches. Nothing to retrain — a ticket counts from the moment it is triaged, in the same
transaction that triages it — and nothing is applied until a person accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dutydesk.policy.models import Policy
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.recorder import get_ticket
from dutydesk.triage import lexical
from dutydesk.triage.analysis import query_terms
from dutydesk.triage.voting import FIELDS, Vote, vote

NEIGHBOURS = 30  # triaged tickets read per suggestion


@dataclass(frozen=True)
class Suggestion:
    field: str  # team, kind or priority
    value: str
    confidence: float  # the winning share of the neighbours' votes, 0..1
    based_on: int  # how many triaged tickets voted


def suggest(
    session: Session,
    policy: Policy,
    desk: str,
    title: str,
    body: str,
    before: datetime,
    *,
    exclude: int | None = None,
) -> list[Suggestion]:
    """Team, kind and priority for a draft, from the desk's tickets triaged before ``before``.

    A field is left out when the desk does not use it or no neighbour has it set.
    """
    terms = query_terms(title, body)
    if not terms:
        return []
    hits = lexical.candidates(
        session, desk, terms, before, None, NEIGHBOURS, exclude, triaged_only=True
    )
    d = policy.desks[desk]
    allowed = {"team": set(d.teams), "kind": set(d.kinds), "priority": set(d.priorities)}
    out: list[Suggestion] = []
    for field in FIELDS:
        votes = [
            Vote(getattr(h, field), h.score)
            for h in hits
            if getattr(h, field) in allowed[field]
        ]
        decided = vote(field, votes, shares(session, desk, field) if field == "priority" else {})
        if decided is not None:
            out.append(Suggestion(field, decided.value, decided.confidence, decided.voters))
    return out


def shares(session: Session, desk: str, field: str) -> dict[str, float]:
    """How common each value of a field is among the desk's triaged tickets."""
    column = getattr(Ticket, field)
    rows = session.execute(
        select(column, func.count())
        .where(Ticket.desk == desk, Ticket.priority.is_not(None), column.is_not(None))
        .group_by(column)
    ).all()
    total = sum(n for _, n in rows) or 1
    return {str(v): n / total for v, n in rows}


def suggest_for_ticket(session: Session, policy: Policy, key: str) -> list[Suggestion]:
    """What the history says about an existing ticket, as of when it was filed."""
    ticket = get_ticket(session, key)
    return suggest(
        session,
        policy,
        ticket.desk,
        ticket.title,
        ticket.description,
        ticket.created_at,
        exclude=ticket.id,
    )
