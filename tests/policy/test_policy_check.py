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
    assert set(load_checked_policy(EXAMPLE).desks) == {"infra", "set", "product"}


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


ROLES = """
[calendars.pacific]
timezone = "America/Los_Angeles"
hours = { mon = "09:00-17:00" }

[desks.infra]
calendar = "pacifc"
columns = ["New", "Triagd", "In progess", "Done"]
admit = ["P0", "P7"]

[desks.ops]
calendar = "pacifc"
columns = ["New", "Doing", "Done"]
"""


def test_column_role_typos_and_every_other_error_in_one_round() -> None:
    got = problems(ROLES)
    assert [(loc, line) for loc, _, line in got] == [
        ("desks.infra", 6),
        ("desks.infra.columns", 8),
        ("desks.infra.columns", 8),
        ("desks.ops.calendar", 12),
    ]
    messages = [m for _, m, _ in got]
    assert "admit names 'P7'" in messages[0]
    assert messages[1].startswith("column 'Triagd' looks like a misspelling of 'Triaged'")
    assert messages[2].startswith("column 'In progess' looks like a misspelling of 'In progress'")
    assert "need an assignee" in messages[2] and "started = 'In progess'" in messages[2]
    assert "declare [calendars.pacifc]" in messages[3]


@pytest.mark.parametrize(
    ("columns", "workflow", "ok"),
    [
        ('["New", "Triaged", "In progress", "Done"]', "", True),
        ('["New", "Triaged", "In Progress", "Done"]', "", False),  # case counts too
        ('["New", "Triaged", "In progess", "Done"]', 'started = "In progess"', True),  # declared
        ('["To do", "Doing", "Done"]', "", True),  # no look-alike: a warning, not an error
    ],
)
def test_column_roles_declared_or_spelled(columns: str, workflow: str, ok: bool) -> None:
    text = f"[desks.q]\ncolumns = {columns}\n[desks.q.workflow]\n{workflow}\n"
    if ok:
        check_policy_text(text)
    else:
        assert problems(text)[0][0] == "desks.q.columns"


def test_a_desk_without_an_assignee_column_is_warned_about() -> None:
    from dutydesk.policy_check import column_role_warnings

    policy = check_policy_text('[desks.q]\ncolumns = ["To do", "Doing", "Done"]\n')
    assert column_role_warnings(policy) == [
        "desks.q: no column needs an assignee (none is called 'In progress'); to require one, "
        "declare it: [desks.q.workflow] started = 'Doing'"
    ]
    assert column_role_warnings(load_checked_policy(EXAMPLE)) == []


def test_the_tables_that_validate_are_still_checked_in_the_same_round() -> None:
    text = (
        '[desks.infra]\ncolumns = ["New", "In progess", "Done"]\n'
        '[desks.ops]\ncolumns = ["New", "Done"]\n'
        '[saved_filters.x]\nquery = { desk = "ops", bogus = 1 }\n'
    )
    assert [loc for loc, _, _ in problems(text)] == [
        "desks.infra.columns",
        "saved_filters.x.query.bogus",
    ]
