"""Candidate duplicates straight from the full-text index the tickets domain keeps in each
ticket's transaction. The final order is ``triage.ranking``'s; this module finds the few
hundred tickets that share the most telling words with a draft.

The draft's rarest stems (document frequencies from the FTS5 vocabulary on SQLite, from
``ts_stat`` on PostgreSQL, kept per process) are each asked for their newest matches; a
ticket scores the rarity-weighted words it shares, a word in its title counting three times
over. The work is bounded by the number of terms, not by how many tickets use a common word,
so it stays flat as a desk grows; ranking every match with FTS5's bm25() measured no better
on real duplicates and grows with the desk, and ``ts_rank`` measured worse and slower.

On PostgreSQL the candidates come from ``search_vector_words`` (migration 0012): the title and
description with punctuation read as spaces, as FTS5's tokenizer and ``analysis.words`` read
them. The ``english`` parser behind ``search_vector`` keeps dotted names, paths and
``File.java:123`` whole, so a draft naming ``DFSClient`` never met a stack trace naming
``org.apache.hadoop.hdfs.DFSClient`` (dev Recall@5 0.598 against 0.659 with the split
vector). Public comments, which a generated column cannot hold, are matched in
``search_vector`` beside it.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from dutydesk.tickets.models import Ticket
from dutydesk.triage.analysis import QueryTerm, english_stem, english_stems, stems

TITLE_WEIGHT = 3.0  # a word in the title says more about the topic than one in the body
MAX_TERMS = 24  # the draft's most telling stems; more only slow the engine down
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
# Public columns only (internal notes never shape a suggestion); a ticket with a word in both
# its title and body counts twice, which barely moves a rarity weight.
_SQLITE_DF = text(
    "SELECT term, sum(doc) AS df FROM tickets_fts_vocab WHERE col IN ('title', 'body')"
    " GROUP BY term HAVING df >= 2"
)
_PG_DF = text(
    "SELECT word, ndoc FROM ts_stat('SELECT search_vector_words FROM tickets') WHERE ndoc >= 2"
)
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


PER_TERM = 150  # newest matches read per term: a common word's older tickets wait their turn
POOL = 200  # best-sharing tickets read from the tickets table and ranked
_NEWEST_SQLITE = (
    "SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ? AND rowid <= ?"
    " ORDER BY rowid DESC LIMIT ?"
)
# The split title and description, or the public document (which holds the public comments).
_NEWEST_PG = (
    "SELECT id FROM tickets WHERE (search_vector_words @@ plainto_tsquery('english', %s)"
    " OR search_vector @@ plainto_tsquery('english', %s)) AND id <= %s ORDER BY id DESC LIMIT %s"
)
# Typed like the column, so the instant is written as the column stores it (SQLite compares
# the text: "17:00:00" sorts before "17:00:00.000000").
_LAST_BEFORE = text(
    "SELECT id FROM tickets WHERE desk = :desk AND created_at <= :before"
    " ORDER BY created_at DESC LIMIT 1"
).bindparams(bindparam("before", type_=Ticket.__table__.c.created_at.type))


def _newest_matches(
    session: Session, chosen: list[tuple[QueryTerm, float]], desk: str, before: datetime
) -> dict[int, float]:
    """The tickets worth ranking in full: for each term, its newest matches (FTS5 walks a
    posting list from the end and stops), scored by the terms they share. The work is
    bounded by the number of terms, not by how many tickets use a common word."""
    conn = session.connection()
    top = conn.execute(_LAST_BEFORE, {"desk": desk, "before": before}).scalar()
    if top is None:
        return {}
    share: dict[int, float] = defaultdict(float)
    # Thousands of bare integers: the driver's own cursor, without a result layer per row.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sqlite = _sqlite(session)
    try:
        for t, w in chosen:
            if sqlite:
                cursor.execute(_NEWEST_SQLITE, (f'{{title body}} : "{t.word}"', top, PER_TERM))
            else:
                cursor.execute(_NEWEST_PG, (t.word, t.word, top, PER_TERM))
            for (rowid,) in cursor.fetchall():
                share[rowid] += w
    finally:
        cursor.close()
    return dict(sorted(share.items(), key=lambda kv: -kv[1])[:POOL])


def candidates(
    session: Session,
    desk: str,
    terms: list[QueryTerm],
    before: datetime,
    closed_since: datetime | None,
    limit: int,
    exclude: int | None = None,
    same_instant_below: int | None = None,
) -> list[Candidate]:
    """The desk's tickets filed before ``before`` (open then, or closed since
    ``closed_since`` when given) that share the most telling words with ``terms``.

    A ticket filed at ``before`` itself counts as earlier only when its id is below
    ``same_instant_below`` (filed first in the same instant)."""
    chosen = _telling_terms(session, terms)
    if not chosen:
        return []
    columns = (
        Ticket.id,
        Ticket.desk,
        Ticket.title,
        Ticket.created_at,
        Ticket.resolved_at,
        Ticket.is_open,
        Ticket.team,
        Ticket.kind,
        Ticket.priority,
    )
    pool = _newest_matches(session, chosen, desk, before)
    if not pool:
        return []
    # By primary key alone: with the desk or the time in the query, SQLite prefers a walk
    # of the (desk, created_at) index over a couple of hundred key lookups.
    rows = session.execute(select(*columns).where(Ticket.id.in_(list(pool))))
    weights = {t.stem if _sqlite(session) else english_stem(t.word): w for t, w in chosen}
    title_stems = stems if _sqlite(session) else english_stems
    found = [
        _candidate(
            r, pool[r.id] + TITLE_WEIGHT * sum(weights.get(x, 0.0) for x in title_stems(r.title))
        )
        for r in rows
        if r.desk == desk
        and (
            r.created_at < before
            or (
                r.created_at == before
                and same_instant_below is not None
                and r.id < same_instant_below
            )
        )
        and r.id != exclude
        and (
            closed_since is None
            or r.is_open
            or (r.resolved_at is not None and r.resolved_at >= closed_since)
        )
    ]
    found.sort(key=lambda c: -c.score)
    return found[:limit]


def _candidate(r: Any, score: float) -> Candidate:
    return Candidate(
        r.id, score, r.created_at, r.resolved_at, r.is_open, r.team, r.kind, r.priority
    )
