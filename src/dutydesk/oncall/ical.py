"""iCalendar (RFC 5545) feeds of on-call shifts, and import of schedules kept elsewhere.

Export writes one VEVENT per shift with DTSTART/DTEND in UTC: valid everywhere, no VTIMEZONE to
get wrong, and Google, Outlook and Apple calendars show it in the reader's zone. The UID hashes
rotation, layer and start, so a subscribed calendar updates an event in place when the person
on a slot changes instead of showing a stale copy next to the new one.

Import reads feeds exported by PagerDuty, Grafana OnCall, GoAlert or a shared calendar and maps
each event to a dutydesk user. A person is taken, in this order, from dutydesk's own
``X-DUTYDESK-PERSON``, the ATTENDEEs (CN or mailto), the SUMMARY (``"On Call - Alice Smith -
Primary"``, ``"On-call: alice"``, ``"[L1] alice"``, ``"alice On-Call (GoAlert: Infra)"``,
``"alice"``, ``"Ana Alvarez on call"``), the ORGANIZER, and finally ``owner`` (for personal
feeds whose events carry no name). An event with several guests (Google lists the organizer
among them; a team is often invited to see a shift) is read from its SUMMARY when every name
in it maps. A name maps to a user when, case-insensitively, it is an alias, a user name, an
e-mail address that is an alias, or an e-mail whose local part is a user name; anything else
is reported in ``unknown`` and its events are left out: names are never guessed.

Times: UTC and TZID values are converted to UTC. Floating (zone-less) values and date-only
(all-day) values are read in ``default_timezone`` (midnight starts the day; a date-only event
without DTEND or DURATION lasts one day), with the handoff rules of
:func:`dutydesk.oncall.wallclock.local_to_utc` for gaps and folds; a calendar-wide
``X-WR-TIMEZONE`` (Google Calendar) is honoured. Recurring events are expanded within the
import's window by the ``recurring-ical-events`` library: RRULE and RDATE add instances,
EXDATE removes them, and an event with a RECURRENCE-ID replaces (moves, shortens or, with
STATUS:CANCELLED, cancels) one instance — as Google Calendar, Outlook and PagerDuty write them.
Without a window, recurring events are listed in ``skipped``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from dutydesk.oncall.shifts import Shift
from dutydesk.oncall.wallclock import local_to_utc

# icalendar (~40 ms) is imported where a feed is read or written: the app starts without it.
if TYPE_CHECKING:
    from icalendar import Component

__all__ = [
    "PRODID",
    "ImportResult",
    "ImportedShift",
    "export_ics",
    "import_ics",
    "merge_ics",
    "shift_uid",
]

PRODID = "-//dutydesk//on-call//EN"


def _utc_seconds(value: datetime) -> datetime:
    # iCalendar date-times carry whole seconds; truncate so UIDs and round trips agree.
    return value.astimezone(UTC).replace(microsecond=0)


def shift_uid(rotation_name: str, shift: Shift) -> str:
    """Stable UID of a shift slot: the same rotation, layer and start give the same UID."""
    key = f"{rotation_name}\x1f{shift.layer}\x1f{_utc_seconds(shift.start):%Y%m%dT%H%M%SZ}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@dutydesk"


def export_ics(
    rotation_name: str,
    shifts: Iterable[Shift],
    *,
    calendar_name: str | None = None,
    prodid: str = PRODID,
    person: str | None = None,
    generated_at: datetime | None = None,
    refresh: timedelta = timedelta(hours=1),
) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) with one event per shift; ``person`` filters a personal feed.

    ``refresh`` is advertised as REFRESH-INTERVAL (RFC 7986) and X-PUBLISHED-TTL (Outlook,
    Apple) so subscribers poll often enough to see overrides. ``generated_at`` (default: now)
    becomes DTSTAMP; pass it to make the output reproducible.
    """
    from icalendar import Calendar, Event, vDuration

    stamp = _utc_seconds(generated_at or datetime.now(UTC))
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = calendar_name or (
        f"On call: {rotation_name}" if person is None else f"On call: {person} ({rotation_name})"
    )
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(refresh))
    for shift in shifts:
        if person is not None and shift.person != person:
            continue
        ev = Event()
        ev.add("uid", shift_uid(rotation_name, shift))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", _utc_seconds(shift.start))
        ev.add("dtend", _utc_seconds(shift.end))
        ev.add("summary", f"On call: {shift.person} ({shift.layer})")
        lines = [f"Rotation {rotation_name}, layer {shift.layer}"]
        if shift.team:
            lines[0] += f", team {shift.team}"
        if shift.source != "rotation":
            lines.append(f"Source: {shift.source}")
        lines.extend(f"Warning: {w}" for w in shift.warnings)
        ev.add("description", "\n".join(lines))
        ev.add("transp", "TRANSPARENT")  # being on call is not "busy" for meeting planners
        ev.add("x-dutydesk-rotation", rotation_name)
        ev.add("x-dutydesk-layer", shift.layer)
        ev.add("x-dutydesk-person", shift.person)
        cal.add_component(ev)
    return bytes(cal.to_ical())


