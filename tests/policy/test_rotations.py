"""The rotation grammar lives in the policy layer: the policy accepts exactly what the
schedule is built from, and says what is wrong on the key that is wrong."""

from __future__ import annotations

import pytest

from dutydesk.policy import PolicyError, parse_policy
from dutydesk.policy.rotations import rotation_from_policy


def _policy(every: str, handoff: str) -> str:
    return f"""
[desks.ops]
columns = ["New", "Done"]
rotation = "ops"

[rotations.ops]
timezone = "Europe/Berlin"
every = "{every}"
handoff = "{handoff}"
members = ["ana", "bo"]
"""


@pytest.mark.parametrize(
    ("every", "handoff", "unit", "count"),
    [
        ("week", "mon 10:00", "week", 1),
        ("2 weeks", "fri 17:00", "week", 2),
        ("2weeks", "fri 17:00", "week", 2),  # the schedule always read it; the policy now too
        ("3 days", "08:30", "day", 3),
        ("month", "16 09:00", "month", 1),
    ],
)
def test_policy_and_schedule_read_every_alike(
    every: str, handoff: str, unit: str, count: int
) -> None:
    rot = parse_policy(_policy(every, handoff)).rotations["ops"]
    spec = rotation_from_policy("ops", rot.table())
    assert (spec.unit, spec.count) == (unit, count)


def test_a_bad_length_is_reported_on_every() -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(_policy("fortnight", "mon 10:00"))
    text = str(err.value)
    assert "every" in text and "'fortnight'" in text and "N days|weeks|months" in text
    assert "every: every" not in text
