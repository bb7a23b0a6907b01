"""Full-text search kept in the ticket's own transaction: FTS5 on SQLite, tsvector on PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    column,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from dutydesk.db import Prepared
from dutydesk.tickets.models import Comment, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


_FTS_INSERT = Prepared(text("INSERT INTO tickets_fts(rowid, title, body) VALUES (:id, :t, :b)"))
_FTS_DELETE = text("DELETE FROM tickets_fts WHERE rowid = :id")
_TSV_SET = Prepared(
    text(
        "UPDATE tickets SET search_vector = setweight(to_tsvector('english', :t), 'A')"
        " || setweight(to_tsvector('english', :b), 'B') WHERE id = :id"
    )
)


_FTS_APPEND = text("UPDATE tickets_fts SET body = body || char(10) || :c WHERE rowid = :id")
_TSV_APPEND = text(
    "UPDATE tickets SET search_vector = coalesce(search_vector, ''::tsvector)"
    " || setweight(to_tsvector('english', :c), 'B') WHERE id = :id"
)


def store(session: Session, rows: list[dict[str, Any]], *, replace: bool = False) -> None:
    """Write search documents, each ``{"id": ticket id, "t": title, "b": body}``.

    ``replace`` drops the SQLite rows first (PostgreSQL overwrites the column either way).
    """
    # On the connection, not through the session: plain SQL needs no ORM execution (or flush).
    conn = session.connection()
    if not _sqlite(session):
        _TSV_SET.executemany(conn, rows)
        return
    if replace:
        conn.execute(_FTS_DELETE, rows)
    _FTS_INSERT.executemany(conn, rows)


def index_new(session: Session, ticket: Ticket) -> None:
    store(session, [{"id": ticket.id, "t": ticket.title, "b": ticket.description}])


def reindex(session: Session, ticket: Ticket) -> None:
    """After a title or description change: rebuild from the ticket and its public comments.

    Internal comments stay out of the index: search results and duplicate suggestions are
    shown to reporters, who must not learn what an internal note says.
    """
    comments = session.scalars(
        select(Comment.body).where(Comment.ticket_id == ticket.id, Comment.public.is_(True))
    ).all()
    body = "\n".join([ticket.description, *comments])
    store(session, [{"id": ticket.id, "t": ticket.title, "b": body}], replace=True)


def index_comment(session: Session, ticket_id: int, body: str, *, public: bool = True) -> None:
    if not public:
        return  # see reindex: internal notes never reach the index
    stmt = _FTS_APPEND if _sqlite(session) else _TSV_APPEND
    session.connection().execute(stmt, {"id": ticket_id, "c": body})


def apply_match(
    session: Session, stmt: Select[Any], q: str
) -> tuple[Select[Any], ColumnElement[Any]] | None:
    """Restrict ``stmt`` (over tickets) to matches of ``q``; also return a score, lower is better.

    User text is never parsed as query syntax: it is split into words, all required, the last
    one matched as a prefix so results appear while someone is still typing.
    """
    words = _WORD.findall(q)
    if not words:
        return None
    if _sqlite(session):
        fts = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
        matched = (
            text(
                "SELECT rowid AS id, bm25(tickets_fts, 10.0, 1.0) AS score FROM tickets_fts "
                "WHERE tickets_fts MATCH :fts"
            )
            .bindparams(fts=fts.strip())
            .columns(column("id", Integer), column("score", Float))
            .subquery("fts")
        )
        return stmt.join(matched, matched.c.id == Ticket.id), matched.c.score
    tsq = " & ".join([*words[:-1], words[-1] + ":*"])
    vec: ColumnElement[Any] = literal_column("tickets.search_vector")
    query = func.to_tsquery(literal("english", type_=REGCONFIG), tsq)
    score = -func.ts_rank_cd(vec, query)
    return stmt.where(vec.op("@@")(query)), score
