"""tickets: each claim's last activity, kept, with an index for idle claims

``tickets.claim_active_at``: while a ticket is claimed, its assignee's last event on it or
its last assignment, whichever is later (its filing when neither); None while unassigned.
Every change keeps it (:mod:`dutydesk.tickets.idle`); filled here from the events. With
``ix_tickets_claims`` a desk's idle claims are one index range instead of a lookup of the
last activity per claimed ticket.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dutydesk.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("claim_active_at", dutydesk.db.UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE tickets SET claim_active_at = COALESCE("
        "(SELECT max(events.at) FROM events WHERE events.ticket_id = tickets.id"
        " AND (events.actor_id = tickets.assignee_id OR events.field = 'assignee')),"
        " tickets.created_at) WHERE tickets.assignee_id IS NOT NULL"
    )
    op.create_index(
        "ix_tickets_claims",
        "tickets",
        ["desk", "is_open", "claim_active_at", "id", "assignee_id"],
    )
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    ):
        # An index without statistics looks so selective to SQLite's planner that it would
        # take it for every "open tickets of a desk" query, over the reports' covering ones.
        op.execute("ANALYZE tickets")


def downgrade() -> None:
    op.drop_index("ix_tickets_claims", table_name="tickets")
    # In place on both engines: SQLite's batch copy would drop ``tickets``, which other
    # tables reference.
    op.execute("ALTER TABLE tickets DROP COLUMN claim_active_at")
