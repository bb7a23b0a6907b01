"""Imports every table so ``Base.metadata`` is complete (for Alembic and tests)."""

from dutydesk.auth.models import ApiToken, User, WebSession
from dutydesk.db import Base
from dutydesk.notify.models import OutboxMessage
from dutydesk.tickets.models import (
    Comment,
    DeskCounter,
    Event,
    IdempotencyRecord,
    SavedFilter,
    Ticket,
    TicketLabel,
    Watcher,
)

__all__ = [
    "ApiToken",
    "Base",
    "Comment",
    "DeskCounter",
    "Event",
    "IdempotencyRecord",
    "OutboxMessage",
    "SavedFilter",
    "Ticket",
    "TicketLabel",
    "User",
    "Watcher",
    "WebSession",
]
