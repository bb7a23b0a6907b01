"""github: the cursor of the status mirror to GitHub; triage: on PostgreSQL, a second search vector of each ticket's title and description with
punctuation read as spaces, for duplicate candidates

PostgreSQL's parser keeps ``org.apache.hadoop.hdfs.DFSClient``, ``DFSClient.java:123`` or
``/var/log/app.log`` whole as one lexeme, where SQLite's FTS5 (unicode61) and the words a
draft is read into split them; a draft naming ``DFSClient`` then never meets the ticket whose
stack trace names it. A stored generated column keeps the split vector in the ticket's own
write, whatever code writes the row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dutydesk.db import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "github_mirror_cursor",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(40), nullable=True),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE tickets ADD COLUMN search_vector_words tsvector GENERATED ALWAYS AS"
        " (to_tsvector('english'::regconfig, regexp_replace("
        "coalesce(title, '') || ' ' || coalesce(description, ''), '[[:punct:]]+', ' ', 'g')))"
        " STORED"
    )
    op.execute("CREATE INDEX ix_tickets_search_words ON tickets USING GIN (search_vector_words)")


def downgrade() -> None:
    op.drop_table("github_mirror_cursor")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_tickets_search_words")
    op.execute("ALTER TABLE tickets DROP COLUMN search_vector_words")
