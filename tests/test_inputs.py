"""The bounds of request inputs (pure: no database, no server)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dutydesk.durations import SpanTooLong, bounded, parse_duration
from dutydesk.errors import Invalid
from dutydesk.inputs import decode_cursor, encode_cursor, in_calendar, nul_path


def _raw(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    ("kinds", "values"),
    [
        ((int,), [1]),
        ((str, int), ["0001:0042", 7]),
        ((float, int), [-3.25, 9]),
        ((float, int), [2, 9]),
        ((datetime, int), ["2026-11-23T17:00:00+00:00", 3]),
    ],
)
def test_a_cursor_the_api_wrote_reads_back(kinds: tuple[type, ...], values: list[Any]) -> None:
    decoded = decode_cursor(encode_cursor(values), kinds)
    if datetime in kinds:
        assert decoded == [datetime(2026, 11, 23, 17, tzinfo=UTC), 3]
    else:
        assert decoded == values


@pytest.mark.parametrize(
    ("cursor", "kinds"),
    [
        ("@@", (int,)),
        (_raw("x"), (int,)),
        (_raw([1, 2]), (int,)),
        (_raw(["1"]), (int,)),
        (_raw([True]), (int,)),
        (_raw([2**31]), (int,)),
        (_raw([-1]), (int,)),
        (_raw([1.5]), (int,)),
        (_raw([{"a": 1}, 1]), (str, int)),
        (_raw(["x" * 201, 1]), (str, int)),
        (_raw([1e308 * 10, 1]), (float, int)),
        (_raw(["NaN", 1]), (float, int)),
        (_raw(["9999-12-31T23:59:59", 1]), (datetime, int)),
        (_raw([1, 1]), (datetime, int)),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), (int,)),
    ],
)
def test_a_forged_cursor_is_a_422_naming_cursor(cursor: str, kinds: tuple[type, ...]) -> None:
    with pytest.raises(Invalid) as caught:
        decode_cursor(cursor, kinds)
    assert caught.value.errors[0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("plain", None),
        ("a\x00b", ()),
        ({"title": "ok", "labels": ["a", "b\x00"]}, ("labels", 1)),
        ({"aliases": {"x\x00": "ana"}}, ("aliases", "x\x00")),
        ([1, None, True, 2.5], None),
    ],
)
def test_nul_is_found_where_it_sits(value: Any, where: tuple[Any, ...] | None) -> None:
    assert nul_path(value) == where


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (date(1900, 1, 1), True),
        (date(2999, 12, 31), True),
        (date(1899, 12, 31), False),
        (date(3000, 1, 1), False),
        (datetime(9999, 12, 31, 23, 0), False),
        (datetime(1, 1, 1, tzinfo=UTC), False),
        (datetime(2026, 11, 23, 9, 0), True),
    ],
)
def test_dates_stay_inside_the_calendar(value: date, ok: bool) -> None:
    if ok:
        assert in_calendar(value) == value
    else:
        with pytest.raises(ValueError, match="outside the calendar"):
            in_calendar(value)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1098 days", True),
        ("156 weeks", True),
        ("1000 business days", True),
        ("1099 days", False),
        ("300000 business days", False),
        ("157 weeks", False),
        ("26353 hours", False),
    ],
)
def test_a_request_span_is_bounded(text: str, ok: bool) -> None:
    if ok:
        assert bounded(parse_duration(text), text)
    else:
        with pytest.raises(SpanTooLong, match="at most 1098 days"):
            bounded(parse_duration(text), text)


@pytest.mark.parametrize("text", ["9" * 400 + " weeks", "99999999999999 days", "1e9"])
def test_a_span_past_any_date_is_refused_not_overflowed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
