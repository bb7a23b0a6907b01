"""reports: each done ticket's business time (filed → done, in progress), stored for the
toil report's aggregates

The rows are filled when a ticket is resolved; tickets resolved before this revision get
theirs from ``dutydesk report rebuild`` or, for the period asked, on the first toil report
(the values need the desk's calendar from the policy, which a migration does not read).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_times",
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("resolved_at", sa.DateTime(), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("to_done_seconds", sa.Float(), nullable=False),
        sa.Column("in_progress_seconds", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ticket_times")
