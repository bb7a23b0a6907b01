"""Checks of a desk's columns and ordering conditions that its policy models run (pure)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

# The column names whose role the workflow infers when [desks.X.workflow] does not declare it.
ROLE_NAMES = {
    "triaged": ("Triaged", "the triaged column: moving there is the triage"),
    "started": ("In progress", "the first working column: it and the ones after need an assignee"),
}


def column_role_errors(columns: Sequence[str], wf: object) -> list[str]:
    """A column that looks like a role's name but is not spelled like it would silently lose
    that role (and its rule, such as the assignee requirement): refuse it with the fix.
    ``wf`` is the desk's workflow table, read for the roles it declares by name."""
    errors: list[str] = []
    for role, (name, meaning) in ROLE_NAMES.items():
        if getattr(wf, role) is not None or name in columns:
            continue
        for column in columns:
            near = difflib.SequenceMatcher(None, column.casefold(), name.casefold()).ratio()
            if column.casefold() == name.casefold() or near >= 0.8:
                errors.append(
                    f"at columns: column {column!r} looks like a misspelling of {name!r}, {meaning}; "
                    f"spell it {name!r}, or declare the role under the desk's [workflow] "
                    f"table: {role} = {column!r}"
                )
    return errors


_CONDITION = re.compile(r"^(label|kind|fix_target|priority|team|category):[\w .-]+$")


def check_condition(cond: str) -> str:
    if cond in ("*", "customer_reported", "blocked") or _CONDITION.match(cond):
        return cond
    raise ValueError(
        f"condition {cond!r} is not understood; use 'label:X', 'kind:X', 'fix_target:X', "
        "'priority:X', 'team:X', 'category:X', 'customer_reported' or '*'"
    )
