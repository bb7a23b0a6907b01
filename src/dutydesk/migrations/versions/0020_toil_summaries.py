"""reports: the toil report and SET figures read their own rows — ticket_times carries the
ticket's desk, category and kind with indexes for sums and ordered medians; ticket_stays holds
each done ticket's time per column; ticket_moves the moves that re-opened, bounced or submitted a ticket;
derived_bases under which policy a desk's moves were classified; two covering indexes on
tickets for the SET figures

ticket_times' new columns are filled here from the tickets. ticket_moves needs the desks'
column order from the policy, which a migration does not read: the first toil report of a desk
(or ``dutydesk report rebuild``) classifies its history once, as ``derived_bases`` is empty.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_MEDIAN_INDEXES = {
    "ix_ticket_times_done": ["desk", "to_done_seconds", "resolved_at", "basis"],
    "ix_ticket_times_progress": ["desk", "in_progress_seconds", "resolved_at", "basis"],
    "ix_ticket_times_category_done": [
        "desk",
        "category",
        "to_done_seconds",
        "resolved_at",
        "basis",
    ],
    "ix_ticket_times_category_progress": [
        "desk",
        "category",
        "in_progress_seconds",
        "resolved_at",
        "basis",
    ],
    "ix_ticket_times_kind_done": ["desk", "kind", "to_done_seconds", "resolved_at", "basis"],
    "ix_ticket_times_kind_progress": [
        "desk",
        "kind",
        "in_progress_seconds",
        "resolved_at",
        "basis",
    ],
}

# The SET figures' reads of the tickets, each answered from one index without the table rows.
_TICKET_INDEXES = {
    "ix_tickets_report_resolved_kind": [
        "desk",
        "resolved_at",
        "is_open",
        "kind",
        "resolution",
        "customer_reported",
        "created_at",
    ],
    "ix_tickets_report_kind_filed": ["desk", "kind", "created_at", "team", "category"],
}


def upgrade() -> None:
    with op.batch_alter_table("ticket_times") as batch:
        batch.add_column(sa.Column("desk", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("category", sa.String(40), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(40), nullable=False, server_default=""))
    op.execute(
        "UPDATE ticket_times SET "
        + ", ".join(
            f"{c} = (SELECT t.{c} FROM tickets AS t WHERE t.id = ticket_times.ticket_id)"
            for c in ("desk", "category", "kind")
        )
    )
    with op.batch_alter_table("ticket_times") as batch:
        batch.alter_column("desk", server_default=None)
        batch.alter_column("kind", server_default=None)
    op.create_index(
        "ix_ticket_times_period",
        "ticket_times",
        [
            "desk",
            "resolved_at",
            "basis",
            "category",
            "kind",
            "to_done_seconds",
            "in_progress_seconds",
        ],
    )
    for name, columns in _MEDIAN_INDEXES.items():
        op.create_index(name, "ticket_times", columns)
    op.create_table(
        "ticket_moves",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reopen", sa.Integer(), nullable=False),
        sa.Column("bounce", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_ticket_moves_desk_at",
        "ticket_moves",
        ["desk", "at", "ticket_id", "reopen", "bounce", "submitted"],
    )
    op.create_index("ix_ticket_moves_ticket", "ticket_moves", ["ticket_id"])
    op.create_table(
        "ticket_stays",
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("column", sa.String(60), primary_key=True),
        sa.Column("desk", sa.String(40), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_ticket_stays_desk_resolved",
        "ticket_stays",
        ["desk", "resolved_at", "column", "seconds"],
    )
    # The stays are written with the times: mark every stored row stale, so the next report or
    # ``dutydesk report rebuild`` writes both (until then reports read the events).
    op.execute("UPDATE ticket_times SET basis = ''")
    for name, columns in _TICKET_INDEXES.items():
        op.create_index(name, "tickets", columns)
    op.create_table(
        "derived_bases",
        sa.Column("desk", sa.String(40), primary_key=True),
        sa.Column("part", sa.String(20), primary_key=True),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("derived_bases")
    for name in _TICKET_INDEXES:
        op.drop_index(name, table_name="tickets")
    op.drop_index("ix_ticket_stays_desk_resolved", table_name="ticket_stays")
    op.drop_table("ticket_stays")
    op.drop_index("ix_ticket_moves_ticket", table_name="ticket_moves")
    op.drop_index("ix_ticket_moves_desk_at", table_name="ticket_moves")
    op.drop_table("ticket_moves")
    for name in [*_MEDIAN_INDEXES, "ix_ticket_times_period"]:
        op.drop_index(name, table_name="ticket_times")
    with op.batch_alter_table("ticket_times") as batch:
        batch.drop_column("kind")
        batch.drop_column("category")
        batch.drop_column("desk")
