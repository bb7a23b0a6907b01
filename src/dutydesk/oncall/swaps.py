"""Swaps: two people exchange two whole shifts of a layer that have not started."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.service import user_names
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, Invalid, NotFound, field_error
from dutydesk.oncall import rules
from dutydesk.oncall.edit_rules import validate_swap
from dutydesk.oncall.loading import Loaded, loaded_in
from dutydesk.oncall.models import SwapRow
from dutydesk.oncall.permissions import check_person, eligible_people, require_self_or_lead
from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.schemas import SwapIn, SwapOut, When
from dutydesk.oncall.shifts import Swap
from dutydesk.oncall.writing import begin, finish, layer_for, when
from dutydesk.policy.models import Policy


def _shift_named(loaded: Loaded, layer: str, ref: When) -> datetime:
    """A base shift by its start instant, or by a date: the shift starting that day, else the
    one under way at noon that day."""
    zone, schedule = loaded.zone, loaded.schedule
    if isinstance(ref, datetime):
        return when(ref, zone)
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


def create_swap(ctx: Ctx, rotation: str, data: SwapIn) -> SwapOut:
    before = begin(ctx, rotation)
    desks = before.desks
    zone, now = before.zone, ctx.now
    eligible = eligible_people(ctx.session, desks)
    for fld, person in (("person_a", data.person_a), ("person_b", data.person_b)):
        if person not in before.spec.people:
            check_person(ctx.session, eligible, person, fld, before)
    require_self_or_lead(ctx, {data.person_a, data.person_b}, desks, "swap other people's shifts")
    layer = layer_for(ctx.session, before, data.layer, data.person_a)
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
    finish(
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
    return SwapOut.of(row, user_names(ctx.session, [row.created_by_id]), zone)


def undo_swap(ctx: Ctx, rotation: str, swap_id: int) -> SwapOut:
    before = begin(ctx, rotation)
    zone, now = before.zone, ctx.now
    row = ctx.session.get(SwapRow, swap_id)
    if row is None or row.rotation != rotation:
        raise NotFound(f"rotation {rotation} has no swap #{swap_id}")
    if row.cancelled_at is not None:
        raise Conflict(f"swap #{swap_id} was already undone at {row.cancelled_at.isoformat()}")
    if row.created_by_id != ctx.actor.id:
        require_self_or_lead(
            ctx,
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
    finish(
        ctx,
        before,
        action="swap.undo",
        summary=f"swap #{row.id} undone: {row.person_a} and {row.person_b} keep their own shifts",
        earliest=first,
        latest=max(row.shift_a, row.shift_b) + rules.nominal_period(before.spec),
        data={"swap": row.id},
    )
    return SwapOut.of(row, user_names(ctx.session, [row.created_by_id, row.cancelled_by_id]), zone)


def list_swaps(session: Session, policy: Policy, rotation: str, *, all_: bool) -> list[SwapOut]:
    zone = loaded_in(session, policy, rotation).zone
    stmt = select(SwapRow).where(SwapRow.rotation == rotation)
    if not all_:
        stmt = stmt.where(SwapRow.cancelled_at.is_(None))
    rows = list(session.scalars(stmt.order_by(SwapRow.shift_a, SwapRow.id).limit(1000)))
    names = user_names(session, [i for r in rows for i in (r.created_by_id, r.cancelled_by_id)])
    return [SwapOut.of(r, names, zone) for r in rows]
