"""Triage with suggestions: what was suggested and what the triager chose are recorded on the
``triaged`` event, and the desk's counts learn the decision in the same transaction. Also the
read that turns those records into each desk's suggestion accuracy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dutydesk.auth.leads import require_desk_lead
from dutydesk.context import Ctx
from dutydesk.errors import NotFound
from dutydesk.policy.models import Policy
from dutydesk.tickets import service as tickets
from dutydesk.tickets.models import Event, Ticket
from dutydesk.tickets.recorder import get_ticket
from dutydesk.tickets.schemas import TriageIn
from dutydesk.triage import learning
from dutydesk.triage.schemas import AccuracyOut, FieldAccuracy, RebuildOut


def triage(ctx: Ctx, key: str, data: TriageIn, if_version: int | None) -> Ticket:
    """The ticket domain's triage, plus the suggestion outcome and the learning.

    The suggestion is worked out again here, from the counts as they stand before this
    triage, so the record does not depend on what a client says it was shown.
    """
    ticket = get_ticket(ctx.session, key)
    suggested = learning.suggest(
        ctx.session, ctx.policy, ticket.desk, ticket.title, ticket.description
    )
    outcome: dict[str, Any] = {}
    for s in suggested:
        chosen = getattr(data, s.field)
        if chosen is None:
            chosen = getattr(ticket, s.field)  # left as it was: judged on what it stays
        outcome[s.field] = {
            "suggested": s.value,
            "confidence": s.confidence,
            "chosen": chosen,
            "accepted": chosen == s.value,
        }
    done = tickets.triage(ctx, key, data, if_version, suggestions=outcome or None)
    learning.learn(ctx.session, done)
    return done


def rebuild(ctx: Ctx, desk: str) -> RebuildOut:
    """Recount what the desk's history teaches (after a bulk import): leads and admins."""
    ctx.desk(desk)
    require_desk_lead(ctx, desk, "rebuild suggestions")
    return RebuildOut(desk=desk, learned_from=learning.rebuild(ctx.session, desk))


def accuracy(session: Session, policy: Policy, desk: str) -> AccuracyOut:
    """Accepted and overridden suggestions per field, from every triage on the desk: counted
    by the database (one aggregate over the triaged events), not read row by row."""
    if desk not in policy.desks:
        raise NotFound(f"no desk {desk!r}")
    columns = []
    for f in learning.FIELDS:
        accepted = Event.data[("suggestions", f, "accepted")].as_boolean()
        columns += [
            func.coalesce(func.sum(case((accepted.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((accepted.is_(False), 1), else_=0)), 0),
        ]
    row = session.execute(
        select(*columns)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Ticket.desk == desk, Event.type == "triaged")
    ).one()
    tally = {f: (int(row[2 * i]), int(row[2 * i + 1])) for i, f in enumerate(learning.FIELDS)}
    return AccuracyOut(
        desk=desk,
        learned_from=learning.learned_count(session, desk),
        fields=[
            FieldAccuracy(
                field=f,
                accepted=a,
                overridden=o,
                accuracy=round(a / (a + o), 3) if a + o else None,
            )
            for f, (a, o) in tally.items()
        ],
    )
