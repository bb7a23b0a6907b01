"""reports: the release calendar and its history; status notes a lead removed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dutydesk.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_notes") as batch:
        batch.add_column(sa.Column("removed_at", dutydesk.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("removed_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_status_notes_removed_by", "users", ["removed_by_id"], ["id"])
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("created_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("desk", "name", name="uq_releases_desk_name"),
    )
    op.create_index("ix_releases_desk_on", "releases", ["desk", "on"])
    op.create_table(
        "release_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("release", sa.String(60), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("at", dutydesk.db.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_release_events_desk_at", "release_events", ["desk", "at"])


def downgrade() -> None:
    op.drop_index("ix_release_events_desk_at", table_name="release_events")
    op.drop_table("release_events")
    op.drop_index("ix_releases_desk_on", table_name="releases")
    op.drop_table("releases")
    with op.batch_alter_table("status_notes") as batch:
        batch.drop_constraint("fk_status_notes_removed_by", type_="foreignkey")
        batch.drop_column("removed_by_id")
        batch.drop_column("removed_at")
