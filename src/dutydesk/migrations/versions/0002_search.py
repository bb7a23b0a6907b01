"""full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # rowid is the ticket id; body holds the description and every comment.
        op.execute(
            "CREATE VIRTUAL TABLE tickets_fts USING fts5(title, body, tokenize='porter unicode61')"
        )
    else:
        op.execute("ALTER TABLE tickets ADD COLUMN search_vector tsvector")
        op.execute("CREATE INDEX ix_tickets_search ON tickets USING GIN (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE tickets_fts")
    else:
        op.execute("DROP INDEX ix_tickets_search")
        op.execute("ALTER TABLE tickets DROP COLUMN search_vector")
