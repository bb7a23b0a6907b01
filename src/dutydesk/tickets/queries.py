"""Read side: filtered lists with keyset pagination, the ordered queue, and presenting rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import user_names
from dutydesk.durations import parse_span
from dutydesk.errors import field_error
from dutydesk.github.models import GithubIssueLink
from dutydesk.imports.models import TicketSource
from dutydesk.inputs import MAX_PAGE, decode_cursor, encode_cursor
from dutydesk.policy.models import Policy
from dutydesk.slo import service as slo_service
from dutydesk.slo.policy import desk_slo
from dutydesk.tickets import search, workflow
from dutydesk.tickets.models import Event, Ticket, TicketLabel, Watcher, ticket_key
from dutydesk.tickets.ordering import class_of
from dutydesk.tickets.results import Filed
from dutydesk.tickets.schemas import SourceOut, TicketFilter, TicketOut

MAX_LIMIT = MAX_PAGE
# What the queue's keyset cursor holds: the order key and the ticket id.
QUEUE_CURSOR = (str, int)


def _user_id(session: Session, name: str, field: str) -> int:
    uid = session.scalar(select(User.id).where(User.name == name))
    if uid is None:
        raise field_error(field, f"no user named {name!r}")
    return uid


def filtered(session: Session, f: TicketFilter, now: datetime) -> Select[Ticket]:
    stmt = select(Ticket)
    conds: list[Any] = []
    if f.desk:
        conds.append(Ticket.desk == f.desk)
    if f.status:
        conds.append(Ticket.status.in_(f.status))
    if f.priority:
        named = [p for p in f.priority if p != "none"]
        conds.append(
            or_(
                Ticket.priority.in_(named),
                *([Ticket.priority.is_(None)] if "none" in f.priority else []),
            )
        )
    if f.assignee:
        conds.append(
            Ticket.assignee_id.is_(None)
            if f.assignee == "none"
            else Ticket.assignee_id == _user_id(session, f.assignee, "assignee")
        )
    if f.reporter:
        conds.append(Ticket.reporter_id == _user_id(session, f.reporter, "reporter"))
    if f.team:
        conds.append(Ticket.team.is_(None) if f.team == "none" else Ticket.team == f.team)
    if f.kind:
        conds.append(Ticket.kind.in_(f.kind))
    if f.category:
        conds.append(Ticket.category == f.category)
    if f.label:
        conds.append(
            Ticket.id.in_(select(TicketLabel.ticket_id).where(TicketLabel.label == f.label))
        )
    for field in ("customer_reported", "blocked", "in_queue"):
        value = getattr(f, field)
        if value is not None:
            conds.append(getattr(Ticket, field).is_(value))
    if f.open is not None:
        conds.append(Ticket.is_open.is_(f.open))
    if f.resolution:
        conds.append(Ticket.resolution == f.resolution)
    if f.created_from:
        conds.append(Ticket.created_at >= f.created_from)
    if f.created_to:
        conds.append(Ticket.created_at < f.created_to)
    if f.resolved_from:
        conds.append(Ticket.resolved_at >= f.resolved_from)
    if f.resolved_to:
        conds.append(Ticket.resolved_at < f.resolved_to)
    if f.resolved_within:
        conds.append(Ticket.resolved_at >= now - parse_span(f.resolved_within))
    return stmt.where(and_(*conds)) if conds else stmt


def list_tickets(
    session: Session,
    f: TicketFilter,
    now: datetime,
    limit: int,
    cursor: str | None,
    who: search.Readers = search.PUBLIC,
) -> tuple[list[Ticket], str | None]:
    """A filtered page; a text query matches internal comments only where ``who`` reads them."""
    if not 1 <= limit <= MAX_LIMIT:
        raise field_error("limit", f"use 1 to {MAX_LIMIT}")
    stmt: Select[Any] = filtered(session, f, now)
    sort = f.sort or ("relevance" if f.q else "-created")
    if f.q:
        matched = search.apply_match(session, stmt, f.q, who)
        if matched is None:
            return [], None
        stmt, score = matched
    elif sort == "relevance":
        raise field_error("sort", "'relevance' needs a text query 'q'")
    # (column, descending) pairs; the id always breaks ties so the order is stable.
    if sort == "relevance":
        stmt = stmt.add_columns(score)
        cols: list[tuple[Any, bool]] = [(score, False), (Ticket.id, True)]
    else:
        col = {
            "-created": Ticket.id,
            "created": Ticket.id,
            "-updated": Ticket.updated_at,
            "-resolved": Ticket.resolved_at,
        }[sort]
        desc = sort.startswith("-")
        cols = [(col, desc)] if col is Ticket.id else [(col, desc), (Ticket.id, desc)]
        if sort == "-resolved":
            stmt = stmt.where(Ticket.resolved_at.is_not(None))
    if cursor:
        values = decode_cursor(cursor, [_cursor_kind(c) for c, _ in cols])
        stmt = stmt.where(_after(cols, values))
    stmt = stmt.order_by(*[c.desc() if d else c.asc() for c, d in cols]).limit(limit + 1)
    rows = session.execute(stmt).all()
    tickets: list[Ticket] = [r[0] for r in rows]
    nxt = None
    if len(rows) > limit:
        tickets = tickets[:limit]
        last = rows[limit - 1]
        nxt = encode_cursor([_cursor_value(last, c, i) for i, (c, _) in enumerate(cols)])
    return tickets, nxt


def _cursor_value(row: Any, col: Any, i: int) -> Any:
    if col is Ticket.id:
        return row[0].id
    if col is Ticket.updated_at:
        return row[0].updated_at.isoformat()
    if col is Ticket.resolved_at:
        return row[0].resolved_at.isoformat()
    return row[1]  # the score column


def _cursor_kind(col: Any) -> type:
    """The type a sort column's cursor value holds: ids, instants, else the search score."""
    if col is Ticket.id:
        return int
    return datetime if col in (Ticket.updated_at, Ticket.resolved_at) else float


