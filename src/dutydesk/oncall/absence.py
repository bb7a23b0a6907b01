"""Who serves the shifts of one membership period while members are away: the "Time off"
rules of :mod:`dutydesk.oncall.schedule` (its module doc is the contract), as pure functions
over shift indexes. :class:`~dutydesk.oncall.schedule.Schedule` hands in who is blocked when.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from dutydesk.policy.rotations import SkipRule

Resolved = list[tuple[str | None, str | None]]  # (person, warning) per shift


class Period(NamedTuple):
    """One membership period of a layer: shift ``first`` goes to ``members[offset]``."""

    layer: str
    members: tuple[str, ...]
    first: int
    offset: int
    end: int | None  # the first shift of the next period


def resolve_period(
    period: Period,
    a: int,
    b: int,
    *,
    skip: SkipRule,
    blocked: Sequence[int],
    is_blocked: Callable[[str, int], bool],
    reach: int,
) -> Resolved:
    """(person, warning) for shifts ``a..b`` of ``period`` after time off.

    ``blocked`` lists (sorted) every shift whose rotation member is unavailable; ``is_blocked``
    says whether one member is; ``reach`` bounds how far a make-up may be from its absence.
    """
    layer, members, first, offset, seg_end = period
    n = len(members)
    if n == 0:
        return [(None, None)] * (b - a + 1)

    def base(k: int) -> str:
        return members[(offset + k - first) % n]

    # Nobody unavailable from one reach before a through b: nothing can move.
    i = bisect_left(blocked, max(first, a - reach))
    if i == len(blocked) or blocked[i] > b:
        return [(base(k), None) for k in range(a, b + 1)]

    def after(p: str) -> list[str]:
        i = members.index(p)
        return [members[(i + s) % n] for s in range(1, n)]

    def nobody(p: str) -> str:
        return f"no other member of {layer} is available to cover {p}'s time off"

    if skip == "next":
        out: Resolved = []
        for k in range(a, b + 1):
            p = base(k)
            if not is_blocked(p, k):
                out.append((p, None))
                continue
            cover = next((c for c in after(p) if not is_blocked(c, k)), None)
            out.append((cover, None) if cover else (p, nobody(p)))
        return out

    # swap-later: start where no earlier trade can reach (a run of `reach` shifts whose
    # rotation member is available), then visit only the blocked shifts.
    q = a
    for i in range(bisect_left(blocked, a) - 1, -1, -1):
        if blocked[i] < max(first, q - reach):
            break
        q = blocked[i]
    final: dict[int, str] = {}
    notes: dict[int, str] = {}
    for k in blocked[bisect_left(blocked, q) : bisect_right(blocked, b)]:
        if k in final:
            continue
        p = base(k)
        limit = k + reach if seg_end is None else min(k + reach, seg_end - 1)
        j = make_up(k, p, base, final, limit, is_blocked)
        if j is not None:
            final[k], final[j] = base(j), p
            continue
        free = [c for c in after(p) if not is_blocked(c, k)]
        final[k] = free[0] if free else p
        if not free:
            notes[k] = nobody(p)
    return [(final.get(k, base(k)), notes.get(k)) for k in range(a, b + 1)]


def make_up(
    k: int,
    absent: str,
    base: Callable[[int], str],
    final: Mapping[int, str],
    limit: int,
    is_blocked: Callable[[str, int], bool],
) -> int | None:
    """The shift ``absent`` takes in return for shift ``k``: the first later one up to
    ``limit`` that is still untouched, that they can take and whose member is free to cover
    ``k``. The first one, so the hours are paid back as soon as they can be and a year stays
    fair; lead duty follows whoever serves (see "Time off" in the schedule's module doc)."""
    for j in range(k + 1, limit + 1):
        c = base(j)
        if c == absent or j in final or is_blocked(absent, j) or is_blocked(c, k):
            continue
        return j
    return None
