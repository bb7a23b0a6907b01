"""From ``dutydesk.toml`` to calendars and clock rules, built once per policy object.

Calendars precompute a year of intervals on first use, so they are cached: rebuilding one per
request would throw that work away.  The cache holds the policy object itself (pydantic
models cannot be weakly referenced), bounded to a few policies.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock
from zoneinfo import ZoneInfo

from dutydesk.durations import SpanTooLong, bounded, parse_duration
from dutydesk.errors import NotFound, field_error
from dutydesk.policy.models import (
    CalendarPolicy,
    HolidaysPolicy,
    Policy,
    SloPolicy,
)
from dutydesk.slo.calendar import BusinessCalendar, HolidayProvider
from dutydesk.slo.clocks import REAL_TIME, Rule, Timeline
from dutydesk.slo.holidays import country_holiday_provider

_MAX_POLICIES = 8
log = logging.getLogger("dutydesk.slo")


@dataclass(frozen=True)
class DeskSlo:
    """A desk's compiled SLO rules and the calendar they count business time in."""

    desk: str
    calendar_name: str | None
    calendar: BusinessCalendar | None
    rules: tuple[Rule, ...]
    fingerprint: str

    def timeline(self, business: bool) -> Timeline:
        if business and self.calendar is not None:
            return self.calendar
        return REAL_TIME


class _Compiled:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy  # keeps id(policy) from being reused while cached
        self.calendars: dict[str, BusinessCalendar] = {}
        self.desks: dict[str, DeskSlo] = {}


_cache: OrderedDict[int, _Compiled] = OrderedDict()
_lock = Lock()


def _compiled(policy: Policy) -> _Compiled:
    with _lock:
        entry = _cache.get(id(policy))
        if entry is None or entry.policy is not policy:
            entry = _cache[id(policy)] = _Compiled(policy)
            while len(_cache) > _MAX_POLICIES:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(id(policy))
        return entry


def build_calendar(spec: CalendarPolicy) -> BusinessCalendar:
    """A BusinessCalendar from ``[calendars.X]``: hours, country holidays, extra and remove."""
    hol = spec.holidays
    if hol.country:
        provider = _country_holidays(hol.country, hol)
        return BusinessCalendar(spec.timezone, spec.intervals(), holiday_provider=provider)
    dates = set(hol.extra) - set(hol.remove)
    return BusinessCalendar(spec.timezone, spec.intervals(), sorted(dates))


def _country_holidays(country: str, hol: HolidaysPolicy) -> HolidayProvider:
    """The country's holiday tables, loaded when the calendar first looks a holiday up.

    Not when it is built: every start builds each desk's calendar only to compare policy
    fingerprints (``slo.service.sync``), and loading the ``holidays`` package with its country
    tables takes about 150 ms.
    """
    loaded: list[HolidayProvider] = []

    def provide(year: int) -> Iterable[date]:
        if not loaded:
            loaded.append(country_holiday_provider(country, hol.subdivision, hol.extra, hol.remove))
        return loaded[0](year)

    return provide


def load_holidays(policy: Policy, today: date) -> None:
    """Load the holiday tables of the desks' calendars now, so that the first business-time
    computation does not wait for them (``dutydesk serve`` runs this on a thread once it
    listens). An unknown country is logged here, the earliest it shows."""
    for name in sorted({d.calendar for d in policy.desks.values() if d.calendar}):
        try:
            calendar(policy, name).is_holiday(today)
        except (NotFound, ValueError) as exc:
            log.warning("calendar %s: %s", name, exc)


def calendar(policy: Policy, name: str) -> BusinessCalendar:
    spec = policy.calendars.get(name)
    if spec is None:
        raise NotFound(
            f"no calendar named {name!r}; calendars are {', '.join(sorted(policy.calendars))}"
        )
    entry = _compiled(policy)
    cal = entry.calendars.get(name)
    if cal is None:
        cal = entry.calendars[name] = build_calendar(spec)
    return cal


def desk_calendar(policy: Policy, desk: str) -> BusinessCalendar | None:
    """The business calendar a desk keeps, if it names one."""
    spec = policy.desks[desk]
    return calendar(policy, spec.calendar) if spec.calendar is not None else None


def desk_zone(policy: Policy, desk: str) -> ZoneInfo:
    """The desk's local time: its calendar's zone, else its rotation's, else UTC."""
    cal = desk_calendar(policy, desk)
    if cal is not None:
        return cal.timezone
    rot = policy.desks[desk].rotation
    if rot and rot in policy.rotations:
        return ZoneInfo(policy.rotations[rot].timezone)
    return ZoneInfo("UTC")


def is_business_day(cal: BusinessCalendar | None, day: date) -> bool:
    """A working day of the calendar; without one, Monday to Friday."""
    return cal.is_business_day(day) if cal is not None else day.weekday() < 5


