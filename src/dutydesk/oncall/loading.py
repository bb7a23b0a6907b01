"""Rotations compiled with their stored edits, and the per-database cache that keeps them.

A read asks for a rotation inside its own session: one primary-key read of the rotation's
version row tells a replica whether another one changed it, so every replica sees a change at
once and rebuilds only when something changed. The cache lives as long as the database's
connection pool (its read and write engines share it), so two databases in one process never
mix and any session on the database finds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from threading import Lock
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from dutydesk.context import desk_policy
from dutydesk.db import pool_of
from dutydesk.errors import NotFound
from dutydesk.oncall.models import MembershipRow, OverrideRow, RotationState, SwapRow, TimeOffRow
from dutydesk.oncall.rules import MembershipEvent, apply_memberships, spec_from_policy
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Override, Swap, TimeOff
from dutydesk.policy.models import Policy, RotationPolicy
from dutydesk.policy.rotations import RotationSpec, ScheduleError

_WROTE = "dutydesk.oncall.wrote"  # session.info flag: this transaction edits a rotation
_SEEN = "dutydesk.oncall.seen"  # session.info: rotation versions this transaction has read


@dataclass(frozen=True)
class Loaded:
    """A rotation compiled with its stored edits, at one version."""

    name: str
    version: int
    declared: RotationPolicy
    spec: RotationSpec
    schedule: Schedule
    overrides: tuple[Override, ...]
    kinds: Mapping[str, str]
    swaps: tuple[Swap, ...]
    time_off: tuple[TimeOff, ...]
    desks: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return self.schedule.zone


def rotation_desks(policy: Policy, name: str) -> list[str]:
    return [d for d, desk in policy.desks.items() if desk.rotation == name]


def declared_rotation(policy: Policy, name: str) -> RotationPolicy:
    rot = policy.rotations.get(name)
    if rot is None:
        known = ", ".join(sorted(policy.rotations)) or "(none declared)"
        raise NotFound(f"no rotation named {name!r}; rotations are {known}")
    return rot


def desk_rotation_name(policy: Policy, desk: str) -> str:
    """The rotation a desk names, or a NotFound that says where to set it."""
    rotation = desk_policy(policy, desk).rotation
    if not rotation:
        raise NotFound(f"desk {desk} names no rotation; set `rotation` under [desks.{desk}]")
    return rotation


def _build(
    spec: RotationSpec,
    overrides: Sequence[Override],
    swaps: Sequence[Swap],
    time_off: Sequence[TimeOff],
) -> tuple[Schedule, tuple[Swap, ...], list[str]]:
    """Compile, leaving out (and reporting) stored edits a policy change made impossible."""
    try:
        return Schedule(spec, overrides, swaps, time_off), tuple(swaps), []
    except ScheduleError:
        pass
    problems: list[str] = []
    kept: list[Swap] = []
    for swap in swaps:
        found = Schedule(spec, (), kept, time_off).swap_errors(swap)
        if found:
            problems.extend(f"{p} (left out)" for p in found)
        else:
            kept.append(swap)
    return Schedule(spec, overrides, kept, time_off), tuple(kept), problems


def load(session: Session, policy: Policy, name: str, version: int) -> Loaded:
    declared = declared_rotation(policy, name)
    spec = spec_from_policy(name, declared)
    events = [
        MembershipEvent(r.layer, r.person, r.action, r.effective, r.position)
        for r in session.scalars(
            select(MembershipRow)
            .where(MembershipRow.rotation == name, MembershipRow.cancelled_at.is_(None))
            .order_by(MembershipRow.effective, MembershipRow.id)
        )
    ]
    spec = apply_memberships(spec, events)
    layers = {x.name for x in spec.layers}
    problems: list[str] = []
    overrides: list[Override] = []
    kinds: dict[str, str] = {}
    for o in session.scalars(
        select(OverrideRow)
        .where(OverrideRow.rotation == name, OverrideRow.cancelled_at.is_(None))
        .order_by(OverrideRow.id)
    ):
        if o.layer not in layers:
            problems.append(f"override #{o.id} is on layer {o.layer!r}, which {name} no longer has")
            continue
        overrides.append(Override(o.start_at, o.end_at, o.person, o.layer, o.replaces, str(o.id)))
        kinds[str(o.id)] = o.kind
    swaps = []
    for w in session.scalars(
        select(SwapRow)
        .where(SwapRow.rotation == name, SwapRow.cancelled_at.is_(None))
        .order_by(SwapRow.id)
    ):
        if w.layer not in layers:
            problems.append(f"swap #{w.id} is on layer {w.layer!r}, which {name} no longer has")
            continue
        swaps.append(Swap(w.person_a, w.shift_a, w.person_b, w.shift_b, w.layer, str(w.id)))
    people = sorted(spec.people)
    time_off = [
        TimeOff(t.person, t.start_at, t.end_at, str(t.id))
        for t in session.scalars(
            select(TimeOffRow)
            .where(TimeOffRow.person.in_(people), TimeOffRow.cancelled_at.is_(None))
            .order_by(TimeOffRow.id)
        )
    ]
    schedule, kept, more = _build(spec, overrides, swaps, time_off)
    return Loaded(
        name=name,
        version=version,
        declared=declared,
        spec=spec,
        schedule=schedule,
        overrides=tuple(overrides),
        kinds=kinds,
        swaps=kept,
        time_off=tuple(time_off),
        desks=tuple(rotation_desks(policy, name)),
        problems=tuple(problems + more),
    )


@dataclass
class _Cache:
    entries: dict[str, Loaded] = field(default_factory=dict)
    lock: Lock = field(default_factory=Lock)

    def fresh(self, name: str, version: int, declared: RotationPolicy) -> Loaded | None:
        hit = self.entries.get(name)
        if hit is None or hit.version != version:
            return None
        if hit.declared is declared:
            return hit
        if hit.declared != declared:
            return None
        hit = replace(hit, declared=declared)  # an equal policy object: the same schedule
        self.put(hit)
        return hit

    def put(self, item: Loaded) -> None:
        with self.lock:
            self.entries[item.name] = item


_caches: WeakKeyDictionary[Pool, _Cache] = WeakKeyDictionary()
_caches_lock = Lock()


def _cache(pool: Pool) -> _Cache:
    with _caches_lock:
        found = _caches.get(pool)
        if found is None:
            found = _caches[pool] = _Cache()
        return found


_ONE_VERSION = select(RotationState.version).where(RotationState.name == bindparam("name"))
_ALL_VERSIONS = select(RotationState.name, RotationState.version)


def loaded_in(session: Session, policy: Policy, name: str) -> Loaded:
    """A rotation as seen in ``session``: the version read there, the shared cache when it is
    current (e.g. who to notify of a new ticket, inside the filing's transaction).

    A transaction that changed on-call rows itself never fills the cache, so nothing that
    may still roll back is ever served to other requests. One that did not reads each
    version once: SQLite's transactions hold one snapshot, and on PostgreSQL the first read
    is as good a snapshot as any.
    """
    declared = declared_rotation(policy, name)
    seen: dict[str, int] = session.info.setdefault(_SEEN, {})
    version = None if session.info.get(_WROTE) else seen.get(name)
    if version is None:
        version = seen[name] = (
            session.connection().execute(_ONE_VERSION, {"name": name}).scalar() or 0
        )
    return _fresh_or_load(session, policy, name, version, declared)


def all_loaded_in(session: Session, policy: Policy) -> list[Loaded]:
    """Every declared rotation, by name, with one read for all their versions."""
    names = sorted(policy.rotations)
    if not names:
        return []
    seen: dict[str, int] = session.info.setdefault(_SEEN, {})
    if session.info.get(_WROTE) or any(n not in seen for n in names):
        found = {n: v for n, v in session.connection().execute(_ALL_VERSIONS)}
        seen.update({n: found.get(n, 0) for n in names})
    return [_fresh_or_load(session, policy, n, seen[n], policy.rotations[n]) for n in names]


def _fresh_or_load(
    session: Session, policy: Policy, name: str, version: int, declared: RotationPolicy
) -> Loaded:
    cache = _cache(pool_of(session))
    hit = cache.fresh(name, version, declared)
    if hit is None:
        hit = load(session, policy, name, version)
        if not session.info.get(_WROTE):
            cache.put(hit)
    return hit


def load_for_write(session: Session, policy: Policy, name: str, version: int) -> Loaded:
    """The rotation inside a transaction that edits it: never from nor into the cache."""
    session.info[_WROTE] = True
    return load(session, policy, name, version)
