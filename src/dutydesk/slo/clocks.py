"""Pure clock rules: from an SLO rule, a calendar and a ticket's facts to due instants.

No database here.  A clock is a :class:`Clock` value; :func:`reconcile` compares it with the
ticket's current facts and starts, pauses, resumes, stops or restarts clocks, returning the
new ones.  The service layer loads and stores rows; everything that decides lives here.

Time model: a clock *consumes* business time (or real time, for targets not written in
business units) from ``started_at``, except during pause spells.  Its due instant is the
earliest instant by which ``target`` has been consumed, so a blocked spell moves the due time
by exactly the business time it covered; a spell that begins after the due instant changes
nothing (a breach stands).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from dutydesk.slo.calendar import BusinessCalendar, deadline

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
MET, BREACHED, CANCELLED = "met", "breached", "cancelled"

Fact = Literal["filed", "update", "triaged", "started", "resolved"]


class Timeline(Protocol):
    """What a clock needs from time: BusinessCalendar, or REAL_TIME for wall-clock targets."""

    def add(self, t: datetime, delta: timedelta) -> datetime: ...

    def between(self, a: datetime, b: datetime) -> timedelta: ...


class RealTime:
    """Every instant counts (targets such as "2 hours" without "business")."""

    def add(self, t: datetime, delta: timedelta) -> datetime:
        return (t + delta).astimezone(UTC)

    def between(self, a: datetime, b: datetime) -> timedelta:
        return max(b - a, timedelta(0))


REAL_TIME = RealTime()


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled ``[[desks.X.slo]]`` entry (see :mod:`dutydesk.slo.policy`)."""

    key: str  # "update[priority=P0]": identifies the rule across policy edits
    name: str
    cadence: bool  # every: restarts on each stop event; within: one deadline
    starts: Fact
    stops: Fact
    target: timedelta
    label: str  # the policy's words, e.g. "4 business hours"
    business: bool
    outside_hours: str | None = None
    priorities: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    pause_when_blocked: bool = False
    at_risk: float = 0.75

    def applies(self, priority: str | None, kind: str | None) -> bool:
        if self.priorities and priority not in self.priorities:
            return False
        return not self.kinds or kind in self.kinds


def applicable(rules: Sequence[Rule], name: str, facts: Facts) -> Rule | None:
    """The first rule called `name` that applies to the ticket (policy order wins)."""
    for rule in rules:
        if rule.name == name and rule.applies(facts.priority, facts.kind):
            return rule
    return None


@dataclass(slots=True)
class Facts:
    """What the clocks read from a ticket."""

    created_at: datetime
    is_open: bool = True
    priority: str | None = None
    kind: str | None = None
    triaged_at: datetime | None = None
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    last_update_at: datetime | None = None
    blocked: bool = False
    blocked_at: datetime | None = None
    # In the desk's urgent queue; an untriaged backlog ticket waits for the weekly triage.
    in_queue: bool = True

    def at(self, fact: Fact) -> datetime | None:
        """When `fact` (last) happened, or None if it has not."""
        if fact == "filed":
            return self.created_at
        if fact == "triaged":
            return self.triaged_at
        if fact == "started":
            return self.started_at
        if fact == "resolved":
            return self.resolved_at
        return self.last_update_at


# --------------------------------------------------------------------------- the clock value


Pause = tuple[datetime, datetime | None]


@dataclass(slots=True)
class Clock:
    """One clock cycle; field names match :class:`dutydesk.slo.models.TicketClock`."""

    name: str
    rule: str
    target: str
    cadence: bool
    business: bool
    started_at: datetime
    target_seconds: float
    at_risk_fraction: float = 0.75
    cycle: int = 1
    due_at: datetime | None = None
    at_risk_at: datetime | None = None
    state: str = RUNNING
    paused_at: datetime | None = None
    paused_seconds: float = 0.0
    pauses: list[Pause] = field(default_factory=list)
    stopped_at: datetime | None = None
    stopped_by: str | None = None
    outcome: str | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    decided_at: datetime | None = None
    elapsed_seconds: float | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.state != STOPPED

    def snapshot(self) -> tuple[Any, ...]:
        """The mutable part, to tell whether a row needs writing."""
        return (
            self.rule,
            self.target,
            self.cadence,
            self.business,
            self.target_seconds,
            self.at_risk_fraction,
            self.due_at,
            self.at_risk_at,
            self.state,
            self.paused_at,
            self.paused_seconds,
            tuple(self.pauses),
            self.stopped_at,
            self.outcome,
        )


