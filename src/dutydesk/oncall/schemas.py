"""API shapes for rotations. Inputs forbid unknown fields, so a typo is an error.

Times in requests may carry a UTC offset (an instant) or not: then they are wall-clock time in
the rotation's zone (for time off: the zone of the person's first rotation). A bare date is
that day's midnight, or, for an ``end``, the midnight after it (the last day included).
Times in responses always carry the offset of the rotation's zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _when(value: Any) -> Any:
    """A bare ``YYYY-MM-DD`` is a date (a whole day), anything longer a date-time."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a time; write 2026-11-30T10:00-08:00, 2026-11-30T10:00 "
                "(the rotation's local time) or a date 2026-11-30"
            ) from None
    return value


When = Annotated[datetime | date, BeforeValidator(_when)]
Name = Field(min_length=1, max_length=40)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OverrideIn(In):
    person: str = Name
    start: When | None = Field(None, description="default: now; never before now")
    end: When
    layer: str | None = Field(None, max_length=60, description="default: the person's layer")
    replaces: str | None = Field(None, max_length=40, description="who is being covered")
    replace: bool = Field(False, description="cut overlapping overrides instead of refusing")
    note: str = Field("", max_length=300)


class OverrideChange(In):
    person: str | None = Field(None, min_length=1, max_length=40)
    start: When | None = None
    end: When | None = None
    replace: bool = False
    note: str | None = Field(None, max_length=300)


class TakeIn(In):
    layer: str | None = Field(None, max_length=60)
    person: str | None = Field(None, max_length=40, description="default: you; leads only")
    until: When | None = Field(None, description="default: the next handoff")
    note: str = Field("", max_length=300)


class SwapIn(In):
    person_a: str = Name
    shift_a: When = Field(description="the shift's start, or a date it starts on (or spans)")
    person_b: str = Name
    shift_b: When | None = Field(None, description="default: person_b's next shift")
    layer: str | None = Field(None, max_length=60)
    note: str = Field("", max_length=300)


class TimeOffIn(In):
    person: str | None = Field(None, max_length=40, description="default: you")
    start: When
    end: When = Field(description="a date is the last day off, included")
    reason: str = Field("", max_length=300)


class MembershipIn(In):
    person: str = Name
    action: Literal["join", "leave"]
    effective: date = Field(description="from shifts starting on this local date")
    layer: str | None = Field(None, max_length=60, description="default: the person's team")
    position: int | None = Field(None, ge=0, description="join: place in the list")


class ImportIn(In):
    ics: str = Field(min_length=1, max_length=2_000_000)
    layer: str | None = Field(None, max_length=60)
    aliases: dict[str, str] = Field(default_factory=dict, description="calendar name → user")
    dry_run: bool = False
    replace: bool = False
    skip_unknown: bool = Field(False, description="import the rest when some names are unknown")


class FeedTokenIn(In):
    pass


# ----------------------------------------------------------------------------- out


class ShiftOut(BaseModel):
    start: datetime
    end: datetime
    person: str
    layer: str
    team: str | None
    source: str
    override_id: int | None = None
    warnings: list[str] = []


class OnCallOut(BaseModel):
    desk: str | None
    rotation: str
    timezone: str
    at: datetime
    layers: list[ShiftOut]
    uncovered: list[str] = Field(description="layers with nobody on call at that instant")


class OnCallAll(BaseModel):
    at: datetime
    desks: list[OnCallOut]


class OverrideOut(BaseModel):
    id: int
    rotation: str
    layer: str
    person: str
    replaces: str | None
    start: datetime
    end: datetime
    kind: str
    note: str
    created_at: datetime
    created_by: str | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    warnings: list[str] = []


class SwapOut(BaseModel):
    id: int
    rotation: str
    layer: str
    person_a: str
    shift_a: datetime
    person_b: str
    shift_b: datetime
    note: str
    created_at: datetime
    created_by: str | None
    cancelled_at: datetime | None
    cancelled_by: str | None


class TimeOffOut(BaseModel):
    id: int
    person: str
    start: datetime
    end: datetime
    reason: str
    created_at: datetime
    created_by: str | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    warnings: list[str] = []
    covered: list[ShiftOut] = Field([], description="the person's shifts others now cover")


class MembershipOut(BaseModel):
    id: int
    rotation: str
    layer: str
    person: str
    action: str
    position: int | None
    effective: date
    first_shift: datetime | None = None
    created_at: datetime
    created_by: str | None
    cancelled_at: datetime | None
    warnings: list[str] = []


class LayerOut(BaseModel):
    name: str
    team: str | None
    lead_of: list[str]
    members: list[str] = Field(description="the list in force for the current shift")
    changes: list[dict[str, Any]] = Field([], description="lists from a date on")


class RotationOut(BaseModel):
    name: str
    timezone: str
    every: str
    handoff: str
    skip: str
    desks: list[str]
    layers: list[LayerOut]
    version: int
    problems: list[str] = []
    on_call: list[ShiftOut] = []


class GapOut(BaseModel):
    rotation: str
    layer: str
    start: datetime
    end: datetime
    hours: float


class GapsOut(BaseModel):
    start: datetime
    end: datetime
    gaps: list[GapOut]


class FairnessRow(BaseModel):
    layer: str
    person: str
    hours: float
    shifts: int
    weekend_hours: float
    holiday_hours: float


class FairnessOut(BaseModel):
    rotation: str
    start: datetime
    end: datetime
    holidays: str | None = Field(description="calendar whose holidays are counted")
    rows: list[FairnessRow]


class ChangeOut(BaseModel):
    id: int
    rotation: str
    at: datetime
    actor: str | None
    action: str
    summary: str
    before: Any
    after: Any
    data: dict[str, Any]


class HistoryOut(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None


class FeedTokenOut(BaseModel):
    id: int
    kind: str
    subject: str
    prefix: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    token: str | None = Field(None, description="shown once, when created")
    url: str | None = None


class ImportOut(BaseModel):
    rotation: str
    layer: str
    dry_run: bool
    imported: list[ShiftOut]
    unknown: list[str]
    skipped: list[str]
    past: int = Field(description="events (or parts) before now, left out: the past is fixed")
    conflicts: list[str] = []
    override_ids: list[int] = []
