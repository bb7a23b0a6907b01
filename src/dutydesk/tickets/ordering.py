"""Queue order as a stored string key (pure rules, no database).

``order_key`` = class prefix + ``~`` + rank. The prefix encodes what the policy ranks by
(priority-of-work class and sub-class, priority); the rank is a fractional key that starts as
the filing time and is rewritten only when someone moves the ticket by hand, so a manual move
touches one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dutydesk.policy.models import DeskPolicy, OrderRule

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_BASE = len(DIGITS)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Orderable:
    """The fields ordering looks at."""

    kind: str
    priority: str | None
    labels: Sequence[str] = ()
    fix_target: str = "none"
    customer_reported: bool = False
    team: str | None = None
    category: str | None = None
    blocked: bool = False


def matches(cond: str, t: Orderable) -> bool:
    if cond == "*":
        return True
    if cond == "customer_reported":
        return t.customer_reported
    if cond == "blocked":
        return t.blocked
    field, _, value = cond.partition(":")
    if field == "label":
        return value in t.labels
    actual = {
        "kind": t.kind,
        "fix_target": t.fix_target,
        "priority": t.priority,
        "team": t.team,
        "category": t.category,
    }.get(field)
    return actual == value


def class_of(desk: DeskPolicy, t: Orderable) -> tuple[int, int, str | None]:
    """(class index, sub-class index, class name); unmatched tickets come after every class."""
    rules = [r for r in desk.order if isinstance(r, OrderRule)]
    for i, rule in enumerate(rules):
        if matches(rule.when, t):
            sub = next((j for j, c in enumerate(rule.then) if matches(c, t)), len(rule.then))
            return i, sub, rule.class_
    return len(rules), 0, None


def order_prefix(desk: DeskPolicy, t: Orderable) -> str:
    cls, sub, _ = class_of(desk, t)
    if t.priority is None:
        prio = 0 if desk.untriaged == "first" else 99
    else:
        prio = desk.priorities.index(t.priority) + 1
    uses_priority = "priority" in desk.order
    return f"c{cls:02d}s{sub:02d}p{prio if uses_priority else 0:02d}"


def order_key(desk: DeskPolicy, t: Orderable, rank: str) -> str:
    return f"{order_prefix(desk, t)}~{rank}"


def prefix_of(key: str) -> str:
    return key.partition("~")[0]


def rank_for_time(at: datetime) -> str:
    """Initial rank: filing time in base 36 (fixed width), so the default order is by age."""
    micros = int((at - _EPOCH).total_seconds() * 1_000_000)
    digits = []
    for _ in range(11):
        micros, r = divmod(micros, _BASE)
        digits.append(DIGITS[r])
    # A key never ends in '0', so there is always room for a key between two others.
    return "".join(reversed(digits)) + "i"


def rank_between(before: str | None, after: str | None) -> str:
    """A key strictly between ``before`` and ``after`` (None: open end)."""
    a = before or ""
    if after is not None and not a < after:
        raise ValueError(f"rank {a!r} is not below {after!r}")
    return _midpoint(a, after)


def _midpoint(a: str, b: str | None) -> str:
    if b is not None:
        n = 0
        while n < len(b) and (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    da = DIGITS.index(a[0]) if a else 0
    db = DIGITS.index(b[0]) if b is not None else _BASE
    if db - da > 1:
        return DIGITS[(da + db) // 2]
    if b is not None and len(b) > 1:
        return b[:1]
    return DIGITS[da] + _midpoint(a[1:], None)


# ----------------------------------------------------------------------------- the rule in words

_FIELD_WORDS = {
    "kind": "the kind",
    "fix_target": "the fix target",
    "priority": "the priority",
    "team": "the team",
    "category": "the category",
    "label": "the labels",
    "customer_reported": "“reported by a customer”",
    "blocked": "the blocked flag",
}


def _field_of(cond: str) -> str:
    return cond.partition(":")[0]


def _plural(name: str) -> str:
    """'bug' -> 'bugs'; 'tech-debt' -> 'tech-debt tickets' (a class name read as a noun)."""
    return f"{name}s" if name.isalpha() else f"{name} tickets"


def _cond_words(cond: str) -> str:
    """A sub-class condition as an adjective: 'fix_target:hotfix' -> 'hotfix'."""
    if cond == "*":
        return "other"
    if cond == "customer_reported":
        return "customer-reported"
    if cond == "blocked":
        return "blocked"
    field, _, value = cond.partition(":")
    return f"{value} ({field.replace('_', ' ')})" if field in ("team", "category") else value


def _group_words(desk: DeskPolicy, t: Orderable) -> tuple[str, str]:
    """(what the ticket is, in the team's words; the field that put it there)."""
    rules = [r for r in desk.order if isinstance(r, OrderRule)]
    cls, sub, name = class_of(desk, t)
    if name is None:
        return "tickets outside every class", "kind" if rules else "priority"
    rule = rules[cls]
    if sub < len(rule.then):
        return f"{_cond_words(rule.then[sub])} {_plural(name)}", _field_of(rule.then[sub])
    if rule.then:
        return f"other {_plural(name)}", _field_of(next(c for c in rule.then if c != "*"))
    return _plural(name), _field_of(rule.when)


def _prio_words(desk: DeskPolicy, t: Orderable) -> str:
    return f"{t.priority} tickets" if t.priority else "untriaged tickets"


def order_refusal(desk: DeskPolicy, moving: Orderable, target: Orderable) -> str | None:
    """Why ``moving`` cannot be placed beside ``target`` by hand, in the team's words; None if it can.

    The desk's ordering rule puts tickets in groups (classes, then sub-classes, then priority
    when the desk orders by priority); manual order applies within a group. The sentence says
    which group stays above which and what to change to move across — the one wording the
    board, the API, the CLI and chat show.
    """
    if order_prefix(desk, moving) == order_prefix(desk, target):
        return None
    mc, ms, _ = class_of(desk, moving)
    tc, ts, _ = class_of(desk, target)
    if (mc, ms) != (tc, ts):
        upper, lower = (moving, target) if (mc, ms) < (tc, ts) else (target, moving)
        up_words, _ = _group_words(desk, upper)
        low_words, _ = _group_words(desk, lower)
        _, field = _group_words(desk, moving)
        if field == "*":  # "other": what would lift it is the other ticket's condition
            _, field = _group_words(desk, target)
        if mc != tc:
            rules = [r for r in desk.order if isinstance(r, OrderRule)]
            field = _field_of(rules[min(mc, len(rules) - 1)].when) if rules else "kind"
            if field == "*":
                field = "kind"
        change = _FIELD_WORDS.get(field, f"the {field.replace('_', ' ')}")
        return f"{up_words} stay above {low_words}; change {change} to move it"
    # Same class and sub-class: the priority tells them apart.
    if moving.priority is None or target.priority is None:
        first = desk.untriaged == "first"
        untriaged_up = (moving.priority is None) == first
        upper, lower = (moving, target) if untriaged_up else (target, moving)
        return (
            f"{_prio_words(desk, upper)} stay above {_prio_words(desk, lower)}; "
            "triage it (set a priority) to move it"
        )
    a, b = desk.priorities.index(moving.priority), desk.priorities.index(target.priority)
    upper, lower = (moving, target) if a < b else (target, moving)
    return (
        f"{_prio_words(desk, upper)} stay above {_prio_words(desk, lower)}; "
        "change the priority to move it"
    )
