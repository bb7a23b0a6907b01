"""Read queries the pages need beyond the ticket API's: board columns, change polling, people.

Each is one or a few index-driven statements; nothing here writes. Filtering and search reuse
:mod:`dutydesk.tickets.queries` so the pages and the API always agree on what a filter means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
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
    Ticket.order_key,
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


def desk_changes(
    session: Session, desk_name: str, since: int, cap: int = 200
) -> tuple[int, set[int] | None]:
    """(current version, ids of this desk's tickets changed after ``since``).

    None instead of the ids when more than ``cap`` changed (the caller then sends everything).
    Reads only the events newer than ``since``: a primary-key range.
    """
    current = latest_event_id(session)
    if current <= since:
        return current, set()
    ids = session.scalars(
        select(Event.ticket_id)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Event.id > since, Ticket.desk == desk_name)
        .distinct()
        .limit(cap + 1)
    ).all()
    return current, None if len(ids) > cap else set(ids)


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


#: Counting stops here, so a page over 100k tickets never counts them all ("10,000+").
COUNT_CAP = 10_000


@dataclass(frozen=True)
class QueuePage:
    rows: list[Ticket]
    total: int  # every ticket matching, not only this page's, up to COUNT_CAP
    page: int
    pages: int
    sort: str
    capped: bool = False  # more than COUNT_CAP match

    @property
    def total_text(self) -> str:
        return f"{self.total:,}+" if self.capped else f"{self.total:,}"


def _sort_columns(sort: str, desk: DeskPolicy, score: Any) -> list[Any]:
    """ORDER BY terms for a queue-page sort; the id always breaks ties so pages never overlap."""
    desc = sort.startswith("-")
    name = sort.lstrip("-")
    if name == "order":
        return [Ticket.order_key, Ticket.id]
    if name == "relevance":
        return [score, Ticket.id.desc()]
    if name == "priority":
        rank = case({p: i for i, p in enumerate(desk.priorities)}, value=Ticket.priority, else_=99)
        return [rank.desc(), Ticket.id.desc()] if desc else [rank, Ticket.id]
    col = {"created": Ticket.id, "updated": Ticket.updated_at, "resolved": Ticket.resolved_at}[name]
    terms = [col.desc() if desc else col.asc()]
    return terms if col is Ticket.id else [*terms, Ticket.id.desc() if desc else Ticket.id]


def queue_page(
    session: Session,
    desk_name: str,
    desk: DeskPolicy,
    query: queue_query.QueueQuery,
    extra: dict[str, Any],
    now: datetime,
    limit: int,
    who: search.Readers = search.PUBLIC,
) -> QueuePage:
    """One numbered page of the queue page's rows and how many match in all.

    The queue and backlog views keep the desk's order unless a column header asks otherwise;
    other views list newest first; a text search ranks by relevance. ``extra`` carries a saved
    filter's fields that have no URL parameter (e.g. resolved_within). One COUNT and one
    bounded SELECT, both on the same statement.
    """
    fields: dict[str, Any] = {**extra, **query.filters(), "desk": desk_name}
    fields.pop("q", None)
    f = TicketFilter.model_validate(fields)
    stmt: Any = queries.filtered(session, f, now)
    if query.view == "queue":
        stmt = stmt.where(Ticket.in_queue.is_(True), Ticket.is_open.is_(True))
    elif query.view == "backlog":
        stmt = stmt.where(Ticket.in_queue.is_(False), Ticket.is_open.is_(True))
    elif query.view == "open":
        stmt = stmt.where(Ticket.is_open.is_(True))
    elif query.view == "closed":
        stmt = stmt.where(Ticket.is_open.is_(False))
    score: Any = None
    if query.q:
        matched = search.apply_match(session, stmt, query.q, who)
        if matched is None:
            return QueuePage([], 0, 1, 1, query.effective_sort)
        stmt, score = matched
    sort = query.effective_sort
    if sort.lstrip("-") == "resolved":
        stmt = stmt.where(Ticket.resolved_at.is_not(None))
    # Counting ids alone lets the database answer from an index, without reading the rows.
    counted = stmt.with_only_columns(Ticket.id).limit(COUNT_CAP + 1).subquery()
    total = int(session.scalar(select(func.count()).select_from(counted)) or 0)
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    pages = max(1, -(-total // limit))
    page = min(query.page, pages)
    if score is not None:
        stmt = stmt.add_columns(score)
    ordered = stmt.order_by(*_sort_columns(sort, desk, score))
    rows = [r[0] for r in session.execute(ordered.offset((page - 1) * limit).limit(limit))]
    return QueuePage(rows, total, page, pages, sort, capped)


def search_tickets(
    session: Session, desks: Sequence[str], q: str, who: search.Readers, limit: int
) -> tuple[list[Ticket], bool]:
    """Tickets on ``desks`` matching ``q``, best first; and whether more than ``limit`` match.

    Internal notes make a ticket match only on the desks ``who`` responds on (the same reader
    rules as the queue's search and the API's).
    """
    if not desks:
        return [], False
    matched = search.apply_match(session, select(Ticket).where(Ticket.desk.in_(desks)), q, who)
    if matched is None:
        return [], False
    stmt, score = matched
    rows = [
        r[0]
        for r in session.execute(
            stmt.add_columns(score).order_by(score, Ticket.id.desc()).limit(limit + 1)
        )
    ]
    return rows[:limit], len(rows) > limit


def saved_filters(session: Session, desk_name: str, user_id: int) -> list[SavedFilter]:
    """Saved filters for this desk (or every desk): desk-wide ones and the user's own."""
    rows = session.scalars(
        select(SavedFilter)
        .where(or_(SavedFilter.shared.is_(True), SavedFilter.owner_id == user_id))
        .order_by(SavedFilter.shared.desc(), SavedFilter.name)
    )
    return [r for r in rows if (r.query or {}).get("desk") in (None, desk_name)]


def saved_filter(session: Session, name: str, user_id: int) -> SavedFilter | None:
    """A saved filter by name, if this user may use it (desk-wide, or their own)."""
    row = session.scalar(select(SavedFilter).where(SavedFilter.name == name))
    return row if row is not None and (row.shared or row.owner_id == user_id) else None


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


def _count(session: Session, *conds: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0)


def my_assigned_count(session: Session, user: User) -> int:
    return _count(session, Ticket.assignee_id == user.id, Ticket.is_open.is_(True))


def my_requests_count(session: Session, user: User) -> int:
    return _count(session, Ticket.reporter_id == user.id)


def untriaged_count(session: Session, desks: Sequence[tuple[str, DeskPolicy]]) -> int:
    """How many wait for triage on these desks in all (the list shows the oldest 100)."""
    return sum(
        _count(
            session,
            Ticket.desk == name,
            Ticket.status == desk.intake_column,
            Ticket.is_open.is_(True),
            Ticket.triaged_at.is_(None),
        )
        for name, desk in desks
    )


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
