"""On-call use cases: who is on call, and the edits people make to a rotation.

Write use cases take a :class:`Ctx` (one transaction) and follow one pattern: lock the
rotation's version row, load its stored edits, validate the change with the pure rules, write
it, then :func:`_finish` re-plans, pins the past, bumps the version and appends the history.

The rules for the past (shifts already served are facts):

* new overrides, swaps and takes start at *now* or later (a start up to two minutes before
  now is read as now, for clients whose clocks drift); a swap names shifts that have not
  started; a membership change applies from a shift that has not started;
* undoing an override or time off that is under way cuts it at now (its past part stays);
  one that is over cannot be undone; a swap whose shifts have started cannot be undone;
* anything else that would still move an earlier shift (time off entered mid-shift, a trade
  reaching back) is held in place by *pins*: overrides dutydesk adds to keep who was on
  call (:func:`dutydesk.oncall.rules.pins_for_past`). The history shows them.

Read use cases go through a per-process cache of compiled schedules, keyed by the rotation's
version row: one primary-key read per request tells a replica whether another one changed the
rotation, so every replica sees a change at once and rebuilds only when something changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, require, sha256, user_names
from dutydesk.context import Ctx, desk_policy
from dutydesk.db import Database, pool_of
from dutydesk.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from dutydesk.oncall import ical, rules
from dutydesk.oncall.fairness import FairnessStats, fairness
from dutydesk.oncall.models import (
    FeedToken,
    MembershipRow,
    OverrideRow,
    RotationState,
    ScheduleChange,
    SwapRow,
    TimeOffRow,
)
from dutydesk.oncall.schedule import (
    Override,
    Schedule,
    Shift,
    Swap,
    TimeOff,
    validate_override,
    validate_swap,
)
from dutydesk.oncall.schemas import (
    ImportIn,
    MembershipIn,
    OverrideChange,
    OverrideIn,
    SwapIn,
    TakeIn,
    TimeOffIn,
    When,
)
from dutydesk.policy.models import Policy, RotationPolicy
from dutydesk.policy.rotations import RotationSpec, ScheduleError
from dutydesk.state import AppState

GRACE = timedelta(minutes=2)
_WROTE = "dutydesk.oncall.wrote"  # session.info flag: this transaction edits a rotation
_SEEN = "dutydesk.oncall.seen"  # session.info: rotation versions this transaction has read
MAX_RANGE = timedelta(days=3 * 366)
HISTORY_SHIFTS = 50


# ----------------------------------------------------------------------------- loading


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


def _declared(policy: Policy, name: str) -> RotationPolicy:
    rot = policy.rotations.get(name)
    if rot is None:
        known = ", ".join(sorted(policy.rotations)) or "(none declared)"
        raise NotFound(f"no rotation named {name!r}; rotations are {known}")
    return rot


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


def _load(session: Session, policy: Policy, name: str, version: int) -> Loaded:
    declared = _declared(policy, name)
    spec = rules.spec_from_policy(name, declared)
    events = [
        rules.MembershipEvent(r.layer, r.person, r.action, r.effective, r.position)
        for r in session.scalars(
            select(MembershipRow)
            .where(MembershipRow.rotation == name, MembershipRow.cancelled_at.is_(None))
            .order_by(MembershipRow.effective, MembershipRow.id)
        )
    ]
    spec = rules.apply_memberships(spec, events)
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


# Keyed by the connection pool, which a database's read and write engines share, so two
# databases in one process never mix and a session's bind finds the same cache.
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


def _cached(db: Database, policy: Policy, names: Sequence[str]) -> list[Loaded]:
    """Compiled rotations at their current versions; rebuilt only when something changed.

    The check is one primary-key read on a plain connection (no ORM session, and on
    PostgreSQL no transaction around it): "who is on call now" costs that read plus the
    arithmetic.
    """
    for name in names:
        _declared(policy, name)
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":  # one statement: no BEGIN/ROLLBACK round trips
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if len(names) == 1:
            versions = {names[0]: conn.execute(_ONE_VERSION, {"name": names[0]}).scalar() or 0}
        else:
            found = {n: v for n, v in conn.execute(_ALL_VERSIONS)}
            versions = {n: found.get(n, 0) for n in names}
    cache = _cache(db.engine.pool)
    out: list[Loaded] = []
    for name in names:
        hit = cache.fresh(name, versions[name], policy.rotations[name])
        if hit is None:
            with db.read() as s:
                hit = _load(s, policy, name, versions[name])
            cache.put(hit)
        out.append(hit)
    return out


def loaded(state: AppState, name: str) -> Loaded:
    """One rotation, compiled, as of its latest committed change."""
    return _cached(state.db, state.policy, [name])[0]


def loaded_all(state: AppState) -> list[Loaded]:
    names = sorted(state.policy.rotations)
    return _cached(state.db, state.policy, names) if names else []


def loaded_in(session: Session, policy: Policy, name: str) -> Loaded:
    """A rotation as seen inside another domain's transaction (e.g. who to notify of a new
    ticket): the version read in ``session``, the shared cache when it is current.

    A transaction that changed on-call rows itself never fills the cache, so nothing that
    may still roll back is ever served to other requests. One that did not reads each
    version once: SQLite's write transactions (which may carry several filings) hold the
    only write lock, and on PostgreSQL the first read is as good a snapshot as any.
    """
    declared = _declared(policy, name)
    seen: dict[str, int] = session.info.setdefault(_SEEN, {})
    version = None if session.info.get(_WROTE) else seen.get(name)
    if version is None:
        version = seen[name] = (
            session.connection().execute(_ONE_VERSION, {"name": name}).scalar() or 0
        )
    cache = _cache(pool_of(session))
    hit = cache.fresh(name, version, declared)
    if hit is None:
        hit = _load(session, policy, name, version)
        if not session.info.get(_WROTE):
            cache.put(hit)
    return hit


# ----------------------------------------------------------------------------- presenting


def shift_out(x: Shift) -> dict[str, Any]:
    return {
        "start": x.start.isoformat(),
        "end": x.end.isoformat(),
        "person": x.person,
        "layer": x.layer,
        "team": x.team,
        "source": x.source,
        "override_id": int(x.override_id) if x.override_id and x.override_id.isdigit() else None,
        "warnings": list(x.warnings),
    }


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat()


def override_out(
    row: OverrideRow, names: Mapping[int, str], zone: ZoneInfo, warnings: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "id": row.id,
        "rotation": row.rotation,
        "layer": row.layer,
        "person": row.person,
        "replaces": row.replaces,
        "start": _local(row.start_at, zone),
        "end": _local(row.end_at, zone),
        "kind": row.kind,
        "note": row.note,
        "created_at": row.created_at.isoformat(),
        "created_by": names.get(row.created_by_id) if row.created_by_id else None,
        "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
        "cancelled_by": names.get(row.cancelled_by_id) if row.cancelled_by_id else None,
        "warnings": list(warnings),
    }


def swap_out(row: SwapRow, names: Mapping[int, str], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "rotation": row.rotation,
        "layer": row.layer,
        "person_a": row.person_a,
        "shift_a": _local(row.shift_a, zone),
        "person_b": row.person_b,
        "shift_b": _local(row.shift_b, zone),
        "note": row.note,
        "created_at": row.created_at.isoformat(),
        "created_by": names.get(row.created_by_id) if row.created_by_id else None,
        "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
        "cancelled_by": names.get(row.cancelled_by_id) if row.cancelled_by_id else None,
    }


def time_off_out(
    row: TimeOffRow,
    names: Mapping[int, str],
    zone: ZoneInfo,
    warnings: Sequence[str] = (),
    covered: Sequence[Shift] = (),
) -> dict[str, Any]:
    return {
        "id": row.id,
        "person": row.person,
        "start": _local(row.start_at, zone),
        "end": _local(row.end_at, zone),
        "reason": row.reason,
        "created_at": row.created_at.isoformat(),
        "created_by": names.get(row.created_by_id) if row.created_by_id else None,
        "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
        "cancelled_by": names.get(row.cancelled_by_id) if row.cancelled_by_id else None,
        "warnings": list(warnings),
        "covered": [shift_out(x) for x in covered],
    }


def membership_out(
    row: MembershipRow,
    names: Mapping[int, str],
    first_shift: datetime | None = None,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "id": row.id,
        "rotation": row.rotation,
        "layer": row.layer,
        "person": row.person,
        "action": row.action,
        "position": row.position,
        "effective": row.effective.isoformat(),
        "first_shift": first_shift.isoformat() if first_shift else None,
        "created_at": row.created_at.isoformat(),
        "created_by": names.get(row.created_by_id) if row.created_by_id else None,
        "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
        "warnings": list(warnings),
    }


# ----------------------------------------------------------------------------- permissions


def _is_lead(actor: User, desks: Sequence[str]) -> bool:
    return any(has_role(actor, "lead", d) for d in desks) if desks else has_role(actor, "lead")


def _require_lead(actor: User, desks: Sequence[str], action: str) -> None:
    if not _is_lead(actor, desks):
        require(actor, "lead", desks[0] if desks else None, action)


def _require_self_or_lead(
    actor: User, people: Collection[str | None], desks: Sequence[str], action: str
) -> None:
    """People act for themselves; a lead of one of the rotation's desks acts for anyone."""
    if actor.name in people and _may_be_on_call(actor, desks):
        return
    if _is_lead(actor, desks):
        return
    who = " or ".join(sorted(p for p in people if p)) or "the people concerned"
    where = f" of desk {', '.join(desks)}" if desks else ""
    raise Forbidden(f"{actor.name} may not {action}: only {who}, or a lead{where}, may do that")


