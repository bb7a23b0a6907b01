"""Hypothesis strategies for random rotations, zones, windows and edits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import strategies as st

from dutydesk.oncall.schedule import Schedule
from dutydesk.oncall.shifts import Override, TimeOff
from dutydesk.policy.rotations import (
    LEAD,
    PRIMARY,
    Handoff,
    Layer,
    MembershipChange,
    RotationSpec,
    Unit,
)

UNITS: tuple[Unit, ...] = ("day", "week", "month")
NAMES = ("ana", "bo", "chen", "dee", "eve", "finn")
# Zones with 1-hour, 30-minute and midnight DST changes, southern-hemisphere ones and none.
ZONES = (
    "America/Los_Angeles",
    "Europe/Berlin",
    "America/Toronto",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "UTC",
)
LO = datetime(2025, 6, 1, tzinfo=UTC)
HI = datetime(2027, 6, 1, tzinfo=UTC)

instants = st.datetimes(
    min_value=LO.replace(tzinfo=None), max_value=HI.replace(tzinfo=None), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
durations = st.integers(min_value=60, max_value=20 * 24 * 3600).map(lambda s: timedelta(seconds=s))


def store_override(stored: list[Override], new: Override) -> list[Override]:
    """Overrides as the service stores them: ``new`` cuts the older ones it overlaps."""
    out: list[Override] = []
    for o in stored:
        if o.layer != new.layer or o.end <= new.start or new.end <= o.start:
            out.append(o)
            continue
        head = o.start < new.start
        if head:
            out.append(replace(o, end=new.start))
        if o.end > new.end:
            out.append(replace(o, start=new.end, id=f"{o.id}/{new.id}" if head else o.id))
    return [*out, new]


@st.composite
def handoffs(draw: st.DrawFn) -> tuple[Unit, int, Handoff]:
    unit: Unit = draw(st.sampled_from(UNITS))
    count = draw(st.integers(1, 3))
    at = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 59])))
    weekday = draw(st.integers(0, 6)) if unit == "week" else None
    day = draw(st.integers(1, 31)) if unit == "month" else None
    return unit, count, Handoff(at, weekday=weekday, day=day)


@st.composite
def specs(draw: st.DrawFn, teams: bool | None = None, changes: bool = True) -> RotationSpec:
    unit, count, handoff = draw(handoffs())
    layered = draw(st.booleans()) if teams is None else teams
    layers: list[Layer] = []
    if layered:
        n_teams = draw(st.integers(2, 3))
        for t in range(n_teams):
            size = draw(st.integers(1, 3))
            layers.append(Layer.of(f"t{t}", [f"{NAMES[i]}{t}" for i in range(size)], team=f"t{t}"))
        layers.insert(0, Layer(LEAD, lead_of=tuple(x.name for x in layers)))
    else:
        members = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
        history = [MembershipChange(date.min, tuple(members))]
        if changes and draw(st.booleans()):
            when = draw(st.dates(date(2025, 6, 1), date(2027, 6, 1)))
            new = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=5, unique=True))
            history.append(MembershipChange(when, tuple(new)))
        layers.append(Layer(PRIMARY, tuple(history)))
    return RotationSpec(
        name="r",
        timezone=draw(st.sampled_from(ZONES)),
        unit=unit,
        count=count,
        handoff=handoff,
        layers=tuple(layers),
        anchor=draw(st.dates(date(2025, 1, 1), date(2026, 12, 31))),
        skip=draw(st.sampled_from(["swap-later", "next"])),
    )


@st.composite
def scenarios(
    draw: st.DrawFn, teams: bool | None = None, with_overrides: bool = True
) -> tuple[Schedule, datetime, datetime, list[Override], list[TimeOff]]:
    spec = draw(specs(teams=teams))
    everyone = sorted(spec.people) or ["x"]
    start = draw(instants)
    end = start + draw(st.integers(3600, 150 * 24 * 3600).map(lambda x: timedelta(seconds=x)))
    # edits land around the window, where they interact with it
    near = st.integers(-40 * 24 * 3600, int((end - start).total_seconds())).map(
        lambda x: start + timedelta(seconds=x)
    )
    time_off = [
        TimeOff(draw(st.sampled_from(everyone)), s, s + draw(durations))
        for s in draw(st.lists(near, max_size=5))
    ]
    overrides: list[Override] = []
    if with_overrides:
        for i, s in enumerate(draw(st.lists(near, max_size=4))):
            layer = draw(st.sampled_from([x.name for x in spec.layers]))
            ov = Override(
                s, s + draw(durations), draw(st.sampled_from(everyone)), layer, id=f"o{i}"
            )
            overrides = store_override(overrides, ov)
    return Schedule(spec, overrides, (), time_off), start, end, overrides, time_off