def _after(cols: list[tuple[Any, bool]], values: list[Any]) -> Any:
    """Keyset condition: rows strictly after the cursor in the (col, desc) order."""
    parsed = values
    ors = []
    for i, (col, desc) in enumerate(cols):
        eqs = [c == parsed[j] for j, (c, _) in enumerate(cols[:i])]
        ors.append(and_(*eqs, col < parsed[i] if desc else col > parsed[i]))
    return or_(*ors)


def queue(
    session: Session,
    desk: str,
    limit: int,
    cursor: str | None,
    backlog: bool = False,
    category: str | None = None,
) -> tuple[list[Ticket], str | None]:
    """Open tickets in the desk's order; one range scan on (desk, in_queue, order_key)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise field_error("limit", f"use 1 to {MAX_LIMIT}")
    stmt = select(Ticket).where(Ticket.desk == desk, Ticket.in_queue.is_(not backlog))
    if backlog:
        stmt = stmt.where(Ticket.is_open.is_(True))
    if category is not None:
        stmt = stmt.where(Ticket.category == category)
    if cursor:
        key, tid = decode_cursor(cursor, QUEUE_CURSOR)
        stmt = stmt.where(
            or_(Ticket.order_key > key, and_(Ticket.order_key == key, Ticket.id > tid))
        )
    rows = list(session.scalars(stmt.order_by(Ticket.order_key, Ticket.id).limit(limit + 1)))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor([rows[-1].order_key, rows[-1].id])
    return rows, nxt


# ----------------------------------------------------------------------------- presenting


def present(
    session: Session, policy: Policy, tickets: Sequence[Ticket], now: datetime | None = None
) -> list[TicketOut]:
    """Ticket rows to API objects, resolving user ids and duplicate keys in batched queries.

    `now` is the instant clocks are shown at (remaining time, at risk, breached).
    """
    if not tickets:
        return []
    clocks = slo_service.ticket_clocks(session, policy, tickets, now or datetime.now(UTC))
    ids = [t.id for t in tickets]
    user_ids = {
        u
        for t in tickets
        for u in (t.assignee_id, t.reporter_id, t.triaged_by_id, t.blocked_by_id)
        if u is not None
    }
    # Watchers come with their names; reporters and assignees watch their tickets, so the
    # second query usually has nothing left to look up.
    watch_rows = session.execute(
        select(Watcher.ticket_id, Watcher.user_id, User.name)
        .join(User, User.id == Watcher.user_id)
        .where(Watcher.ticket_id.in_(ids))
    ).all()
    names = {uid: name for _, uid, name in watch_rows}
    missing = user_ids - names.keys()
    if missing:
        names.update(user_names(session, missing))
    dup_ids = {t.duplicate_of_id for t in tickets if t.duplicate_of_id}
    dup_keys = (
        {
            tid: ticket_key(desk, num)
            for tid, desk, num in session.execute(
                select(Ticket.id, Ticket.desk, Ticket.number).where(Ticket.id.in_(dup_ids))
            ).all()
        }
        if dup_ids
        else {}
    )
    watchers: dict[int, list[str]] = {}
    for tid, _, name in watch_rows:
        watchers.setdefault(tid, []).append(name)
    found = sources(session, ids)
    links = conversion_links(session, ids)
    return [
        _ticket_out(
            policy,
            t,
            names,
            watchers.get(t.id, []),
            dup_keys.get(t.duplicate_of_id) if t.duplicate_of_id else None,
            clocks.get(t.id, []),
            found.get(t.id),
            links.get(t.id, {}),
        )
        for t in tickets
    ]


def sources(session: Session, ids: Sequence[int]) -> dict[int, SourceOut]:
    """Where imported and bridged tickets came from (an import's record wins over the
    bridge's link when a bridged issue was later imported too)."""
    out = {
        int(tid): SourceOut(system="github-webhook", external_id=f"{repo}#{num}", url=url)
        for tid, repo, num, url in session.execute(
            select(
                GithubIssueLink.ticket_id,
                GithubIssueLink.repository,
                GithubIssueLink.number,
                GithubIssueLink.html_url,
            ).where(GithubIssueLink.ticket_id.in_(ids))
        )
    }
    for tid, system, ext, url in session.execute(
        select(
            TicketSource.ticket_id,
            TicketSource.source,
            TicketSource.external_id,
            TicketSource.source_url,
        ).where(TicketSource.ticket_id.in_(ids))
    ):
        out[int(tid)] = SourceOut(system=system, external_id=ext, url=url)
    return out


def conversion_links(session: Session, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Each ticket's conversion references (``converted_to`` / ``converted_from``: a key),
    read from the ``linked`` events a conversion writes on both tickets."""
    out: dict[int, dict[str, str]] = {}
    rows = session.execute(
        select(Event.ticket_id, Event.field, Event.after)
        .where(Event.ticket_id.in_(ids), Event.type == "linked")
        .order_by(Event.ticket_id, Event.seq)
    ).all()
    for tid, field, after in rows:
        if field in ("converted_to", "converted_from") and isinstance(after, str):
            out.setdefault(tid, {})[field] = after
    return out


def present_filed(policy: Policy, filed: Filed, now: datetime) -> TicketOut:
    """A ticket just filed, from what filing already knows: no query reads it back."""
    t = filed.ticket
    names = {t.reporter_id: filed.reporter}
    if filed.assignee is not None:
        names[filed.assignee.id] = filed.assignee.name
    slo = desk_slo(policy, t.desk)
    clocks = [slo_service.clock_out(c, slo, now).model_dump() for c in filed.clocks]
    return _ticket_out(policy, t, names, [filed.reporter], None, clocks)


def _ticket_out(
    policy: Policy,
    t: Ticket,
    names: dict[int, str],
    watchers: list[str],
    duplicate_of: str | None,
    clocks: list[dict[str, Any]],
    source: SourceOut | None = None,
    links: dict[str, str] | None = None,
) -> TicketOut:
    desk = policy.desks.get(t.desk)
    return TicketOut(
        key=t.key,
        desk=t.desk,
        number=t.number,
        title=t.title,
        description=t.description,
        description_html=t.description_html,
        kind=t.kind,
        category=t.category,
        priority=t.priority,
        status=t.status,
        resolution=t.resolution,
        duplicate_of=duplicate_of,
        assignee=names.get(t.assignee_id) if t.assignee_id else None,
        team=t.team,
        labels=list(t.labels or []),
        criteria=list(t.criteria or []),
        reporter=names.get(t.reporter_id, "?"),
        customer_reported=t.customer_reported,
        fix_target=t.fix_target,
        pr_links=list(t.pr_links or []),
        watchers=sorted(watchers),
        blocked=t.blocked,
        blocked_reason=t.blocked_reason,
        blocked_at=t.blocked_at,
        blocked_by=names.get(t.blocked_by_id) if t.blocked_by_id else None,
        rank=t.rank,
        in_queue=t.in_queue,
        admission=workflow.admission_note(
            desk, is_open=t.is_open, in_queue=t.in_queue, priority=t.priority, team=t.team
        )
        if desk
        else None,
        queue_class=class_of(desk, t.orderable())[2] if desk else None,
        open=t.is_open,
        created_at=t.created_at,
        updated_at=t.updated_at,
        triaged_at=t.triaged_at,
        triaged_by=names.get(t.triaged_by_id) if t.triaged_by_id else None,
        started_at=t.started_at,
        resolved_at=t.resolved_at,
        last_update_at=t.last_update_at,
        version=t.version,
        clocks=clocks,
        source=source,
        converted_to=(links or {}).get("converted_to"),
        converted_from=(links or {}).get("converted_from"),
    )
