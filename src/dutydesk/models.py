"""Imports every table so ``Base.metadata`` is complete (for Alembic and tests)."""

from dutydesk.auth.models import ApiToken, AuditEvent, LoginFailure, User, WebSession
from dutydesk.db import Base
from dutydesk.github.models import GithubDelivery, GithubIssueLink
from dutydesk.handbook.models import HandbookVersion
from dutydesk.imports.models import TicketSource
from dutydesk.mailgate.models import MailAttachment, MailMessage
from dutydesk.notify.models import (
    ChatAccount,
    ChatReplay,
    InboxItem,
    NotifyCursor,
    NotifyPreference,
    OutboxMessage,
)
from dutydesk.oncall.models import (
    FeedToken,
    MembershipRow,
    OverrideRow,
    RotationState,
    ScheduleChange,
    SwapRow,
    TimeOffRow,
)
from dutydesk.reports.models import (
    DerivedBasis,
    FollowedCluster,
    Release,
    ReleaseEvent,
    StatusNote,
    TicketMove,
    TicketStay,
    TicketTimes,
)
from dutydesk.slo.models import SloDeskState, TicketClock
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
from dutydesk.triage.models import LearnedClass, LearnedTerm, LearnedTicket

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "ChatAccount",
    "ChatReplay",
    "Comment",
    "DerivedBasis",
    "DeskCounter",
    "Event",
    "FeedToken",
    "FollowedCluster",
    "GithubDelivery",
    "GithubIssueLink",
    "HandbookVersion",
    "IdempotencyRecord",
    "InboxItem",
    "LearnedClass",
    "LearnedTerm",
    "LearnedTicket",
    "LoginFailure",
    "MailAttachment",
    "MailMessage",
    "MembershipRow",
    "NotifyCursor",
    "NotifyPreference",
    "OutboxMessage",
    "OverrideRow",
    "Release",
    "ReleaseEvent",
    "RotationState",
    "SavedFilter",
    "ScheduleChange",
    "SloDeskState",
    "StatusNote",
    "SwapRow",
    "Ticket",
    "TicketClock",
    "TicketLabel",
    "TicketMove",
    "TicketSource",
    "TicketStay",
    "TicketTimes",
    "TimeOffRow",
    "User",
    "Watcher",
    "WebSession",
]
