"""Membership: someone joins or leaves a layer from a date; shifts already started never move."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.service import user_names
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, NotFound, field_error
from dutydesk.oncall import rules
from dutydesk.oncall.loading import declared_rotation
from dutydesk.oncall.models import MembershipRow
from dutydesk.oncall.permissions import check_person, eligible_people, require_lead
from dutydesk.oncall.schemas import MembershipIn, MembershipOut
from dutydesk.oncall.writing import begin, finish, layer_for
from dutydesk.policy.models import Policy


def change_membership(ctx: Ctx, rotation: str, data: MembershipIn) -> MembershipOut:
    before = begin(ctx, rotation)
    desks = before.desks
    require_lead(ctx, desks, f"change who is in rotation {rotation}")
    zone, now = before.zone, ctx.now
    if data.layer is None and data.action == "leave":
        mine = [
            x
            for x in rules.plain_layers(before.spec)
            if data.person in rules.members_on(before.spec, x, data.effective)
        ]
        layer = mine[0] if len(mine) == 1 else layer_for(ctx.session, before, None, data.person)
    else:
        layer = layer_for(ctx.session, before, data.layer, data.person)
    if layer not in rules.plain_layers(before.spec):
        raise field_error("layer", f"{layer} is derived from the teams; people join a team layer")
    members = rules.members_on(before.spec, layer, data.effective)
    if data.action == "join":
        check_person(
            ctx.session, eligible_people(ctx.session, desks), data.person, "person", before
        )
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
    after = finish(
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
    return MembershipOut.of(row, user_names(ctx.session, [row.created_by_id]), first, warnings)


def cancel_membership(ctx: Ctx, rotation: str, membership_id: int) -> MembershipOut:
    before = begin(ctx, rotation)
    require_lead(ctx, before.desks, f"change who is in rotation {rotation}")
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
    finish(
        ctx,
        before,
        action="membership.cancel",
        summary=f"membership change #{row.id} ({row.person} {row.action}s {row.layer}) cancelled",
        earliest=first,
        latest=first + rules.reach(before.spec) * 2,
        data={"membership": row.id},
    )
    return MembershipOut.of(row, user_names(ctx.session, [row.created_by_id]), first)


def list_memberships(session: Session, policy: Policy, rotation: str) -> list[MembershipOut]:
    declared_rotation(policy, rotation)
    rows = list(
        session.scalars(
            select(MembershipRow)
            .where(MembershipRow.rotation == rotation)
            .order_by(MembershipRow.effective, MembershipRow.id)
        )
    )
    names = user_names(session, [r.created_by_id for r in rows])
    return [MembershipOut.of(r, names) for r in rows]
