"""Triage reads: the open tickets a title may duplicate, for the filing form, the triage
panel and (later) the API and CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.tickets import queries, search
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.schemas import TicketFilter
from dutydesk.triage.ranking import rank_candidates
from dutydesk.triage.titles import significant_words

SEARCH_DEPTH = 20  # hits read per title word before ranking


@dataclass(frozen=True)
class SimilarTicket:
    """An open ticket that shares words with a title: a possible duplicate."""

    id: int
    key: str
    title: str
    status: str


def similar_open_tickets(
    session: Session,
    desk_name: str,
    title: str,
    now: datetime,
    exclude: int | None = None,
    limit: int = 5,
    who: search.Readers = search.PUBLIC,
) -> list[SimilarTicket]:
    """Open tickets of the desk whose text shares the most significant words with ``title``:
    one full-text query per word, tickets found by more words first. Internal comments count
    only for someone who may read them (``who``), so a suggestion reveals nothing."""
    hits: dict[str, list[int]] = {}
    for word in significant_words(title):
        found, _ = queries.list_tickets(
            session,
            TicketFilter(desk=desk_name, open=True, q=word),
            now,
            SEARCH_DEPTH,
            None,
            who,
        )
        hits[word] = [t.id for t in found if t.id != exclude]
    ids = rank_candidates(hits, limit)
    if not ids:
        return []
    rows = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    return [
        SimilarTicket(rows[i].id, rows[i].key, rows[i].title, rows[i].status)
        for i in ids
        if i in rows
    ]
