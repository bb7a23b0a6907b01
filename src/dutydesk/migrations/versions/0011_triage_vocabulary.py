"""triage: word counts per triaged value (suggestions); the FTS5 vocabulary (document
frequency per stem and column) on SQLite

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


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
        # Per column, so document frequencies can leave the internal-notes column out.
        op.execute("CREATE VIRTUAL TABLE tickets_fts_vocab USING fts5vocab(tickets_fts, 'col')")


def downgrade() -> None:
    op.drop_table("triage_learned_tickets")
    op.drop_table("triage_class_counts")
    op.drop_index("ix_triage_term_counts_term", "triage_term_counts")
    op.drop_table("triage_term_counts")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE tickets_fts_vocab")