def _may_be_on_call(user: User, desks: Sequence[str]) -> bool:
    if not user.active:
        return False
    return (
        any(has_role(user, "responder", d) for d in desks) if desks else has_role(user, "responder")
    )


def _eligible(session: Session, desks: Sequence[str]) -> dict[str, User]:
    users = session.scalars(select(User).where(User.active.is_(True))).all()
    return {u.name: u for u in users if _may_be_on_call(u, desks)}


def _check_person(
    session: Session, eligible: Mapping[str, User], name: str, fld: str, loaded: Loaded
) -> None:
    if name in eligible:
        return
    if session.scalar(select(User.id).where(User.name == name)) is None:
        raise field_error(fld, f"no user named {name!r}; `dutydesk users` lists them")
    desks = loaded.desks
    where = f"the responder role on desk {' or '.join(desks)}" if desks else "the responder role"
    raise field_error(fld, f"{name} cannot be on call for {loaded.name}: that needs {where}")


# ----------------------------------------------------------------------------- helpers


def _when(value: When, zone: ZoneInfo, *, end: bool = False) -> datetime:
    return rules.to_utc(value, zone, end=end)


def _future_range(
    now: datetime, start: When | None, end: When, zone: ZoneInfo, what: str
) -> tuple[datetime, datetime]:
    s = now if start is None else _when(start, zone)
    e = _when(end, zone, end=True)
    if s < now - GRACE:
        raise field_error(
            "start",
            f"{rules.fmt_local(s, zone)} is in the past; past shifts are facts and cannot "
            f"change, so a{'n' if what[0] in 'aeiou' else ''} {what} starts now or later",
        )
    s = max(s, now)
    if e <= s:
        raise field_error(
            "end", f"{rules.fmt_local(e, zone)} is not after the start {rules.fmt_local(s, zone)}"
        )
    if e - s > MAX_RANGE:
        raise field_error("end", "an entry may span at most three years")
    return s, e


def _layer_for(session: Session, loaded: Loaded, layer: str | None, person: str | None) -> str:
    names = [x.name for x in loaded.spec.layers]
    if layer is not None:
        if layer not in names:
            raise field_error(
                "layer",
                f"rotation {loaded.name} has no layer {layer!r}; its layers are {', '.join(names)}",
            )
        return layer
    if len(names) == 1:
        return names[0]
    plain = rules.plain_layers(loaded.spec)
    if person is not None:
        mine = [x.name for x in loaded.spec.layers if any(person in ch.members for ch in x.members)]
        if len(mine) == 1:
            return mine[0]
        team = session.scalar(select(User.team).where(User.name == person))
        if team in plain:
            return str(team)
    raise field_error(
        "layer", f"rotation {loaded.name} has several layers ({', '.join(names)}); name one"
    )


