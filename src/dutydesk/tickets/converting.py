"""Converting a ticket: a non-bug becomes a story or feature request, on this desk or as a
linked ticket filed on another (SET's triage sends them to the product desk)."""

from __future__ import annotations

from dataclasses import dataclass

from dutydesk.auth.models import User
from dutydesk.auth.service import require
from dutydesk.context import Ctx
from dutydesk.tickets import filing, workflow
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.recorder import TicketChange, for_change, refuse, workflow_facts
from dutydesk.tickets.schemas import ConvertIn, FileTicket
from dutydesk.tickets.service import _comment as comment_on
from dutydesk.tickets.service import _move as move_to


@dataclass(frozen=True)
class Converted:
    """A conversion: the ticket converted, and the linked ticket filed on another desk."""

    ticket: Ticket
    to: Ticket | None


def convert(ctx: Ctx, key: str, data: ConvertIn, if_version: int | None) -> Converted:
    """Turn a non-bug into a story or feature request in one transaction, without a priority.

    With ``data.desk`` naming another desk, a linked ticket is filed there for the same
    reporter, and this one closes as ``converted``; both name each other (an event and a
    reference comment each)."""
    ticket, desk = for_change(ctx, key, if_version)
    require(ctx.actor, "responder", ticket.desk, "convert tickets")
    target_name = data.desk or desk.convert_to or ticket.desk
    target = ctx.desk(target_name)
    refuse(workflow.convert_refusal(workflow_facts(ticket), data.kind, target_name, target.kinds))
    change = TicketChange(ctx, ticket, desk)
    if data.kind in desk.kinds and data.kind != ticket.kind:
        change.event("converted", "kind", ticket.kind, data.kind)
        change.set("kind", data.kind)
    if target_name == ticket.desk:
        if data.note:
            comment_on(ctx, change, data.note, kind="comment")
        return Converted(change.finish(), None)
    reporter = ctx.session.get(User, ticket.reporter_id)
    filed = filing.file(
        ctx,
        target_name,
        FileTicket(
            title=ticket.title,
            description=ticket.description,
            kind=data.kind,
            labels=[x for x in ticket.labels or [] if x],
            customer_reported=ticket.customer_reported,
        ),
        reporter=reporter if reporter is not None and reporter.active else None,
        linked={"converted_from": ticket.key},
    )
    new = filed.ticket
    other = TicketChange(ctx, new, target)
    other.event("linked", "converted_from", None, ticket.key, kind=ticket.kind)
    comment_on(
        ctx,
        other,
        f"Converted from {ticket.key} ({ticket.kind} on desk {ticket.desk})."
        + (f"\n\n{data.note}" if data.note else ""),
        kind="reference",
    )
    other.finish()
    change.event("linked", "converted_to", None, new.key, desk=target_name, kind=data.kind)
    comment_on(
        ctx,
        change,
        f"Converted to {new.key} ({data.kind} on desk {target_name}); it continues there."
        + (f"\n\n{data.note}" if data.note else ""),
        kind="reference",
    )
    move_to(ctx, change, desk.done_column, "converted", None)
    return Converted(change.finish(), new)
