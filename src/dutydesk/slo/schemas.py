"""API shapes for clocks, the desk SLO view, attainment and calendar explanations."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class PauseOut(BaseModel):
    started_at: datetime
    ended_at: datetime | None
    business_seconds: float | None  # null while the spell is still open


class ClockOut(BaseModel):
    name: str
    rule: str
    target: str
    cycle: int
    business: bool
    state: str  # running, at_risk, paused, breached, met, cancelled
    started_at: datetime
    due_at: datetime | None  # null while paused before the target was reached
    at_risk_at: datetime | None
    remaining_seconds: int  # negative once overdue; frozen while paused or stopped
    remaining: str
    paused_seconds: float
    pauses: list[PauseOut]
    stopped_at: datetime | None
    stopped_by: str | None
    outcome: str | None


class DeskClockOut(ClockOut):
    ticket: str
    title: str
    priority: str | None
    status: str
    assignee: str | None
    blocked: bool


class SloCounts(BaseModel):
    breached: int
    at_risk: int
    running: int
    paused: int


class DeskSloOut(BaseModel):
    desk: str
    calendar: str | None
    timezone: str | None
    now: datetime
    counts: SloCounts
    clocks: list[DeskClockOut]


class WeekOut(BaseModel):
    week: str  # ISO week, e.g. 2026-W48
    starts: date


class AttainmentRow(BaseModel):
    week: str | None  # null in totals
    priority: str  # "none" for tickets without a priority
    clock: str
    met: int
    breached: int
    still_open_breached: int  # of `breached`: clocks past due that are still running
    attainment: float | None  # met / (met + breached)
    median_business_hours: float | None  # stopped clocks; for "triage": time to triage


class AttainmentOut(BaseModel):
    desk: str
    timezone: str
    weeks: list[WeekOut]
    rows: list[AttainmentRow]
    totals: list[AttainmentRow]


class ExplainInterval(BaseModel):
    start: datetime
    end: datetime
    start_local: str
    end_local: str
    seconds: float
    total_seconds: float


class ClosedDay(BaseModel):
    date: date
    weekday: str
    reason: str  # "holiday" or "no hours"


class ExplainOut(BaseModel):
    calendar: str
    timezone: str
    start: datetime
    start_local: str
    open_at_start: bool
    add: str
    add_seconds: float
    due: datetime
    due_local: str
    intervals: list[ExplainInterval]
    closed_days: list[ClosedDay]
    triage: TriageExplain | None = None  # the "triage due if filed at T" mode


class TriageExplain(BaseModel):
    """ "Triage due if filed at T": the rule that applied and the clock's due instant."""

    desk: str | None  # whose triage SLO was used (None: the default rule)
    within: str  # e.g. "4 business hours"
    outside_hours: str | None  # e.g. "end of next business day"
    filed: datetime
    filed_local: str
    open_at_filing: bool
    rule: str  # "open" or "closed"
    reason: str  # the rule in words, with the day it picked
    business_day: date | None  # filed while closed: the day whose close is the due time
    opens_local: str | None  # ... and when that day opens
    due: datetime
    due_local: str


class RecomputeOut(BaseModel):
    desk: str
    # "reschedule": only targets or the calendar changed, so due times moved;
    # "full": every open ticket was reconciled (clocks started, cancelled, retargeted).
    mode: str
    open_tickets: int | None  # null for a reschedule, which does not read tickets
    active_clocks: int
    updated: int
    started: int
    stopped: int
    fingerprint: str