def pauses_to_json(tl: Timeline, pauses: Sequence[Pause]) -> list[list[Any]]:
    """[[from, to, business seconds], ...]; `to` and seconds are null for an open spell."""
    if not pauses:
        return []
    return [
        [
            a.isoformat(),
            b.isoformat() if b else None,
            tl.between(a, b).total_seconds() if b else None,
        ]
        for a, b in pauses
    ]


def pauses_from_json(raw: Any) -> list[Pause]:
    out: list[Pause] = []
    for item in raw or []:
        a = datetime.fromisoformat(item[0])
        b = datetime.fromisoformat(item[1]) if item[1] else None
        out.append((a, b))
    return out


# --------------------------------------------------------------------------- time arithmetic


def reach(
    tl: Timeline, start: datetime, pauses: Sequence[Pause], amount: timedelta
) -> datetime | None:
    """Earliest instant by which `amount` has been consumed since `start`, skipping pauses.

    None when a still-open pause spell begins before `amount` is reached: the instant
    depends on when the pause ends.
    """
    pos, left = start, amount
    for p_from, p_to in pauses:
        if p_to is not None and p_to <= pos:
            continue
        p_from = max(p_from, pos)
        available = tl.between(pos, p_from)
        if left <= available:
            return tl.add(pos, left)
        left -= available
        if p_to is None:
            return None
        pos = p_to
    return tl.add(pos, left)


def consumed(tl: Timeline, start: datetime, pauses: Sequence[Pause], at: datetime) -> timedelta:
    """Time the clock has run by `at`: business time since `start` minus the pause spells."""
    total = tl.between(start, at)
    for p_from, p_to in pauses:
        end = at if p_to is None else min(p_to, at)
        total -= tl.between(max(p_from, start), end)
    return total


def effective_target(rule: Rule, tl: Timeline, start: datetime) -> timedelta:
    """The rule's target, or for "end of next business day" outside hours, up to that close.

    The due instant comes from :func:`dutydesk.slo.calendar.deadline`, the one rule that
    ``calendar explain`` also shows.
    """
    if rule.outside_hours != "end of next business day" or not isinstance(tl, BusinessCalendar):
        return rule.target
    found = deadline(tl, start, rule.target)
    if found.rule == "open":
        return rule.target
    return tl.between(start, found.due)


def schedule(c: Clock, tl: Timeline) -> None:
    """Derive due_at, at_risk_at and paused_seconds from the start, target and pauses."""
    target = timedelta(seconds=c.target_seconds)
    if not c.pauses:  # the common case, kept lean for bulk recomputes
        c.due_at = tl.add(c.started_at, target)
        c.at_risk_at = tl.add(c.started_at, target * c.at_risk_fraction)
        c.paused_seconds = 0.0
        return
    c.due_at = reach(tl, c.started_at, c.pauses, target)
    c.at_risk_at = reach(tl, c.started_at, c.pauses, target * c.at_risk_fraction)
    c.paused_seconds = sum(
        (tl.between(a, b) for a, b in c.pauses if b is not None), timedelta(0)
    ).total_seconds()


def start_clock(
    rule: Rule, tl: Timeline, at: datetime, *, cycle: int = 1, paused_from: datetime | None = None
) -> Clock:
    """A new cycle of `rule` from `at`; `paused_from` starts it paused (a blocked ticket)."""
    c = Clock(
        name=rule.name,
        rule=rule.key,
        target=rule.label,
        cadence=rule.cadence,
        business=rule.business,
        started_at=at,
        target_seconds=effective_target(rule, tl, at).total_seconds(),
        at_risk_fraction=rule.at_risk,
        cycle=cycle,
    )
    if paused_from is not None:
        c.pauses.append((max(paused_from, at), None))
        c.state, c.paused_at = PAUSED, c.pauses[-1][0]
    schedule(c, tl)
    return c


