"""Questions about rotations: who is on call, shifts, gaps, a rotation's shape, fairness and
the history of changes. Each takes the caller's session and answers from the compiled
schedule (see :mod:`dutydesk.oncall.loading`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.service import user_names
from dutydesk.errors import field_error
from dutydesk.inputs import MAX_ID
from dutydesk.oncall import rules
from dutydesk.oncall.conflicts import conflicts
from dutydesk.oncall.fairness import fairness, person_totals
from dutydesk.oncall.loading import (
    Loaded,
    all_loaded_in,
    declared_rotation,
    desk_rotation_name,
    loaded_in,
    rotation_desks,
)
from dutydesk.oncall.models import ScheduleChange
from dutydesk.oncall.schemas import (
    ChangeOut,
    ConflictOut,
    FairnessOut,
    FairnessRow,
    FairnessTotal,
    GapOut,
    GapsOut,
    HistoryOut,
    LayerOut,
    MemberListOut,
    OnCallOut,
    PersonShiftOut,
    RotationOut,
    ShiftOut,
)
from dutydesk.oncall.writing import MAX_RANGE
from dutydesk.policy.models import Policy
from dutydesk.slo.policy import calendar


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise field_error("to", "must be after from")
    if end - start > MAX_RANGE:
        raise field_error("to", "ask for at most three years at a time")


def on_call(
    session: Session, policy: Policy, rotation: str, at: datetime, desk: str | None = None
) -> OnCallOut:
    """Who is on call at ``at``, per layer (the hot path: one version read, then arithmetic)."""
    found = loaded_in(session, policy, rotation)
    now = found.schedule.on_call(at)
    return OnCallOut(
        desk=desk,
        rotation=rotation,
        timezone=found.spec.timezone,
        at=at.astimezone(found.zone),
        layers=[ShiftOut.of(x) for x in now.values()],
        uncovered=[x.name for x in found.spec.layers if x.name not in now],
    )


def on_call_desk(session: Session, policy: Policy, desk: str, at: datetime) -> OnCallOut:
    return on_call(session, policy, desk_rotation_name(policy, desk), at, desk)


def shifts(
    session: Session,
    policy: Policy,
    rotation: str,
    start: datetime,
    end: datetime,
    layer: str | None = None,
    person: str | None = None,
) -> list[ShiftOut]:
    check_range(start, end)
    found = loaded_in(session, policy, rotation)
    if layer is not None and layer not in {x.name for x in found.spec.layers}:
        raise field_error("layer", f"{rotation} has no layer {layer!r}")
    items = found.schedule.shifts(start, end, [layer] if layer else None)
    items.sort(key=lambda x: (x.utc_start, x.layer))
    return [ShiftOut.of(x) for x in items if person is None or x.person == person]


def next_shifts(
    session: Session,
    policy: Policy,
    rotation: str,
    after: datetime,
    n: int,
    person: str | None = None,
) -> list[ShiftOut]:
    if not 1 <= n <= 100:
        raise field_error("n", "use 1 to 100")
    found = loaded_in(session, policy, rotation)
    if person is None:
        items = found.schedule.next_shifts(after, n)
    else:
        horizon = after + rules.nominal_period(found.spec) * (n + 1) * max(
            1, len(found.spec.people)
        )
        items = [x for x in found.schedule.shifts(after, horizon) if x.person == person][:n]
    items.sort(key=lambda x: (x.utc_start, x.layer))
    return [ShiftOut.of(x) for x in items]


def person_shifts(
    session: Session, policy: Policy, person: str, start: datetime, end: datetime
) -> list[PersonShiftOut]:
    check_range(start, end)
    out = [
        PersonShiftOut.in_rotation(found.name, x)
        for found in all_loaded_in(session, policy)
        for x in found.schedule.person_shifts(person, start, end)
    ]
    out.sort(key=lambda x: x.start.astimezone(UTC))
    return out


def gaps(
    session: Session,
    policy: Policy,
    start: datetime,
    end: datetime,
    rotation: str | None = None,
) -> GapsOut:
    check_range(start, end)
    rows = []
    targets = [loaded_in(session, policy, rotation)] if rotation else all_loaded_in(session, policy)
    for found in targets:
        for g in found.schedule.gaps(start, end):
            rows.append(
                GapOut(
                    rotation=found.name,
                    layer=g.layer,
                    start=g.start.astimezone(found.zone),
                    end=g.end.astimezone(found.zone),
                    hours=round((g.end - g.start).total_seconds() / 3600, 2),
                )
            )
    return GapsOut(start=start, end=end, gaps=rows, conflicts=double_bookings(targets, start, end))


def double_bookings(targets: Sequence[Loaded], start: datetime, end: datetime) -> list[ConflictOut]:
    """People on two layers at once or on call during their own time off, in ``targets``."""
    zones = {x.name: x.zone for x in targets}
    found = conflicts([(x.name, x.schedule) for x in targets], start, end)
    return [
        ConflictOut(
            kind=c.kind,
            person=c.person,
            start=c.start.astimezone(zones[c.where[0].split("/")[0]]),
            end=c.end.astimezone(zones[c.where[0].split("/")[0]]),
            where=list(c.where),
            detail=c.detail,
        )
        for c in found
    ]


def rotation_out(session: Session, policy: Policy, rotation: str, at: datetime) -> RotationOut:
    found = loaded_in(session, policy, rotation)
    decl = found.declared
    local_day = at.astimezone(found.zone).date()
    layers = [
        LayerOut(
            name=x.name,
            team=x.team,
            lead_of=list(x.lead_of),
            members=[] if x.lead_of else list(rules.members_on(found.spec, x.name, local_day)),
            changes=[
                MemberListOut(
                    effective=ch.effective if ch.effective != date.min else None,
                    members=list(ch.members),
                )
                for ch in x.members
            ],
        )
        for x in found.spec.layers
    ]
    return RotationOut(
        name=rotation,
        timezone=decl.timezone,
        every=decl.every,
        handoff=decl.handoff,
        skip=decl.skip,
        desks=rotation_desks(policy, rotation),
        layers=layers,
        version=found.version,
        problems=list(found.problems),
        on_call=[ShiftOut.of(x) for x in found.schedule.on_call(at).values()],
    )


def holiday_calendar(policy: Policy, rotation: str) -> str | None:
    """The calendar whose holidays count for a rotation: its first desk's."""
    for desk in rotation_desks(policy, rotation):
        name = policy.desks[desk].calendar
        if name:
            return name
    return None


