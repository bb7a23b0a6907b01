"""A list filter naming a value no desk has (``--priority P7``, ``--status Doing``) is refused
with the values that exist, instead of answering an empty list."""

from __future__ import annotations

from collections.abc import Iterable

from dutydesk.errors import field_error
from dutydesk.policy.models import RESOLUTIONS, DeskPolicy, Policy
from dutydesk.tickets.schemas import TicketFilter


def _allowed(desks: Iterable[DeskPolicy], field: str) -> list[str]:
    values: dict[str, None] = {}
    for desk in desks:
        for value in {
            "status": desk.columns,
            "priority": desk.priorities,
            "kind": desk.kinds,
            "category": desk.categories,
            "team": desk.teams,
        }[field]:
            values[value] = None
    return list(values)


def check_filter_values(policy: Policy, f: TicketFilter) -> None:
    """Raise a 422 naming the first filter field whose value the desk (or, without a desk,
    any desk) does not have, with the values it does."""
    if f.desk is not None and f.desk not in policy.desks:
        raise field_error("desk", f"no desk {f.desk!r}; desks are {', '.join(policy.desks)}")
    desks = [policy.desks[f.desk]] if f.desk else list(policy.desks.values())
    scope = f"desk {f.desk!r}" if f.desk else "any desk"
    given: dict[str, list[str]] = {
        "status": f.status or [],
        "priority": [p for p in f.priority or [] if p != "none"],
        "kind": f.kind or [],
        "category": [f.category] if f.category else [],
        "team": [f.team] if f.team and f.team != "none" else [],
    }
    for field, values in given.items():
        allowed = _allowed(desks, field)
        for value in values:
            if value not in allowed:
                extra = " (or 'none': untriaged)" if field == "priority" else ""
                extra = " (or 'none': not routed)" if field == "team" else extra
                raise field_error(
                    field,
                    f"{value!r} is not a {field} of {scope}; use one of "
                    f"{', '.join(allowed) or '(none declared)'}{extra}",
                )
    if f.resolution is not None and f.resolution not in RESOLUTIONS:
        raise field_error(
            "resolution",
            f"{f.resolution!r} is not a resolution; use one of {', '.join(RESOLUTIONS)}",
        )
