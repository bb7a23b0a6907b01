"""reports: followed clusters of recurring requests (toil report); covering indexes on
tickets for the reports' counts by filing and resolution

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followed_clusters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("stems", sa.JSON(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("stopped_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_followed_clusters_desk", "followed_clusters", ["desk", "stopped_at"])
    op.create_index(
        "ix_tickets_report_filed", "tickets", ["desk", "created_at", "category", "kind"]
    )
    op.create_index(
        "ix_tickets_report_done",
        "tickets",
        ["desk", "resolved_at", "created_at", "category", "kind"],
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_report_done", table_name="tickets")
    op.drop_index("ix_tickets_report_filed", table_name="tickets")
    op.drop_index("ix_followed_clusters_desk", table_name="followed_clusters")
    op.drop_table("followed_clusters")
