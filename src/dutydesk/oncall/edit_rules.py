"""Whether a user's edit to a schedule can stand: an override or a swap checked against the
compiled schedule, every problem named (pure, like the schedule it reads)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Override, Swap
from dutydesk.oncall.wallclock import fmt_instant, range_errors


def _overlaps(a: Override, b: Override) -> bool:
    return a.layer == b.layer and a.start < b.end and b.start < a.end


def validate_override(
    schedule: Schedule,
    override: Override,
    *,
    existing: Sequence[Override] = (),
    replace: bool = False,
    known_people: Collection[str] | None = None,
) -> list[str]:
    """Problems with adding ``override`` to ``schedule`` (built without it); empty if fine.

    Overlapping a stored override on the same layer is an error unless ``replace`` is set
    (then the service cuts the older ones). ``replaces`` must name someone who is on
    that layer at some instant of the range.
    """
    label = f"override {override.id or override.person}".strip()
    errors = range_errors("override", override.id or override.person, override.start, override.end)
    known = schedule.spec.people if known_people is None else known_people
    plan = schedule._plans.get(override.layer)
    if plan is None:
        errors.append(f"{label}: unknown layer {override.layer!r}")
    if override.person not in known:
        errors.append(f"{label}: unknown person {override.person!r}")
    if override.replaces is not None:
        if override.replaces not in known:
            errors.append(f"{label}: unknown person {override.replaces!r} in replaces")
        elif override.replaces == override.person:
            errors.append(f"{label}: {override.person} cannot cover for themselves")
        elif plan is not None and not errors:
            on = schedule.shifts(override.start, override.end, [override.layer])
            if all(x.person != override.replaces for x in on):
                errors.append(
                    f"{label}: {override.replaces} is not on call on {override.layer} between "
                    f"{fmt_instant(override.start, schedule.zone)} and {fmt_instant(override.end, schedule.zone)}"
                )
    if not replace and not errors:
        for other in existing:
            if other is not override and _overlaps(other, override):
                errors.append(
                    f"{label}: overlaps override {other.id or other.person} ({other.person}, "
                    f"{fmt_instant(other.start, schedule.zone)} – {fmt_instant(other.end, schedule.zone)}); "
                    "pass replace=True to replace it"
                )
    return errors


def validate_swap(
    schedule: Schedule, swap: Swap, *, known_people: Collection[str] | None = None
) -> list[str]:
    """Problems with ``swap`` against ``schedule`` (built without it); empty if fine."""
    known = schedule.spec.people if known_people is None else known_people
    label = f"swap {swap.id or f'{swap.person_a}/{swap.person_b}'}"
    errors = [
        f"{label}: unknown person {p!r}" for p in (swap.person_a, swap.person_b) if p not in known
    ]
    return errors + schedule.swap_errors(swap)
