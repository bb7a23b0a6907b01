"""notifications: outbox states and destinations, preferences, chat accounts, status notes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dutydesk.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=12), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("channel", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("recipient", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("desk", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("delivery_id", sa.String(length=40), nullable=True))
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index("ix_outbox_due", ["state", "due_at"])
        batch_op.create_index("ix_outbox_recipient", ["recipient", "state"])

    op.create_table(
        "notify_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.JSON(), nullable=False),
        sa.Column("chat_channel", sa.String(length=40), nullable=True),
        sa.Column("mute", sa.JSON(), nullable=False),
        sa.Column("updated_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "chat_accounts",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_user_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("platform", "chat_user_id"),
    )
    with op.batch_alter_table("chat_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_chat_accounts_user_id", ["user_id"])
    op.create_table(
        "chat_replays",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("seen_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    with op.batch_alter_table("chat_replays", schema=None) as batch_op:
        batch_op.create_index("ix_chat_replays_seen_at", ["seen_at"])
    op.create_table(
        "notify_cursors",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "status_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("status_notes", schema=None) as batch_op:
        batch_op.create_index("ix_status_notes_desk_created", ["desk", "created_at"])


def downgrade() -> None:
    op.drop_table("status_notes")
    op.drop_table("notify_cursors")
    op.drop_table("chat_replays")
    op.drop_table("chat_accounts")
    op.drop_table("notify_preferences")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_recipient")
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_pending", ["delivered_at", "due_at"])
        batch_op.drop_column("delivery_id")
        batch_op.drop_column("desk")
        batch_op.drop_column("recipient")
        batch_op.drop_column("channel")
        batch_op.drop_column("state")
