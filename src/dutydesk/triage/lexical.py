"""Candidate duplicates straight from the full-text index the tickets domain keeps in each
ticket's transaction: FTS5 (BM25 with field weights) on SQLite, the weighted ``tsvector``
(``ts_rank``) on PostgreSQL. The final order is ``triage.ranking``'s; this module only asks
the engine for the best few hundred matches of a draft's terms.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from dutydesk.tickets.models import Ticket
from dutydesk.triage.analysis import QueryTerm, english_stem

TITLE_WEIGHT = 3.0  # a word in the title says more about the topic than one in the body
MAX_TERMS = 24  # the draft's most telling stems; more only slow the engine down
REPEAT_AT = 2.0  # a draft weight from which a word counts twice in the engine's query
COMMON_SHARE = 0.25  # a stem in more than this share of tickets tells too little to search on


@dataclass(frozen=True)
class Candidate:
    id: int
    score: float  # the engine's relevance, higher is better
    created_at: datetime
    resolved_at: datetime | None
    is_open: bool
    team: str | None
    kind: str
    priority: str | None


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


# Document frequency per stem, read whole from the engine and kept per database for a while:
# asking the engine per term reads each term's whole posting list (about 1 ms a term).
DF_TTL = 900.0  # seconds; a few hours of new tickets barely move a stem's rarity
_SQLITE_DF = text("SELECT term, doc FROM tickets_fts_vocab WHERE doc >= 2")
_PG_DF = text("SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM tickets') WHERE ndoc >= 2")
_TOTAL = select(func.count()).select_from(Ticket)


@dataclass
class _Frequencies:
    loaded: float
    total: int
    df: dict[str, int]


_frequencies: dict[str, _Frequencies] = {}


def frequencies(session: Session, *, refresh: bool = False) -> _Frequencies:
    """How many tickets use each stem (stems in one ticket only are left out)."""
    key = str(session.get_bind().engine.url)
    known = _frequencies.get(key)
    now = time.monotonic()
    if known is None or refresh or now - known.loaded > DF_TTL:
        conn = session.connection()
        rows = conn.execute(_SQLITE_DF if _sqlite(session) else _PG_DF).all()
        total = int(conn.execute(_TOTAL).scalar_one() or 0)
        known = _frequencies[key] = _Frequencies(now, total, {str(t): int(n) for t, n in rows})
    return known


def _telling_terms(session: Session, terms: list[QueryTerm]) -> list[tuple[QueryTerm, float]]:
    """The terms to ask the engine for, most telling first, with their weight.

    A stem's rarity (inverse document frequency) times the draft's weight for it decides;
    stems in more than ``COMMON_SHARE`` of tickets are left to the ranking of the others:
    each costs the engine a pass over a long posting list and tells little.
    """
    freq = frequencies(session)
    stemmed = (lambda t: t.stem) if _sqlite(session) else (lambda t: english_stem(t.word))
    limit = max(COMMON_SHARE * freq.total, 50)
    scored: list[tuple[QueryTerm, float]] = []
    for t in terms:
        df = freq.df.get(stemmed(t), 1)
        if df > limit:
            continue
        scored.append((t, t.weight * (1.0 + math.sqrt(freq.total / df) / 10)))
    scored.sort(key=lambda tw: (-tw[1], tw[0].word))
    return scored[:MAX_TERMS]


def candidates(
    session: Session,
    desk: str,
    terms: list[QueryTerm],
    before: datetime,
    closed_since: datetime | None,
    limit: int,
    exclude: int | None = None,
    *,
    triaged_only: bool = False,
) -> list[Candidate]:
    """The desk's tickets filed before ``before`` (open then, or closed since
    ``closed_since`` when given; only those given a priority by triage when
    ``triaged_only``) that best match ``terms``, by the engine's relevance."""
    chosen = _telling_terms(session, terms)
    if not chosen:
        return []
    stmt: Any
    if _sqlite(session):
        # A word the draft leans on is repeated: FTS5's bm25 adds one share per phrase.
        phrases = [f'"{t.word}"' for t, w in chosen for _ in range(1 + (w >= REPEAT_AT))]
        fts = (
            text(
                "SELECT rowid AS id, bm25(tickets_fts, :wt, 1.0) AS rank FROM tickets_fts "
                "WHERE tickets_fts MATCH :q"
            )
            .bindparams(q=" OR ".join(phrases), wt=TITLE_WEIGHT)
            .columns(column("id", Integer), column("rank", Float))
            .subquery("fts")
        )
        score: Any = -fts.c.rank
        stmt = select(Ticket.id, score.label("score")).join(fts, fts.c.id == Ticket.id)
    else:
        query = func.to_tsquery(
            literal("english", type_=REGCONFIG),
            bindparam("tsq", " | ".join(t.word for t, _ in chosen)),
        )
        vector: Any = literal_column("tickets.search_vector")
        score = func.ts_rank(vector, query, 1)
        stmt = select(Ticket.id, score.label("score")).where(vector.op("@@")(query))
    stmt = (
        stmt.add_columns(
            Ticket.created_at,
            Ticket.resolved_at,
            Ticket.is_open,
            Ticket.team,
            Ticket.kind,
            Ticket.priority,
        )
        .where(Ticket.desk == desk, Ticket.created_at < before)
        .order_by(score.desc())
        .limit(limit)
    )
    if closed_since is not None:
        stmt = stmt.where(or_(Ticket.is_open, Ticket.resolved_at >= closed_since))
    if triaged_only:
        stmt = stmt.where(Ticket.priority.is_not(None))
    if exclude is not None:
        stmt = stmt.where(Ticket.id != exclude)
    return [
        Candidate(
            r.id,
            float(r.score),
            r.created_at,
            r.resolved_at,
            r.is_open,
            r.team,
            r.kind,
            r.priority,
        )
        for r in session.execute(stmt)
    ]
