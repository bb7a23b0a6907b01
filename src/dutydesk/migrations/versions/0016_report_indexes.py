"""reports: indexes for queue health, on-call load and SET figures

* ``ix_events_field_at``: a desk's status changes in a period are one range scan. SQLite keeps
  the columns the reports read in the index itself (a covering index: no table lookups);
  PostgreSQL cannot order ``json`` columns, so it carries them as INCLUDE columns. Being
  engine-specific, the index is declared here only, not on the model.
* ``ix_events_actor_at``: what one person did during a shift.
* ``ix_outbox_desk_notices``: the notices about a desk in a period, per recipient.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_events_field_at",
            "events",
            ["field", "at"],
            postgresql_include=["ticket_id", "type", "before", "after"],
        )
    else:
        op.create_index(
            "ix_events_field_at", "events", ["field", "at", "ticket_id", "type", "before", "after"]
        )
    op.create_index(
        "ix_events_actor_at", "events", ["actor_id", "at", "type", "field", "ticket_id"]
    )
    op.create_index("ix_outbox_desk_notices", "outbox", ["desk", "kind", "created_at", "recipient"])


def downgrade() -> None:
    op.drop_index("ix_outbox_desk_notices", table_name="outbox")
    op.drop_index("ix_events_actor_at", table_name="events")
    op.drop_index("ix_events_field_at", table_name="events")
