"""SLO clocks: ticket_clocks (one row per clock cycle) and slo_desk_state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dutydesk.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("desk", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("cadence", sa.Boolean(), nullable=False),
        sa.Column("business", sa.Boolean(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("started_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("target_seconds", sa.Float(), nullable=False),
        sa.Column("at_risk_fraction", sa.Float(), nullable=False),
        sa.Column("due_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("at_risk_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("paused_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("paused_seconds", sa.Float(), nullable=False),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.Column("stopped_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("stopped_by", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("met_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("breached_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("decided_at", dutydesk.db.UTCDateTime(), nullable=True),
        sa.Column("elapsed_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_clocks_ticket", ["ticket_id", "name", "id"])
        batch_op.create_index("ix_ticket_clocks_desk_due", ["desk", "state", "due_at"])
        batch_op.create_index("ix_ticket_clocks_desk_at_risk", ["desk", "state", "at_risk_at"])
        batch_op.create_index("ix_ticket_clocks_desk_decided", ["desk", "decided_at"])

    op.create_table(
        "slo_desk_state",
        sa.Column("desk", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("recomputed_at", dutydesk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("desk"),
    )


def downgrade() -> None:
    op.drop_table("slo_desk_state")
    with op.batch_alter_table("ticket_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_clocks_desk_decided")
        batch_op.drop_index("ix_ticket_clocks_desk_at_risk")
        batch_op.drop_index("ix_ticket_clocks_desk_due")
        batch_op.drop_index("ix_ticket_clocks_ticket")
    op.drop_table("ticket_clocks")