def _last_resume(c: Clock) -> datetime:
    ends = [b for _, b in c.pauses if b is not None]
    return max([c.started_at, *ends])


def pause(c: Clock, tl: Timeline, at: datetime) -> None:
    if c.state != RUNNING:
        return
    at = max(at, _last_resume(c))
    c.pauses.append((at, None))
    c.state, c.paused_at = PAUSED, at
    schedule(c, tl)


def resume(c: Clock, tl: Timeline, at: datetime) -> None:
    if c.state != PAUSED or not c.pauses:
        return
    begun = c.pauses[-1][0]
    c.pauses[-1] = (begun, max(at, begun))
    c.state, c.paused_at = RUNNING, None
    schedule(c, tl)


def stop(c: Clock, tl: Timeline, at: datetime, by: str, *, cancel: bool = False) -> None:
    """Freeze the clock at `at`: met if by its due instant, else breached.

    `cancel` (the rule no longer applies) gives "cancelled" unless the clock had already
    breached: a breach is history and stays one.
    """
    if not c.active:
        return
    at = max(at, c.started_at)
    if c.state == PAUSED:
        resume(c, tl, at)
    schedule(c, tl)
    c.state, c.paused_at, c.stopped_at, c.stopped_by = STOPPED, None, at, by
    c.elapsed_seconds = consumed(tl, c.started_at, c.pauses, at).total_seconds()
    if c.due_at is not None and at > c.due_at:
        c.outcome, c.breached_at, c.decided_at = BREACHED, c.due_at, c.due_at
    elif cancel:
        c.outcome, c.decided_at = CANCELLED, at
    else:
        c.outcome, c.met_at, c.decided_at = MET, at, at


def retarget(c: Clock, rule: Rule, tl: Timeline) -> None:
    """Adopt `rule` (a policy or calendar edit) keeping the start and the pause history."""
    c.rule, c.target, c.cadence, c.business = rule.key, rule.label, rule.cadence, rule.business
    c.at_risk_fraction = rule.at_risk
    c.target_seconds = effective_target(rule, tl, c.started_at).total_seconds()
    schedule(c, tl)


# --------------------------------------------------------------------------- what a person sees


def shown_state(c: Clock, now: datetime) -> str:
    """running, at_risk, paused, breached (due instant passed), met or cancelled."""
    if c.outcome is not None:
        return c.outcome
    if c.due_at is not None and now > c.due_at:
        return BREACHED
    if c.state == PAUSED:
        return PAUSED
    if c.at_risk_at is not None and now >= c.at_risk_at:
        return "at_risk"
    return RUNNING


def remaining(c: Clock, tl: Timeline, now: datetime) -> timedelta:
    """Target minus time consumed (by the stop, for a stopped clock); negative when overdue."""
    at = c.stopped_at if c.stopped_at is not None else now
    return timedelta(seconds=c.target_seconds) - consumed(tl, c.started_at, c.pauses, at)


# --------------------------------------------------------------------------- reconciling


TimelineFor = Callable[[bool], Timeline]
"""business → the desk's BusinessCalendar; not business → REAL_TIME."""


