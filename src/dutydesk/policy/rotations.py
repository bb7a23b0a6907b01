"""A rotation as the policy declares it: the grammar of ``[rotations.NAME]`` and the validated
:class:`RotationSpec` the on-call arithmetic (:mod:`dutydesk.oncall.schedule`) compiles.

Pure (no database, no clock) and below every domain, so ``dutydesk check`` and the policy
loader judge a rotation by the same rules the schedule is built from.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as _dc_replace
from datetime import date, datetime, time, timedelta
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dutydesk.durations import parse_span
from dutydesk.policy.notify import WEEKDAYS

Unit = Literal["day", "week", "month"]
SkipRule = Literal["swap-later", "next"]

PRIMARY = "primary"
LEAD = "lead"
# Used when a policy gives no `start`: a fixed Monday, so the cycle never depends on "today".
DEFAULT_ANCHOR = date(2000, 1, 3)
_ZERO = timedelta(0)


class ScheduleError(ValueError):
    """Inputs that cannot form a schedule; ``errors`` lists every problem, one sentence each."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True, slots=True)
class Handoff:
    """When shifts change hands: local time plus weekday (week units) or day of month (months)."""

    at: time
    weekday: int | None = None  # 0 = Monday
    day: int | None = None  # 1..31; clamped to the month's last day


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """From ``effective`` on (shift start dates, local), the layer cycles through ``members``."""

    effective: date
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Layer:
    """One line of coverage: a cycling member list, or (``lead_of``) derived from team layers."""

    name: str
    members: tuple[MembershipChange, ...] = ()
    team: str | None = None
    lead_of: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, members: Iterable[str], *, team: str | None = None) -> Layer:
        """A layer with one member list in force since forever."""
        return cls(name, (MembershipChange(date.min, tuple(members)),), team)


@dataclass(frozen=True, slots=True)
class RotationSpec:
    """A rotation as declared in policy; validated on construction so bad specs fail early."""

    name: str
    timezone: str
    unit: Unit
    count: int
    handoff: Handoff
    layers: tuple[Layer, ...]
    anchor: date = DEFAULT_ANCHOR
    skip: SkipRule = "swap-later"
    skip_min_overlap: timedelta = _ZERO
    cover_days: bool = True

    def __post_init__(self) -> None:
        errors = _spec_errors(self)
        if errors:
            raise ScheduleError(f"rotation {self.name!r}: {e}" for e in errors)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def people(self) -> frozenset[str]:
        """Everyone who appears in any member list, at any time."""
        return frozenset(p for layer in self.layers for ch in layer.members for p in ch.members)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def with_members(self, layer: str, effective: date, members: Iterable[str]) -> RotationSpec:
        """A copy where ``layer`` cycles through ``members`` from ``effective`` on."""
        change = MembershipChange(effective, tuple(members))
        layers = tuple(
            _dc_replace(x, members=(*x.members, change)) if x.name == layer else x
            for x in self.layers
        )
        if layers == self.layers:
            raise KeyError(layer)
        return _dc_replace(self, layers=layers)


_EVERY_RE = re.compile(r"^\s*(?:(\d+)\s*)?(day|week|month)s?\s*$", re.IGNORECASE)
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_every(text: str) -> tuple[Unit, int]:
    """``"week"`` → ("week", 1); ``"2 weeks"`` → ("week", 2); also days and months."""
    m = _EVERY_RE.match(text)
    if not m:
        raise ValueError(
            f'every: expected "day", "week", "month" or "N days|weeks|months", got {text!r}'
        )
    count = int(m.group(1) or 1)
    if count < 1:
        raise ValueError(f"every: the count must be at least 1, got {count}")
    return cast(Unit, m.group(2).lower()), count


def _parse_time(text: str) -> time:
    m = _TIME_RE.match(text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"handoff: expected a 24-hour time HH:MM, got {text!r}")
    return time(int(m.group(1)), int(m.group(2)))