def _lock(session: Session, name: str, now: datetime) -> int:
    """Take the rotation's write lock (its version row) and return its version."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(RotationState)
        .values(name=name, version=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    version = session.scalar(
        select(RotationState.version).where(RotationState.name == name).with_for_update()
    )
    return version or 0


def _begin(ctx: Ctx, name: str) -> Loaded:
    _declared(ctx.policy, name)
    ctx.session.info[_WROTE] = True
    return _load(ctx.session, ctx.policy, name, _lock(ctx.session, name, ctx.now))


def _shift_list(items: Sequence[Shift]) -> list[dict[str, Any]]:
    return [shift_out(x) for x in items[:HISTORY_SHIFTS]]


def _finish(
    ctx: Ctx,
    before: Loaded,
    *,
    action: str,
    summary: str,
    earliest: datetime,
    latest: datetime,
    data: dict[str, Any] | None = None,
) -> Loaded:
    """Re-plan after a write: pin the past, bump the version, append the history row."""
    session, now = ctx.session, ctx.now
    session.flush()
    after = _load(session, ctx.policy, before.name, before.version + 1)
    start = min(earliest, now) - rules.reach(before.spec)
    horizon = max(latest, now) + rules.reach(before.spec)
    try:
        pins = rules.pins_for_past(before.schedule, after.schedule, start, now)
    except rules.PastChangeError as exc:
        raise Conflict(str(exc)) from None
    pinned = []
    for pin in pins:
        row = OverrideRow(
            rotation=before.name,
            layer=pin.layer,
            person=pin.person,
            replaces=pin.replaces,
            start_at=pin.start,
            end_at=pin.end,
            kind="pin",
            note=f"keeps the served shift as it was ({action})",
            created_at=now,
            created_by_id=ctx.actor.id,
        )
        session.add(row)
        pinned.append(row)
    if pinned:
        session.flush()
        after = _load(session, ctx.policy, before.name, before.version + 1)
    old, new = rules.changed_shifts(before.schedule, after.schedule, start, horizon)
    session.execute(
        update(RotationState)
        .where(RotationState.name == before.name)
        .values(version=RotationState.version + 1, updated_at=now)
    )
    extra = dict(data or {})
    if pinned:
        extra["pins"] = [
            {
                "id": p.id,
                "person": p.person,
                "layer": p.layer,
                "start": _local(p.start_at, after.zone),
                "end": _local(p.end_at, after.zone),
            }
            for p in pinned
        ]
    session.add(
        ScheduleChange(
            rotation=before.name,
            at=now,
            actor_id=ctx.actor.id,
            action=action,
            summary=summary,
            before=_shift_list(old),
            after=_shift_list(new),
            data=extra,
        )
    )
    return after


def _override_warnings(after: Loaded, row_ids: Collection[int]) -> list[str]:
    wanted = {str(i) for i in row_ids}
    found: list[str] = []
    for ov in after.overrides:
        if ov.id in wanted:
            for x in after.schedule.shifts(ov.start, ov.end, [ov.layer]):
                if x.override_id == ov.id:
                    found.extend(w for w in x.warnings if w not in found)
    return found


# ----------------------------------------------------------------------------- overrides


def _active_overrides(session: Session, rotation: str, layer: str) -> list[OverrideRow]:
    return list(
        session.scalars(
            select(OverrideRow)
            .where(
                OverrideRow.rotation == rotation,
                OverrideRow.layer == layer,
                OverrideRow.cancelled_at.is_(None),
            )
            .order_by(OverrideRow.start_at)
        )
    )


@dataclass
class _Placed:
    row: OverrideRow
    cut: list[dict[str, Any]]


def _vet(
    ctx: Ctx,
    loaded: Loaded,
    *,
    layer: str,
    person: str,
    replaces: str | None,
    start: datetime,
    end: datetime,
    replace: bool,
    exclude: Collection[int] = (),
) -> list[OverrideRow]:
    """Validate an override over [start, end); return the stored ones it would cut."""
    zone = loaded.zone
    clashing = [
        r
        for r in _active_overrides(ctx.session, loaded.name, layer)
        if r.id not in exclude and r.start_at < end and start < r.end_at
    ]
    if clashing and not replace:
        listed = "; ".join(
            f"#{r.id} {r.person} {rules.fmt_local(r.start_at, zone)} – "
            f"{rules.fmt_local(r.end_at, zone)}"
            for r in clashing
        )
        raise Conflict(
            f"the override overlaps override(s) on {layer}: {listed}; "
            "send replace=true (CLI: --replace) to replace them",
            conflicts=[r.id for r in clashing],
        )
    schedule = loaded.schedule
    hidden = {str(i) for i in exclude}
    if hidden:  # judge `replaces` against the rotation without the override being changed
        kept = [o for o in loaded.overrides if o.id not in hidden]
        schedule = Schedule(loaded.spec, kept, loaded.swaps, loaded.time_off)
    eligible = _eligible(ctx.session, loaded.desks)
    errors = validate_override(
        schedule,
        Override(start, end, person, layer, replaces),
        replace=True,
        known_people=set(eligible) | loaded.spec.people,
    )
    if errors:
        raise Invalid("; ".join(errors))
    return clashing


def _cut(
    ctx: Ctx, clashing: Sequence[OverrideRow], start: datetime, end: datetime, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Make room for [start, end): cut, split or cancel the overrides it replaces."""
    cut: list[dict[str, Any]] = []
    for r in clashing:
        cut.append(
            {
                "id": r.id,
                "person": r.person,
                "start": _local(r.start_at, zone),
                "end": _local(r.end_at, zone),
            }
        )
        if r.start_at < start and r.end_at > end:
            ctx.session.add(
                OverrideRow(
                    rotation=r.rotation,
                    layer=r.layer,
                    person=r.person,
                    replaces=r.replaces,
                    start_at=end,
                    end_at=r.end_at,
                    kind=r.kind,
                    note=r.note,
                    parent_id=r.id,
                    created_at=ctx.now,
                    created_by_id=ctx.actor.id,
                )
            )
            r.end_at = start
        elif r.start_at < start:
            r.end_at = start
        elif r.end_at > end:
            r.start_at = end
        else:
            r.cancelled_at, r.cancelled_by_id = ctx.now, ctx.actor.id
    return cut


