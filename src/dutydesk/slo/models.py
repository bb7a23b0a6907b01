"""SLO clocks as rows with due instants, so "what is due before now?" is an index range scan.

One row per clock *cycle*: a deadline clock (triage) has one cycle per ticket; a cadence
clock (P0 daily update) gets a new row each time an update restarts it, so every cycle keeps
its own outcome for the attainment report.  Rows are never deleted: a stopped clock is
history, and policy or calendar changes only touch running and paused ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dutydesk.db import Base, UTCDateTime

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
"""Lifecycle of a stored clock; the shown state (at risk, breached...) also depends on now."""


class TicketClock(Base):
    __tablename__ = "ticket_clocks"
    __table_args__ = (
        # A ticket's clocks, newest cycle last (present() and on_change()).
        Index("ix_ticket_clocks_ticket", "ticket_id", "name", "id"),
        # Per desk, running clocks by due / at-risk instant: the desk view's nearest-due list
        # and the worker's "what is due or at risk before now?", without scanning tickets.
        Index("ix_ticket_clocks_desk_due", "desk", "state", "due_at"),
        Index("ix_ticket_clocks_desk_at_risk", "desk", "state", "at_risk_at"),
        # Decided outcomes by week, for the attainment report.
        Index("ix_ticket_clocks_desk_decided", "desk", "decided_at"),
        # Queue health's SLO rows read decided clocks from this index alone (no table, no
        # ticket lookups): outcome, lateness and elapsed time per priority and clock.
        # On-call load's breaches: clocks that missed their due instant, by due instant.
        Index("ix_ticket_clocks_desk_outcome_due", "desk", "outcome", "due_at"),
        Index(
            "ix_ticket_clocks_report",
            "desk",
            "decided_at",
            "name",
            "priority",
            "outcome",
            "elapsed_seconds",
            "at_risk_at",
            "stopped_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    desk: Mapped[str] = mapped_column(String(40))
    # The ticket's current priority, kept in step by the SLO service (reports group by it).
    priority: Mapped[str | None] = mapped_column(String(20), nullable=True)
    name: Mapped[str] = mapped_column(String(40))
    # Which rule of the desk's policy drives it: "update[priority=P0]", and its target as text.
    rule: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(60))
    cadence: Mapped[bool] = mapped_column(Boolean, default=False)
    business: Mapped[bool] = mapped_column(Boolean, default=True)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Effective target: the rule's, or up to the end of the next business day when the
    # clock started outside hours.  Seconds of business time (or real time if not business).
    target_seconds: Mapped[float] = mapped_column(Float)
    at_risk_fraction: Mapped[float] = mapped_column(Float, default=0.75)
    # NULL while paused before the target was reached: the due time is not known yet.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default=RUNNING)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Business seconds of the finished pause spells; the spells themselves are in `pauses`
    # as [from, to, seconds] triples (to and seconds are null for the open spell).
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    pauses: Mapped[list[Any]] = mapped_column(JSON, default=list)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_by: Mapped[str | None] = mapped_column(String(40))
    # met / breached / cancelled (the rule stopped applying); NULL while running or paused.
    outcome: Mapped[str | None] = mapped_column(String(12))
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the outcome was decided (met: the stop; breached: the due instant): report weeks.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Business seconds the clock ran (pauses excluded) when it stopped: time-to-triage.
    elapsed_seconds: Mapped[float | None] = mapped_column(Float)


class SloDeskState(Base):
    """The SLO-relevant policy a desk's open clocks were last computed with.

    ``dutydesk serve`` compares fingerprints at start-up and recomputes a desk whose calendar
    or SLO rules changed, so an edited dutydesk.toml never leaves stale due times behind.
    The fingerprint's first half covers which clocks exist (see
    :func:`dutydesk.slo.policy.fingerprint`): when it is unchanged, only due times move.
    """

    __tablename__ = "slo_desk_state"

    desk: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    recomputed_at: Mapped[datetime] = mapped_column(UTCDateTime)
