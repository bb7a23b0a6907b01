"""Full-text search kept in the ticket's own transaction: FTS5 on SQLite, tsvector on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    and_,
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

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.db import Prepared
from dutydesk.tickets.models import Comment, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


_FTS_INSERT = Prepared(
    text("INSERT INTO tickets_fts(rowid, title, body, internal) VALUES (:id, :t, :b, :i)")
)
_FTS_DELETE = text("DELETE FROM tickets_fts WHERE rowid = :id")
_PUBLIC_VECTOR = (
    "setweight(to_tsvector('english', :t), 'A') || setweight(to_tsvector('english', :b), 'B')"
)
# search_vector holds public text; search_vector_all everything, but only on tickets with
# internal comments (NULL elsewhere, so most writes build one vector).
_TSV_SET = Prepared(text(f"UPDATE tickets SET search_vector = {_PUBLIC_VECTOR} WHERE id = :id"))
_TSV_SET_ALL = Prepared(
    text(
        f"UPDATE tickets SET search_vector = {_PUBLIC_VECTOR}, search_vector_all = "
        f"{_PUBLIC_VECTOR} || setweight(to_tsvector('english', :i), 'B') WHERE id = :id"
    )
)

_FTS_APPEND = text("UPDATE tickets_fts SET body = body || char(10) || :c WHERE rowid = :id")
_FTS_APPEND_INTERNAL = text(
    "UPDATE tickets_fts SET internal = internal || char(10) || :c WHERE rowid = :id"
)
# A public comment joins both documents (search_vector_all stays NULL where it is).
_TSV_APPEND = text(
    "UPDATE tickets SET search_vector = coalesce(search_vector, ''::tsvector)"
    " || setweight(to_tsvector('english', :c), 'B'),"
    " search_vector_all = search_vector_all || setweight(to_tsvector('english', :c), 'B')"
    " WHERE id = :id"
)
_TSV_APPEND_INTERNAL = text(
    "UPDATE tickets SET search_vector_all = coalesce(search_vector_all, search_vector,"
    " ''::tsvector) || setweight(to_tsvector('english', :c), 'B') WHERE id = :id"
)


def store(session: Session, rows: list[dict[str, Any]], *, replace: bool = False) -> None:
    """Write search documents, each ``{"id": ticket id, "t": title, "b": public body}`` and
    optionally ``"i"``: the text of internal comments, which only their readers may match.

    ``replace`` drops the SQLite rows first (PostgreSQL overwrites the column either way).
    """
    # On the connection, not through the session: plain SQL needs no ORM execution (or flush).
    conn = session.connection()
    if not _sqlite(session):
        plain = [r for r in rows if not r.get("i")]
        with_internal = [r for r in rows if r.get("i")]
        if plain:
            _TSV_SET.executemany(conn, plain)
        if with_internal:
            _TSV_SET_ALL.executemany(conn, with_internal)
        return
    if replace:
        conn.execute(_FTS_DELETE, rows)
    _FTS_INSERT.executemany(conn, [{"i": "", **r} for r in rows])


def index_new(session: Session, ticket: Ticket) -> None:
    store(session, [{"id": ticket.id, "t": ticket.title, "b": ticket.description, "i": ""}])


def reindex(session: Session, ticket: Ticket) -> None:
    """After a title or description change: rebuild from the ticket and all its comments."""
    comments = session.execute(
        select(Comment.body, Comment.public)
        .where(Comment.ticket_id == ticket.id)
        .order_by(Comment.id)
    ).all()
    body = "\n".join([ticket.description, *(b for b, public in comments if public)])
    internal = "\n".join(b for b, public in comments if not public)
    store(session, [{"id": ticket.id, "t": ticket.title, "b": body, "i": internal}], replace=True)


def index_comment(session: Session, ticket_id: int, body: str, *, public: bool) -> None:
    if _sqlite(session):
        stmt = _FTS_APPEND if public else _FTS_APPEND_INTERNAL
    else:
        stmt = _TSV_APPEND if public else _TSV_APPEND_INTERNAL
    session.connection().execute(stmt, {"id": ticket_id, "c": body})


@dataclass(frozen=True)
class Readers:
    """Whose eyes a search serves: the desks on which they may read internal comments.

    Everyone may read every ticket's public text; internal comments only where the reader
    is a responder (``has_role``), so only there may their words match.
    """

    internal_desks: frozenset[str] = frozenset()


PUBLIC = Readers()


def readers(user: User, desks: Iterable[str]) -> Readers:
    """What ``user`` may match among ``desks`` (the policy's)."""
    return Readers(frozenset(d for d in desks if has_role(user, "responder", d)))


def apply_match(
    session: Session, stmt: Select[Any], q: str, who: Readers = PUBLIC
) -> tuple[Select[Any], ColumnElement[Any]] | None:
    """Restrict ``stmt`` (over tickets) to matches of ``q``; also return a score, lower is better.

    User text is never parsed as query syntax: it is split into words, all required, the last
    one matched as a prefix so results appear while someone is still typing. Internal text
    matches only on the desks ``who`` may read it on.
    """
    words = _WORD.findall(q)
    if not words:
        return None
    desks = sorted(who.internal_desks)
    if _sqlite(session):
        every = (" ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*').strip()
        public = f"{{title body}} : ({every})"
        if not desks:
            found = text(_FTS_MATCH.format(fts=":public")).bindparams(public=public)
        else:
            # Every column's matches, kept on the reader's desks or where the public text
            # matches too. Both matches are materialized: a desk filter inside the MATCH
            # query would run the full-text search once per ticket of the desk.
            found = text(
                f"WITH public AS MATERIALIZED ({_FTS_MATCH.format(fts=':public')}), "
                f"every AS MATERIALIZED ({_FTS_MATCH.format(fts=':every')}) "
                "SELECT every.id AS id, every.score AS score FROM every "
                "JOIN tickets AS t ON t.id = every.id "
                "WHERE t.desk IN :desks OR every.id IN (SELECT id FROM public)"
            ).bindparams(bindparam("desks", desks, expanding=True), public=public, every=every)
        matched = found.columns(column("id", Integer), column("score", Float)).subquery("fts")
        return stmt.join(matched, matched.c.id == Ticket.id), matched.c.score
    tsq = " & ".join([*words[:-1], words[-1] + ":*"])
    vec: ColumnElement[Any] = literal_column("tickets.search_vector")
    query = func.to_tsquery(literal("english", type_=REGCONFIG), tsq)
    if not desks:
        return stmt.where(vec.op("@@")(query)), -func.ts_rank_cd(vec, query)
    everything: ColumnElement[Any] = literal_column("tickets.search_vector_all")
    insider = Ticket.desk.in_(desks)
    # Two GIN lookups OR-ed; search_vector_all is NULL where there is no internal text.
    cond = or_(vec.op("@@")(query), and_(insider, everything.op("@@")(query)))
    # Ranked by public text alone, as on SQLite: internal-only matches come last.
    return stmt.where(cond), -func.ts_rank_cd(vec, query)


# Ranked by title and public text only (the internal column weighs nothing), so the order of
# results never hints at what an internal comment says; internal-only matches come last.
_FTS_MATCH = (
    "SELECT rowid AS id, bm25(tickets_fts, 10.0, 1.0, 0.0) AS score FROM tickets_fts "
    "WHERE tickets_fts MATCH {fts}"
)
