"""ticket_moves: the ticket's kind and customer flag kept with its moves

So the SET figures count a week's fixes submitted from ``ix_ticket_moves_submitted`` alone
instead of joining every move to its ticket (a scan of all tickets on PostgreSQL at 1M).
Filled here from the tickets; kept by every change (:mod:`dutydesk.tickets.moves`).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_moves") as batch:
        batch.add_column(sa.Column("kind", sa.String(40), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("customer", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE ticket_moves SET"
        " kind = (SELECT tickets.kind FROM tickets WHERE tickets.id = ticket_moves.ticket_id),"
        " customer = (SELECT tickets.customer_reported FROM tickets"
        " WHERE tickets.id = ticket_moves.ticket_id)"
    )
    op.create_index(
        "ix_ticket_moves_submitted",
        "ticket_moves",
        ["desk", "submitted", "at", "kind", "customer", "ticket_id"],
    )
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    ):
        op.execute("ANALYZE ticket_moves")  # as 0022: a new index needs its statistics


def downgrade() -> None:
    op.drop_index("ix_ticket_moves_submitted", table_name="ticket_moves")
    op.execute("ALTER TABLE ticket_moves DROP COLUMN customer")
    op.execute("ALTER TABLE ticket_moves DROP COLUMN kind")
