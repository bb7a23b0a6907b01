"""The values a rotation's schedule is made of and answers with: overrides, swaps, time off,
shifts and gaps (frozen, pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from dutydesk.policy.rotations import PRIMARY

Source = Literal["rotation", "override", "swap", "cover"]


@dataclass(frozen=True, slots=True)
class Override:
    """``person`` covers ``layer`` over [start, end); ``replaces`` names who they cover, if anyone."""

    start: datetime
    end: datetime
    person: str
    layer: str = PRIMARY
    replaces: str | None = None
    id: str = ""


@dataclass(frozen=True, slots=True)
class Swap:
    """``person_a`` and ``person_b`` exchange the whole shifts starting at the given instants."""

    person_a: str
    shift_a: datetime
    person_b: str
    shift_b: datetime
    layer: str = PRIMARY
    id: str = ""


@dataclass(frozen=True, slots=True)
class TimeOff:
    """Declared absence over [start, end); the rotation works around it."""

    person: str
    start: datetime
    end: datetime
    id: str = ""


@dataclass(frozen=True, slots=True)
class Shift:
    """A stretch of one layer with one person on call.

    ``start``/``end`` are aware datetimes in the rotation's zone. Python compares and subtracts
    datetimes sharing a tzinfo by wall clock, so use :attr:`duration` (or convert to UTC) for
    elapsed time across DST changes.
    """

    start: datetime
    end: datetime
    person: str
    layer: str
    team: str | None
    source: Source
    warnings: tuple[str, ...] = ()
    index: int | None = None  # rotation shift number; None for overrides
    override_id: str | None = None

    @property
    def utc_start(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def utc_end(self) -> datetime:
        return self.end.astimezone(UTC)

    @property
    def duration(self) -> timedelta:
        return self.utc_end - self.utc_start


@dataclass(frozen=True, slots=True)
class Gap:
    """Nobody is on call for ``layer`` over [start, end) (UTC)."""

    layer: str
    start: datetime
    end: datetime