def merge_ics(calendars: Sequence[bytes]) -> bytes:
    """One calendar with every event of ``calendars`` (the first one's name and header)."""
    from icalendar import Calendar

    merged = Calendar.from_ical(calendars[0])
    for data in calendars[1:]:
        for ev in Calendar.from_ical(data).walk("VEVENT"):
            merged.add_component(ev)
    return bytes(merged.to_ical())


class ImportedShift(NamedTuple):
    """One imported stretch of on-call: UTC start and end, dutydesk user name."""

    start: datetime
    end: datetime
    person: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Mapped shifts (sorted), names that matched nobody (sorted), events left out and why."""

    shifts: tuple[ImportedShift, ...]
    unknown: tuple[str, ...]
    skipped: tuple[str, ...] = ()


# Summary decorations used by the tools we import from, peeled off to leave the name.
_PRIORITY = re.compile(r"^\s*\[[^\]]*\]\s*")  # Grafana OnCall "[L1] alice"
_GOALERT = re.compile(r"^(?P<name>.*?)\s*on[\s-]?call\s*\([^)]*\)\s*$", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*on[\s-]?call\b\s*(?:[:\-–—]\s*)?", re.IGNORECASE)
# A shared calendar's "Ana Alvarez on call", "Ana Alvarez is on-call", "Ana Alvarez - on call".
_SUFFIX = re.compile(r"^(?P<name>.*?)\s*(?:[:\-–—]\s*)?(?:is\s+)?on[\s-]?call\s*$", re.IGNORECASE)
_TRAILING_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
_SEPARATORS = re.compile(r"\s*[,;]\s*")


def _summary_names(summary: str) -> list[str]:
    text = _PRIORITY.sub("", summary).strip()
    m = _GOALERT.match(text) or _SUFFIX.match(text)
    if m and m.group("name"):
        text = m.group("name")
    else:
        rest = _PREFIX.sub("", text, count=1)
        if rest != text:
            text = rest.split(" - ")[0]  # PagerDuty: "On Call - Name - Schedule"
    text = _TRAILING_PAREN.sub("", text).strip()
    return [n for n in _SEPARATORS.split(text) if n]


def _addresses(value: object) -> list[tuple[str | None, str | None]]:
    from icalendar import vCalAddress

    items = value if isinstance(value, list) else [value]
    out: list[tuple[str | None, str | None]] = []
    for item in items:
        if item is None:
            continue
        raw = str(item).strip()
        email = raw[7:] if raw.lower().startswith("mailto:") else (raw if "@" in raw else None)
        cn = item.params.get("CN") if isinstance(item, vCalAddress) else None
        if cn or email:
            out.append((str(cn).strip() if cn else None, email or None))
    return out


def _identities(
    ev: Component, owner: str | None, maps: Callable[[str], bool]
) -> list[tuple[str | None, str | None]]:
    own = ev.get("X-DUTYDESK-PERSON")
    if own:
        return [(str(own), None)]
    found = _addresses(ev.get("ATTENDEE"))
    summary = ev.get("SUMMARY")
    names = _summary_names(str(summary)) if summary else []
    # An event with guests lists more than the person on call (Google adds the organizer;
    # a team is often invited to see the shift): a summary naming known people says who.
    if len(found) > 1 and names and all(maps(n) for n in names):
        return [(n, None) for n in names]
    if found:
        return found
    if names:
        return [(n, None) for n in names]
    found = _addresses(ev.get("ORGANIZER"))
    if found:
        return found
    return [(owner, None)] if owner else []


def _instant(value: object, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return local_to_utc(value, zone)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return local_to_utc(datetime.combine(value, time()), zone)
    raise ValueError(f"not a date or date-time: {value!r}")


def _span(ev: Component, zone: ZoneInfo) -> tuple[datetime, datetime]:
    raw_start = ev.decoded("DTSTART")
    start = _instant(raw_start, zone)
    if ev.get("DTEND") is not None:
        return start, _instant(ev.decoded("DTEND"), zone)
    duration = ev.decoded("DURATION") if ev.get("DURATION") is not None else None
    all_day = isinstance(raw_start, date) and not isinstance(raw_start, datetime)
    if isinstance(duration, timedelta):
        if all_day:  # whole days are calendar days, not 24-hour blocks, across DST
            return start, _instant(raw_start + timedelta(days=duration.days), zone)
        return start, start + duration
    if all_day:
        return start, _instant(raw_start + timedelta(days=1), zone)
    return start, start


def import_ics(
    data: bytes | str,
    known_people: Collection[str],
    aliases: Mapping[str, str] | None = None,
    *,
    default_timezone: str = "UTC",
    owner: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    max_instances: int = 5000,
) -> ImportResult:
    """Read shifts from an iCalendar feed, mapping people as described in the module doc.

    With ``window`` (UTC instants), recurring events are expanded to their instances that
    overlap it, and every shift is cut to it; more than ``max_instances`` is an error.

    ``aliases`` maps names or e-mail addresses (any case) to user names, for people whose
    calendar identity differs from their dutydesk name. An event naming several people yields
    one shift per person. Raises ``ValueError`` if the data is not iCalendar or an alias points
    at an unknown user.
    """
    people = {p.lower(): p for p in known_people}
    alias_map: dict[str, str] = {}
    for key, target in (aliases or {}).items():
        if target.lower() not in people:
            raise ValueError(f"alias {key!r} points at unknown user {target!r}")
        alias_map[key.strip().lower()] = people[target.lower()]
    from icalendar import Calendar

    zone = ZoneInfo(default_timezone)
    try:
        cal = Calendar.from_ical(data)
    except ValueError as exc:
        raise ValueError(f"not an iCalendar file: {exc}") from None

    def lookup(name: str | None, email: str | None) -> str | None:
        keys = [k for k in (name, email, email.split("@")[0] if email else None) if k]
        for key in keys:
            k = key.strip().lower()
            if k in alias_map:
                return alias_map[k]
            if k in people:
                return people[k]
        return None

    skipped: list[str] = []
    if window is not None:
        events = _expand(cal, window, max_instances)
        recurring: set[str] = set()
    else:
        events = list(cal.walk("VEVENT"))
        recurring = {str(ev.get("UID")) for ev in events if ev.get("RRULE") or ev.get("RDATE")}
    found: set[ImportedShift] = set()
    unknown: set[str] = set()
    for ev in events:
        uid = str(ev.get("UID", "?"))
        label = f"event {uid} ({ev.get('SUMMARY', '')})"
        if window is None and (ev.get("RRULE") or ev.get("RDATE") or uid in recurring):
            skipped.append(f"{label}: recurring events are not expanded; export expanded events")
            continue
        if str(ev.get("STATUS", "")).upper() == "CANCELLED":
            skipped.append(f"{label}: cancelled")
            continue
        try:
            start, end = _span(ev, zone)
        except (KeyError, ValueError, TypeError) as exc:
            skipped.append(f"{label}: unreadable time ({exc})")
            continue
        if end <= start:
            skipped.append(f"{label}: ends before it starts")
            continue
        if window is not None:
            start, end = max(start, window[0]), min(end, window[1])
            if end <= start:
                continue
        identities = _identities(ev, owner, lambda n: lookup(n, None) is not None)
        if not identities:
            skipped.append(f"{label}: names nobody")
            continue
        for name, email in identities:
            person = lookup(name, email)
            if person is None:
                unknown.add(name or email or "?")
            else:
                found.add(ImportedShift(start, end, person))
    return ImportResult(
        shifts=tuple(sorted(found)),
        unknown=tuple(sorted(unknown)),
        skipped=tuple(skipped),
    )


def _expand(cal: Component, window: tuple[datetime, datetime], limit: int) -> list[Component]:
    """Every event instance overlapping ``window``, recurring series expanded."""
    import recurring_ical_events

    query = recurring_ical_events.of(cal, skip_bad_series=True)
    out: list[Component] = []
    try:
        for ev in query.between(window[0], window[1]):
            out.append(ev)
            if len(out) > limit:
                raise ValueError(f"more than {limit} events in the window; import a shorter window")
    except (recurring_ical_events.InvalidCalendar, KeyError, TypeError) as exc:
        raise ValueError(f"cannot expand the calendar's recurring events: {exc}") from None
    return out
