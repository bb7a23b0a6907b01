"""on-call: overrides, swaps, time off, membership changes, schedule history, feed tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dutydesk.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _who() -> list[sa.Column[int]]:
    return [
        sa.Column("created_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("cancelled_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "oncall_rotations",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.String(length=40), nullable=False),
        sa.Column("layer", sa.String(length=60), nullable=False),
        sa.Column("person", sa.String(length=40), nullable=False),
        sa.Column("replaces", sa.String(length=40), nullable=True),
        sa.Column("start_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("end_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("oncall_overrides.id"), nullable=True),
        *_who(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oncall_overrides_rotation", "oncall_overrides", ["rotation", "end_at"])
    op.create_table(
        "oncall_swaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.String(length=40), nullable=False),
        sa.Column("layer", sa.String(length=60), nullable=False),
        sa.Column("person_a", sa.String(length=40), nullable=False),
        sa.Column("shift_a", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("person_b", sa.String(length=40), nullable=False),
        sa.Column("shift_b", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        *_who(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oncall_swaps_rotation", "oncall_swaps", ["rotation", "id"])
    op.create_table(
        "oncall_time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=40), nullable=False),
        sa.Column("start_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("end_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        *_who(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oncall_time_off_person", "oncall_time_off", ["person", "end_at"])
    op.create_table(
        "oncall_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.String(length=40), nullable=False),
        sa.Column("layer", sa.String(length=60), nullable=False),
        sa.Column("person", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("effective", sa.Date(), nullable=False),
        *_who(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_oncall_memberships_rotation", "oncall_memberships", ["rotation", "effective"]
    )
    op.create_table(
        "oncall_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.String(length=40), nullable=False),
        sa.Column("at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oncall_changes_rotation", "oncall_changes", ["rotation", "id"])
    op.create_table(
        "oncall_feed_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("revoked_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )


def downgrade() -> None:
    op.drop_table("oncall_feed_tokens")
    op.drop_index("ix_oncall_changes_rotation", table_name="oncall_changes")
    op.drop_table("oncall_changes")
    op.drop_index("ix_oncall_memberships_rotation", table_name="oncall_memberships")
    op.drop_table("oncall_memberships")
    op.drop_index("ix_oncall_time_off_person", table_name="oncall_time_off")
    op.drop_table("oncall_time_off")
    op.drop_index("ix_oncall_swaps_rotation", table_name="oncall_swaps")
    op.drop_table("oncall_swaps")
    op.drop_index("ix_oncall_overrides_rotation", table_name="oncall_overrides")
    op.drop_table("oncall_overrides")
    op.drop_table("oncall_rotations")
