"""``[desks.NAME.imports]``: how another tracker's labels, priorities, issue types and
statuses map onto a desk's own values when its history is imported (GitHub, Jira CSV).

    [desks.infra.imports]
    labels = { "bug" = "kind:bug", "P0" = "priority:P0", "outage" = "category:outage" }
    priorities = { "Blocker" = "P0", "Critical" = "P1", "Major" = "P2", "Minor" = "P3" }
    kinds = { "Bug" = "bug", "Task" = "request" }
    statuses = { "In Progress" = "Triaged" }
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

LABEL_TARGETS = ("kind", "priority", "category", "team", "label")


class ImportMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A source label → "kind:X", "priority:X", "category:X", "team:X" or "label:X".
    labels: dict[str, str] = {}
    # Keep source labels that no mapping names, as labels of the ticket.
    keep_labels: bool = True
    priorities: dict[str, str] = {}  # source priority name → desk priority
    kinds: dict[str, str] = {}  # source issue type → desk kind
    statuses: dict[str, str] = {}  # source status name → desk column

    def errors(
        self,
        *,
        kinds: Sequence[str],
        priorities: Sequence[str],
        categories: Sequence[str],
        teams: Sequence[str],
        columns: Sequence[str],
    ) -> list[str]:
        """Every mapping that names a value the desk does not have."""
        allowed = {"kind": kinds, "priority": priorities, "category": categories, "team": teams}
        problems = []
        for label, target in self.labels.items():
            field, sep, value = target.partition(":")
            if not sep or field not in LABEL_TARGETS or not value:
                problems.append(
                    f"imports.labels[{label!r}] = {target!r}: write FIELD:VALUE with FIELD one "
                    f"of {', '.join(LABEL_TARGETS)}"
                )
            elif field != "label" and value not in allowed[field]:
                problems.append(
                    f"imports.labels[{label!r}] names {field} {value!r}, which is not one of "
                    f"the desk's: {', '.join(allowed[field]) or '(none declared)'}"
                )
        for table, values, what in (
            (self.priorities, priorities, "priorities"),
            (self.kinds, kinds, "kinds"),
            (self.statuses, columns, "columns"),
        ):
            for source, value in table.items():
                if value not in values:
                    problems.append(
                        f"imports mapping {source!r} = {value!r}: not one of the desk's "
                        f"{what}: {', '.join(values)}"
                    )
        return problems
