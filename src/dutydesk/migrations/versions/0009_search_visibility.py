"""full-text search respects comment visibility: internal comments in their own document;
stored HTML with images or links rendered again (no image from elsewhere, honest link text)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The text of a ticket's comments of one visibility, one per line, oldest first.
_SQLITE_COMMENTS = (
    "coalesce((SELECT group_concat(body, char(10)) FROM "
    "(SELECT body FROM comments WHERE ticket_id = t.id AND public = {flag} ORDER BY id)), '')"
)
_PG_COMMENTS = (
    "coalesce((SELECT string_agg(body, E'\\n' ORDER BY id) FROM comments"
    " WHERE ticket_id = t.id AND public = {flag}), '')"
)


def _render_again() -> None:
    """Only HTML holding an image or a link can render differently now."""
    from dutydesk.markdown import render

    conn = op.get_bind()
    for table, source, target in (
        ("tickets", "description", "description_html"),
        ("comments", "body", "body_html"),
    ):
        rows = conn.execute(
            sa.text(
                f"SELECT id, {source} FROM {table} "
                f"WHERE {target} LIKE '%<img%' OR {target} LIKE '%<a %'"
            )
        ).all()
        for row_id, text in rows:
            conn.execute(
                sa.text(f"UPDATE {table} SET {target} = :html WHERE id = :id"),
                {"html": render(text or ""), "id": row_id},
            )


def upgrade() -> None:
    _render_again()
    if op.get_bind().dialect.name == "sqlite":
        # FTS5 tables take no new column: rebuild with public and internal text apart.
        op.execute("DROP TABLE tickets_fts")
        op.execute(
            "CREATE VIRTUAL TABLE tickets_fts USING fts5("
            "title, body, internal, tokenize='porter unicode61')"
        )
        op.execute(
            "INSERT INTO tickets_fts(rowid, title, body, internal) SELECT t.id, t.title, "
            "t.description || char(10) || "
            + _SQLITE_COMMENTS.format(flag=1)
            + ", "
            + _SQLITE_COMMENTS.format(flag=0)
            + " FROM tickets t"
        )
        return
    # search_vector: public text only; search_vector_all: everything, set only on tickets
    # with internal comments (NULL elsewhere, so filing writes one vector as before).
    op.execute("ALTER TABLE tickets ADD COLUMN search_vector_all tsvector")
    public = (
        "setweight(to_tsvector('english', t.title), 'A') || setweight(to_tsvector('english', "
        "t.description || E'\\n' || " + _PG_COMMENTS.format(flag="true") + "), 'B')"
    )
    internal = "setweight(to_tsvector('english', " + _PG_COMMENTS.format(flag="false") + "), 'B')"
    op.execute(
        f"UPDATE tickets AS t SET search_vector = {public}, search_vector_all = {public}"
        f" || {internal} WHERE EXISTS"
        " (SELECT 1 FROM comments c WHERE c.ticket_id = t.id AND NOT c.public)"
    )
    op.execute("CREATE INDEX ix_tickets_search_all ON tickets USING GIN (search_vector_all)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE tickets_fts")
        op.execute(
            "CREATE VIRTUAL TABLE tickets_fts USING fts5(title, body, tokenize='porter unicode61')"
        )
        op.execute(
            "INSERT INTO tickets_fts(rowid, title, body) SELECT t.id, t.title, "
            "t.description || char(10) || "
            + _SQLITE_COMMENTS.format(flag="public")
            + " FROM tickets t"
        )
        return
    op.execute(
        "UPDATE tickets SET search_vector = search_vector_all WHERE search_vector_all IS NOT NULL"
    )
    op.execute("DROP INDEX ix_tickets_search_all")
    op.execute("ALTER TABLE tickets DROP COLUMN search_vector_all")
