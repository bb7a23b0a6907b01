"""How one layer of a rotation is compiled for lookups: its membership periods, swaps and
override pieces (later overrides painted over earlier ones), and its members' time off,
merged per person and searched by bisection. Pure; :class:`~dutydesk.oncall.schedule.Schedule`
builds and reads them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dutydesk.oncall.shifts import Override, Source, TimeOff
from dutydesk.oncall.wallclock import aware_utc

_ZERO = timedelta(0)


class Absences:
    """Time off merged per person, searchable by bisection."""

    def __init__(self, items: Iterable[TimeOff]) -> None:
        per: dict[str, list[tuple[datetime, datetime]]] = {}
        for item in items:
            s, e = aware_utc(item.start, "time off start"), aware_utc(item.end, "time off end")
            if e > s:
                per.setdefault(item.person, []).append((s, e))
        self.starts: dict[str, list[datetime]] = {}
        self.ends: dict[str, list[datetime]] = {}
        for person, spans in per.items():
            spans.sort()
            merged: list[list[datetime]] = []
            for s, e in spans:
                if merged and s <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], e)
                else:
                    merged.append([s, e])
            self.starts[person] = [m[0] for m in merged]
            self.ends[person] = [m[1] for m in merged]

    def spans(self, person: str, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        ends = self.ends.get(person)
        if not ends:
            return []
        starts = self.starts[person]
        out = []
        i = bisect_right(ends, a)
        while i < len(starts) and starts[i] < b:
            out.append((starts[i], ends[i]))
            i += 1
        return out

    def hits(self, person: str, a: datetime, b: datetime) -> bool:
        """Whether ``person`` has any time off overlapping [a, b)."""
        ends = self.ends.get(person)
        if not ends:
            return False
        i = bisect_right(ends, a)
        return i < len(ends) and self.starts[person][i] < b

    def overlap(self, person: str, a: datetime, b: datetime) -> timedelta:
        total = _ZERO
        for s, e in self.spans(person, a, b):
            total += min(e, b) - max(s, a)
        return total


@dataclass(slots=True)
class LayerPlan:
    """A layer compiled for lookups: membership periods, swaps and disjoint override pieces."""

    name: str
    team: str | None
    lead_of: tuple[str, ...]
    firsts: list[int] = field(default_factory=list)
    segments: list[tuple[int, tuple[str, ...], int]] = field(default_factory=list)
    swaps: dict[int, str] = field(default_factory=dict)
    ov_starts: list[datetime] = field(default_factory=list)
    ov_ends: list[datetime] = field(default_factory=list)
    ov: list[Override] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)  # shifts whose rotation member is away


# (person, team, note, source) for one shift index of one layer
Painted = tuple[str | None, str | None, str | None, Source]


def continue_at(previous: tuple[str, ...], person: str | None, members: tuple[str, ...]) -> int:
    """Where a new member list picks up after ``person`` served under ``previous``."""
    if not members or person is None:
        return 0
    if person in members:
        return (members.index(person) + 1) % len(members)
    i = previous.index(person)
    for step in range(1, len(previous)):
        follower = previous[(i + step) % len(previous)]
        if follower in members:
            return members.index(follower)
    return 0


def paint(
    items: list[tuple[datetime, datetime, Override]],
) -> list[tuple[datetime, datetime, Override]]:
    """Disjoint pieces where a later override hides the overlapped part of earlier ones."""
    ordered = sorted(items, key=lambda x: (x[0], x[1]))
    if all(ordered[i][1] <= ordered[i + 1][0] for i in range(len(ordered) - 1)):
        return ordered
    pieces: list[tuple[datetime, datetime, Override]] = []
    for s, e, ov in items:
        kept: list[tuple[datetime, datetime, Override]] = []
        for ps, pe, pov in pieces:
            if pe <= s or ps >= e:
                kept.append((ps, pe, pov))
                continue
            if ps < s:
                kept.append((ps, s, pov))
            if pe > e:
                kept.append((e, pe, pov))
        kept.append((s, e, ov))
        pieces = kept
    return sorted(pieces, key=lambda x: x[0])


NO_PLAN = LayerPlan("", None, ())
