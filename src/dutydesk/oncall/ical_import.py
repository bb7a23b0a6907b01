"""Import an iCalendar export of another tool's schedule: its shifts from now on become
fixed overrides of one layer (``dry_run`` previews them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise

from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, Invalid, field_error
from dutydesk.oncall import ical, rules
from dutydesk.oncall.overrides import active_overrides, place
from dutydesk.oncall.permissions import eligible_people, require_lead
from dutydesk.oncall.schemas import ImportIn, ImportOut, ShiftOut
from dutydesk.oncall.writing import begin, finish, layer_for


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


def import_calendar(ctx: Ctx, rotation: str, data: ImportIn) -> ImportOut:
    """Store an exported schedule's shifts (from now on) as fixed overrides."""
    before = begin(ctx, rotation)
    desks = before.desks
    require_lead(ctx.actor, desks, f"import a schedule into rotation {rotation}")
    zone, now = before.zone, ctx.now
    layer = layer_for(ctx.session, before, data.layer, None)
    eligible = eligible_people(ctx.session, desks)
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
        for r in active_overrides(ctx.session, rotation, layer)
        if any(r.start_at < e and s < r.end_at for s, e, _ in planned)
    ]
    if existing and not data.replace:
        conflicts.extend(
            f"override #{r.id} ({r.person} {rules.fmt_local(r.start_at, zone)} – "
            f"{rules.fmt_local(r.end_at, zone)}) overlaps the imported shifts; pass replace"
            for r in existing
        )
    team = before.spec.layer(layer).team
    out = ImportOut(
        rotation=rotation,
        layer=layer,
        dry_run=data.dry_run,
        imported=[
            ShiftOut(
                start=s.astimezone(zone),
                end=e.astimezone(zone),
                person=p,
                layer=layer,
                team=team,
                source="override",
            )
            for s, e, p in planned
        ],
        unknown=list(result.unknown),
        skipped=list(result.skipped),
        past=past,
        conflicts=conflicts,
    )
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
    ids: list[int] = []
    for s, e, person in planned:
        placed = place(
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
    finish(
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
    out.override_ids = ids
    return out
