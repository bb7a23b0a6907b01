"""Pure view helpers: board grouping, ages, the timeline, the vague-title nudge, calendars.

Nothing here touches the database or the request, so every rule that shapes a page is a plain
function with unit tests; routes gather rows, these functions turn them into what templates show.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from dutydesk.auth.models import User
from dutydesk.auth.service import has_role
from dutydesk.durations import format_age
from dutydesk.policy.models import RESOLUTIONS, DeskPolicy, OrderRule, Policy
from dutydesk.tickets import ordering
from dutydesk.tickets.models import Comment, Event, Ticket, ticket_key

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


# ----------------------------------------------------------------------------- board


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    priority: str | None
    assignee: str | None
    team: str | None
    kind: str
    status: str
    blocked: bool
    blocked_reason: str | None
    created_at: datetime
    age: str
    version: int
    queue_class: str | None = None
    moves: tuple[str, ...] = ()
    triaged: bool = True
    clock: str | None = None  # the nearest SLO clock, e.g. "triage due in 2h10m"
    clock_state: str | None = None  # running, at_risk, paused or breached: the badge colour

    @property
    def prio_css(self) -> str:
        return priority_class(self.priority)

    @property
    def moves_attr(self) -> str:
        return "|".join(self.moves)

    @property
    def url(self) -> str:
        return f"/tickets/{self.key}"


@dataclass
class Column:
    name: str
    cards: list[Card] = field(default_factory=list)
    total: int = 0
    is_done: bool = False
    rankable: bool = False
    needs_assignee: bool = False

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.cards))

    @property
    def dom_id(self) -> str:
        return "col-" + re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class CardRow:
    """The ticket fields a card needs, in :data:`dutydesk.web.reads.CARD_COLUMNS` order."""

    id: int
    desk: str
    number: int
    title: str
    priority: str | None
    status: str
    assignee_id: int | None
    team: str | None
    kind: str
    category: str | None
    labels: list[str] | None
    fix_target: str
    customer_reported: bool
    blocked: bool
    blocked_reason: str | None
    created_at: datetime
    version: int
    triaged_at: datetime | None

    @property
    def key(self) -> str:
        return ticket_key(self.desk, self.number)


_class_cache: dict[tuple[Any, ...], str | None] = {}


def queue_class(desk: DeskPolicy, t: CardRow | Ticket) -> str | None:
    """The priority-of-work class a ticket falls in (memoised: few distinct combinations)."""
    if not any(isinstance(o, OrderRule) for o in desk.order):
        return None
    labels = tuple(t.labels or ())
    key: tuple[Any, ...] = (
        id(desk),
        t.kind,
        t.priority,
        labels,
        t.fix_target,
        t.customer_reported,
        t.team,
        t.category,
        t.blocked,
    )
    try:
        return _class_cache[key]
    except KeyError:
        pass
    if len(_class_cache) > 10_000:
        _class_cache.clear()
    found = ordering.class_of(
        desk,
        ordering.Orderable(
            kind=t.kind,
            priority=t.priority,
            labels=labels,
            fix_target=t.fix_target,
            customer_reported=t.customer_reported,
            team=t.team,
            category=t.category,
            blocked=t.blocked,
        ),
    )[2]
    _class_cache[key] = found
    return found


_moves_cache: dict[tuple[int, str], tuple[str, ...]] = {}


def _moves(desk: DeskPolicy, status: str) -> tuple[str, ...]:
    """A column's allowed moves, computed once per desk and column rather than once per card."""
    key = (id(desk), status)
    found = _moves_cache.get(key)
    if found is None:
        found = tuple(desk.allowed_moves(status)) if status in desk.columns else ()
        _moves_cache[key] = found
    return found


def clock_label(name: str, state: str, remaining: str) -> str:
    """A card's clock in a few words: 'triage due in 2h10m', 'update overdue 3h', 'paused'."""
    if state == "breached":
        return f"{name} overdue {remaining.lstrip('-')}"
    if state == "paused":
        return f"{name} paused"
    return f"{name} due in {remaining}"


