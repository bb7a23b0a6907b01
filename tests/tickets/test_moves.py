"""Which moves the reports count (``tickets.moves.classify``, pure) and when a desk's kept rows
must be derived again (its columns changed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dutydesk.policy.models import Policy
from dutydesk.state import AppState
from dutydesk.tickets import moves


@pytest.mark.parametrize(
    ("desk", "field", "before", "after", "want"),
    [
        ("infra", "status", "Done", "New", (1, 0, 0)),  # re-open
        ("infra", "status", "Done", "Triaged", (1, 0, 0)),  # a re-open is not also a bounce
        ("infra", "status", "In progress", "Triaged", (0, 1, 0)),  # handed back
        ("infra", "status", "Triaged", "New", (0, 1, 0)),  # returned to the intake
        ("infra", "status", "Triaged", "In progress", (0, 0, 0)),  # forward
        ("infra", "status", "In progress", "Done", (0, 0, 0)),
        ("infra", "status", "Gone", "New", (0, 0, 0)),  # a column the desk no longer has
        ("infra", "team", "infra", "other", (0, 1, 0)),  # team to team
        ("infra", "team", None, "infra", (0, 0, 0)),  # routed the first time
        ("infra", "team", "infra", None, (0, 0, 0)),
        ("infra", "priority", "P1", "P0", (0, 0, 0)),
        ("set", "status", "In progress", "Submitted", (0, 0, 1)),  # a fix submitted
        ("set", "status", "Submitted", "In progress", (0, 1, 0)),  # the PR bounced
        ("set", "status", "Done", "Submitted", (1, 0, 1)),  # re-opened straight to review
    ],
)
def test_classify(
    policy: Policy, desk: str, field: str, before: object, after: object, want: tuple[int, ...]
) -> None:
    assert moves.classify(policy.desks[desk], field, before, after) == want


def test_rows_are_derived_again_when_the_columns_change(state: AppState, policy: Policy) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert set(moves.sync(state.db, policy, now)) == set(policy.desks)  # never derived yet
    assert moves.sync(state.db, policy, now) == {}  # current: nothing to do
    raw = policy.model_dump(by_alias=True)
    raw["desks"]["set"]["columns"] = ["To do", "In progress", "Review", "Submitted", "Done"]
    changed = Policy.model_validate(raw)
    with state.db.read() as s:
        assert moves.is_current(s, changed, "infra") and not moves.is_current(s, changed, "set")
    assert moves.sync(state.db, changed, now) == {"set": 0}
