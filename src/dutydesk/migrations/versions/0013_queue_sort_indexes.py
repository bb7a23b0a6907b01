"""tickets: indexes for the queue page's "last updated" sort and for a person's requests

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_desk_updated", "tickets", ["desk", "updated_at"])
    op.create_index("ix_tickets_reporter_updated", "tickets", ["reporter_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_reporter_updated", table_name="tickets")
    op.drop_index("ix_tickets_desk_updated", table_name="tickets")
