"""reports: hourly tallies for queue health and on-call load; clocks carry their ticket's
priority

* ``report_tallies``: per desk, UTC hour and key, the net moves between columns (cumulative
  flow) and who did what (on-call load), kept by every ticket change
  (:mod:`dutydesk.reports.tallies`); filled here from the events.
* ``ticket_clocks.priority``: the ticket's current priority, so the SLO rows group decided
  clocks from one covering index (``ix_ticket_clocks_report``) without reading tickets.
* ``ix_tickets_open_owner``: open tickets by column, priority, age and owner from the index
  alone; ``ix_ticket_clocks_desk_outcome_due``: breached clocks by due instant;
  ``ix_events_ticket_actor``: a claimed ticket's last activity from the index alone.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import dutydesk.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_tallies",
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("hour", dutydesk.db.UTCDateTime(), nullable=False),
        sa.Column("a", sa.String(80), nullable=False),
        sa.Column("b", sa.String(80), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "desk", "kind", "hour", "a", "b", "shard", name="pk_report_tallies"
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("ticket_clocks") as batch:
        batch.add_column(sa.Column("priority", sa.String(20), nullable=True))
    op.execute(
        "UPDATE ticket_clocks SET priority = "
        "(SELECT tickets.priority FROM tickets WHERE tickets.id = ticket_clocks.ticket_id)"
    )
    op.create_index(
        "ix_ticket_clocks_report",
        "ticket_clocks",
        [
            "desk",
            "decided_at",
            "name",
            "priority",
            "outcome",
            "elapsed_seconds",
            "at_risk_at",
            "stopped_at",
        ],
    )
    op.create_index(
        "ix_tickets_open_owner",
        "tickets",
        ["desk", "is_open", "assignee_id", "created_at", "status", "priority"],
    )
    op.create_index(
        "ix_ticket_clocks_desk_outcome_due", "ticket_clocks", ["desk", "outcome", "due_at"]
    )
    op.create_index("ix_events_ticket_actor", "events", ["ticket_id", "actor_id", "field", "at"])
    from dutydesk.reports.tallies import rebuild  # the recount as of this revision

    rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_index("ix_events_ticket_actor", table_name="events")
    op.drop_index("ix_tickets_open_owner", table_name="tickets")
    op.drop_index("ix_ticket_clocks_report", table_name="ticket_clocks")
    op.drop_index("ix_ticket_clocks_desk_outcome_due", table_name="ticket_clocks")
    with op.batch_alter_table("ticket_clocks") as batch:
        batch.drop_column("priority")
    op.drop_table("report_tallies")
