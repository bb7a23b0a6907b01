"""Overrides: someone covers a layer over a time range, and ``take``, which covers the
current shift until the next handoff. Stored overrides of a layer never overlap: a new one
refuses to, or with ``replace`` cuts the ones it overlaps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.service import user_names
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, Invalid, NotFound, field_error
from dutydesk.oncall import rules
from dutydesk.oncall.edit_rules import validate_override
from dutydesk.oncall.loading import Loaded, loaded_in
from dutydesk.oncall.models import OverrideRow
from dutydesk.oncall.permissions import (
    check_person,
    eligible_people,
    require_lead,
    require_self_or_lead,
)
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.schemas import OverrideChange, OverrideIn, OverrideOut, TakeIn
from dutydesk.oncall.shifts import Override
from dutydesk.oncall.writing import (
    begin,
    finish,
    future_range,
    layer_for,
    local_iso,
    override_warnings,
    when,
)
from dutydesk.policy.models import Policy


def active_overrides(session: Session, rotation: str, layer: str) -> list[OverrideRow]:
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
class Placed:
    """A stored override and the records of the ones it cut (for the history)."""

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
        for r in active_overrides(ctx.session, loaded.name, layer)
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
    eligible = eligible_people(ctx.session, loaded.desks)
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
                "start": local_iso(r.start_at, zone),
                "end": local_iso(r.end_at, zone),
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


def place(
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
) -> Placed:
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
    return Placed(row, cut)


def create_override(ctx: Ctx, rotation: str, data: OverrideIn) -> OverrideOut:
    before = begin(ctx, rotation)
    desks = before.desks
    zone = before.zone
    eligible = eligible_people(ctx.session, desks)
    check_person(ctx.session, eligible, data.person, "person", before)
    if data.replaces is not None and data.replaces not in before.spec.people:
        check_person(ctx.session, eligible, data.replaces, "replaces", before)
    require_self_or_lead(
        ctx, {data.person, data.replaces}, desks, "create overrides for other people"
    )
    layer = layer_for(ctx.session, before, data.layer, data.person)
    start, end = future_range(ctx.now, data.start, data.end, zone, "override")
    placed = place(
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
    after = finish(
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
    return OverrideOut.of(row, names, zone, override_warnings(after, [row.id]))


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
    require_self_or_lead(ctx, {row.person, row.replaces}, loaded.desks, action)


def undo_override(ctx: Ctx, rotation: str, override_id: int) -> OverrideOut:
    """Undo: a future override is cancelled; one under way ends now; a past one stays."""
    before = begin(ctx, rotation)
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
    finish(
        ctx,
        before,
        action=action,
        summary=summary,
        earliest=row.start_at,
        latest=old_end,
        data={"override": row.id},
    )
    names = user_names(ctx.session, [row.created_by_id, row.cancelled_by_id])
    return OverrideOut.of(row, names, zone)


def change_override(ctx: Ctx, rotation: str, override_id: int, data: OverrideChange) -> OverrideOut:
    """Change person or times: a started override keeps its start and its past part."""
    before = begin(ctx, rotation)
    zone, now = before.zone, ctx.now
    row = _override_row(ctx, rotation, override_id)
    _may_edit_override(ctx, before, row, "change other people's overrides")
    if row.end_at <= now:
        raise Conflict(f"override #{row.id} is over; past shifts are facts and cannot change")
    person = data.person or row.person
    if person != row.person:
        eligible = eligible_people(ctx.session, before.desks)
        check_person(ctx.session, eligible, person, "person", before)
        require_self_or_lead(
            ctx,
            {row.person, person, row.replaces},
            before.desks,
            "hand an override to someone else",
        )
    end = when(data.end, zone, end=True) if data.end is not None else row.end_at
    note = row.note if data.note is None else data.note
    old = {
        "person": row.person,
        "start": local_iso(row.start_at, zone),
        "end": local_iso(row.end_at, zone),
    }
    started = row.start_at < now
    if started and data.start is not None and when(data.start, zone) != row.start_at:
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
            start, end = future_range(now, data.start or row.start_at, end, zone, "override")
            row.cancelled_at, row.cancelled_by_id = now, ctx.actor.id
        placed = place(
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
    after = finish(
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
    return OverrideOut.of(target, names, zone, override_warnings(after, [target.id]))


def take(ctx: Ctx, rotation: str, data: TakeIn) -> OverrideOut:
    """Take the current shift of a layer from whoever holds it, until the next handoff."""
    before = begin(ctx, rotation)
    desks = before.desks
    zone, now = before.zone, ctx.now
    person = data.person or ctx.actor.name
    eligible = eligible_people(ctx.session, desks)
    check_person(ctx.session, eligible, person, "person", before)
    if person != ctx.actor.name:
        require_lead(ctx, desks, "take a shift on someone else's behalf")
    layer = layer_for(ctx.session, before, data.layer, person)
    current = before.schedule.on_call(now).get(layer)
    if current is not None and current.person == person:
        raise Conflict(f"{person} already holds {layer} until {rules.fmt_local(current.end, zone)}")
    if data.until is not None:
        end = when(data.until, zone, end=True)
    else:
        k = before.schedule.index_at(now)
        if k < 0:
            raise field_error("until", f"{rotation} has not started yet; say until when")
        end = before.schedule.shift_bounds(k)[1].astimezone(UTC)
    if end <= now:
        raise field_error("until", "must be after now")
    holder = current.person if current else None
    placed = place(
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
    after = finish(
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
    return OverrideOut.of(row, names, zone, override_warnings(after, [row.id]))


def list_overrides(
    session: Session,
    policy: Policy,
    rotation: str,
    start: datetime | None,
    end: datetime | None,
    *,
    all_: bool,
) -> list[OverrideOut]:
    zone = loaded_in(session, policy, rotation).zone
    stmt = select(OverrideRow).where(OverrideRow.rotation == rotation)
    if not all_:
        stmt = stmt.where(OverrideRow.cancelled_at.is_(None), OverrideRow.kind != "pin")
    if start is not None:
        stmt = stmt.where(OverrideRow.end_at > start)
    if end is not None:
        stmt = stmt.where(OverrideRow.start_at < end)
    rows = list(session.scalars(stmt.order_by(OverrideRow.start_at, OverrideRow.id).limit(1000)))
    names = user_names(session, [i for r in rows for i in (r.created_by_id, r.cancelled_by_id)])
    return [OverrideOut.of(r, names, zone) for r in rows]
