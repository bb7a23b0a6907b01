"""Board and queue cards (pure): rows the pages read turned into cards and columns, with the
moves a card offers and its nearest SLO clock in a few words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dutydesk.durations import format_age
from dutydesk.policy.models import DeskPolicy, OrderRule
from dutydesk.tickets import ordering
from dutydesk.tickets.models import Ticket, ticket_key
from dutydesk.web.present import priority_class


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
    group: str = ""  # the order group (class, sub-class, priority): manual order stays inside it
    pr_links: tuple[str, ...] = ()

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
    #: The card each card may move above (↑) or below (↓) by hand: its neighbour in the same
    #: order group. A card beside another group offers no arrow towards it.
    up: dict[str, str] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)

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
    order_key: str = ""
    pr_links: list[str] | None = None

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
        group=ordering.prefix_of(ticket.order_key or ""),
        pr_links=tuple(ticket.pr_links or ()),
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
        if col.rankable:
            for above, below in zip(col.cards, col.cards[1:], strict=False):
                if above.group == below.group:
                    col.down[above.key] = below.key
                    col.up[below.key] = above.key
    return list(cols.values())
