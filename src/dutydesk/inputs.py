"""The bounds every request input keeps, declared once so no route can forget one.

Each bound is the narrower of what SQLite and PostgreSQL accept, so an input means the same on
both and a value the database cannot hold is a 4xx naming the field, never an error from the
driver: ids fit PostgreSQL's ``integer``, text holds no NUL (PostgreSQL refuses it), instants
stay far enough from year 1 and 9999 that a time-zone shift or a span added cannot overflow.
Spans are bounded where they are parsed (``durations.MAX_SPAN``), which the CLI shares.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from dutydesk.errors import field_error

MAX_ID = 2**31 - 1  # PostgreSQL ``integer``; SQLite holds more, the narrower bound holds on both
MAX_PAGE = 200  # rows a list returns at most per page

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)

RowId = Annotated[int, Ge(1), Le(MAX_ID)]
"""A row id in a path, query or body: out of range is a 422 naming the field."""

PageLimit = Annotated[int, Ge(1), Le(MAX_PAGE)]
"""How many rows a page holds: above :data:`MAX_PAGE` is a 422 naming ``limit``."""

NUL = "\x00"
NUL_MESSAGE = "contains a NUL character (U+0000), which text cannot hold; remove it"


def nul_path(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where in a decoded JSON value (or a string) a NUL character sits, or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in str(key):
                return (*path, str(key))
            found = nul_path(item, (*path, str(key)))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = nul_path(item, (*path, i))
            if found is not None:
                return found
    return None


def in_calendar(value: datetime | date) -> datetime | date:
    """Refuse an instant or a day outside :data:`EARLIEST` … :data:`LATEST`."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST.date() <= day <= LATEST.date():
        raise ValueError(
            f"{value.isoformat()} is outside the calendar this service keeps "
            f"({EARLIEST.year} to {LATEST.year})"
        )
    return value


Day = Annotated[date, AfterValidator(in_calendar)]
Instant = Annotated[datetime, AfterValidator(in_calendar)]


class Input(BaseModel):
    """The base of every request body: unknown fields are errors, text is stripped, and no
    date in it lies outside the calendar (NUL is refused earlier, see ``http.inputs``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _in_calendar(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, date):
                in_calendar(item)
        return value


# ----------------------------------------------------------------------------- cursors

MAX_CURSOR_TEXT = 200


def encode_cursor(values: Sequence[Any]) -> str:
    """A page's position: its sort values, opaque to clients."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The values :func:`encode_cursor` wrote, each checked against the type its sort column
    holds (``int`` ids, ``str``, finite ``float`` scores, ``datetime`` in ISO 8601), so a
    forged cursor is a 422 naming ``cursor`` and never reaches the database."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError and JSONDecodeError too
        raise field_error("cursor", "not a cursor from this API; start again without it") from exc
    if not isinstance(values, list) or len(values) != len(kinds):
        raise field_error("cursor", "not a cursor for this list; start again without it")
    return [_cursor_part(kind, value) for kind, value in zip(kinds, values, strict=True)]


def _cursor_part(kind: type, value: Any) -> Any:
    if kind is int and type(value) is int and 0 <= value <= MAX_ID:
        return value
    if kind is float and type(value) in (int, float) and math.isfinite(value):
        return value
    if kind is str and isinstance(value, str) and len(value) <= MAX_CURSOR_TEXT:
        return value  # NUL cannot reach here: the request was refused at the door
    if kind is datetime and isinstance(value, str) and len(value) <= 40:
        try:
            return in_calendar(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise field_error("cursor", "not a cursor for this list; start again without it")
