"""Pure rules the on-call service applies around :mod:`dutydesk.oncall.schedule`.

No database and no clock here: the service hands in schedules and instants.

* :func:`spec_from_policy` and :func:`apply_memberships` turn policy plus stored join/leave
  events into the :class:`RotationSpec` a schedule is built from.
* :func:`pins_for_past` is how "past shifts are immutable facts" holds whatever is edited:
  after any change the service compares the schedule before and after over the stretch that
  has already happened and, where they differ, stores *pins* (overrides putting back whoever
  was on call). Time off entered while someone is on call, or a trade that reaches back a few
  shifts, therefore changes only the future.
* :func:`handoff_window` picks the handoff a report is about; :func:`policy_warnings` lists the
  gaps ``dutydesk check`` warns about.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Override, Shift
from dutydesk.oncall.wallclock import local_to_utc
from dutydesk.policy.models import Policy, RotationPolicy
from dutydesk.policy.rotations import RotationSpec, ScheduleError, rotation_from_policy

__all__ = [
    "HandoffWindow",
    "MembershipEvent",
    "PastChangeError",
    "apply_memberships",
    "changed_shifts",
    "first_shift_on_or_after",
    "fmt_local",
    "handoff_window",
    "members_on",
    "nominal_period",
    "pins_for_past",
    "plain_layers",
    "policy_warnings",
    "reach",
    "spec_from_policy",
    "to_utc",
]


def spec_from_policy(name: str, rot: RotationPolicy) -> RotationSpec:
    """The rotation as declared in ``[rotations.NAME]`` (validated there already)."""
    return rotation_from_policy(name, rot.table())


# --------------------------------------------------------------------------- membership


@dataclass(frozen=True, slots=True)
class MembershipEvent:
    """``person`` joins (at ``position``, default: the end) or leaves ``layer`` from a date."""

    layer: str
    person: str
    action: str  # "join" | "leave"
    effective: date
    position: int | None = None


def apply_memberships(spec: RotationSpec, events: Iterable[MembershipEvent]) -> RotationSpec:
    """Replay join/leave events, in date order, over each layer's declared list.

    A join of someone already in the list, or a leave of someone not in it, changes nothing
    (an earlier event may have done it already). Each date with events gives one
    :class:`MembershipChange`, so shifts starting before it never move.
    """
    by_layer: dict[str, list[MembershipEvent]] = {}
    for ev in events:
        by_layer.setdefault(ev.layer, []).append(ev)
    for layer_name, evs in by_layer.items():
        try:
            layer = spec.layer(layer_name)
        except KeyError:
            continue  # the policy no longer has that layer; the service reports it
        if layer.lead_of:
            continue
        current = list(members_on(spec, layer_name, date.min))
        day: date | None = None
        for ev in sorted(evs, key=lambda e: e.effective):  # stable: same day keeps entry order
            if day is not None and ev.effective != day:
                spec = spec.with_members(layer_name, day, current)
            day = ev.effective
            if ev.action == "join" and ev.person not in current:
                at = len(current) if ev.position is None else min(ev.position, len(current))
                current.insert(at, ev.person)
            elif ev.action == "leave" and ev.person in current:
                current.remove(ev.person)
        if day is not None:
            spec = spec.with_members(layer_name, day, current)
    return spec


def members_on(spec: RotationSpec, layer: str, day: date) -> tuple[str, ...]:
    """The member list of ``layer`` for shifts starting on local date ``day``."""
    found: tuple[str, ...] = ()
    for ch in sorted(spec.layer(layer).members, key=lambda c: c.effective):
        if ch.effective <= day:
            found = ch.members
    return found


def plain_layers(spec: RotationSpec) -> list[str]:
    """Layers with their own members (not derived, like a one-per-team rotation's lead)."""
    return [x.name for x in spec.layers if not x.lead_of]


def first_shift_on_or_after(schedule: Schedule, day: date) -> tuple[int, datetime]:
    """Index and start of the first base shift whose local start date is ``day`` or later."""
    zone = schedule.zone
    k = max(0, schedule.index_at(to_utc(datetime.combine(day, time()), zone)))
    start = schedule.shift_bounds(k)[0]
    while start.astimezone(zone).date() < day:
        k += 1
        start = schedule.shift_bounds(k)[0]
    return k, start


# --------------------------------------------------------------------------- time


def nominal_period(spec: RotationSpec) -> timedelta:
    """The longest a base shift can last (months count as 31 days, plus a DST hour)."""
    days = {"day": 1, "week": 7, "month": 31}[spec.unit] * spec.count
    return timedelta(days=days, hours=1)


def reach(spec: RotationSpec) -> timedelta:
    """How far back a change can move shifts: time off trades within one member cycle."""
    longest = max((len(ch.members) for x in spec.layers for ch in x.members), default=1)
    return nominal_period(spec) * (longest + 2)


def to_utc(value: datetime | date, zone: tzinfo, *, end: bool = False) -> datetime:
    """An instant from user input read in ``zone``.

    Aware datetimes keep their instant. Naive ones are wall-clock time in ``zone`` (a time in
    a spring-forward gap means the instant the clocks jump; an ambiguous one its first
    occurrence). A date is that day's local midnight, or with ``end`` the next midnight, so an
    end date is the last whole day included.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(UTC)
        return local_to_utc(value, zone)
    day = value + timedelta(days=1) if end else value
    return local_to_utc(datetime.combine(day, time()), zone)


def fmt_local(value: datetime, zone: tzinfo) -> str:
    """``Mon 2026-11-23 10:00 PST``: how times appear in messages and reports."""
    return value.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


# --------------------------------------------------------------------------- the past


class PastChangeError(ValueError):
    """A change would put someone on call in a stretch where nobody was: it cannot be pinned."""


def _pieces(
    shifts: Iterable[Shift], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    out = []
    for x in shifts:
        s, e = max(x.utc_start, start), min(x.utc_end, end)
        if s < e:
            out.append((s, e, x.person))
    return sorted(out)


def _who(pieces: Sequence[tuple[datetime, datetime, str]], t: datetime) -> str | None:
    for s, e, person in pieces:
        if s <= t < e:
            return person
    return None


def pins_for_past(old: Schedule, new: Schedule, start: datetime, now: datetime) -> list[Override]:
    """Overrides that make ``new`` agree with ``old`` on [start, now), layer by layer.

    Each pin puts back the person ``old`` had on call (``replaces`` names who ``new`` would
    have shown). Raises :class:`PastChangeError` where ``old`` had nobody and ``new`` someone.
    """
    s0, now = start.astimezone(UTC), now.astimezone(UTC)
    if now <= s0:
        return []
    pins: list[Override] = []
    for layer in (x.name for x in old.spec.layers):
        a = _pieces(old.shifts(s0, now, [layer]), s0, now)
        b = _pieces(new.shifts(s0, now, [layer]), s0, now)
        points = sorted({s0, now, *(p for s, e, _ in (*a, *b) for p in (s, e))})
        for x, y in pairwise(points):
            was, shown = _who(a, x), _who(b, x)
            if was == shown:
                continue
            if was is None:
                raise PastChangeError(
                    f"{layer}: the change would put {shown} on call from "
                    f"{fmt_local(x, old.zone)} to {fmt_local(y, old.zone)}, when nobody was; "
                    "past shifts cannot change"
                )
            last = pins[-1] if pins else None
            if last and last.layer == layer and last.person == was and last.end == x:
                pins[-1] = Override(last.start, y, was, layer, last.replaces)
            else:
                pins.append(Override(x, y, was, layer, shown))
    return pins


def _key(x: Shift) -> tuple[str, datetime, datetime, str]:
    return (x.layer, x.utc_start, x.utc_end, x.person)


def changed_shifts(
    old: Schedule, new: Schedule, start: datetime, end: datetime
) -> tuple[list[Shift], list[Shift]]:
    """Shifts over [start, end) that differ: as ``old`` had them, and as ``new`` has them."""
    a, b = old.shifts(start, end), new.shifts(start, end)
    ka, kb = {_key(x) for x in a}, {_key(x) for x in b}
    return [x for x in a if _key(x) not in kb], [x for x in b if _key(x) not in ka]


# --------------------------------------------------------------------------- handoff


@dataclass(frozen=True, slots=True)
class HandoffWindow:
    """The handoff a report is about: the shift ending there and the one starting there."""

    boundary: datetime
    outgoing: tuple[datetime, datetime] | None
    incoming: tuple[datetime, datetime]


def handoff_window(schedule: Schedule, at: datetime) -> HandoffWindow:
    """The handoff nearest to ``at``: before the meeting it is the coming one, after it the
    one just past (a tie goes to the one past). Before the first shift there is no outgoing."""
    k = schedule.index_at(at)
    if k < 0:
        first = schedule.shift_bounds(0)
        return HandoffWindow(first[0], None, first)
    s, e = schedule.shift_bounds(k)
    if e.astimezone(UTC) - at < at - s.astimezone(UTC):
        return HandoffWindow(e, (s, e), schedule.shift_bounds(k + 1))
    previous = schedule.shift_bounds(k - 1) if k > 0 else None
    return HandoffWindow(s, previous, (s, e))


def recent_handoffs(schedule: Schedule, now: datetime, count: int) -> list[datetime]:
    """The last ``count`` handoffs at or before ``now``, newest first (for choosing one)."""
    k = schedule.index_at(now)
    return [schedule.shift_bounds(i)[0] for i in range(k, max(k - count, -1), -1)]


# --------------------------------------------------------------------------- check


def policy_warnings(policy: Policy, now: datetime, days: int = 90, limit: int = 5) -> list[str]:
    """Stretches of the next ``days`` where a declared rotation has nobody on a layer."""
    out: list[str] = []
    end = now + timedelta(days=days)
    for name, rot in policy.rotations.items():
        try:
            schedule = Schedule(spec_from_policy(name, rot))
        except ScheduleError as exc:  # pragma: no cover - the policy validator refuses these
            out.append(f"rotations.{name}: {exc}")
            continue
        found = schedule.gaps(now, end)
        for gap in found[:limit]:
            out.append(
                f"rotations.{name}: nobody is on call on layer {gap.layer!r} from "
                f"{fmt_local(gap.start, schedule.zone)} to {fmt_local(gap.end, schedule.zone)}"
            )
        if len(found) > limit:
            out.append(f"rotations.{name}: … and {len(found) - limit} more gap(s)")
    return out
