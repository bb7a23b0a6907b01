from pathlib import Path

import pytest

from dutydesk.policy import PolicyError, load_policy, parse_policy

EXAMPLE = Path(__file__).parents[2] / "examples" / "dutydesk.toml"


def test_example_policy_loads_both_reference_desks() -> None:
    policy = load_policy(EXAMPLE)
    assert set(policy.desks) == {"infra", "set"}
    infra = policy.desks["infra"]
    assert infra.admits("P1", []) and not infra.admits("P2", ["Degraded service"])
    assert infra.admits_by_criteria and not policy.desks["set"].admits_by_criteria
    assert infra.assignee_columns == ["In progress"]
    assert policy.desks["set"].assignee_columns == ["In progress", "Submitted"]


ADMISSION = """
[desks.q]
columns = ["New", "Triaged", "Done"]
admit = ["P0", "P1"]
criteria = ["Build break"]
"""


@pytest.mark.parametrize(
    ("extra", "priority", "criteria", "admitted"),
    [
        ("", None, ["Build break"], True),  # a ticked criterion: the urgent queue
        ("", None, [], False),  # none: the weekly-triage backlog
        ("", "P1", [], True),  # triage decides once it sets a priority
        ("", "P2", ["Build break"], False),
        ("criteria_required = false", None, [], True),  # the opt-out
        ("criteria_required = false", "P3", [], False),
    ],
)
def test_admission_by_criteria_then_priority(
    extra: str, priority: str | None, criteria: list[str], admitted: bool
) -> None:
    desk = parse_policy(ADMISSION + extra).desks["q"]
    assert desk.admits(priority, criteria) is admitted


def test_a_desk_without_admit_or_criteria_admits_everything() -> None:
    desk = parse_policy(MINIMAL).desks["ops"]
    assert desk.admits(None, []) and desk.admits("P3", [])
    assert not desk.admits_by_criteria


MINIMAL = """
[desks.ops]
columns = ["New", "Doing", "Done"]
"""


def test_minimal_policy_gets_defaults() -> None:
    desk = parse_policy(MINIMAL).desks["ops"]
    assert desk.priorities == ["P0", "P1", "P2", "P3"]
    assert desk.allowed_moves("New") == ["Doing", "Done"]
    assert desk.allowed_moves("Done") == ["New"]


def test_unknown_key_is_an_error_with_its_line() -> None:
    text = MINIMAL + 'colour = "blue"\n'
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.toml")
    [problem] = info.value.problems
    assert problem.location == "desks.ops.colour"
    assert "unknown key 'colour'" in problem.message
    assert problem.line == 4


def test_every_error_is_reported_not_just_the_first() -> None:
    text = """
[desks.ops]
columns = ["New", "Done"]
admit = ["P9"]
calendar = "nowhere"

[calendars.bad]
timezone = "Mars/Olympus"
hours = { mon = "17:00-09:00" }
"""
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.toml")
    rendered = info.value.render()
    assert "desks.ops" in rendered and "P9" in rendered
    assert "calendars.bad.timezone" in rendered and "IANA" in rendered
    assert "calendars.bad.hours" in rendered and "overnight" in rendered


def test_reference_to_unknown_calendar_names_the_choices() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(MINIMAL.replace("[desks.ops]", '[desks.ops]\ncalendar = "nope"'))
    [problem] = info.value.problems
    assert problem.location == "desks.ops.calendar"
    assert "declare [calendars.nope]" in problem.message


def test_bad_toml_syntax_names_the_line() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy("[desks.ops\ncolumns=[]")
    assert info.value.problems[0].location == "(syntax)"


def test_urgent_priorities_default_to_the_first_two_and_must_be_priorities() -> None:
    assert parse_policy(MINIMAL).desks["ops"].urgent_priorities == ["P0", "P1"]
    desk = parse_policy(MINIMAL + 'urgent = ["P0"]\n').desks["ops"]
    assert desk.urgent_priorities == ["P0"]
    with pytest.raises(PolicyError) as info:
        parse_policy(MINIMAL + 'urgent = ["P0", "Sev1"]\n', "p.toml")
    assert "urgent names 'Sev1'" in info.value.render()


def test_a_desk_with_a_bad_key_still_has_its_references_checked_in_the_same_round() -> None:
    """Every error in one round: the desk's own typo and its unknown calendar together."""
    text = MINIMAL.replace("[desks.ops]", '[desks.ops]\ncalendar = "pacifc"\ncolour = "blue"')
    text += '\n[desks.web]\ncolumns = ["New", "Done"]\ncalendar = "nowhere"\nadmit = 3\n'
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.toml")
    found = {p.location: p.message for p in info.value.problems}
    assert "unknown key 'colour'" in found["desks.ops.colour"]
    assert "declare [calendars.pacifc]" in found["desks.ops.calendar"]
    assert "desks.web.admit" in found
    assert "declare [calendars.nowhere]" in found["desks.web.calendar"]


def test_a_reference_in_a_key_that_is_itself_wrong_is_reported_once() -> None:
    text = MINIMAL.replace("[desks.ops]", "[desks.ops]\ncalendar = 7")
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.toml")
    assert [p.location for p in info.value.problems] == ["desks.ops.calendar"]