def card_of(
    ticket: CardRow | Ticket,
    names: Mapping[int, str],
    desk: DeskPolicy,
    now: datetime,
    clock: tuple[str, str, str] | None = None,
) -> Card:
    """``clock`` is the nearest open SLO clock as (name, shown state, remaining)."""
    return Card(
        key=ticket.key,
        title=ticket.title,
        priority=ticket.priority,
        assignee=names.get(ticket.assignee_id) if ticket.assignee_id else None,
        team=ticket.team,
        kind=ticket.kind,
        status=ticket.status,
        blocked=ticket.blocked,
        blocked_reason=ticket.blocked_reason,
        created_at=ticket.created_at,
        age=format_age(now - ticket.created_at),
        version=ticket.version,
        queue_class=queue_class(desk, ticket),
        moves=_moves(desk, ticket.status),
        triaged=ticket.triaged_at is not None,
        clock=clock_label(*clock) if clock else None,
        clock_state=clock[1] if clock else None,
    )


def board_columns(
    desk: DeskPolicy, cards: Iterable[Card], totals: Mapping[str, int] | None = None
) -> list[Column]:
    """One column per workflow column, in policy order, cards kept in the order given.

    ``totals`` gives each column's full size when fewer cards were loaded than exist, so a
    column can say how many more the queue page holds. The intake column is where manual
    ranking happens (To do on SET, New on infra).
    """
    cols = {
        name: Column(
            name,
            is_done=name == desk.done_column,
            rankable=name == desk.intake_column,
            needs_assignee=name in desk.assignee_columns,
        )
        for name in desk.columns
    }
    for card in cards:
        col = cols.get(card.status)
        if col is not None:
            col.cards.append(card)
    for col in cols.values():
        col.total = max(len(col.cards), (totals or {}).get(col.name, 0))
    return list(cols.values())


# ----------------------------------------------------------------------------- filing form

_GENERIC = {
    "quick",
    "request",
    "requests",
    "question",
    "help",
    "issue",
    "issues",
    "problem",
    "problems",
    "bug",
    "test",
    "tests",
    "doesnt",
    "doesn",
    "dont",
    "not",
    "work",
    "works",
    "working",
    "broken",
    "fix",
    "please",
    "urgent",
    "asap",
    "stuff",
    "thing",
    "things",
    "something",
    "todo",
    "small",
    "simple",
    "hi",
    "hello",
    "hey",
    "error",
    "errors",
    "failing",
    "fails",
    "fail",
    "failed",
    "update",
    "change",
    "ticket",
    "task",
    "misc",
    "various",
    "check",
    "need",
    "needed",
    "wrong",
    "weird",
    "strange",
    "again",
    "still",
    "some",
    "it",
    "this",
    "that",
    "my",
    "our",
}
_STOP = {
    "a",
    "an",
    "the",
    "and",
    "or",
    "for",
    "to",
    "of",
    "in",
    "on",
    "at",
    "by",
    "with",
    "is",
    "are",
    "be",
    "was",
    "from",
    "as",
    "we",
    "i",
    "you",
    "can",
    "could",
    "would",
    "should",
    "do",
    "does",
    "did",
    "s",
    "t",
    "up",
    "into",
    "out",
    "about",
    "new",
    "add",
    "get",
    "set",
    "make",
    "run",
    "use",
    "all",
    "any",
    "when",
    "how",
    "why",
    "what",
    "where",
    "which",
    "who",
}
_WORDS = re.compile(r"[A-Za-z0-9_]+(?:['’][A-Za-z]+)?")


def _words(text: str) -> list[str]:
    return [w.lower().replace("'", "").replace("’", "") for w in _WORDS.findall(text)]


def vague_title_hint(title: str) -> str | None:
    """A nudge for titles that say nothing specific ("quick request", "test doesn't work?").

    A title is vague when, once filler and generic words are dropped, fewer than two words
    remain that name *what* and *where*. The nudge never blocks filing.
    """
    words = _words(title)
    if not words:
        return None
    specific = [w for w in words if w not in _GENERIC and w not in _STOP and len(w) > 1]
    if len(specific) >= 2:
        return None
    return (
        "This title could describe many tickets. Say what and where, e.g. "
        "“Add a LUCI builder for linux web engine” or “Debug gallery startup on devicelab "
        "bot X” rather than “quick request” or “test doesn't work?”."
    )


def significant_words(title: str, limit: int = 6) -> list[str]:
    """The words of a title worth searching on for duplicates, longest (most specific) first."""
    seen: list[str] = []
    for w in _words(title):
        if len(w) < 3 or w in _STOP or w in _GENERIC or w in seen:
            continue
        seen.append(w)
    return sorted(seen, key=len, reverse=True)[:limit]


