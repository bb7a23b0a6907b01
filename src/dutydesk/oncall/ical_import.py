"""Import an iCalendar export of another tool's schedule: its shifts in the chosen window
(from now on; recurring events expanded) become fixed overrides of one layer. ``dry_run``
previews them and reports every refusal the real import would make: overlaps within the
file, overlaps with stored overrides, and what the override rules refuse."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, Invalid, field_error
from dutydesk.oncall import ical, rules
from dutydesk.oncall.edit_rules import validate_override
from dutydesk.oncall.overrides import active_overrides, place
from dutydesk.oncall.permissions import eligible_people, require_lead
from dutydesk.oncall.schemas import ImportIn, ImportOut, ShiftOut
from dutydesk.oncall.shifts import Override
from dutydesk.oncall.writing import begin, finish, layer_for

DEFAULT_WINDOW = timedelta(days=92)
MAX_WINDOW = timedelta(days=731)


def _window(now: datetime, data: ImportIn) -> tuple[datetime, datetime]:
    for name, value in (("start", data.start), ("end", data.end)):
        if value is not None and value.tzinfo is None:
            raise field_error(name, "give a zone offset, e.g. 2027-01-04T10:00:00-08:00")
    start = max(now, data.start) if data.start is not None else now
    end = data.end if data.end is not None else start + DEFAULT_WINDOW
    if end <= start:
        raise field_error("end", "the window ends before it starts (or before now)")
    if end - start > MAX_WINDOW:
        raise field_error("end", "import at most two years at a time")
    return start, end


def overlaps(planned: list[tuple[datetime, datetime, str]]) -> list[tuple[int, int]]:
    """Pairs of indexes of overlapping shifts (``planned`` sorted by start), every pair."""
    out: list[tuple[int, int]] = []
    for i, (_, e1, _) in enumerate(planned):
        for j in range(i + 1, len(planned)):
            if planned[j][0] >= e1:
                break
            out.append((i, j))
    return out


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
    require_lead(ctx, desks, f"import a schedule into rotation {rotation}")
    zone, now = before.zone, ctx.now
    layer = layer_for(ctx.session, before, data.layer, None)
    eligible = eligible_people(ctx.session, desks)
    window = _window(now, data)
    # Read a quarter back too, so events already served are counted in ``past``.
    reading = (window[0] - DEFAULT_WINDOW, window[1])
    try:
        result = ical.import_ics(
            data.ics,
            set(eligible),
            _aliases(ctx.session, eligible, data.aliases),
            default_timezone=before.spec.timezone,
            window=reading,
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
        if e <= window[0]:
            continue  # before the window asked for
        planned.append((max(s, window[0]), e, person))
    conflicts: list[str] = []
    for i, j in overlaps(planned):
        (s1, e1, p1), (s2, e2, p2) = planned[i], planned[j]
        conflicts.append(
            f"{p1} ({rules.fmt_local(s1, zone)} – {rules.fmt_local(e1, zone)}) overlaps "
            f"{p2} ({rules.fmt_local(s2, zone)} – {rules.fmt_local(e2, zone)}) in the file; "
            "import one layer's calendar at a time"
        )
    known = set(eligible) | before.spec.people
    for s, e, person in planned:
        conflicts.extend(
            validate_override(
                before.schedule,
                Override(s, e, person, layer, None),
                replace=True,
                known_people=known,
            )
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