def _place(
    ctx: Ctx,
    loaded: Loaded,
    *,
    layer: str,
    person: str,
    replaces: str | None,
    start: datetime,
    end: datetime,
    replace: bool,
    kind: str,
    note: str,
    exclude: Collection[int] = (),
) -> _Placed:
    """Validate and store one override; with ``replace`` cut the ones it overlaps."""
    clashing = _vet(
        ctx,
        loaded,
        layer=layer,
        person=person,
        replaces=replaces,
        start=start,
        end=end,
        replace=replace,
        exclude=exclude,
    )
    cut = _cut(ctx, clashing, start, end, loaded.zone)
    row = OverrideRow(
        rotation=loaded.name,
        layer=layer,
        person=person,
        replaces=replaces,
        start_at=start,
        end_at=end,
        kind=kind,
        note=note,
        created_at=ctx.now,
        created_by_id=ctx.actor.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _Placed(row, cut)


def create_override(ctx: Ctx, rotation: str, data: OverrideIn) -> dict[str, Any]:
    before = _begin(ctx, rotation)
    desks = before.desks
    zone = before.zone
    eligible = _eligible(ctx.session, desks)
    _check_person(ctx.session, eligible, data.person, "person", before)
    if data.replaces is not None and data.replaces not in before.spec.people:
        _check_person(ctx.session, eligible, data.replaces, "replaces", before)
    _require_self_or_lead(
        ctx.actor, {data.person, data.replaces}, desks, "create overrides for other people"
    )
    layer = _layer_for(ctx.session, before, data.layer, data.person)
    start, end = _future_range(ctx.now, data.start, data.end, zone, "override")
    placed = _place(
        ctx,
        before,
        layer=layer,
        person=data.person,
        replaces=data.replaces,
        start=start,
        end=end,
        replace=data.replace,
        kind="manual",
        note=data.note,
    )
    row = placed.row
    covering = f" for {data.replaces}" if data.replaces else ""
    after = _finish(
        ctx,
        before,
        action="override.create",
        summary=(
            f"{data.person} covers {layer}{covering} from {rules.fmt_local(start, zone)} "
            f"to {rules.fmt_local(end, zone)} (override #{row.id})"
        ),
        earliest=start,
        latest=end,
        data={"override": row.id, "replaced": placed.cut},
    )
    names = user_names(ctx.session, [row.created_by_id])
    return override_out(row, names, zone, _override_warnings(after, [row.id]))


def _override_row(ctx: Ctx, rotation: str, override_id: int) -> OverrideRow:
    row = ctx.session.get(OverrideRow, override_id)
    if row is None or row.rotation != rotation:
        raise NotFound(f"rotation {rotation} has no override #{override_id}")
    if row.cancelled_at is not None:
        raise Conflict(
            f"override #{override_id} was already undone at {row.cancelled_at.isoformat()}"
        )
    if row.kind == "pin":
        raise Conflict(
            f"override #{override_id} keeps a served shift as it was; the past cannot be undone"
        )
    return row


def _may_edit_override(ctx: Ctx, loaded: Loaded, row: OverrideRow, action: str) -> None:
    if row.created_by_id == ctx.actor.id:
        return
    _require_self_or_lead(ctx.actor, {row.person, row.replaces}, loaded.desks, action)


def undo_override(ctx: Ctx, rotation: str, override_id: int) -> dict[str, Any]:
    """Undo: a future override is cancelled; one under way ends now; a past one stays."""
    before = _begin(ctx, rotation)
    zone = before.zone
    row = _override_row(ctx, rotation, override_id)
    _may_edit_override(ctx, before, row, "undo other people's overrides")
    now = ctx.now
    if row.end_at <= now:
        raise Conflict(
            f"override #{row.id} ended {rules.fmt_local(row.end_at, zone)}; "
            "past shifts are facts and cannot be undone"
        )
    old_end = row.end_at
    if row.start_at < now:
        row.end_at = now
        action = "override.cut"
        summary = (
            f"override #{row.id} ({row.person} on {row.layer}) ends now instead of "
            f"{rules.fmt_local(old_end, zone)}; the part already served stays"
        )
    else:
        row.cancelled_at, row.cancelled_by_id = now, ctx.actor.id
        action = "override.undo"
        summary = (
            f"override #{row.id} undone: {row.person} no longer covers {row.layer} from "
            f"{rules.fmt_local(row.start_at, zone)} to {rules.fmt_local(old_end, zone)}"
        )
    _finish(
        ctx,
        before,
        action=action,
        summary=summary,
        earliest=row.start_at,
        latest=old_end,
        data={"override": row.id},
    )
    names = user_names(ctx.session, [row.created_by_id, row.cancelled_by_id])
    return override_out(row, names, zone)


def change_override(
    ctx: Ctx, rotation: str, override_id: int, data: OverrideChange
) -> dict[str, Any]:
    """Change person or times: a started override keeps its start and its past part."""
    before = _begin(ctx, rotation)
    zone, now = before.zone, ctx.now
    row = _override_row(ctx, rotation, override_id)
    _may_edit_override(ctx, before, row, "change other people's overrides")
    if row.end_at <= now:
        raise Conflict(f"override #{row.id} is over; past shifts are facts and cannot change")
    person = data.person or row.person
    if person != row.person:
        eligible = _eligible(ctx.session, before.desks)
        _check_person(ctx.session, eligible, person, "person", before)
        _require_self_or_lead(
            ctx.actor,
            {row.person, person, row.replaces},
            before.desks,
            "hand an override to someone else",
        )
    end = _when(data.end, zone, end=True) if data.end is not None else row.end_at
    note = row.note if data.note is None else data.note
    old = {
        "person": row.person,
        "start": _local(row.start_at, zone),
        "end": _local(row.end_at, zone),
    }
    started = row.start_at < now
    if started and data.start is not None and _when(data.start, zone) != row.start_at:
        raise Conflict(
            f"override #{row.id} started {rules.fmt_local(row.start_at, zone)}; its start is "
            "a fact — change its end or person, or undo it"
        )
    if started and person == row.person:
        if end <= now:
            raise field_error("end", "must be after now: the part already served stays")
        # One row, not two: extend or shorten the started override in place.
        clashing = _vet(
            ctx,
            before,
            layer=row.layer,
            person=person,
            replaces=row.replaces,
            start=now,
            end=end,
            replace=data.replace,
            exclude=[row.id],
        )
        _cut(ctx, clashing, now, end, zone)
        row.end_at, row.note = end, note
        target = row
    else:
        if started:
            start = now
            row.end_at = now
        else:
            start, end = _future_range(now, data.start or row.start_at, end, zone, "override")
            row.cancelled_at, row.cancelled_by_id = now, ctx.actor.id
        placed = _place(
            ctx,
            before,
            layer=row.layer,
            person=person,
            replaces=row.replaces,
            start=start,
            end=end,
            replace=data.replace,
            kind=row.kind,
            note=note,
            exclude=[row.id],
        )
        placed.row.parent_id = row.id
        target = placed.row
    after = _finish(
        ctx,
        before,
        action="override.change",
        summary=(
            f"override #{row.id} changed: {old['person']} {rules.fmt_local(row.start_at, zone)} – "
            f"{old['end']} is now {target.person} {rules.fmt_local(target.start_at, zone)} – "
            f"{rules.fmt_local(target.end_at, zone)}"
            + (f" (override #{target.id})" if target is not row else "")
        ),
        earliest=min(row.start_at, target.start_at),
        latest=max(end, datetime.fromisoformat(old["end"])),
        data={"override": row.id, "now": target.id, "was": old},
    )
    names = user_names(ctx.session, [target.created_by_id])
    return override_out(target, names, zone, _override_warnings(after, [target.id]))


def take(ctx: Ctx, rotation: str, data: TakeIn) -> dict[str, Any]:
    """Take the current shift of a layer from whoever holds it, until the next handoff."""
    before = _begin(ctx, rotation)
    desks = before.desks
    zone, now = before.zone, ctx.now
    person = data.person or ctx.actor.name
    eligible = _eligible(ctx.session, desks)
    _check_person(ctx.session, eligible, person, "person", before)
    if person != ctx.actor.name:
        _require_lead(ctx.actor, desks, "take a shift on someone else's behalf")
    layer = _layer_for(ctx.session, before, data.layer, person)
    current = before.schedule.on_call(now).get(layer)
    if current is not None and current.person == person:
        raise Conflict(f"{person} already holds {layer} until {rules.fmt_local(current.end, zone)}")
    if data.until is not None:
        end = _when(data.until, zone, end=True)
    else:
        k = before.schedule.index_at(now)
        if k < 0:
            raise field_error("until", f"{rotation} has not started yet; say until when")
        end = before.schedule.shift_bounds(k)[1].astimezone(UTC)
    if end <= now:
        raise field_error("until", "must be after now")
    holder = current.person if current else None
    placed = _place(
        ctx,
        before,
        layer=layer,
        person=person,
        replaces=holder,
        start=now,
        end=end,
        replace=True,
        kind="take",
        note=data.note,
    )
    row = placed.row
    after = _finish(
        ctx,
        before,
        action="take",
        summary=(
            f"{person} took {layer} from {holder or 'nobody'} until "
            f"{rules.fmt_local(end, zone)} (override #{row.id})"
        ),
        earliest=now,
        latest=end,
        data={"override": row.id, "from": holder, "replaced": placed.cut},
    )
    names = user_names(ctx.session, [row.created_by_id])
    return override_out(row, names, zone, _override_warnings(after, [row.id]))


def list_overrides(
    state: AppState, rotation: str, start: datetime | None, end: datetime | None, *, all_: bool
) -> list[dict[str, Any]]:
    loaded_ = loaded(state, rotation)
    with state.db.read() as s:
        stmt = select(OverrideRow).where(OverrideRow.rotation == rotation)
        if not all_:
            stmt = stmt.where(OverrideRow.cancelled_at.is_(None), OverrideRow.kind != "pin")
        if start is not None:
            stmt = stmt.where(OverrideRow.end_at > start)
        if end is not None:
            stmt = stmt.where(OverrideRow.start_at < end)
        rows = list(s.scalars(stmt.order_by(OverrideRow.start_at, OverrideRow.id).limit(1000)))
        names = user_names(s, [i for r in rows for i in (r.created_by_id, r.cancelled_by_id)])
    return [override_out(r, names, loaded_.zone) for r in rows]


# ----------------------------------------------------------------------------- swaps


def _shift_named(loaded: Loaded, layer: str, ref: When) -> datetime:
    """A base shift by its start instant, or by a date: the shift starting that day, else the
    one under way at noon that day."""
    zone, schedule = loaded.zone, loaded.schedule
    if isinstance(ref, datetime):
        return _when(ref, zone)
    k = schedule.index_at(
        rules.to_utc(datetime.combine(ref, datetime.min.time()).replace(hour=12), zone)
    )
    if k < 0:
        raise field_error("shift", f"{loaded.name} has no shift on {ref.isoformat()}")
    nxt = schedule.shift_bounds(k + 1)[0]
    if nxt.astimezone(zone).date() == ref:
        k += 1
    return schedule.shift_bounds(k)[0].astimezone(UTC)


def _next_shift_of(
    loaded: Loaded, layer: str, person: str, after: datetime, not_: datetime
) -> datetime:
    base = Schedule(loaded.spec, (), loaded.swaps, loaded.time_off)
    horizon = after + rules.nominal_period(loaded.spec) * (4 * len(loaded.spec.people) + 4)
    for x in base.shifts(after, horizon, [layer]):
        if x.person == person and x.utc_start > after and x.utc_start != not_:
            return x.utc_start
    raise field_error("shift_b", f"{person} has no coming shift on {layer} to swap")


def create_swap(ctx: Ctx, rotation: str, data: SwapIn) -> dict[str, Any]:
    before = _begin(ctx, rotation)
    desks = before.desks
    zone, now = before.zone, ctx.now
    eligible = _eligible(ctx.session, desks)
    for fld, person in (("person_a", data.person_a), ("person_b", data.person_b)):
        if person not in before.spec.people:
            _check_person(ctx.session, eligible, person, fld, before)
    _require_self_or_lead(
        ctx.actor, {data.person_a, data.person_b}, desks, "swap other people's shifts"
    )
    layer = _layer_for(ctx.session, before, data.layer, data.person_a)
    shift_a = _shift_named(before, layer, data.shift_a)
    shift_b = (
        _shift_named(before, layer, data.shift_b)
        if data.shift_b is not None
        else _next_shift_of(before, layer, data.person_b, now, shift_a)
    )
    for fld, t in (("shift_a", shift_a), ("shift_b", shift_b)):
        if t <= now:
            raise Conflict(
                f"{fld}: the shift starting {rules.fmt_local(t, zone)} has already started; "
                "past shifts are facts — cover the rest of it with an override or `take`"
            )
    swap = Swap(data.person_a, shift_a, data.person_b, shift_b, layer)
    errors = validate_swap(before.schedule, swap, known_people=set(eligible) | before.spec.people)
    if errors:
        raise Invalid("; ".join(errors))
    row = SwapRow(
        rotation=rotation,
        layer=layer,
        person_a=data.person_a,
        shift_a=shift_a,
        person_b=data.person_b,
        shift_b=shift_b,
        note=data.note,
        created_at=now,
        created_by_id=ctx.actor.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    _finish(
        ctx,
        before,
        action="swap.create",
        summary=(
            f"{data.person_a} and {data.person_b} swap {layer} shifts: "
            f"{rules.fmt_local(shift_a, zone)} ↔ {rules.fmt_local(shift_b, zone)} (swap #{row.id})"
        ),
        earliest=min(shift_a, shift_b),
        latest=max(shift_a, shift_b) + rules.nominal_period(before.spec),
        data={"swap": row.id},
    )
    return swap_out(row, user_names(ctx.session, [row.created_by_id]), zone)


def undo_swap(ctx: Ctx, rotation: str, swap_id: int) -> dict[str, Any]:
    before = _begin(ctx, rotation)
    zone, now = before.zone, ctx.now
    row = ctx.session.get(SwapRow, swap_id)
    if row is None or row.rotation != rotation:
        raise NotFound(f"rotation {rotation} has no swap #{swap_id}")
    if row.cancelled_at is not None:
        raise Conflict(f"swap #{swap_id} was already undone at {row.cancelled_at.isoformat()}")
    if row.created_by_id != ctx.actor.id:
        _require_self_or_lead(
            ctx.actor,
            {row.person_a, row.person_b},
            before.desks,
            "undo other people's swaps",
        )
    first = min(row.shift_a, row.shift_b)
    if first <= now:
        raise Conflict(
            f"swap #{row.id}: the shift starting {rules.fmt_local(first, zone)} has already "
            "started; past shifts are facts — add an override or a new swap instead"
        )
    row.cancelled_at, row.cancelled_by_id = now, ctx.actor.id
    _finish(
        ctx,
        before,
        action="swap.undo",
        summary=f"swap #{row.id} undone: {row.person_a} and {row.person_b} keep their own shifts",
        earliest=first,
        latest=max(row.shift_a, row.shift_b) + rules.nominal_period(before.spec),
        data={"swap": row.id},
    )
    return swap_out(row, user_names(ctx.session, [row.created_by_id, row.cancelled_by_id]), zone)


def list_swaps(state: AppState, rotation: str, *, all_: bool) -> list[dict[str, Any]]:
    loaded_ = loaded(state, rotation)
    with state.db.read() as s:
        stmt = select(SwapRow).where(SwapRow.rotation == rotation)
        if not all_:
            stmt = stmt.where(SwapRow.cancelled_at.is_(None))
        rows = list(s.scalars(stmt.order_by(SwapRow.shift_a, SwapRow.id).limit(1000)))
        names = user_names(s, [i for r in rows for i in (r.created_by_id, r.cancelled_by_id)])
    return [swap_out(r, names, loaded_.zone) for r in rows]


# ----------------------------------------------------------------------------- time off


def person_zone(policy: Policy, person: str) -> ZoneInfo:
    """Where a person's dates are read: their first rotation's zone (by name), else UTC."""
    for name in sorted(policy.rotations):
        rot = policy.rotations[name]
        if person in rot.people():
            return ZoneInfo(rot.timezone)
    return ZoneInfo("UTC")


def _rotations_of(ctx: Ctx, person: str) -> list[Loaded]:
    """Lock and load every rotation ``person`` is (or will be) in, in name order."""
    joined = set(
        ctx.session.scalars(
            select(MembershipRow.rotation).where(
                MembershipRow.person == person, MembershipRow.cancelled_at.is_(None)
            )
        )
    )
    names = [
        name
        for name in sorted(ctx.policy.rotations)
        if name in joined or person in ctx.policy.rotations[name].people()
    ]
    loaded_ = [_begin(ctx, name) for name in names]
    return [found for found in loaded_ if person in found.spec.people]


def _time_off_perm(ctx: Ctx, person: str, rotations: Sequence[Loaded], action: str) -> None:
    if ctx.actor.name == person:
        return
    desks = sorted({d for r in rotations for d in r.desks})
    if not _is_lead(ctx.actor, desks):
        where = f" of desk {', '.join(desks)}" if desks else ""
        raise Forbidden(f"{ctx.actor.name} may not {action}: only {person} or a lead{where} may")


def add_time_off(ctx: Ctx, data: TimeOffIn) -> dict[str, Any]:
    person = data.person or ctx.actor.name
    if ctx.session.scalar(select(User.id).where(User.name == person)) is None:
        raise field_error("person", f"no user named {person!r}; `dutydesk users` lists them")
    befores = _rotations_of(ctx, person)
    _time_off_perm(ctx, person, befores, "enter time off for other people")
    zone = befores[0].zone if befores else person_zone(ctx.policy, person)
    start, end = _when(data.start, zone), _when(data.end, zone, end=True)
    if end <= start:
        raise field_error("end", f"{rules.fmt_local(end, zone)} is not after the start")
    if end <= ctx.now:
        raise field_error("end", "that time off is already over; it cannot change the schedule")
    if end - start > MAX_RANGE:
        raise field_error("end", "time off may span at most three years")
    row = TimeOffRow(
        person=person,
        start_at=start,
        end_at=end,
        reason=data.reason,
        created_at=ctx.now,
        created_by_id=ctx.actor.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    warnings: list[str] = []
    covered: list[Shift] = []
    for before in befores:
        after = _finish(
            ctx,
            before,
            action="time_off.add",
            summary=(
                f"{person} is off from {rules.fmt_local(start, before.zone)} to "
                f"{rules.fmt_local(end, before.zone)} (time off #{row.id})"
            ),
            earliest=start,
            latest=end,
            data={"time_off": row.id, "person": person},
        )
        for x in after.schedule.shifts(max(start, ctx.now), end):
            warnings.extend(
                f"{before.name}: {w}" for w in x.warnings if f"{before.name}: {w}" not in warnings
            )
        was = before.schedule.person_shifts(person, max(start, ctx.now), end)
        now_shifts = after.schedule.shifts(max(start, ctx.now), end)
        for x in was:
            covered.extend(
                y
                for y in now_shifts
                if y.layer == x.layer
                and y.person != person
                and y.utc_start < x.utc_end
                and x.utc_start < y.utc_end
            )
    names = user_names(ctx.session, [row.created_by_id])
    return time_off_out(row, names, zone, warnings, covered)


def cancel_time_off(ctx: Ctx, time_off_id: int) -> dict[str, Any]:
    row = ctx.session.get(TimeOffRow, time_off_id)
    if row is None:
        raise NotFound(f"no time off #{time_off_id}")
    befores = _rotations_of(ctx, row.person)
    _time_off_perm(ctx, row.person, befores, "cancel other people's time off")
    zone = befores[0].zone if befores else person_zone(ctx.policy, row.person)
    if row.cancelled_at is not None:
        raise Conflict(f"time off #{row.id} was already cancelled")
    now = ctx.now
    if row.end_at <= now:
        raise Conflict(f"time off #{row.id} is over; it stays on record")
    old_end = row.end_at
    if row.start_at < now:
        row.end_at, verb = now, "ends now"
    else:
        row.cancelled_at, row.cancelled_by_id, verb = now, ctx.actor.id, "cancelled"
    for before in befores:
        _finish(
            ctx,
            before,
            action="time_off.cancel",
            summary=f"{row.person}'s time off #{row.id} {verb}",
            earliest=row.start_at,
            latest=old_end,
            data={"time_off": row.id, "person": row.person},
        )
    return time_off_out(
        row, user_names(ctx.session, [row.created_by_id, row.cancelled_by_id]), zone
    )


def list_time_off(
    state: AppState, actor: User, person: str | None, rotation: str | None, *, all_: bool
) -> list[dict[str, Any]]:
    """Everyone sees when people are away (the schedule shows it anyway); the reason only
    the person and leads see."""
    people: list[str] | None = None
    if rotation is not None:
        people = sorted(loaded(state, rotation).spec.people)
    with state.db.read() as s:
        stmt = select(TimeOffRow)
        if person is not None:
            stmt = stmt.where(TimeOffRow.person == person)
        if people is not None:
            stmt = stmt.where(TimeOffRow.person.in_(people))
        if not all_:
            stmt = stmt.where(TimeOffRow.cancelled_at.is_(None), TimeOffRow.end_at > state.now())
        rows = list(s.scalars(stmt.order_by(TimeOffRow.start_at, TimeOffRow.id).limit(1000)))
        names = user_names(s, [i for r in rows for i in (r.created_by_id, r.cancelled_by_id)])
    out = [time_off_out(r, names, person_zone(state.policy, r.person)) for r in rows]
    if not has_role(actor, "lead"):
        for item in out:
            if item["person"] != actor.name:
                item["reason"] = ""
    return out


# ----------------------------------------------------------------------------- membership


def change_membership(ctx: Ctx, rotation: str, data: MembershipIn) -> dict[str, Any]:
    before = _begin(ctx, rotation)
    desks = before.desks
    _require_lead(ctx.actor, desks, f"change who is in rotation {rotation}")
    zone, now = before.zone, ctx.now
    if data.layer is None and data.action == "leave":
        mine = [
            x
            for x in rules.plain_layers(before.spec)
            if data.person in rules.members_on(before.spec, x, data.effective)
        ]
        layer = mine[0] if len(mine) == 1 else _layer_for(ctx.session, before, None, data.person)
    else:
        layer = _layer_for(ctx.session, before, data.layer, data.person)
    if layer not in rules.plain_layers(before.spec):
        raise field_error("layer", f"{layer} is derived from the teams; people join a team layer")
    members = rules.members_on(before.spec, layer, data.effective)
    if data.action == "join":
        _check_person(ctx.session, _eligible(ctx.session, desks), data.person, "person", before)
        if data.person in members:
            raise Conflict(f"{data.person} is already in {layer} on {data.effective.isoformat()}")
    elif data.person not in members:
        raise Conflict(
            f"{data.person} is not in {layer} on {data.effective.isoformat()}; "
            f"its members then are {', '.join(members) or 'nobody'}"
        )
    _, first = rules.first_shift_on_or_after(before.schedule, data.effective)
    if first <= now:
        nxt = before.schedule.shift_bounds(before.schedule.index_at(now) + 1)[0]
        raise Conflict(
            f"effective: the shift starting {rules.fmt_local(first, zone)} has already started; "
            f"membership changes apply to shifts not yet started — use "
            f"{nxt.astimezone(zone).date().isoformat()} (the next handoff) or later"
        )
    row = MembershipRow(
        rotation=rotation,
        layer=layer,
        person=data.person,
        action=data.action,
        position=data.position,
        effective=data.effective,
        created_at=now,
        created_by_id=ctx.actor.id,
    )
    ctx.session.add(row)
    verb = "joins" if data.action == "join" else "leaves"
    after = _finish(
        ctx,
        before,
        action=f"membership.{data.action}",
        summary=(
            f"{data.person} {verb} {layer} from the shift starting {rules.fmt_local(first, zone)}"
        ),
        earliest=first,
        latest=first + rules.reach(before.spec) * 2,
        data={"membership": row.id, "person": data.person, "layer": layer},
    )
    warnings = [
        f"nobody is on call on {g.layer} from {rules.fmt_local(g.start, zone)} to "
        f"{rules.fmt_local(g.end, zone)}"
        for g in after.schedule.gaps(first, first + timedelta(days=90))
        if g.layer == layer
    ]
    return membership_out(row, user_names(ctx.session, [row.created_by_id]), first, warnings)


def cancel_membership(ctx: Ctx, rotation: str, membership_id: int) -> dict[str, Any]:
    before = _begin(ctx, rotation)
    _require_lead(ctx.actor, before.desks, f"change who is in rotation {rotation}")
    row = ctx.session.get(MembershipRow, membership_id)
    if row is None or row.rotation != rotation:
        raise NotFound(f"rotation {rotation} has no membership change #{membership_id}")
    if row.cancelled_at is not None:
        raise Conflict(f"membership change #{row.id} was already cancelled")
    _, first = rules.first_shift_on_or_after(before.schedule, row.effective)
    if first <= ctx.now:
        raise Conflict(
            f"membership change #{row.id} is in effect since {rules.fmt_local(first, before.zone)}; "
            "record a new join or leave instead"
        )
    row.cancelled_at, row.cancelled_by_id = ctx.now, ctx.actor.id
    _finish(
        ctx,
        before,
        action="membership.cancel",
        summary=f"membership change #{row.id} ({row.person} {row.action}s {row.layer}) cancelled",
        earliest=first,
        latest=first + rules.reach(before.spec) * 2,
        data={"membership": row.id},
    )
    return membership_out(row, user_names(ctx.session, [row.created_by_id]), first)


def list_memberships(state: AppState, rotation: str) -> list[dict[str, Any]]:
    loaded(state, rotation)
    with state.db.read() as s:
        rows = list(
            s.scalars(
                select(MembershipRow)
                .where(MembershipRow.rotation == rotation)
                .order_by(MembershipRow.effective, MembershipRow.id)
            )
        )
        names = user_names(s, [r.created_by_id for r in rows])
    return [membership_out(r, names) for r in rows]


# ----------------------------------------------------------------------------- import


def _aliases(
    session: Session, eligible: Mapping[str, User], extra: Mapping[str, str]
) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, user in eligible.items():
        if user.email:
            out[user.email] = name
        if user.display_name and user.display_name != name:
            out[user.display_name] = name
    for key, target in extra.items():
        if target not in eligible:
            raise field_error(
                "aliases", f"{key!r} points at {target!r}, who cannot be on call here"
            )
        out[key] = target
    return out


def import_calendar(ctx: Ctx, rotation: str, data: ImportIn) -> dict[str, Any]:
    """Store an exported schedule's shifts (from now on) as fixed overrides."""
    before = _begin(ctx, rotation)
    desks = before.desks
    _require_lead(ctx.actor, desks, f"import a schedule into rotation {rotation}")
    zone, now = before.zone, ctx.now
    layer = _layer_for(ctx.session, before, data.layer, None)
    eligible = _eligible(ctx.session, desks)
    try:
        result = ical.import_ics(
            data.ics,
            set(eligible),
            _aliases(ctx.session, eligible, data.aliases),
            default_timezone=before.spec.timezone,
        )
    except ValueError as exc:
        raise field_error("ics", str(exc)) from None
    past = 0
    planned: list[tuple[datetime, datetime, str]] = []
    for s, e, person in result.shifts:
        if e <= now:
            past += 1
            continue
        if s < now:
            past += 1
            s = now
        planned.append((s, e, person))
    conflicts: list[str] = []
    for (s1, e1, p1), (s2, e2, p2) in pairwise(planned):
        if s2 < e1:
            conflicts.append(
                f"{p1} ({rules.fmt_local(s1, zone)} – {rules.fmt_local(e1, zone)}) overlaps "
                f"{p2} ({rules.fmt_local(s2, zone)} – {rules.fmt_local(e2, zone)}) in the file; "
                "import one layer's calendar at a time"
            )
    existing = [
        r
        for r in _active_overrides(ctx.session, rotation, layer)
        if any(r.start_at < e and s < r.end_at for s, e, _ in planned)
    ]
    if existing and not data.replace:
        conflicts.extend(
            f"override #{r.id} ({r.person} {rules.fmt_local(r.start_at, zone)} – "
            f"{rules.fmt_local(r.end_at, zone)}) overlaps the imported shifts; pass replace"
            for r in existing
        )
    preview: list[dict[str, Any]] = [
        {
            "start": _local(s, zone),
            "end": _local(e, zone),
            "person": p,
            "layer": layer,
            "team": before.spec.layer(layer).team,
            "source": "override",
            "override_id": None,
            "warnings": [],
        }
        for s, e, p in planned
    ]
    out: dict[str, Any] = {
        "rotation": rotation,
        "layer": layer,
        "dry_run": data.dry_run,
        "imported": preview,
        "unknown": list(result.unknown),
        "skipped": list(result.skipped),
        "past": past,
        "conflicts": conflicts,
        "override_ids": [],
    }
    if data.dry_run:
        return out
    if result.unknown and not data.skip_unknown:
        raise Invalid(
            f"unknown people in the calendar: {', '.join(result.unknown)}; map them with "
            "aliases (CLI: --alias 'Name=user') or pass skip_unknown to import the rest",
            unknown=list(result.unknown),
        )
    if conflicts:
        raise Conflict("; ".join(conflicts), conflicts=conflicts)
    if not planned:
        raise Invalid("the calendar has no shifts from now on to import")
    ids = []
    for s, e, person in planned:
        placed = _place(
            ctx,
            before,
            layer=layer,
            person=person,
            replaces=None,
            start=s,
            end=e,
            replace=data.replace,
            kind="import",
            note="imported from iCalendar",
        )
        ids.append(placed.row.id)
    _finish(
        ctx,
        before,
        action="import",
        summary=(
            f"imported {len(planned)} shift(s) on {layer} from iCalendar, "
            f"{rules.fmt_local(planned[0][0], zone)} to {rules.fmt_local(planned[-1][1], zone)}"
        ),
        earliest=planned[0][0],
        latest=planned[-1][1],
        data={"overrides": ids, "unknown": list(result.unknown)},
    )
    out["override_ids"] = ids
    return out


# ----------------------------------------------------------------------------- reads


def _range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise field_error("to", "must be after from")
    if end - start > MAX_RANGE:
        raise field_error("to", "ask for at most three years at a time")


def on_call(
    state: AppState, rotation: str, at: datetime, desk: str | None = None
) -> dict[str, Any]:
    """Who is on call at ``at``, per layer (the hot path: one version read, then arithmetic)."""
    found = loaded(state, rotation)
    now = found.schedule.on_call(at)
    return {
        "desk": desk,
        "rotation": rotation,
        "timezone": found.spec.timezone,
        "at": at.astimezone(found.zone).isoformat(),
        "layers": [shift_out(x) for x in now.values()],
        "uncovered": [x.name for x in found.spec.layers if x.name not in now],
    }


def on_call_desk(state: AppState, desk: str, at: datetime) -> dict[str, Any]:
    policy = desk_policy(state.policy, desk)
    if not policy.rotation:
        raise NotFound(f"desk {desk} names no rotation; set `rotation` under [desks.{desk}]")
    return on_call(state, policy.rotation, at, desk)


def shifts(
    state: AppState,
    rotation: str,
    start: datetime,
    end: datetime,
    layer: str | None = None,
    person: str | None = None,
) -> list[dict[str, Any]]:
    _range(start, end)
    found = loaded(state, rotation)
    if layer is not None and layer not in {x.name for x in found.spec.layers}:
        raise field_error("layer", f"{rotation} has no layer {layer!r}")
    items = found.schedule.shifts(start, end, [layer] if layer else None)
    items.sort(key=lambda x: (x.utc_start, x.layer))
    return [shift_out(x) for x in items if person is None or x.person == person]


def next_shifts(
    state: AppState, rotation: str, after: datetime, n: int, person: str | None = None
) -> list[dict[str, Any]]:
    if not 1 <= n <= 100:
        raise field_error("n", "use 1 to 100")
    found = loaded(state, rotation)
    if person is None:
        items = found.schedule.next_shifts(after, n)
    else:
        horizon = after + rules.nominal_period(found.spec) * (n + 1) * max(
            1, len(found.spec.people)
        )
        items = [x for x in found.schedule.shifts(after, horizon) if x.person == person][:n]
    items.sort(key=lambda x: (x.utc_start, x.layer))
    return [shift_out(x) for x in items]


def person_shifts(
    state: AppState, person: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    _range(start, end)
    out = []
    for found in loaded_all(state):
        for x in found.schedule.person_shifts(person, start, end):
            out.append({"rotation": found.name, **shift_out(x)})
    out.sort(key=lambda d: datetime.fromisoformat(d["start"]))
    return out


def gaps(
    state: AppState, start: datetime, end: datetime, rotation: str | None = None
) -> dict[str, Any]:
    _range(start, end)
    rows = []
    targets = [loaded(state, rotation)] if rotation else loaded_all(state)
    for found in targets:
        for g in found.schedule.gaps(start, end):
            rows.append(
                {
                    "rotation": found.name,
                    "layer": g.layer,
                    "start": _local(g.start, found.zone),
                    "end": _local(g.end, found.zone),
                    "hours": round((g.end - g.start).total_seconds() / 3600, 2),
                }
            )
    return {"start": start.isoformat(), "end": end.isoformat(), "gaps": rows}


def rotation_out(state: AppState, rotation: str, at: datetime) -> dict[str, Any]:
    found = loaded(state, rotation)
    decl = found.declared
    local_day = at.astimezone(found.zone).date()
    layers = []
    for x in found.spec.layers:
        layers.append(
            {
                "name": x.name,
                "team": x.team,
                "lead_of": list(x.lead_of),
                "members": list(rules.members_on(found.spec, x.name, local_day))
                if not x.lead_of
                else [],
                "changes": [
                    {
                        "effective": ch.effective.isoformat() if ch.effective != date.min else None,
                        "members": list(ch.members),
                    }
                    for ch in x.members
                ],
            }
        )
    return {
        "name": rotation,
        "timezone": decl.timezone,
        "every": decl.every,
        "handoff": decl.handoff,
        "skip": decl.skip,
        "desks": rotation_desks(state.policy, rotation),
        "layers": layers,
        "version": found.version,
        "problems": list(found.problems),
        "on_call": [shift_out(x) for x in found.schedule.on_call(at).values()],
    }


def holiday_calendar(policy: Policy, rotation: str) -> str | None:
    """The calendar whose holidays count for a rotation: its first desk's."""
    for desk in rotation_desks(policy, rotation):
        name = policy.desks[desk].calendar
        if name:
            return name
    return None


def fairness_report(
    state: AppState, rotation: str, start: datetime, end: datetime, layer: str | None = None
) -> dict[str, Any]:
    _range(start, end)
    found = loaded(state, rotation)
    cal_name = holiday_calendar(state.policy, rotation)
    holidays: set[date] = set()
    if cal_name:
        from dutydesk.slo.policy import calendar

        cal = calendar(state.policy, cal_name)
        day, last = start.astimezone(found.zone).date(), end.astimezone(found.zone).date()
        while day <= last:
            if cal.is_holiday(day):
                holidays.add(day)
            day += timedelta(days=1)
    rows = []
    for x in found.spec.layers:
        if layer is not None and x.name != layer:
            continue
        stats: dict[str, FairnessStats] = fairness(
            found.schedule.shifts(start, end, [x.name]), holidays, start, end, found.zone
        )
        for person, st in stats.items():
            rows.append(
                {
                    "layer": x.name,
                    "person": person,
                    "hours": round(st.hours, 2),
                    "shifts": st.shifts,
                    "weekend_hours": round(st.weekend_hours, 2),
                    "holiday_hours": round(st.holiday_hours, 2),
                }
            )
    return {
        "rotation": rotation,
        "start": _local(start, found.zone),
        "end": _local(end, found.zone),
        "holidays": cal_name,
        "rows": rows,
    }


def history(state: AppState, rotation: str, limit: int, cursor: str | None) -> dict[str, Any]:
    _declared(state.policy, rotation)
    if not 1 <= limit <= 200:
        raise field_error("limit", "use 1 to 200")
    with state.db.read() as s:
        stmt = select(ScheduleChange).where(ScheduleChange.rotation == rotation)
        if cursor:
            if not cursor.isdigit():
                raise field_error("cursor", "not a cursor from this API; start again without it")
            stmt = stmt.where(ScheduleChange.id < int(cursor))
        rows = list(s.scalars(stmt.order_by(ScheduleChange.id.desc()).limit(limit + 1)))
        names = user_names(s, [r.actor_id for r in rows])
    nxt = str(rows[limit - 1].id) if len(rows) > limit else None
    return {
        "items": [
            {
                "id": r.id,
                "rotation": r.rotation,
                "at": r.at.isoformat(),
                "actor": names.get(r.actor_id) if r.actor_id else None,
                "action": r.action,
                "summary": r.summary,
                "before": r.before,
                "after": r.after,
                "data": r.data or {},
            }
            for r in rows[:limit]
        ],
        "next_cursor": nxt,
    }


# ----------------------------------------------------------------------------- calendars


FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=365)


def rotation_ics(state: AppState, rotation: str, start: datetime, end: datetime) -> bytes:
    _range(start, end)
    found = loaded(state, rotation)
    return ical.export_ics(rotation, found.schedule.shifts(start, end), generated_at=state.now())


def person_ics(state: AppState, person: str, start: datetime, end: datetime) -> bytes:
    """One calendar with a person's shifts in every rotation they are in."""
    _range(start, end)
    with state.db.read() as s:
        if s.scalar(select(User.id).where(User.name == person)) is None:
            raise NotFound(f"no user named {person!r}")
    parts = [
        (found.name, found.schedule.person_shifts(person, start, end))
        for found in loaded_all(state)
        if person in found.spec.people or found.overrides
    ]
    from icalendar import Calendar

    merged: Calendar | None = None
    for name, items in parts:
        data = ical.export_ics(
            name,
            items,
            person=person,
            calendar_name=f"On call: {person}",
            generated_at=state.now(),
        )
        if merged is None:
            merged = Calendar.from_ical(data)
        else:
            for ev in Calendar.from_ical(data).walk("VEVENT"):
                merged.add_component(ev)
    if merged is None:
        return ical.export_ics(
            "-", [], person=person, calendar_name=f"On call: {person}", generated_at=state.now()
        )
    return bytes(merged.to_ical())


def create_feed_token(ctx: Ctx, kind: str, subject: str) -> dict[str, Any]:
    """A secret calendar URL: rotation feeds by its members or leads, a person's by them or a lead."""
    if kind == "rotation":
        _declared(ctx.policy, subject)
        desks = rotation_desks(ctx.policy, subject)
        if not (_may_be_on_call(ctx.actor, desks) or _is_lead(ctx.actor, desks)):
            _require_lead(ctx.actor, desks, f"create a calendar link for rotation {subject}")
    else:
        if ctx.session.scalar(select(User.id).where(User.name == subject)) is None:
            raise NotFound(f"no user named {subject!r}")
        if subject != ctx.actor.name:
            _require_lead(ctx.actor, [], f"create a calendar link for {subject}")
    token = "ddc_" + secrets.token_urlsafe(32)
    row = FeedToken(
        kind=kind,
        subject=subject,
        token_hash=sha256(token),
        prefix=token[:8],
        created_at=ctx.now,
        created_by_id=ctx.actor.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    path = (
        f"/api/v1/rotations/{subject}/calendar.ics"
        if kind == "rotation"
        else f"/api/v1/people/{subject}/calendar.ics"
    )
    return {
        **feed_token_out(row, {ctx.actor.id: ctx.actor.name}),
        "token": token,
        "url": f"{path}?token={token}",
    }


def feed_token_out(row: FeedToken, names: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "subject": row.subject,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "created_by": names.get(row.created_by_id) if row.created_by_id else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "token": None,
        "url": None,
    }


def list_feed_tokens(state: AppState, actor: User) -> list[dict[str, Any]]:
    with state.db.read() as s:
        stmt = select(FeedToken).order_by(FeedToken.id)
        if "admin" not in actor.roles:
            stmt = stmt.where(FeedToken.created_by_id == actor.id)
        rows = list(s.scalars(stmt))
        names = user_names(s, [r.created_by_id for r in rows])
    return [feed_token_out(r, names) for r in rows]


def revoke_feed_token(ctx: Ctx, token_id: int) -> dict[str, Any]:
    row = ctx.session.get(FeedToken, token_id)
    if row is None:
        raise NotFound(f"no calendar link #{token_id}")
    if row.created_by_id != ctx.actor.id and row.subject != ctx.actor.name:
        desks = rotation_desks(ctx.policy, row.subject) if row.kind == "rotation" else []
        _require_lead(ctx.actor, desks, "revoke other people's calendar links")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_id = ctx.now, ctx.actor.id
    return feed_token_out(row, user_names(ctx.session, [row.created_by_id]))


def feed_token_subject(state: AppState, token: str) -> tuple[str, str] | None:
    """(kind, subject) of a live feed token, or None."""
    with state.db.read() as s:
        row = s.scalar(select(FeedToken).where(FeedToken.token_hash == sha256(token.strip())))
    if row is None or row.revoked_at is not None:
        return None
    return row.kind, row.subject
