"""How on-call routes read times from a query: ``at``, ``from`` and ``to`` take ISO 8601 with
an offset, a naive time (wall clock in the rotation's zone), a date (local midnight) or
``now``; a window defaults around now."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query

from dutydesk.errors import field_error
from dutydesk.http.deps import State
from dutydesk.inputs import in_calendar
from dutydesk.oncall import rules
from dutydesk.oncall.loading import declared_rotation

From = Annotated[str | None, Query(alias="from", description="default depends on the route")]
To = Annotated[str | None, Query(alias="to")]
At = Annotated[str | None, Query(description="default: now")]


def parse_when(
    state: State, text: str | None, zone: ZoneInfo, fld: str, default: datetime
) -> datetime:
    if text is None or not text.strip():
        return default
    raw = text.strip()
    if raw.lower() == "now":
        return state.now()
    try:
        value: datetime | date = (
            date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw)
        )
    except ValueError:
        raise field_error(
            fld, f"{raw!r} is not a time; write it like 2026-11-30T10:00-08:00, 2026-11-30 or now"
        ) from None
    try:
        in_calendar(value)
    except ValueError as exc:
        raise field_error(fld, str(exc)) from None
    return rules.to_utc(value, zone)


def rotation_zone(state: State, rotation: str) -> ZoneInfo:
    """The rotation's zone, from policy alone (no database read on the hot path)."""
    return ZoneInfo(declared_rotation(state.policy, rotation).timezone)


def time_span(
    state: State,
    zone: ZoneInfo,
    start: str | None,
    end: str | None,
    before: timedelta,
    after: timedelta,
) -> tuple[datetime, datetime]:
    """[from, to): by default ``before`` now to ``after`` now; a window that long from ``from``."""
    s = parse_when(state, start, zone, "from", state.now() - before)
    return s, parse_when(state, end, zone, "to", s + before + after)