def fairness_report(
    session: Session,
    policy: Policy,
    rotation: str,
    start: datetime,
    end: datetime,
    layer: str | None = None,
) -> FairnessOut:
    check_range(start, end)
    found = loaded_in(session, policy, rotation)
    cal_name = holiday_calendar(policy, rotation)
    holidays: set[date] = set()
    if cal_name:
        cal = calendar(policy, cal_name)
        day, last = start.astimezone(found.zone).date(), end.astimezone(found.zone).date()
        while day <= last:
            if cal.is_holiday(day):
                holidays.add(day)
            day += timedelta(days=1)
    rows = []
    every = found.schedule.shifts(start, end)
    for x in found.spec.layers:
        if layer is not None and x.name != layer:
            continue
        stats = fairness([s for s in every if s.layer == x.name], holidays, start, end, found.zone)
        for person, st in stats.items():
            rows.append(
                FairnessRow(
                    layer=x.name,
                    person=person,
                    hours=round(st.hours, 2),
                    shifts=st.shifts,
                    weekend_hours=round(st.weekend_hours, 2),
                    holiday_hours=round(st.holiday_hours, 2),
                )
            )
    return FairnessOut(
        rotation=rotation,
        start=start.astimezone(found.zone),
        end=end.astimezone(found.zone),
        holidays=cal_name,
        rows=rows,
        totals=[
            FairnessTotal(
                person=t.person,
                hours=round(t.hours, 2),
                lead_hours=round(t.lead_hours, 2),
                layers=list(t.layers),
            )
            for t in person_totals(every, start, end)
        ],
    )


def history(
    session: Session, policy: Policy, rotation: str, limit: int, cursor: str | None
) -> HistoryOut:
    declared_rotation(policy, rotation)
    if not 1 <= limit <= 200:
        raise field_error("limit", "use 1 to 200")
    stmt = select(ScheduleChange).where(ScheduleChange.rotation == rotation)
    if cursor:
        if not (cursor.isascii() and cursor.isdigit() and int(cursor) <= MAX_ID):
            raise field_error("cursor", "not a cursor from this API; start again without it")
        stmt = stmt.where(ScheduleChange.id < int(cursor))
    rows = list(session.scalars(stmt.order_by(ScheduleChange.id.desc()).limit(limit + 1)))
    names = user_names(session, [r.actor_id for r in rows])
    return HistoryOut(
        items=[
            ChangeOut(
                id=r.id,
                rotation=r.rotation,
                at=r.at,
                actor=names.get(r.actor_id) if r.actor_id else None,
                action=r.action,
                summary=r.summary,
                before=r.before,
                after=r.after,
                data=r.data or {},
            )
            for r in rows[:limit]
        ],
        next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None,
    )
