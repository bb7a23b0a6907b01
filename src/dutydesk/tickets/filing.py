"""Filing a ticket: the hottest write, so its rows go in as prepared Core inserts."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Table, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from dutydesk import markdown
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, require
from dutydesk.context import Ctx
from dutydesk.db import Prepared
from dutydesk.reports.tallies import follow as follow_tallies
from dutydesk.slo import service as slo_service
from dutydesk.tickets import ordering, search, workflow
from dutydesk.tickets.changes import record_change
from dutydesk.tickets.models import Ticket, TicketLabel, Watcher
from dutydesk.tickets.numbers import take_number
from dutydesk.tickets.recorder import (
    TicketChange,
    assignable,
    check_choice,
    check_labels,
    refuse,
)
from dutydesk.tickets.results import Filed
from dutydesk.tickets.schemas import (
    FileTicket,
)

_TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
_LABELS: Table = TicketLabel.__table__  # type: ignore[assignment]
_WATCHERS: Table = Watcher.__table__  # type: ignore[assignment]
_TICKET_COLUMNS = tuple(c.name for c in _TICKETS.columns if c.name != "id")
# Hot-path statements, compiled once per dialect (see ``Prepared``).
_INSERT_TICKET = Prepared(insert(_TICKETS).returning(_TICKETS.c.id), _TICKET_COLUMNS)
_INSERT_LABEL = Prepared(insert(_LABELS), ("ticket_id", "label"))
_INSERT_WATCHER = Prepared(insert(_WATCHERS), ("ticket_id", "user_id"))


def file_ticket(ctx: Ctx, desk_name: str, data: FileTicket) -> Ticket:
    return file(ctx, desk_name, data).ticket


def file(
    ctx: Ctx,
    desk_name: str,
    data: FileTicket,
    *,
    triager_fields: Literal["refuse", "drop"] = "refuse",
    reporter: User | None = None,
    linked: dict[str, Any] | None = None,
) -> Filed:
    """File ``data`` on the desk as ``ctx.actor`` (or on behalf of ``reporter``).

    Triager fields (a ranked label, a fix target) from someone who is not a responder of the
    desk are refused, or with ``triager_fields="drop"`` (unattended filing: a webhook) left
    out and said so in the history. ``linked`` goes on the ``filed`` event (a conversion
    names the ticket it came from)."""
    desk = ctx.desk(desk_name)
    require(ctx.actor, "reporter", desk_name, "file tickets")
    is_responder = has_role(ctx.actor, "responder", desk_name)
    responder_fields = [f for f in workflow.RESPONDER_FILING_FIELDS if getattr(data, f) is not None]
    refuse(workflow.filing_refusal(is_responder, responder_fields))
    left_out: str | None = None
    ranked = workflow.triager_filing_values(desk, data.labels, data.fix_target)
    if ranked and not is_responder and triager_fields == "drop":
        dropped = {v for f, v in ranked if f == "labels"}
        left_out = workflow.triager_filing_note(ranked)
        data = data.model_copy(
            update={"labels": [x for x in data.labels if x not in dropped], "fix_target": None}
        )
    else:
        refuse(workflow.triager_filing_refusal(desk_name, is_responder, ranked))
    who = reporter or ctx.actor
    refuse(workflow.template_refusal(desk, data.description))
    kind = data.kind or desk.kinds[0]
    check_choice("kind", kind, desk.kinds, desk_name)
    check_choice("category", data.category, desk.categories, desk_name)
    check_choice("priority", data.priority, desk.priorities, desk_name)
    check_choice("team", data.team, desk.teams, desk_name)
    for criterion in data.criteria:
        check_choice("criteria", criterion, desk.criteria, desk_name)
    labels = check_labels(data.labels)
    assignee = assignable(ctx, desk_name, data.assignee)

    s = ctx.session
    conn = s.connection()
    number = take_number(conn, desk_name)  # a sequence on PostgreSQL: no lock held (numbers)
    rank = ordering.rank_for_time(ctx.now)
    row: dict[str, Any] = {
        "desk": desk_name,
        "number": number,
        "title": data.title,
        "description": data.description,
        "description_html": markdown.render(data.description, ctx.policy.web.image_hosts),
        "kind": kind,
        "category": data.category,
        "priority": data.priority,
        "status": desk.intake_column,
        "resolution": None,
        "duplicate_of_id": None,
        "assignee_id": assignee.id if assignee else None,
        "team": data.team,
        "labels": labels,
        "criteria": list(dict.fromkeys(data.criteria)),
        "reporter_id": who.id,
        "customer_reported": data.customer_reported,
        "fix_target": data.fix_target or "none",
        "pr_links": [],
        "blocked": False,
        "blocked_reason": None,
        "blocked_at": None,
        "blocked_by_id": None,
        "rank": rank,
        "order_key": "",
        "in_queue": desk.admits(data.priority, data.criteria, data.team),
        "is_open": True,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "triaged_at": None,
        "triaged_by_id": None,
        "started_at": None,
        "resolved_at": None,
        "last_update_at": None,
        "claim_active_at": ctx.now if assignee else None,  # a claim from its filing
        "version": 1,
        "event_seq": 0,
    }
    ticket = Ticket(**row)
    ticket.order_key = row["order_key"] = ordering.order_key(desk, ticket.orderable(), rank)
    change = TicketChange(ctx, ticket, desk)
    row["event_seq"] = ticket.event_seq + 1  # the "filed" event, recorded once numbered
    # Core inserts, not the ORM unit of work: filing is the hottest write, and every row it
    # needs is known up front. The ticket then joins the session as a clean, loaded object.
    ticket.id = _INSERT_TICKET.execute(conn, row).scalar_one()
    make_transient_to_detached(ticket)
    s.add(ticket)
    if labels:
        _INSERT_LABEL.executemany(conn, [{"ticket_id": ticket.id, "label": x} for x in labels])
    watcher_ids = {who.id, ctx.actor.id}
    for uid in watcher_ids:  # one row but for a conversion (the reporter and the converter)
        _INSERT_WATCHER.execute(conn, {"ticket_id": ticket.id, "user_id": uid})
    search.index_new(s, ticket)
    clocks = slo_service.on_change(ctx, ticket, new=True)
    extra: dict[str, Any] = dict(linked or {})
    if left_out:
        extra["left_out"] = left_out
    change.event(
        "filed", None, None, ticket.key, title=ticket.title, criteria=ticket.criteria, **extra
    )
    set_committed_value(ticket, "event_seq", row["event_seq"])
    change.write_events()
    follow_tallies(s, ticket, None, change.events)  # a new ticket: its first column
    record_change(ctx, ticket, change.events, watcher_ids=watcher_ids)
    return Filed(ticket, clocks, reporter=who.name, assignee=assignee, left_out=left_out)
