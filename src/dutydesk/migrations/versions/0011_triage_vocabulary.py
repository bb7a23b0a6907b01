"""triage: word counts per triaged value (suggestions); the FTS5 vocabulary (document frequency per stem) on SQLite; internal comments
leave the search index on both engines

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

# Tickets whose index text included an internal comment are rebuilt from their description
# and public comments only: search results and duplicate suggestions reach reporters.
_WITH_INTERNAL = "SELECT DISTINCT ticket_id FROM comments WHERE NOT public"
_PUBLIC_TEXT = (
    "coalesce((SELECT group_concat(c.body, char(10)) FROM comments c"
    " WHERE c.ticket_id = tickets.id AND c.public), '')"
)


def upgrade() -> None:
    op.create_table(
        "triage_term_counts",
        sa.Column("desk", sa.String(40), primary_key=True),
        sa.Column("field", sa.String(20), primary_key=True),
        sa.Column("value", sa.String(60), primary_key=True),
        sa.Column("term", sa.String(60), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_triage_term_counts_term", "triage_term_counts", ["desk", "term"])
    op.create_table(
        "triage_class_counts",
        sa.Column("desk", sa.String(40), primary_key=True),
        sa.Column("field", sa.String(20), primary_key=True),
        sa.Column("value", sa.String(60), primary_key=True),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
    )
    op.create_table(
        "triage_learned_tickets",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), primary_key=True),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE tickets_fts_vocab USING fts5vocab(tickets_fts, 'row')")
        op.execute(f"DELETE FROM tickets_fts WHERE rowid IN ({_WITH_INTERNAL})")
        op.execute(
            "INSERT INTO tickets_fts(rowid, title, body) SELECT id, title,"
            f" description || char(10) || {_PUBLIC_TEXT} FROM tickets"
            f" WHERE id IN ({_WITH_INTERNAL})"
        )
    else:
        op.execute(
            "UPDATE tickets SET search_vector = setweight(to_tsvector('english', title), 'A')"
            " || setweight(to_tsvector('english', description || E'\\n' || coalesce("
            "(SELECT string_agg(c.body, E'\\n' ORDER BY c.id) FROM comments c"
            " WHERE c.ticket_id = tickets.id AND c.public), '')), 'B')"
            f" WHERE id IN ({_WITH_INTERNAL})"
        )


def downgrade() -> None:
    op.drop_table("triage_learned_tickets")
    op.drop_table("triage_class_counts")
    op.drop_index("ix_triage_term_counts_term", "triage_term_counts")
    op.drop_table("triage_term_counts")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE tickets_fts_vocab")
