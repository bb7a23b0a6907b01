"""How pages show things (pure): instants in a desk's zone, navigation, what a viewer may do,
the filing form's notes, resolution labels, the on-call month grid and form errors in words."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.policy.models import RESOLUTIONS, DeskPolicy, Policy
from dutydesk.tickets.models import Ticket

# ----------------------------------------------------------------------------- time


def format_when(at: datetime | str | None, zone: str | tzinfo | None = None) -> str:
    """An instant in a desk's or rotation's zone, with the zone's abbreviation so it is unambiguous."""
    if at is None:
        return "—"
    if isinstance(at, str):  # an ISO instant from a JSON-shaped value
        at = datetime.fromisoformat(at)
    tz: tzinfo = ZoneInfo(zone) if isinstance(zone, str) else (zone or UTC)
    local = at.astimezone(tz)
    return local.strftime("%a %d %b %Y %H:%M ") + (local.tzname() or "")


def desk_zone(policy: Policy, desk: str) -> str:
    """Times on a desk's pages are shown in its business calendar's zone (UTC without one)."""
    d = policy.desks.get(desk)
    if d is not None and d.calendar and d.calendar in policy.calendars:
        return policy.calendars[d.calendar].timezone
    return "UTC"


# ----------------------------------------------------------------------------- navigation


def nav_desks(policy: Policy, user: User | None) -> list[tuple[str, str]]:
    """Desks in the nav bar: the user's own desks, or every desk for people with none listed."""
    if user is None:
        return []
    names = [d for d in policy.desks if not user.desks or d in user.desks]
    return [(name, policy.desks[name].title or name) for name in names]


def safe_next(target: str | None, default: str = "/me") -> str:
    """Only same-site paths are followed after a log-in or a form, never another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def priority_class(priority: str | None) -> str:
    """CSS class for a priority badge; unknown priorities get the neutral style."""
    if priority is None:
        return "prio-none"
    return f"prio-{priority.lower()}" if re.fullmatch(r"P[0-3]", priority) else "prio-other"


def priority_label(priority: str | None, triaged: bool) -> str:
    """A priority badge's words: "untriaged" only for a ticket that is not triaged."""
    return priority or ("no priority" if triaged else "untriaged")


# ----------------------------------------------------------------------------- abilities


@dataclass(frozen=True)
class Abilities:
    """What a person may try on a desk's pages; the services still decide every write."""

    respond: bool = False  # move, assign, triage, block, rank, internal comments
    comment: bool = False
    edit_own: bool = False


def abilities(
    user: User, desk: str, ticket: Ticket | None = None, watching: bool = False
) -> Abilities:
    respond = has_role(user, "responder", desk)
    own = ticket is not None and ticket.reporter_id == user.id
    return Abilities(respond=respond, comment=respond or own or watching, edit_own=respond or own)


# ----------------------------------------------------------------------------- filing form


def admission_note(desk: DeskPolicy) -> str | None:
    """What the criteria checkboxes mean for a desk whose queue admits only some priorities."""
    if not desk.admit or not desk.criteria:
        return None
    return ", ".join(desk.admit)


# ----------------------------------------------------------------------------- resolutions


def resolutions() -> list[tuple[str, str]]:
    labels = {
        "fixed": "Fixed",
        "duplicate": "Duplicate (of another ticket)",
        "wont-fix": "Won't fix (not worth the mana)",
        "converted": "Converted (story / feature request)",
        "moved-to-backlog": "Moved to backlog",
        "cannot-reproduce": "Cannot reproduce",
    }
    return [(r, labels.get(r, r)) for r in RESOLUTIONS]


# ----------------------------------------------------------------------------- on-call calendar


def month_grid(year: int, month: int) -> list[list[date | None]]:
    """Weeks (Monday first) of a month; days outside it are None."""
    weeks: list[list[date | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([d if d.month == month else None for d in week])
    return weeks


def parse_month(text: str | None, today: date) -> tuple[int, int]:
    """'2026-12' -> (2026, 12); anything else is this month."""
    if text and re.fullmatch(r"\d{4}-\d{2}", text):
        y, m = int(text[:4]), int(text[5:])
        if 1 <= m <= 12 and 1970 <= y <= 2200:
            return y, m
    return today.year, today.month


def shift_month(year: int, month: int, delta: int) -> str:
    y, m = divmod(year * 12 + month - 1 + delta, 12)
    return f"{y:04d}-{m + 1:02d}"


def month_name(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year}"


# ----------------------------------------------------------------------------- form errors


def in_words(err: Mapping[str, Any]) -> str:
    """A schema's refusal of one form field in the words a person reads beside it ("write at
    least 3 characters"), not the validator's ("String should have at least 3 characters")."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "required" if n == 1 else f"write at least {n} characters"
    if kind == "string_too_long":
        return f"write at most {ctx.get('max_length')} characters"
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return "give a date, e.g. 2026-12-08"
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type"):
        return "give a date and time, e.g. 2026-12-08 09:00"
    if kind in ("int_parsing", "int_type"):
        return "give a whole number"
    if kind in ("literal_error", "enum"):
        return f"choose one of {ctx.get('expected', 'the listed values')}"
    if kind.startswith("url_"):
        return "give a full link, starting with https://"
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


# ----------------------------------------------------------------------------- ticket keys

_TAG = re.compile(r"(<[^>]+>)")


def link_ticket_keys(html: str, desk: str) -> str:
    """Sanitized HTML with each ``DESK-N`` key in its text made a link to the ticket (a key
    already inside a link, or inside a tag's attributes, stays as it is)."""
    key = re.compile(rf"\b{re.escape(desk.upper())}-\d+\b")
    out, in_link = [], 0
    for part in _TAG.split(html):
        if part.startswith("<"):
            if re.match(r"<a[\s>]", part):
                in_link += 1
            elif part.startswith("</a"):
                in_link = max(0, in_link - 1)
            out.append(part)
        elif in_link:
            out.append(part)
        else:
            out.append(key.sub(lambda m: f'<a href="/tickets/{m.group(0)}">{m.group(0)}</a>', part))
    return "".join(out)


AUDIT_WORDS = {
    "user.created": "added the account",
    "user.changed": "changed the account",
    "user.roles_changed": "changed the roles",
    "user.deactivated": "deactivated the account",
    "user.reactivated": "reactivated the account",
    "user.password_changed": "changed the password",
    "token.created": "created an API token",
    "token.revoked": "revoked an API token",
    "session.ended": "signed a browser session out",
    "session.ended_others": "signed the other browser sessions out",
    "membership.cancel": "ended a rotation membership",
}


def audit_words(action: str) -> str:
    """An audit action in words for the admin pages (the code itself for one not listed)."""
    return AUDIT_WORDS.get(action, action)
