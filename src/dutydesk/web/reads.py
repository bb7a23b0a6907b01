"""Read queries the pages need beyond the ticket API's: board columns, change polling, people.

Each is one or a few index-driven statements; nothing here writes. Filtering and search reuse
:mod:`dutydesk.tickets.queries` so the pages and the API always agree on what a filter means.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.inputs import decode_cursor, encode_cursor
from dutydesk.policy.models import DeskPolicy
from dutydesk.tickets import queries, search
from dutydesk.tickets.models import Event, SavedFilter, Ticket, Watcher
from dutydesk.tickets.schemas import TicketFilter
from dutydesk.web import cards, queue_query

BOARD_CAP = 200  # cards per column; the rest are one click away on the queue page
DONE_WINDOW = timedelta(days=14)
DONE_CAP = 30


def user_names(session: Session) -> dict[int, str]:
    """Every user's id -> name (people are few; one small query per page)."""
    return {uid: name for uid, name in session.execute(select(User.id, User.name)).all()}


#: What a card shows; loading only these keeps a 500-card board from reading descriptions.
CARD_COLUMNS = (
    Ticket.id,
    Ticket.desk,
    Ticket.number,
    Ticket.title,
    Ticket.priority,
    Ticket.status,
    Ticket.assignee_id,
    Ticket.team,
    Ticket.kind,
    Ticket.category,
    Ticket.labels,
    Ticket.fix_target,
    Ticket.customer_reported,
    Ticket.blocked,
    Ticket.blocked_reason,
    Ticket.created_at,
    Ticket.version,
    Ticket.triaged_at,
    Ticket.pr_links,
)


def _card_rows(session: Session, stmt: Any) -> list[cards.CardRow]:
    return [cards.CardRow(*row) for row in session.execute(stmt).all()]


def board_tickets(
    session: Session, desk_name: str, desk: DeskPolicy, now: datetime
) -> tuple[list[cards.CardRow], dict[str, int]]:
    """Queue tickets per open column in queue order, plus recently done ones; and column sizes.

    One bounded query per column on (desk, status) so a huge column never loads whole.
    Backlog tickets (below the admission priorities) are not on the board; the queue page
    lists them.
    """
    tickets: list[cards.CardRow] = []
    totals: dict[str, int] = {}
    for col in desk.columns:
        if col == desk.done_column:
            stmt = (
                select(*CARD_COLUMNS)
                .where(
                    Ticket.desk == desk_name,
                    Ticket.resolved_at >= now - DONE_WINDOW,
                    Ticket.status == col,
                )
                .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
                .limit(DONE_CAP)
            )
        else:
            stmt = (
                select(*CARD_COLUMNS)
                .where(Ticket.desk == desk_name, Ticket.in_queue.is_(True), Ticket.status == col)
                .order_by(Ticket.order_key, Ticket.id)
                .limit(BOARD_CAP + 1)
            )
        rows = _card_rows(session, stmt)
        if len(rows) > BOARD_CAP:
            rows = rows[:BOARD_CAP]
            totals[col] = (
                session.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(
                        Ticket.desk == desk_name, Ticket.in_queue.is_(True), Ticket.status == col
                    )
                )
                or 0
            )
        tickets.extend(rows)
    return tickets, totals


def backlog_count(session: Session, desk_name: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.desk == desk_name, Ticket.is_open.is_(True), Ticket.in_queue.is_(False))
        )
        or 0
    )


# ----------------------------------------------------------------------------- live updates


def latest_event_id(session: Session) -> int:
    """Every change writes an event, so the newest event id is a version of everything."""
    return int(session.scalar(select(func.max(Event.id))) or 0)


def desk_changed(session: Session, desk_name: str, since: int) -> tuple[int, bool]:
    """(current version, whether any ticket of this desk changed after version ``since``).

    Reads only events newer than ``since`` (a short primary-key range), so polling an open
    board every few seconds costs next to nothing while nothing happens.
    """
    current = latest_event_id(session)
    if current <= since:
        return current, False
    hit = session.scalar(
        select(Event.id)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Event.id > since, Ticket.desk == desk_name)
        .limit(1)
    )
    return current, hit is not None