def parse_handoff(unit: Unit, text: str) -> Handoff:
    """Day: ``"10:00"``; week: ``"mon 10:00"``; month: ``"16 09:00"`` (day 1-31, see module doc)."""
    parts = text.split()
    if unit == "day":
        if len(parts) != 1:
            raise ValueError(f'handoff: a daily rotation takes "HH:MM", got {text!r}')
        return Handoff(_parse_time(parts[0]))
    if len(parts) != 2:
        example = "mon 10:00" if unit == "week" else "16 09:00"
        raise ValueError(f'handoff: a {unit}ly rotation takes e.g. "{example}", got {text!r}')
    if unit == "week":
        wd = parts[0].lower()
        full = [calendar.day_name[i].lower() for i in range(7)]
        if wd not in WEEKDAYS and wd not in full:
            raise ValueError(f"handoff: unknown weekday {parts[0]!r} (use mon..sun)")
        index = WEEKDAYS.index(wd) if wd in WEEKDAYS else full.index(wd)
        return Handoff(_parse_time(parts[1]), weekday=index)
    if not parts[0].isdigit() or not 1 <= int(parts[0]) <= 31:
        raise ValueError(f"handoff: day of month must be 1..31, got {parts[0]!r}")
    return Handoff(_parse_time(parts[1]), day=int(parts[0]))


_POLICY_KEYS = frozenset(
    {"timezone", "every", "handoff", "members", "start", "skip", "one_per_team", "teams"}
    | {"lead", "lead_order", "skip_min_overlap", "cover_days"}
)


LONG_SHIFT = timedelta(days=14)
LONG_SHIFT_SKIP = timedelta(days=7)


def long_shift_default(unit: Unit, count: int) -> timedelta:
    """``skip_min_overlap`` when the policy gives none: for shifts of two weeks or more (a
    monthly rotation), time off of up to a week is covered day by day (the cover serves
    those days, the owner keeps the rest of the shift); only a longer absence moves the whole
    shift. Shorter shifts move for any time off, as before."""
    nominal = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=28)}
    return LONG_SHIFT_SKIP if nominal[unit] * count >= LONG_SHIFT else _ZERO


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of names")
    return tuple(cast("Sequence[str]", value))


