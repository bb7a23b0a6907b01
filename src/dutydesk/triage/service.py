"""Triage reads: the earlier tickets a draft or a ticket may duplicate, for the filing form,
the triage panel, the API (filing hints and the similar-tickets routes) and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.imports.models import TicketSource
from dutydesk.policy.models import DeskPolicy
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.recorder import get_ticket
from dutydesk.tickets.workflow import unanswered_sections
from dutydesk.triage import lexical
from dutydesk.triage.analysis import query_terms, shared_words
from dutydesk.triage.ranking import CLOSED_WINDOW, DEFAULT_WEIGHTS, Weights, rank
from dutydesk.triage.schemas import HintsOut, SimilarOut
from dutydesk.triage.titles import vague_title_hint

SEARCH_DEPTH = 200  # candidates read from the full-text index before ranking
MAX_LIMIT = 50
# A draft written "now" follows every ticket filed by now, the same instant included; an
# explicit ``before`` is strict (None), and a ticket follows those filed first in its instant.
NOW_INCLUSIVE = 2**62


@dataclass(frozen=True)
class SimilarTicket:
    """An earlier ticket that may be the same request: what it is, how sure, and why."""

    id: int
    key: str
    title: str
    status: str
    score: float
    open: bool  # open when the draft was written (not necessarily now)
    words: list[str]  # the draft's words it shares, title matches first
    external_id: str | None = None


def _external_ids(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(TicketSource.ticket_id, TicketSource.external_id).where(
            TicketSource.ticket_id.in_(ids)
        )
    )
    return {int(tid): str(ext) for tid, ext in rows}


def similar_tickets(
    session: Session,
    desk: str,
    title: str,
    body: str,
    before: datetime,
    *,
    team: str | None = None,
    exclude: int | None = None,
    limit: int = 5,
    weights: Weights = DEFAULT_WEIGHTS,
    same_instant_below: int | None = NOW_INCLUSIVE,
) -> list[SimilarTicket]:
    """The desk's tickets filed before ``before`` that most likely repeat the draft: those
    still open then first, then those closed in the year before, best match first in each."""
    terms = query_terms(title, body)
    if not terms:
        return []
    hits = lexical.candidates(
        session,
        desk,
        terms,
        before,
        before - CLOSED_WINDOW,
        SEARCH_DEPTH,
        exclude,
        same_instant_below,
    )
    ranked = rank(
        [(h.id, h.score, h.created_at, h.resolved_at, h.is_open, h.team) for h in hits],
        before,
        team,
        weights,
        min(limit, MAX_LIMIT),
    )
    if not ranked:
        return []
    ids = [r.id for r in ranked]
    rows = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    external = _external_ids(session, ids)
    found = [
        SimilarTicket(
            r.id,
            rows[r.id].key,
            rows[r.id].title,
            rows[r.id].status,
            round(r.score, 3),
            r.open_then,
            shared_words(terms, rows[r.id].title, rows[r.id].description),
            external.get(r.id),
        )
        for r in ranked
        if r.id in rows
    ]
    return [s for s in found if s.open] + [s for s in found if not s.open]


def similar_to_ticket(session: Session, key: str, limit: int = 5) -> list[SimilarTicket]:
    """Tickets the given one may duplicate: filed before it, never itself."""
    ticket = get_ticket(session, key)
    return similar_tickets(
        session,
        ticket.desk,
        ticket.title,
        ticket.description,
        ticket.created_at,
        team=ticket.team,
        exclude=ticket.id,
        limit=limit,
        same_instant_below=ticket.id,
    )


def similar_open_tickets(
    session: Session,
    desk_name: str,
    title: str,
    now: datetime,
    exclude: int | None = None,
    limit: int = 5,
) -> list[SimilarTicket]:
    """Open tickets a title alone may duplicate (the filing form, while a reporter types)."""
    found = similar_tickets(session, desk_name, title, "", now, exclude=exclude, limit=limit)
    return [s for s in found if s.open]


def present(found: list[SimilarTicket]) -> list[SimilarOut]:
    return [
        SimilarOut(
            key=s.key,
            title=s.title,
            status=s.status,
            score=s.score,
            open=s.open,
            words=s.words,
            external_id=s.external_id,
        )
        for s in found
    ]


def filing_hints(
    session: Session, desks: Mapping[str, DeskPolicy], key: str, limit: int = 5
) -> HintsOut:
    """After filing: the one title rule, the desk's prompts left unanswered, and the open
    tickets the new one may repeat."""
    ticket = get_ticket(session, key)
    # The title alone, as the filing form asks while a reporter types: a handful of terms,
    # so a filing's answer waits a few milliseconds, not a full comparison of the text.
    found = similar_tickets(
        session,
        ticket.desk,
        ticket.title,
        "",
        ticket.created_at,
        exclude=ticket.id,
        limit=limit,
        same_instant_below=ticket.id,
    )
    similar = [s for s in found if s.open]
    return HintsOut(
        title=vague_title_hint(ticket.title),
        sections=unanswered_sections(desks[ticket.desk], ticket.description),
        similar=present(similar),
    )
