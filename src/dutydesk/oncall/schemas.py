"""API shapes for rotations. Inputs forbid unknown fields, so a typo is an error.

Times in requests may carry a UTC offset (an instant) or not: then they are wall-clock time in
the rotation's zone (for time off: the zone of the person's first rotation). A bare date is
that day's midnight, or, for an ``end``, the midnight after it (the last day included).
Times in responses always carry the offset of the rotation's zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, Field

from dutydesk.inputs import MAX_ID, Input
from dutydesk.oncall.models import FeedToken, MembershipRow, OverrideRow, SwapRow, TimeOffRow
from dutydesk.oncall.shifts import Shift


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


class In(Input):
    """Unknown fields are errors; text is stripped; dates stay inside the calendar."""


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
    position: int | None = Field(None, ge=0, le=MAX_ID, description="join: place in the list")


class ImportIn(In):
    ics: str = Field(min_length=1, max_length=2_000_000)
    layer: str | None = Field(None, max_length=60)
    aliases: dict[str, str] = Field(default_factory=dict, description="calendar name → user")
    dry_run: bool = False
    replace: bool = False
    skip_unknown: bool = Field(False, description="import the rest when some names are unknown")
    start: datetime | None = Field(None, description="window start (default: now)")
    end: datetime | None = Field(
        None, description="window end (default: 92 days after the start; at most two years)"
    )


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

    @classmethod
    def of(cls, x: Shift) -> ShiftOut:
        return cls(
            start=x.start,
            end=x.end,
            person=x.person,
            layer=x.layer,
            team=x.team,
            source=x.source,
            override_id=int(x.override_id) if x.override_id and x.override_id.isdigit() else None,
            warnings=list(x.warnings),
        )


class PersonShiftOut(ShiftOut):
    rotation: str

    @classmethod
    def in_rotation(cls, rotation: str, x: Shift) -> PersonShiftOut:
        return cls(rotation=rotation, **ShiftOut.of(x).model_dump())


def _by(names: Mapping[int, str], user_id: int | None) -> str | None:
    return names.get(user_id) if user_id else None


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

    @classmethod
    def of(
        cls,
        row: OverrideRow,
        names: Mapping[int, str],
        zone: ZoneInfo,
        warnings: Sequence[str] = (),
    ) -> OverrideOut:
        return cls(
            id=row.id,
            rotation=row.rotation,
            layer=row.layer,
            person=row.person,
            replaces=row.replaces,
            start=row.start_at.astimezone(zone),
            end=row.end_at.astimezone(zone),
            kind=row.kind,
            note=row.note,
            created_at=row.created_at,
            created_by=_by(names, row.created_by_id),
            cancelled_at=row.cancelled_at,
            cancelled_by=_by(names, row.cancelled_by_id),
            warnings=list(warnings),
        )


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

    @classmethod
    def of(cls, row: SwapRow, names: Mapping[int, str], zone: ZoneInfo) -> SwapOut:
        return cls(
            id=row.id,
            rotation=row.rotation,
            layer=row.layer,
            person_a=row.person_a,
            shift_a=row.shift_a.astimezone(zone),
            person_b=row.person_b,
            shift_b=row.shift_b.astimezone(zone),
            note=row.note,
            created_at=row.created_at,
            created_by=_by(names, row.created_by_id),
            cancelled_at=row.cancelled_at,
            cancelled_by=_by(names, row.cancelled_by_id),
        )


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
    may_cancel: bool = Field(
        False, description="whether the asker may cancel it (the person or a lead of their desks)"
    )

    @classmethod
    def of(
        cls,
        row: TimeOffRow,
        names: Mapping[int, str],
        zone: ZoneInfo,
        warnings: Sequence[str] = (),
        covered: Sequence[Shift] = (),
    ) -> TimeOffOut:
        return cls(
            id=row.id,
            person=row.person,
            start=row.start_at.astimezone(zone),
            end=row.end_at.astimezone(zone),
            reason=row.reason,
            created_at=row.created_at,
            created_by=_by(names, row.created_by_id),
            cancelled_at=row.cancelled_at,
            cancelled_by=_by(names, row.cancelled_by_id),
            warnings=list(warnings),
            covered=[ShiftOut.of(x) for x in covered],
        )


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

    @classmethod
    def of(
        cls,
        row: MembershipRow,
        names: Mapping[int, str],
        first_shift: datetime | None = None,
        warnings: Sequence[str] = (),
    ) -> MembershipOut:
        return cls(
            id=row.id,
            rotation=row.rotation,
            layer=row.layer,
            person=row.person,
            action=row.action,
            position=row.position,
            effective=row.effective,
            first_shift=first_shift,
            created_at=row.created_at,
            created_by=_by(names, row.created_by_id),
            cancelled_at=row.cancelled_at,
            warnings=list(warnings),
        )


class MemberListOut(BaseModel):
    effective: date | None = Field(description="from this local date on; null: from the start")
    members: list[str]


class LayerOut(BaseModel):
    name: str
    team: str | None
    lead_of: list[str]
    members: list[str] = Field(description="the list in force for the current shift")
    changes: list[MemberListOut] = Field([], description="lists from a date on")


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


class MemberLoadOut(BaseModel):
    person: str
    layers: list[str]
    open_tickets: int
    free: bool  # on call and no open ticket assigned: free to take feature-team work


class FreeOut(BaseModel):
    """Who on a desk's rotation is free to take other work now (never anyone with a ticket)."""

    desk: str
    at: datetime
    members: list[MemberLoadOut]
    free: list[str]


class ConflictOut(BaseModel):
    """A person booked twice: on two layers at once, or on call during their own time off."""

    kind: Literal["double-booked", "time-off"]
    person: str
    start: datetime
    end: datetime
    where: list[str]  # rotation/layer of each booking
    detail: str


class GapsOut(BaseModel):
    start: datetime
    end: datetime
    gaps: list[GapOut]
    conflicts: list[ConflictOut] = []


class FairnessRow(BaseModel):
    layer: str
    person: str
    hours: float
    shifts: int
    weekend_hours: float
    holiday_hours: float


class FairnessTotal(BaseModel):
    """One person across every layer: hours on call at all (leading while serving a team
    counts once), and how many of them leading."""

    person: str
    hours: float
    lead_hours: float
    layers: list[str]


class FairnessOut(BaseModel):
    rotation: str
    start: datetime
    end: datetime
    holidays: str | None = Field(description="calendar whose holidays are counted")
    rows: list[FairnessRow]
    totals: list[FairnessTotal] = []


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
    replay_exclude: ClassVar[set[str]] = {"token", "url"}  # a retry never repeats the secret
    id: int
    kind: str
    subject: str
    prefix: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    token: str | None = Field(None, description="shown once, when created")
    url: str | None = None

    @classmethod
    def of(cls, row: FeedToken, names: Mapping[int, str]) -> FeedTokenOut:
        return cls(
            id=row.id,
            kind=row.kind,
            subject=row.subject,
            prefix=row.prefix,
            created_at=row.created_at,
            created_by=_by(names, row.created_by_id),
            revoked_at=row.revoked_at,
        )


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
