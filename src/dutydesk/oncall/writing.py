"""What every edit of a rotation shares: lock and load, read user times, re-plan and record.

Every edit follows one pattern: :func:`begin` locks the rotation's version row and loads its
stored edits, the edit validates its change with the pure rules and writes it, then
:func:`finish` re-plans, pins the past, bumps the version and appends the history.

The rules for the past (shifts already served are facts):

* new overrides, swaps and takes start at *now* or later (a start up to two minutes before
  now is read as now, for clients whose clocks drift); a swap names shifts that have not
  started; a membership change applies from a shift that has not started;
* undoing an override or time off that is under way cuts it at now (its past part stays);
  one that is over cannot be undone; a swap whose shifts have started cannot be undone;
* anything else that would still move an earlier shift (time off entered mid-shift, a trade
  reaching back) is held in place by *pins*: overrides dutydesk adds to keep who was on
  call (:func:`dutydesk.oncall.rules.pins_for_past`). The history shows them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.context import Ctx
from dutydesk.errors import Conflict, field_error
from dutydesk.oncall import rules
from dutydesk.oncall.conflicts import conflicts
from dutydesk.oncall.loading import Loaded, declared_rotation, load, load_for_write
from dutydesk.oncall.models import OverrideRow, RotationState, ScheduleChange
from dutydesk.oncall.schemas import ShiftOut, When
from dutydesk.oncall.shifts import Shift

GRACE = timedelta(minutes=2)
MAX_RANGE = timedelta(days=3 * 366)
HISTORY_SHIFTS = 50


def local_iso(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat()


def _shift_records(items: Sequence[Shift]) -> list[dict[str, Any]]:
    """Shifts as the history row stores them (JSON), the first ``HISTORY_SHIFTS``."""
    return [ShiftOut.of(x).model_dump(mode="json") for x in items[:HISTORY_SHIFTS]]


def when(value: When, zone: ZoneInfo, *, end: bool = False) -> datetime:
    return rules.to_utc(value, zone, end=end)


def future_range(
    now: datetime, start: When | None, end: When, zone: ZoneInfo, what: str
) -> tuple[datetime, datetime]:
    s = now if start is None else when(start, zone)
    e = when(end, zone, end=True)
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


def layer_for(session: Session, loaded: Loaded, layer: str | None, person: str | None) -> str:
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


def begin(ctx: Ctx, name: str) -> Loaded:
    """Lock the rotation and load it as this transaction sees it: the start of every edit."""
    declared_rotation(ctx.policy, name)
    return load_for_write(ctx.session, ctx.policy, name, _lock(ctx.session, name, ctx.now))


def finish(
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
    after = load(session, ctx.policy, before.name, before.version + 1)
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
        after = load(session, ctx.policy, before.name, before.version + 1)
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
                "start": local_iso(p.start_at, after.zone),
                "end": local_iso(p.end_at, after.zone),
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
            before=_shift_records(old),
            after=_shift_records(new),
            data=extra,
        )
    )
    return after


def override_warnings(after: Loaded, row_ids: Collection[int]) -> list[str]:
    wanted = {str(i) for i in row_ids}
    found: list[str] = []
    for ov in after.overrides:
        if ov.id in wanted:
            for x in after.schedule.shifts(ov.start, ov.end, [ov.layer]):
                if x.override_id == ov.id:
                    found.extend(w for w in x.warnings if w not in found)
            for c in conflicts([(after.name, after.schedule)], ov.start, ov.end):
                if c.kind == "double-booked" and c.person == ov.person and c.detail not in found:
                    found.append(c.detail)
    return found