def reconcile(
    rules: Sequence[Rule],
    timeline: TimelineFor,
    facts: Facts,
    clocks: list[Clock],
    now: datetime,
    *,
    recompute: bool = False,
    before: Facts | None = None,
) -> list[Clock]:
    """Bring a ticket's clocks in line with its facts; mutates `clocks`, returns new ones.

    `clocks` holds the ticket's running and paused clocks plus its stopped deadline clocks
    (so a met triage clock is not started again).  On a change (``recompute=False``) a clock
    whose governing rule changed (P0 → P1) is cancelled and a new cycle starts now; on a
    policy or calendar recompute it adopts the new rule and keeps its start.

    An untriaged ticket in the backlog runs no triage clock. `before` (the facts before a
    live change) tells a deadline that must start again now: the untriaged ticket just
    entered the queue, or the fact that stopped it was undone (a triaged ticket moved back
    to the intake column).
    """
    new: list[Clock] = []
    for c in [c for c in clocks if c.active]:
        tl = timeline(c.business)
        if not facts.is_open:
            stop(c, tl, facts.resolved_at or now, "resolved")
            continue
        rule = applicable(rules, c.name, facts)
        if rule is not None and _waits_in_backlog(rule, facts):
            stop(c, tl, now, "backlog", cancel=True)
            continue
        if rule is None:
            stop(c, tl, now, "rule-ended", cancel=True)
            continue
        if rule.key != c.rule or rule.business != c.business:
            if not recompute:
                stop(c, tl, now, "rule-changed", cancel=True)
                continue
            tl = timeline(rule.business)
            retarget(c, rule, tl)
        elif recompute:
            retarget(c, rule, tl)
        stop_at = facts.at(rule.stops)
        if stop_at is not None and (rule.stops != "update" or stop_at > c.started_at):
            stop(c, tl, stop_at, rule.stops)
            if rule.cadence:
                new.append(_restart(rule, tl, facts, stop_at, c.cycle + 1))
            continue
        if rule.pause_when_blocked and facts.blocked:
            pause(c, tl, max(facts.blocked_at or now, c.started_at))
        elif c.state == PAUSED:
            resume(c, tl, now)
    if not facts.is_open:
        return new
    running = {c.name for c in [*clocks, *new] if c.active}
    for name in dict.fromkeys(r.name for r in rules):
        if name in running:
            continue
        rule = applicable(rules, name, facts)
        if rule is None or _waits_in_backlog(rule, facts):
            continue
        if _starts_afresh(rule, facts, before):
            at: datetime | None = now
        else:
            at = _start_instant(rule, facts, clocks, now, recompute)
        if at is None:
            continue
        cycles = [c.cycle for c in [*clocks, *new] if c.name == name]
        new.append(_restart(rule, timeline(rule.business), facts, at, max(cycles, default=0) + 1))
    return new


def _restart(rule: Rule, tl: Timeline, facts: Facts, at: datetime, cycle: int) -> Clock:
    paused_from = None
    if rule.pause_when_blocked and facts.blocked:
        paused_from = max(facts.blocked_at or at, at)
    return start_clock(rule, tl, at, cycle=cycle, paused_from=paused_from)


def _waits_in_backlog(rule: Rule, facts: Facts) -> bool:
    """An untriaged ticket in the backlog waits for the weekly triage: no triage clock runs."""
    return not facts.in_queue and rule.stops == "triaged" and facts.triaged_at is None


def _starts_afresh(rule: Rule, facts: Facts, before: Facts | None) -> bool:
    """A live change that puts a deadline's wait back at its beginning."""
    if before is None or rule.cadence or facts.at(rule.starts) is None:
        return False
    if facts.at(rule.stops) is not None:
        return False
    entered_queue = not before.in_queue and facts.in_queue and rule.stops == "triaged"
    return entered_queue or before.at(rule.stops) is not None


def _start_instant(
    rule: Rule, facts: Facts, clocks: Sequence[Clock], now: datetime, recompute: bool
) -> datetime | None:
    """When a missing clock of `rule` starts, or None if it should not run."""
    if rule.cadence:
        # The first cycle waits for its start fact ("update" counts the filing as one).
        anchor = facts.at(rule.starts) or (facts.created_at if rule.starts == "update" else None)
        if anchor is None:
            return None
        if not recompute:
            return now  # the rule began to apply now (priority set, or just filed)
        latest = [t for t in (anchor, facts.last_update_at) if t is not None]
        return max(latest)
    begun = facts.at(rule.starts)
    if begun is None:
        return None
    ended = facts.at(rule.stops)
    if ended is not None and (rule.stops != "update" or ended > begun):
        return None
    if any(c.name == rule.name and c.outcome in (MET, BREACHED) for c in clocks):
        return None  # a deadline is kept (or missed) once
    return begun