# ----------------------------------------------------------------------------- people


def assignable(session: Session, desk_name: str) -> list[User]:
    """People who may own a ticket on the desk (the same role check the service applies)."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [u for u in users if "admin" not in u.roles and has_role(u, "responder", desk_name)]


def is_watching(session: Session, ticket: Ticket, user: User) -> bool:
    return session.get(Watcher, (ticket.id, user.id)) is not None


def watcher_names(session: Session, ticket: Ticket) -> list[str]:
    return list(
        session.scalars(
            select(User.name)
            .join(Watcher, Watcher.user_id == User.id)
            .where(Watcher.ticket_id == ticket.id)
            .order_by(User.name)
        )
    )


# ----------------------------------------------------------------------------- queue page


def queue_page(
    session: Session,
    desk_name: str,
    query: queue_query.QueueQuery,
    extra: dict[str, Any],
    now: datetime,
    limit: int,
    cursor: str | None,
    who: search.Readers = search.PUBLIC,
) -> tuple[list[Ticket], str | None]:
    """The queue page's rows: the desk's order for the queue and backlog views, else newest first.

    ``extra`` carries a saved filter's fields that have no URL parameter (e.g. resolved_within).
    Text search always ranks by relevance.
    """
    fields: dict[str, Any] = {**extra, **query.filters(), "desk": desk_name}
    if query.view in ("queue", "backlog") and not query.q:
        f = TicketFilter.model_validate(fields)
        stmt = queries.filtered(session, f, now).where(
            Ticket.in_queue.is_(query.view == "queue"), Ticket.is_open.is_(True)
        )
        if cursor:
            key, tid = decode_cursor(cursor, queries.QUEUE_CURSOR)
            stmt = stmt.where(
                or_(Ticket.order_key > key, and_(Ticket.order_key == key, Ticket.id > tid))
            )
        rows = list(session.scalars(stmt.order_by(Ticket.order_key, Ticket.id).limit(limit + 1)))
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = encode_cursor([rows[-1].order_key, rows[-1].id])
        return rows, nxt
    if query.view == "queue":
        fields["in_queue"] = True
    elif query.view == "backlog":
        fields.update(in_queue=False, open=True)
    elif query.view == "open":
        fields["open"] = True
    elif query.view == "closed":
        fields["open"] = False
        if not query.q:
            fields.setdefault("sort", "-resolved")
    f = TicketFilter.model_validate(fields)
    return queries.list_tickets(session, f, now, limit, cursor, who)


def saved_filters(session: Session, desk_name: str) -> list[SavedFilter]:
    """Shared saved filters for this desk (or for every desk)."""
    rows = session.scalars(
        select(SavedFilter).where(SavedFilter.shared.is_(True)).order_by(SavedFilter.name)
    )
    return [r for r in rows if (r.query or {}).get("desk") in (None, desk_name)]


def saved_filter(session: Session, name: str) -> SavedFilter | None:
    return session.scalar(select(SavedFilter).where(SavedFilter.name == name))


# ----------------------------------------------------------------------------- my work


def my_assigned(session: Session, user: User, now: datetime) -> list[Ticket]:
    rows, _ = queries.list_tickets(
        session, TicketFilter(assignee=user.name, open=True, sort="-updated"), now, 100, None
    )
    return rows


def my_requests(session: Session, user: User, now: datetime) -> list[Ticket]:
    rows, _ = queries.list_tickets(
        session, TicketFilter(reporter=user.name, sort="-updated"), now, 50, None
    )
    return rows


def untriaged(
    session: Session, desks: Sequence[tuple[str, DeskPolicy]], limit: int = 100
) -> list[Ticket]:
    """Open tickets nobody has triaged yet, still in their desk's intake column, oldest first."""
    out: list[Ticket] = []
    for name, desk in desks:
        out.extend(
            session.scalars(
                select(Ticket)
                .where(
                    Ticket.desk == name,
                    Ticket.status == desk.intake_column,
                    Ticket.is_open.is_(True),
                    Ticket.triaged_at.is_(None),
                )
                .order_by(Ticket.id)
                .limit(limit)
            )
        )
    return sorted(out, key=lambda t: t.created_at)[:limit]


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))