def business_days_before(
    cal: BusinessCalendar | None, at: datetime, n: int, zone: ZoneInfo
) -> datetime:
    """The same local wall time ``n`` business days earlier (Monday 10:00 → Friday 10:00)."""
    local = at.astimezone(zone)
    day = local.date()
    while n > 0:
        day -= timedelta(days=1)
        if is_business_day(cal, day):
            n -= 1
    wall = datetime.combine(day, local.timetz().replace(tzinfo=None))
    return wall.replace(tzinfo=zone)


def desk_slo(policy: Policy, desk: str) -> DeskSlo:
    entry = _compiled(policy)
    found = entry.desks.get(desk)
    if found is not None:
        return found
    spec = policy.desks.get(desk)
    if spec is None:
        raise NotFound(f"no desk named {desk!r}; desks are {', '.join(sorted(policy.desks))}")
    cal = calendar(policy, spec.calendar) if spec.calendar else None
    rules = compile_rules(spec.slo, cal)
    found = entry.desks[desk] = DeskSlo(desk, spec.calendar, cal, rules, fingerprint(policy, desk))
    return found


def fingerprint(policy: Policy, desk: str) -> str:
    """What a desk's clocks depend on, as two 32-hex halves: structure, then schedule.

    The structure half covers which clocks exist and when they start, stop and pause
    (names, applies_to, starts, stops, pause_when); the schedule half covers everything
    (targets, at-risk fractions, the calendar too).  When only the schedule half changes,
    as after a calendar edit, a recompute only has to move due times.
    """
    spec = policy.desks[desk]
    cal = policy.calendars.get(spec.calendar) if spec.calendar else None
    structure = [
        s.model_dump(mode="json", include={"name", "starts", "stops", "applies_to", "pause_when"})
        | {"cadence": s.every is not None}
        for s in spec.slo
    ]
    schedule = {
        "slo": [s.model_dump(mode="json") for s in spec.slo],
        "calendar": cal.model_dump(mode="json") if cal else None,
    }
    return _hash(structure)[:32] + _hash(schedule)[:32]


def same_structure(a: str | None, b: str) -> bool:
    return a is not None and a[:32] == b[:32]


def _hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- rules


def day_length(cal: BusinessCalendar | None) -> timedelta:
    """How long one "business day" is: the most common daily total of the weekly hours.

    A 09:00-17:00 calendar has 8-hour business days, a 24x7 one 24-hour days; with uneven
    days (a short Friday) the usual day wins, and the longer one on a tie.
    """
    if cal is None:
        return timedelta(days=1)
    totals = [_hours_total(spans) for spans in cal.hours.values()]
    totals = [t for t in totals if t > timedelta(0)]
    if not totals:
        return timedelta(days=1)
    counts = Counter(totals)
    return max(counts, key=lambda t: (counts[t], t))


def week_length(cal: BusinessCalendar | None) -> timedelta:
    if cal is None:
        return timedelta(weeks=1)
    return sum((_hours_total(spans) for spans in cal.hours.values()), timedelta(0))


def _clock_seconds(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def _hours_total(spans: list[tuple[str, str]]) -> timedelta:
    return timedelta(seconds=sum(_clock_seconds(e) - _clock_seconds(s) for s, e in spans))


def duration(text: str, cal: BusinessCalendar | None) -> tuple[timedelta, bool]:
    """'4 business hours' → (4h, True); '1 business day' uses the calendar's day length."""
    found = parse_duration(text)
    if found.business:
        return found.sized(day_length(cal), week_length(cal)), True
    return found.sized(), False


def rule_key(slo: SloPolicy) -> str:
    applies = []
    if slo.applies_to.priority:
        applies.append("priority=" + ",".join(slo.applies_to.priority))
    if slo.applies_to.kind:
        applies.append("kind=" + ",".join(slo.applies_to.kind))
    return slo.name + (f"[{';'.join(applies)}]" if applies else "")


def compile_rules(slos: list[SloPolicy], cal: BusinessCalendar | None) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for slo in slos:
        label = slo.within or slo.every or ""
        target, business = duration(label, cal)
        key = rule_key(slo)
        while key in seen:  # a duplicate can never apply (first match wins), keep it distinct
            key += "'"
        seen.add(key)
        rules.append(
            Rule(
                key=key,
                name=slo.name,
                cadence=slo.every is not None,
                starts=slo.starts,
                stops=slo.stops,
                target=target,
                label=label,
                business=business and cal is not None,
                outside_hours=slo.outside_hours,
                priorities=frozenset(slo.applies_to.priority),
                kinds=frozenset(slo.applies_to.kind),
                pause_when_blocked=slo.pause_when == "blocked",
                at_risk=slo.at_risk,
            )
        )
    return tuple(rules)


def business_span(text: str, cal: BusinessCalendar) -> timedelta:
    """`--add` for explain: '4h', '1h30m', '90m', '2d' or '4 business hours', all business
    time: a day is the calendar's business day however it is spelled."""
    try:
        found = bounded(parse_duration(text), text)
    except SpanTooLong as exc:
        raise field_error("add", str(exc)) from exc
    except ValueError as exc:
        raise field_error(
            "add", f"{text!r} is not a duration; write e.g. 4h, 1h30m, 2d or '4 business hours'"
        ) from exc
    return found.sized(day_length(cal), week_length(cal))
