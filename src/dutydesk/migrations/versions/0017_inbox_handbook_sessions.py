"""admin: session last-seen, per-person digest window, the notification inbox, desk handbooks,
the outbox listed by state

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dutydesk.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", dutydesk.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("user_agent", sa.String(200), nullable=True))
    with op.batch_alter_table("notify_preferences") as batch:
        batch.add_column(sa.Column("digest_window", sa.String(40), nullable=True))
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("ticket", sa.String(40), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(40), nullable=True),
        sa.Column("read_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_inbox_items_user_id", "inbox_items", ["user_id", "id"])
    op.create_index("ix_inbox_items_unread", "inbox_items", ["user_id", "read_at"])
    op.create_index("ix_outbox_state_id", "outbox", ["state", "id"])
    op.create_table(
        "handbook_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("desk", "version", name="uq_handbook_versions_desk_version"),
    )


def downgrade() -> None:
    op.drop_table("handbook_versions")
    op.drop_index("ix_outbox_state_id", table_name="outbox")
    op.drop_index("ix_inbox_items_unread", table_name="inbox_items")
    op.drop_index("ix_inbox_items_user_id", table_name="inbox_items")
    op.drop_table("inbox_items")
    with op.batch_alter_table("notify_preferences") as batch:
        batch.drop_column("digest_window")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("user_agent")
        batch.drop_column("last_seen_at")
