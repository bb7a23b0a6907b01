"""One grammar for every span and one set of formatters (pure: no database).

The grammar is the union of what five older parsers accepted (notify's wall-clock spans, the
rotation's skip_min_overlap, SLO targets, the ticket filter's ``resolved_within`` and
``calendar explain --add``); the property tests generate strings each of them accepted and
check they still mean what they meant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dutydesk.durations import (
    Duration,
    format_age,
    format_age_since,
    format_ago,
    format_span,
    parse_days,
    parse_duration,
    parse_span,
)

US = timedelta(microseconds=1)
NUMBERS = st.one_of(
    st.integers(0, 5000).map(str),
    st.tuples(st.integers(0, 500), st.integers(0, 999)).map(lambda p: f"{p[0]}.{p[1]}"),
)
GAP = st.sampled_from(["", " ", "  "])
EDGE = st.sampled_from(["", " ", "\t"])


def cased(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.title()])


# What each old grammar accepted, with the value it gave: (spelling, seconds per unit).
NOTIFY_UNITS = [
    *[(u, 0.001) for u in ("ms", "millisecond", "milliseconds")],
    *[(u, 1.0) for u in ("s", "sec", "secs", "second", "seconds")],
    *[(u, 60.0) for u in ("m", "min", "mins", "minute", "minutes")],
    *[(u, 3600.0) for u in ("h", "hour", "hours")],
    *[(u, 86400.0) for u in ("d", "day", "days")],
]
WORD_UNITS = [
    (f"{u}{s}", size)
    for u, size in (("minute", 60.0), ("hour", 3600.0), ("day", 86400.0), ("week", 604800.0))
    for s in ("", "s")
]


@given(NUMBERS, GAP, st.sampled_from(NOTIFY_UNITS), EDGE, st.data())
def test_notify_spans_keep_their_value(
    n: str, gap: str, unit: tuple[str, float], edge: str, data: st.DataObject
) -> None:
    spelled = data.draw(cased(unit[0]))
    assert (
        abs(parse_span(f"{edge}{n}{gap}{spelled}{edge}") - timedelta(seconds=float(n) * unit[1]))
        <= US
    )


@given(NUMBERS, GAP, st.sampled_from(WORD_UNITS), st.data())
def test_rotation_overlap_spans_keep_their_value(
    n: str, gap: str, unit: tuple[str, float], data: st.DataObject
) -> None:
    spelled = data.draw(cased(unit[0]))
    assert abs(parse_span(f"{n}{gap}{spelled}") - timedelta(seconds=float(n) * unit[1])) <= US


@given(NUMBERS, st.booleans(), st.sampled_from(WORD_UNITS))
def test_slo_targets_keep_amount_unit_and_business(
    n: str, business: bool, unit: tuple[str, float]
) -> None:
    text = f"{n} {'business ' if business else ''}{unit[0]}"
    found = parse_duration(text)
    assert found.business == business
    word = unit[0].rstrip("s")
    amount = {
        "minute": found.clock / timedelta(minutes=1),
        "hour": found.clock / timedelta(hours=1),
        "day": found.days,
        "week": found.weeks,
    }[word]
    assert abs(amount - float(n)) < 1e-6
    if word in ("day", "week"):
        assert not found.clock  # sized later by the calendar's business day or week


@given(st.integers(0, 9999), st.sampled_from([("d", 86400), ("h", 3600), ("w", 604800)]))
def test_resolved_within_keeps_its_value(n: int, unit: tuple[str, int]) -> None:
    assert parse_span(f"{n}{unit[0]}") == timedelta(seconds=n * unit[1])


@given(
    st.lists(st.tuples(NUMBERS, GAP, st.sampled_from(["d", "h", "m", "s"])), min_size=1, max_size=3)
)
def test_explain_short_forms_keep_their_value(terms: list[tuple[str, str, str]]) -> None:
    text = "".join(f"{n}{gap}{u}" for n, gap, u in terms)
    found = parse_duration(text)
    day = timedelta(hours=8)
    expected = sum(
        (
            float(n)
            * (
                {
                    "d": day,
                    "h": timedelta(hours=1),
                    "m": timedelta(minutes=1),
                    "s": timedelta(seconds=1),
                }[u]
            )
            for n, _, u in terms
        ),
        timedelta(0),
    )
    assert abs(found.sized(day=day) - expected) <= 3 * US


@given(st.integers(0, 400), st.booleans(), st.sampled_from(["day", "days"]))
def test_whole_days_keep_their_value(n: int, business: bool, unit: str) -> None:
    assert parse_days(f" {n} {'business ' if business else ''}{unit} ") == (n, business)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "soon",
        "4 parsecs",
        "5 months",
        "-3h",
        "4 hours later",
        "1 business",
        "h",
        "3 business hours 2 minutes",
    ],
)
def test_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


def test_wall_clock_spans_refuse_business_time_and_days_refuse_hours() -> None:
    with pytest.raises(ValueError, match="not business time"):
        parse_span("4 business hours")
    with pytest.raises(ValueError, match="N business days"):
        parse_days("1.5 days")
    with pytest.raises(ValueError, match="N business days"):
        parse_days("1 day 2h")


def test_business_days_and_weeks_are_sized_by_the_calendar() -> None:
    found = parse_duration("1 business day")
    assert found == Duration(timedelta(0), days=1.0, business=True)
    assert found.sized(day=timedelta(hours=8)) == timedelta(hours=8)
    assert parse_duration("2 weeks").sized() == timedelta(weeks=2)
    assert parse_duration("1h30m") == Duration(timedelta(minutes=90))
    assert parse_duration("0 minutes").is_zero and not parse_duration("1ms").is_zero


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(0), "0m"),
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=12), "12m"),
        (timedelta(hours=4), "4h 0m"),
        (timedelta(minutes=75), "1h 15m"),
        (timedelta(days=2, hours=3, minutes=5), "2d 3h"),
        (timedelta(hours=1984), "82d 16h"),
        (timedelta(seconds=-30), "0m"),
        (timedelta(minutes=-30), "-30m"),
        (-timedelta(days=3, hours=4, minutes=10), "-3d 4h"),
    ],
)
def test_format_span(delta: timedelta, shown: str) -> None:
    assert format_span(delta) == shown


@given(st.integers(0, 10**7))
def test_format_then_parse_round_trips_to_the_shown_precision(minutes: int) -> None:
    delta = timedelta(minutes=minutes)
    shown = format_span(delta)
    back = parse_span(shown)
    unit = timedelta(hours=1) if delta >= timedelta(days=1) else timedelta(minutes=1)
    assert back == delta - delta % unit
    assert format_span(back) == shown


@given(st.integers(1, 10**7))
def test_overdue_reads_as_its_positive_span(minutes: int) -> None:
    assert format_span(-timedelta(minutes=minutes)) == "-" + format_span(timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=5), "now"),
        (timedelta(seconds=-30), "now"),
        (timedelta(minutes=12), "12m"),
        (timedelta(hours=5, minutes=59), "5h"),
        (timedelta(days=3), "3d"),
        (timedelta(days=13, hours=23), "13d"),
        (timedelta(days=20), "2w"),
        (timedelta(days=90), "3mo"),
        (timedelta(days=800), "2y"),
    ],
)
def test_format_age(delta: timedelta, shown: str) -> None:
    assert format_age(delta) == shown


def test_ages_of_instants() -> None:
    now = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert format_ago(None, now) == "never"
    assert format_ago(now, now) == "just now"
    assert format_ago(now - timedelta(minutes=5), now) == "5m ago"
    assert format_age_since(None, now) == ""
    assert format_age_since(now - timedelta(days=3), now) == "3d"