def rotation_from_policy(name: str, table: Mapping[str, object]) -> RotationSpec:
    """Build a spec from a ``[rotations.<name>]`` policy table; errors name the offending key."""
    where = f"rotations.{name}"
    try:
        unknown = sorted(set(table) - _POLICY_KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)}")
        tz = table.get("timezone")
        if not isinstance(tz, str):
            raise ValueError("timezone: required, an IANA name such as America/Los_Angeles")
        every = table.get("every", "week")
        if not isinstance(every, str):
            raise ValueError("every: expected a string")
        unit, count = parse_every(every)
        handoff = table.get("handoff")
        if not isinstance(handoff, str):
            raise ValueError("handoff: required, e.g. 'mon 10:00'")
        start = table.get("start", DEFAULT_ANCHOR)
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start)
            except ValueError:
                raise ValueError(f"start: expected a date YYYY-MM-DD, got {start!r}") from None
        if isinstance(start, datetime) or not isinstance(start, date):
            raise ValueError("start: expected a date YYYY-MM-DD")
        skip = table.get("skip", "swap-later")
        if skip not in get_args(SkipRule):
            raise ValueError(f'skip: expected "swap-later" or "next", got {skip!r}')
        min_overlap = table.get("skip_min_overlap", long_shift_default(unit, count))
        if isinstance(min_overlap, str):
            try:
                min_overlap = parse_span(min_overlap)
            except ValueError as e:
                raise ValueError(f"skip_min_overlap: {e}") from None
        if not isinstance(min_overlap, timedelta):
            raise ValueError('skip_min_overlap: expected a duration such as "4 hours"')
        cover_days = table.get("cover_days", True)
        if not isinstance(cover_days, bool):
            raise ValueError("cover_days: expected true or false")
        layers: list[Layer] = []
        if table.get("one_per_team"):
            if "members" in table:
                raise ValueError("members: a one_per_team rotation takes `teams` instead")
            teams = table.get("teams")
            if not isinstance(teams, Mapping) or not teams:
                raise ValueError("teams: required when one_per_team = true, {team = [names]}")
            for team, members in cast("Mapping[str, object]", teams).items():
                layers.append(Layer.of(team, _str_list(members, f"teams.{team}"), team=team))
            lead = table.get("lead")
            if lead is not None:
                if lead != "rotate-teams":
                    raise ValueError(f'lead: only "rotate-teams" is supported, got {lead!r}')
                order = _str_list(table.get("lead_order", list(teams)), "lead_order")
                layers.insert(0, Layer(LEAD, lead_of=order))
            elif "lead_order" in table:
                raise ValueError('lead_order: needs lead = "rotate-teams"')
        else:
            for key in ("teams", "lead", "lead_order"):
                if key in table:
                    raise ValueError(f"{key}: needs one_per_team = true")
            layers.append(Layer.of(PRIMARY, _str_list(table.get("members"), "members")))
        return RotationSpec(
            name=name,
            timezone=tz,
            unit=unit,
            count=count,
            handoff=parse_handoff(unit, handoff),
            layers=tuple(layers),
            anchor=start,
            skip=cast(SkipRule, skip),
            skip_min_overlap=min_overlap,
            cover_days=cover_days,
        )
    except ScheduleError as exc:
        raise ScheduleError(f"{where}: {e}" for e in exc.errors) from None
    except ValueError as exc:
        raise ScheduleError([f"{where}.{exc}"]) from None


def _spec_errors(spec: RotationSpec) -> list[str]:
    errors: list[str] = []
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(f"unknown time zone {spec.timezone!r}")
    if spec.unit not in get_args(Unit):
        errors.append(f"unit must be day, week or month, got {spec.unit!r}")
    if spec.count < 1:
        errors.append(f"count must be at least 1, got {spec.count}")
    h = spec.handoff
    if h.at.tzinfo is not None:
        errors.append("handoff time must be a local wall-clock time without tzinfo")
    if spec.unit == "week" and (h.weekday is None or not 0 <= h.weekday <= 6):
        errors.append("a weekly rotation needs a handoff weekday 0 (Monday) .. 6")
    if spec.unit == "month" and (h.day is None or not 1 <= h.day <= 31):
        errors.append("a monthly rotation needs a handoff day of month 1..31")
    if spec.skip not in get_args(SkipRule):
        errors.append(f'skip must be "swap-later" or "next", got {spec.skip!r}')
    if spec.skip_min_overlap < _ZERO:
        errors.append("skip_min_overlap must not be negative")
    if not spec.layers:
        errors.append("needs at least one layer")
    names = [x.name for x in spec.layers]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"layer {dup!r} is declared twice")
    plain = {x.name for x in spec.layers if not x.lead_of}
    for layer in spec.layers:
        if not layer.name:
            errors.append("layer names must not be empty")
        if layer.lead_of:
            if layer.members:
                errors.append(f"layer {layer.name!r} is derived (lead_of) and cannot have members")
            for ref in layer.lead_of:
                if ref not in plain:
                    errors.append(f"layer {layer.name!r} takes its lead from unknown layer {ref!r}")
            if len(set(layer.lead_of)) != len(layer.lead_of):
                errors.append(f"layer {layer.name!r} lists a team twice in lead_of")
        for ch in layer.members:
            seen = [p for p in ch.members if ch.members.count(p) > 1]
            if seen:
                errors.append(f"layer {layer.name!r} lists {seen[0]!r} twice (from {ch.effective})")
            if any(not p for p in ch.members):
                errors.append(f"layer {layer.name!r} has an empty member name")
    return errors
