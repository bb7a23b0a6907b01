"""Time off: declared absences every rotation the person is in works around."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.leads import leads_any
from dutydesk.auth.models import User
from dutydesk.auth.service import user_names
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, Forbidden, NotFound, field_error
from dutydesk.oncall import rules
from dutydesk.oncall.loading import Loaded, loaded_in, rotation_desks
from dutydesk.oncall.models import MembershipRow, TimeOffRow
from dutydesk.oncall.permissions import is_lead
from dutydesk.oncall.schemas import TimeOffIn, TimeOffOut
from dutydesk.oncall.shifts import Shift
from dutydesk.oncall.writing import MAX_RANGE, begin, finish, when
from dutydesk.policy.models import Policy


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
    loaded_ = [begin(ctx, name) for name in names]
    return [found for found in loaded_ if person in found.spec.people]


def _time_off_perm(ctx: Ctx, person: str, rotations: Sequence[Loaded], action: str) -> None:
    if ctx.actor.name == person:
        return
    desks = sorted({d for r in rotations for d in r.desks})
    if not is_lead(ctx, desks):
        where = f" of desk {', '.join(desks)}" if desks else ""
        raise Forbidden(f"{ctx.actor.name} may not {action}: only {person} or a lead{where} may")


def add_time_off(ctx: Ctx, data: TimeOffIn) -> TimeOffOut:
    person = data.person or ctx.actor.name
    if ctx.session.scalar(select(User.id).where(User.name == person)) is None:
        raise field_error("person", f"no user named {person!r}; give a person's login name")
    befores = _rotations_of(ctx, person)
    _time_off_perm(ctx, person, befores, "enter time off for other people")
    zone = befores[0].zone if befores else person_zone(ctx.policy, person)
    start, end = when(data.start, zone), when(data.end, zone, end=True)
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
        after = finish(
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
    return TimeOffOut.of(row, names, zone, warnings, covered)


def cancel_time_off(ctx: Ctx, time_off_id: int) -> TimeOffOut:
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
        finish(
            ctx,
            before,
            action="time_off.cancel",
            summary=f"{row.person}'s time off #{row.id} {verb}",
            earliest=row.start_at,
            latest=old_end,
            data={"time_off": row.id, "person": row.person},
        )
    return TimeOffOut.of(
        row, user_names(ctx.session, [row.created_by_id, row.cancelled_by_id]), zone
    )


def list_time_off(
    session: Session,
    policy: Policy,
    actor: User,
    person: str | None,
    rotation: str | None,
    now: datetime,
    *,
    all_: bool,
) -> list[TimeOffOut]:
    """Everyone sees when people are away (the schedule shows it anyway); the reason only
    the person and the leads of the desks they are on call for see, who are also the ones who
    may cancel it (``may_cancel``, as :func:`cancel_time_off` judges)."""
    stmt = select(TimeOffRow)
    if person is not None:
        stmt = stmt.where(TimeOffRow.person == person)
    if rotation is not None:
        people = sorted(loaded_in(session, policy, rotation).spec.people)
        stmt = stmt.where(TimeOffRow.person.in_(people))
    if not all_:
        stmt = stmt.where(TimeOffRow.cancelled_at.is_(None), TimeOffRow.end_at > now)
    rows = list(session.scalars(stmt.order_by(TimeOffRow.start_at, TimeOffRow.id).limit(1000)))
    names = user_names(session, [i for r in rows for i in (r.created_by_id, r.cancelled_by_id)])
    out = [TimeOffOut.of(r, names, person_zone(policy, r.person)) for r in rows]
    sees: dict[str, bool] = {actor.name: True}
    for item in out:
        if item.person not in sees:
            # A lead of the desks this person is on call for (leading another desk's
            # rotation shows nothing of theirs); someone in no rotation: any lead.
            desks = sorted(
                {
                    d
                    for name in policy.rotations
                    if item.person in loaded_in(session, policy, name).spec.people
                    for d in rotation_desks(policy, name)
                }
            )
            sees[item.person] = leads_any(session, policy, actor, desks, now)
        item.may_cancel = sees[item.person]
        if not sees[item.person]:
            item.reason = ""
    return out
