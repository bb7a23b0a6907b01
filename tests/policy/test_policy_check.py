"""`check` and start-up build what the policy describes, and report every problem at once."""

from pathlib import Path

import pytest

from dutydesk.policy import PolicyError
from dutydesk.policy_check import check_policy_text, load_checked_policy

EXAMPLE = Path(__file__).parents[2] / "examples" / "dutydesk.toml"

CALENDARS = """
[calendars.mars]
timezone = "UTC"
hours = { mon = "09:00-17:00" }
holidays = { country = "XX" }

[calendars.toronto]
timezone = "America/Toronto"
hours = { mon = "09:00-17:00" }
holidays = { country = "CA", subdivision = "ZZ" }

[calendars.orphan]
timezone = "UTC"
hours = { mon = "09:00-17:00" }
holidays = { subdivision = "ON" }
"""


def problems(text: str) -> list[tuple[str, str, int | None]]:
    with pytest.raises(PolicyError) as info:
        check_policy_text(text, "p.toml")
    return [(p.location, p.message, p.line) for p in info.value.problems]


def test_the_example_policy_passes() -> None:
    assert set(load_checked_policy(EXAMPLE).desks) == {"infra", "set"}


def test_every_calendar_is_built_with_its_holidays() -> None:
    found = problems(CALENDARS + '[desks.ops]\ncolumns = ["New", "Done"]\ncalendar = "mars"\n')
    assert [(where, line) for where, _, line in found] == [
        ("calendars.mars.holidays.country", 5),
        ("calendars.toronto.holidays.subdivision", 10),
        ("calendars.orphan.holidays.subdivision", 15),
    ]
    assert "'XX'" in found[0][1] and "ISO 3166" in found[0][1]
    assert "'ZZ'" in found[1][1] and "given without a country" in found[2][1]


def test_schema_errors_and_calendar_errors_come_in_one_round() -> None:
    text = CALENDARS + '[desks.ops]\ncolumns = ["New", "Done"]\nadmit = ["P7"]\n'
    where = [location for location, _, _ in problems(text)]
    assert where == [
        "desks.ops",
        "calendars.mars.holidays.country",
        "calendars.toronto.holidays.subdivision",
        "calendars.orphan.holidays.subdivision",
    ]


def test_a_calendar_that_fails_its_own_validation_is_reported_once() -> None:
    text = '[calendars.bad]\ntimezone = "Mars/Olympus"\nhours = {}\n[desks.ops]\ncolumns = ["A", "B"]\n'
    [(where, message, _)] = problems(text)
    assert where == "calendars.bad.timezone" and "unknown time zone" in message


def test_reference_errors_are_reported_with_calendar_errors() -> None:
    text = CALENDARS + '[desks.ops]\ncolumns = ["New", "Done"]\nrotation = "nobody"\n'
    where = [location for location, _, _ in problems(text)]
    assert where[0] == "desks.ops.rotation" and len(where) == 4


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_checked_policy(tmp_path / "nope.toml")


def test_a_saved_filter_the_ticket_filter_cannot_run_is_named_with_its_line() -> None:
    text = EXAMPLE.read_text() + (
        '\n[saved_filters.broken]\ndescription = "x"\nquery = { status = 5, nosuch = "y" }\n'
    )
    found = {(where, line) for where, _, line in problems(text)}
    last = len(text.splitlines())
    assert found == {
        ("saved_filters.broken.query.status", last),
        ("saved_filters.broken.query.nosuch", last),
    }