def rank_candidates(hits: Mapping[str, Sequence[int]], limit: int = 5) -> list[int]:
    """Tickets found by the most title words first; ties keep the search engine's order."""
    score: dict[int, tuple[int, int]] = {}
    for words_seen, (_, ids) in enumerate(hits.items()):
        for pos, tid in enumerate(ids):
            count, best = score.get(tid, (0, 10**9))
            score[tid] = (count + 1, min(best, pos * 100 + words_seen))
    ordered = sorted(score.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    return [tid for tid, _ in ordered[:limit]]


DESCRIPTION_PROMPTS = (
    ("Why", "what is blocked or at risk, and since when"),
    ("What exactly", "the change, commands or access you need"),
    ("Where", "which bots, builders, services, versions or links"),
    ("How to verify", "how you and on-call will know it is done"),
)


def admission_note(desk: DeskPolicy) -> str | None:
    """What the criteria checkboxes mean for a desk whose queue admits only some priorities."""
    if not desk.admit or not desk.criteria:
        return None
    return ", ".join(desk.admit)


# ----------------------------------------------------------------------------- ticket page


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    actor: str | None
    kind: str  # "comment" or "event"
    #: for events: what happened, as (words, ticket key it links to or None); one entry per
    #: change made together by one person in one action
    parts: tuple[tuple[str, str | None], ...] = ()
    html: str = ""  # sanitized comment HTML (rendered from markdown by dutydesk.markdown)
    public: bool = True
    comment_kind: str = "comment"

    @property
    def text(self) -> str:
        return "; ".join(words for words, _ in self.parts)


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
        return value[:16].replace("T", " ") + " UTC"
    return str(value)


_FIELD_NAMES = {
    "assignee": "assignee",
    "triaged_by": "triager",
    "duplicate_of": "duplicate of",
    "pr_links": "PR links",
    "fix_target": "fix target",
    "customer_reported": "customer reported",
    "blocked_reason": "blocked reason",
    "resolved_at": "resolved at",
    "triaged_at": "triaged at",
    "started_at": "started at",
}


# Changes the timeline leaves out because the event beside them says it better
# ("triaged it as P1", "moved it from Triaged to In progress", "moved it above X").
_IMPLIED = {"rank", "triaged_at", "triaged_by", "started_at", "resolved_at"}


def describe_event(e: Event) -> tuple[str, str | None]:
    """One line of history in words, plus a ticket key it refers to (if any)."""
    data = e.data or {}
    if e.type == "filed":
        criteria = data.get("criteria") or []
        tail = f" (criteria: {', '.join(criteria)})" if criteria else ""
        return f"filed this ticket{tail}", None
    if e.type == "triaged":
        return (f"triaged it as {e.after}" if e.after else "triaged it"), None
    if e.type == "admission":
        where = "the queue" if data.get("to") == "queue" else "the weekly triage backlog"
        return f"moved it to {where} ({data.get('reason', '')})", None
    if e.type == "blocked":
        return f"marked it blocked: {e.after}", None
    if e.type == "unblocked":
        return "unblocked it", None
    if e.type == "returned":
        return f"it went back to {e.after} ({data.get('reason', '')})", None
    if e.type == "ranked":
        if data.get("before_key"):
            return f"moved it above {data['before_key']}", data["before_key"]
        if data.get("after_key"):
            return f"moved it below {data['after_key']}", data["after_key"]
        return "reordered it", None
    if e.type == "converted":
        return f"converted it from {e.before} to {e.after}", None
    if e.type == "duplicate_linked":
        return f"{e.after} was closed as a duplicate of this ticket", e.after
    if e.type == "changed":
        name = _FIELD_NAMES.get(e.field or "", e.field or "a field")
        if e.field == "status":
            return f"moved it from {_show(e.before)} to {_show(e.after)}", None
        if e.field == "duplicate_of":
            if e.after:
                return f"marked it a duplicate of {e.after}", str(e.after)
            return f"cleared duplicate of {_show(e.before)}", None
        if e.field in ("description",):
            return "edited the description", None
        if e.field in _IMPLIED:
            return "", None  # bookkeeping that a neighbouring event already says in words
        if e.field == "blocked":
            return ("marked it blocked" if e.after else "cleared blocked"), None
        if e.before in (None, "", []):
            return f"set {name} to {_show(e.after)}", None
        if e.after in (None, "", []):
            return f"cleared {name} (was {_show(e.before)})", None
        return f"changed {name} from {_show(e.before)} to {_show(e.after)}", None
    return e.type.replace("_", " "), None


def timeline(
    events: Sequence[tuple[Event, str | None]],
    comments: Sequence[tuple[Comment, str | None]],
) -> list[TimelineItem]:
    """One history: events in order, each comment shown where its 'commented' event stands.

    ``comments`` holds only what the viewer may see; an event about a comment they may not see
    (an internal note) is left out with it.
    """
    by_id = {c.id: (c, author) for c, author in comments}
    items: list[TimelineItem] = []
    for e, actor in events:
        if e.type == "commented":
            cid = (e.data or {}).get("comment_id")
            found = by_id.pop(cid, None) if isinstance(cid, int) else None
            if found is None:
                continue
            c, author = found
            items.append(
                TimelineItem(
                    at=c.created_at,
                    actor=author,
                    kind="comment",
                    html=c.body_html,
                    public=c.public,
                    comment_kind=str((e.data or {}).get("kind", "comment")),
                )
            )
            continue
        text, ref = describe_event(e)
        if not text:
            continue
        last = items[-1] if items else None
        if last and last.kind == "event" and last.actor == actor and last.at == e.at:
            items[-1] = replace(last, parts=(*last.parts, (text, ref)))
        else:
            items.append(TimelineItem(at=e.at, actor=actor, kind="event", parts=((text, ref),)))
    for c, author in by_id.values():  # comments without an event (imported history)
        items.append(
            TimelineItem(
                at=c.created_at, actor=author, kind="comment", html=c.body_html, public=c.public
            )
        )
    items.sort(key=lambda i: i.at)
    return items


OPEN_CLOCK_STATES = ("running", "at_risk", "breached")


def nearest_clock(clocks: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The SLO clock that needs attention first: breached, then least time left; None if none run."""
    open_ = [c for c in clocks if c.get("state") in OPEN_CLOCK_STATES]
    if not open_:
        return None
    return min(open_, key=lambda c: (c.get("state") != "breached", c.get("remaining_seconds", 0)))


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


# ----------------------------------------------------------------------------- queue filters

FILTER_KEYS = (
    "status",
    "priority",
    "assignee",
    "team",
    "kind",
    "label",
    "category",
    "blocked",
    "q",
)
VIEWS = ("queue", "backlog", "open", "closed", "all")


@dataclass(frozen=True)
class QueueQuery:
    """The queue page's filters exactly as they appear in its URL, so views can be shared."""

    view: str = "queue"
    status: str = ""
    priority: str = ""
    assignee: str = ""
    team: str = ""
    kind: str = ""
    label: str = ""
    category: str = ""
    blocked: str = ""  # "", "yes", "no"
    q: str = ""
    saved: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueueQuery:
        def get(name: str) -> str:
            return (params.get(name) or "").strip()[:200]

        view = get("view") or "queue"
        blocked = get("blocked")
        return cls(
            view=view if view in VIEWS else "queue",
            blocked=blocked if blocked in ("yes", "no") else "",
            saved=get("saved"),
            **{k: get(k) for k in FILTER_KEYS if k != "blocked"},
        )

    def filters(self) -> dict[str, Any]:
        """The TicketFilter fields these URL parameters ask for (view handled separately)."""
        out: dict[str, Any] = {}
        for key in ("status", "priority", "kind"):
            value = getattr(self, key)
            if value:
                out[key] = [value]
        for key in ("assignee", "team", "label", "category", "q"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.blocked:
            out["blocked"] = self.blocked == "yes"
        return out

    @property
    def active(self) -> bool:
        return bool(self.filters()) or self.view != "queue" or bool(self.saved)

    def url(self, desk: str, **changes: str) -> str:
        values = {**self.__dict__, **changes}
        query = {k: v for k, v in values.items() if v and not (k == "view" and v == "queue")}
        qs = urlencode(query)
        return f"/desks/{desk}/queue" + (f"?{qs}" if qs else "")


def saved_filter_params(query: Mapping[str, Any]) -> dict[str, str]:
    """A saved filter's stored query as queue-page URL parameters (where they map one to one)."""
    out: dict[str, str] = {}
    for key in ("status", "priority", "kind"):
        value = query.get(key)
        if isinstance(value, list) and value:
            out[key] = str(value[0])
        elif isinstance(value, str):
            out[key] = value
    for key in ("assignee", "team", "label", "category", "q"):
        if query.get(key):
            out[key] = str(query[key])
    if query.get("blocked") is not None:
        out["blocked"] = "yes" if query["blocked"] else "no"
    if query.get("open") is False or query.get("resolution") or query.get("resolved_within"):
        out["view"] = "closed"
    elif query.get("in_queue") is False:
        out["view"] = "backlog"
    return out


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
