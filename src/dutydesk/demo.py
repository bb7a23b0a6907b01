"""Demo data: eight weeks of realistic history for both reference desks, and a bulk path.

``build_history`` replays a plausible life for each ticket (filing, triage, assignment,
work, comments, blocked spells, reassignment, resolution) through the real use cases at
simulated times, so the demo obeys every workflow rule and its history reads true.
``bulk_tickets`` writes many tickets with their events and comments in large batches, for
benchmarks that need 100k tickets in well under a minute.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.progress import Progress
from sqlalchemy import insert, select, text

from dutydesk import markdown
from dutydesk.auth.models import User
from dutydesk.context import Ctx
from dutydesk.db import Base, Database
from dutydesk.errors import DomainError
from dutydesk.policy.models import DeskPolicy, Policy
from dutydesk.reports.tallies import rebuild as rebuild_tallies
from dutydesk.tickets import filing, ordering, search, service
from dutydesk.tickets.idle import rebuild as rebuild_claims
from dutydesk.tickets.models import (
    Comment,
    Event,
    Ticket,
    TicketLabel,
    Watcher,
    ticket_key,
)
from dutydesk.tickets.numbers import take_numbers
from dutydesk.tickets.schemas import FileTicket, TriageIn

INFRA_REQUESTS = [
    ("Add a LUCI builder for {platform} web engine", "config-request", "request"),
    ("Build dashboard is slow to load for {platform} results", "outage", "incident"),
    ("Devicelab bot {bot} is offline since this morning", "outage", "incident"),
    ("How do I debug a test on devicelab machine {bot}?", "help", "question"),
    ("Increase the disk quota for the {platform} release builders", "quota", "request"),
    ("Grant {person} access to the release signing bucket", "access", "request"),
    ("{platform} engine tests flaky on the presubmit pool", "flaky-test", "bug"),
    ("Rotate the service account key for the {platform} uploader", "config-request", "request"),
    ("Presubmit queue is backed up: {n} builds waiting for {platform}", "outage", "incident"),
    ("Almost out of quota on the {platform} emulator pool", "quota", "incident"),
    ("Add {person} to the infra on-call pager list", "access", "request"),
    ("Builds on {platform} fail with 'no space left on device'", "outage", "bug"),
]
SET_BUGS = [
    ("Crash when opening a channel with {n} pinned messages", "crash", "bug"),
    ("Mobile app logs out after upgrading to {version}", "regression", "bug"),
    ("Search returns no results for quoted phrases since {version}", "regression", "bug"),
    ("Playbook run timeline shows times in the wrong time zone", "ux", "bug"),
    ("Export of channel history drops messages with attachments", "data", "bug"),
    ("Slow permalink rendering on the community server", "performance", "bug"),
    ("Customer escalation: SSO login loop for {customer}", "security", "escalation"),
    ("Customer escalation: bulk import fails for {customer}", "data", "escalation"),
    ("Refactor the websocket reconnect logic (source of flaky tests)", "performance", "tech-debt"),
    ("Remove the deprecated v3 plugin API shims", "data", "tech-debt"),
    ("Push notifications arrive twice on {platform}", "regression", "bug"),
    ("Emoji picker freezes with {n} custom emoji", "performance", "bug"),
    ("Add a setting to hide the channel intro", "ux", "feature-request"),
]
FILL = {
    "platform": ["linux", "mac", "windows", "android", "ios", "web", "fuchsia"],
    "bot": ["mac-14", "linux-arm-3", "win-9", "pixel-7-2", "iphone-12"],
    "person": ["a new intern", "the release manager", "the docs team", "a contractor"],
    "n": ["40", "120", "300", "1500"],
    "version": ["v9.4", "v9.5", "v9.6", "v10.0"],
    "customer": ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli"],
}
DESCRIPTIONS = [
    "**Why:** {why}\n\n**What exactly:** {what}\n\n**Where:** {where}\n\n**How to verify:** {verify}",
]
WHY = [
    "the release branch is blocked",
    "a customer is waiting on a fix",
    "the team cannot land changes",
    "we are about to run out of capacity",
]
WHAT = [
    "see the failing runs linked below",
    "steps to reproduce are in the log excerpt",
    "the config change is a one-line edit",
    "happens on every attempt since Monday",
]
WHERE = [
    "the presubmit pool",
    "the community server",
    "the release builders",
    "the staging cluster",
]
VERIFY = [
    "the next nightly run is green",
    "the customer confirms the fix",
    "the dashboard loads in under two seconds",
    "the builder appears in the console",
]
COMMENTS = [
    "Looking into this now.",
    "Reproduced locally; the cause is a stale cache entry.",
    "Waiting on the vendor to confirm.",
    "PR is up for review.",
    "Status: fix is in review, expect it to land tomorrow.",
    "Handing this to someone with more context on the release builders.",
    "Can you attach the logs from the failing run?",
    "Confirmed fixed on the latest build.",
]
STATUS_UPDATES = [
    "Status: fix is in review, expect it to land tomorrow.",
    "Status: still reproducing; next step is a bisect over last week's changes.",
    "Status: mitigated; the permanent fix needs a config rollout on Thursday.",
    "Status: waiting on the owning team's review, pinged them again today.",
]
BLOCK_REASONS = [
    "waiting on quota approval from the cloud team",
    "needs a security review",
    "waiting on the customer's logs",
    "blocked on the upstream release",
]


def _demo_team(desk: DeskPolicy, team: str | None, n: int) -> str | None:
    """On a desk that hands routed tickets to feature teams (``queue_teams``), the demo keeps
    two in three with the desk's own team, so its board is as busy as a real one."""
    if team is None or not desk.queue_teams or n % 3 == 0:
        return team
    return desk.queue_teams[0]


def _fill(template: str, rnd: random.Random) -> str:
    return template.format(**{k: rnd.choice(v) for k, v in FILL.items()})


def _description(rnd: random.Random) -> str:
    return DESCRIPTIONS[0].format(
        why=rnd.choice(WHY),
        what=rnd.choice(WHAT),
        where=rnd.choice(WHERE),
        verify=rnd.choice(VERIFY),
    )


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: Callable[[Ctx], Any]
    actor: str


def _people(policy: Policy, desk: str) -> tuple[list[str], list[str]]:
    responders = [
        n
        for n, p in policy.people.items()
        if desk in p.desks and {"responder", "lead"} & set(p.roles)
    ]
    reporters = [n for n, p in policy.people.items() if p.roles == ["reporter"]]
    return responders, reporters or ["admin"]


def _workday(at: datetime, rnd: random.Random) -> datetime:
    """Shift an instant into 09:00–17:00 Pacific-ish working hours on a weekday."""
    while at.weekday() >= 5:
        at += timedelta(days=1)
    return at.replace(hour=rnd.randint(16, 23), minute=rnd.randint(0, 59), second=0, microsecond=0)


def build_history(
    db: Database,
    policy: Policy,
    *,
    weeks: int = 8,
    per_day: int = 3,
    seed: int = 42,
    end: datetime | None = None,
    progress: bool = True,
) -> int:
    """Simulate ``weeks`` of both desks through the real use cases; returns tickets filed."""
    rnd = random.Random(seed)
    end = (end or datetime.now(UTC)).replace(microsecond=0)
    start = end - timedelta(weeks=weeks)
    steps: list[_Step] = []
    counter = 0

    def add(at: datetime, actor: str, fn: Callable[[Ctx], Any]) -> None:
        nonlocal counter
        if at < end:
            counter += 1
            steps.append(_Step(at, counter, fn, actor))

    # Tickets planned so far per desk, as (filing time, box filled with the key once filed).
    keys: dict[str, list[tuple[datetime, dict[str, str]]]] = {}
    desk_names: list[str] = [d for d in ("infra", "set") if d in policy.desks]
    for desk_name in desk_names or list(policy.desks):
        desk = policy.desks[desk_name]
        responders, reporters = _people(policy, desk_name)
        if not responders:
            continue
        catalogue = INFRA_REQUESTS if desk_name == "infra" else SET_BUGS
        day = start
        while day < end:
            for _ in range(rnd.randint(max(1, per_day - 1), per_day + 1)):
                filed_at = _workday(day, rnd)
                _plan_ticket(
                    add, rnd, desk_name, desk, catalogue, responders, reporters, filed_at, end, keys
                )
            day += timedelta(days=1)
        # A few requests filed in the last hours and not yet seen: the on-call's next triage.
        for minutes in (170, 95, 25):
            _plan_ticket(
                add,
                rnd,
                desk_name,
                desk,
                catalogue,
                responders,
                reporters,
                end - timedelta(minutes=minutes),
                end,
                keys,
                fresh=True,
            )
    steps.sort()
    users: dict[str, User] = {}
    filed = 0
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("building demo history", total=len(steps))
        for step in steps:
            with db.write() as s:
                actor = users.get(step.actor) or s.scalar(
                    select(User).where(User.name == step.actor)
                )
                if actor is None:
                    continue
                users[step.actor] = actor
                bound = s.merge(actor)
                try:
                    with s.begin_nested():
                        result = step.run(Ctx(s, policy, bound, step.at))
                    if isinstance(result, Ticket) and result.event_seq == 1:
                        filed += 1
                except DomainError:
                    pass  # a planned step that the rules refuse is simply skipped
                    pass  # a planned step that the rules refuse is simply skipped
            bar.advance(task)
    return filed


def _plan_ticket(
    add: Callable[[datetime, str, Callable[[Ctx], Any]], None],
    rnd: random.Random,
    desk_name: str,
    desk: DeskPolicy,
    catalogue: list[tuple[str, str, str]],
    responders: list[str],
    reporters: list[str],
    filed_at: datetime,
    end: datetime,
    keys: dict[str, list[tuple[datetime, dict[str, str]]]],
    fresh: bool = False,
) -> None:
    """Plan one ticket's life; a ``fresh`` one is only filed, still waiting for triage."""
    template, category, kind = rnd.choice(catalogue)
    title = _fill(template, rnd)
    reporter = rnd.choice(reporters)
    box: dict[str, str] = {}
    kind = kind if kind in desk.kinds else desk.kinds[0]
    criteria = rnd.sample(desk.criteria, k=min(len(desk.criteria), rnd.choice([0, 1, 1, 2])))
    labels = ["community-server"] if desk_name == "set" and rnd.random() < 0.12 else []
    customer = desk_name == "set" and (kind == "escalation" or rnd.random() < 0.3)

    def file(ctx: Ctx) -> Ticket:
        t = filing.file_ticket(
            ctx,
            desk_name,
            FileTicket(
                title=title,
                description=_description(rnd),
                kind=kind,
                category=category if category in desk.categories else None,
                criteria=criteria,
                customer_reported=customer,
            ),
        )
        box["key"] = t.key
        return t

    add(filed_at, reporter, file)
    if fresh:
        return
    oncall = rnd.choice(responders)
    t = filed_at + timedelta(minutes=rnd.randint(20, 60 * 30))
    earlier = [b for at, b in keys.get(desk_name, [])[-15:] if at < filed_at]
    keys.setdefault(desk_name, []).append((filed_at, box))
    if earlier and rnd.random() < 0.07:
        original = rnd.choice(earlier)
        note = "Same root cause as the original."
        add(
            t,
            oncall,
            lambda ctx: service.triage(
                ctx, box["key"], TriageIn(duplicate_of=original["key"], note=note), None
            ),
        )
        return
    priorities = desk.admit or desk.priorities
    priority = rnd.choice(
        priorities + (desk.priorities[len(priorities) :] if rnd.random() < 0.25 else [])
    )
    owner = rnd.choice(responders)
    team = _demo_team(desk, rnd.choice(desk.teams) if desk.teams else None, len(title))
    fix_target = rnd.choice(["hotfix", "release", "none", "none"]) if kind == "bug" else None
    # Built now, not inside the lambda: `owner` changes below when the ticket is reassigned.
    # The top class's label is a triager's to set (reporters cannot), so triage adds it.
    checklist = TriageIn(
        priority=priority, team=team, assignee=owner, fix_target=fix_target, labels=labels or None
    )
    add(t, oncall, lambda ctx: service.triage(ctx, box["key"], checklist, None))
    started = desk.started_column
    t += timedelta(hours=rnd.randint(1, 30))
    if started:
        add(t, owner, lambda ctx: service.move(ctx, box["key"], started, None, None, None))
    for _ in range(rnd.randint(0, 3)):
        t += timedelta(hours=rnd.randint(2, 40))
        add(t, owner, _commenter(box, rnd.choice(COMMENTS)))
    if rnd.random() < 0.2:
        t += timedelta(hours=rnd.randint(1, 10))
        reason = rnd.choice(BLOCK_REASONS)
        add(t, owner, lambda ctx: service.block(ctx, box["key"], reason, None))
        t += timedelta(hours=rnd.randint(4, 72))
        add(t, owner, lambda ctx: service.unblock(ctx, box["key"], None))
    if rnd.random() < 0.15:
        t += timedelta(hours=rnd.randint(2, 30))
        new_owner = rnd.choice(responders)
        add(t, oncall, lambda ctx: service.assign(ctx, box["key"], new_owner, None))
        owner = new_owner
    if "Submitted" in desk.columns and rnd.random() < 0.7:
        t += timedelta(hours=rnd.randint(4, 48))
        add(
            t, owner, lambda ctx: service.patch_ticket(ctx, box["key"], _pr_patch(box["key"]), None)
        )
        add(
            t + timedelta(minutes=1),
            owner,
            lambda ctx: service.move(ctx, box["key"], "Submitted", None, None, None),
        )
    # Old tickets are nearly all closed by now; recent ones are still being worked.
    if rnd.random() < (0.97 if filed_at < end - timedelta(days=14) else 0.6):
        t += timedelta(hours=rnd.randint(4, 96))
        resolution = rnd.choices(
            ["fixed", "wont-fix", "cannot-reproduce", "converted"], [80, 8, 7, 5]
        )[0]
        add(
            t,
            owner,
            lambda ctx: service.move(ctx, box["key"], desk.done_column, resolution, None, None),
        )
    elif rnd.random() < 0.75:
        # Most tickets still open got a status update lately; the rest show as update-due.
        recent = max(t, end - timedelta(hours=rnd.randint(1, 30)))
        add(recent, owner, _commenter(box, rnd.choice(STATUS_UPDATES)))


def _commenter(box: dict[str, str], body: str) -> Callable[[Ctx], Any]:
    return lambda ctx: service.add_comment(ctx, box["key"], body, True)


def _pr_patch(key: str) -> Any:
    from dutydesk.tickets.schemas import TicketPatch

    number = sum(ord(c) for c in key) * 7 % 9000 + 1000
    return TicketPatch.model_validate({"pr_links": [f"https://git.example.com/app/pull/{number}"]})


# ----------------------------------------------------------------------------- bulk path


def bulk_tickets(
    db: Database,
    policy: Policy,
    desk_name: str,
    n: int,
    *,
    seed: int = 7,
    progress: bool = True,
    batch: int = 5000,
) -> int:
    """Insert ``n`` synthetic tickets with events, comments and search rows, in batches."""
    desk = policy.desks[desk_name]
    rnd = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    catalogue = INFRA_REQUESTS if desk_name == "infra" else SET_BUGS
    with db.read() as s:
        people = dict(s.execute(select(User.name, User.id)).all())
    responders = [people[p] for p in _people(policy, desk_name)[0] if p in people]
    reporters = [people[p] for p in _people(policy, desk_name)[1] if p in people]
    if not responders or not reporters:
        raise ValueError(f"desk {desk_name!r} needs responders and reporters in the database")
    html_cache: dict[str, str] = {}
    done = 0
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"adding {n} tickets to {desk_name}", total=n)
        while done < n:
            size = min(batch, n - done)
            with db.write() as s:
                numbers = take_numbers(s.connection(), desk_name, size)
                first_id = (
                    s.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0
                ) + 1
                tickets, events, comments, labels, watchers, fts = [], [], [], [], [], []
                for i in range(size):
                    tid = first_id + i
                    template, category, kind = rnd.choice(catalogue)
                    kind = kind if kind in desk.kinds else desk.kinds[0]
                    created = now - timedelta(minutes=rnd.randint(60, 60 * 24 * 365))
                    closed = rnd.random() < 0.7
                    priority = rnd.choice(desk.priorities) if rnd.random() < 0.9 else None
                    status = (
                        desk.done_column
                        if closed
                        else rnd.choice(desk.columns[:-1])
                        if priority
                        else desk.intake_column
                    )
                    assignee = (
                        rnd.choice(responders)
                        if status in desk.assignee_columns or (closed and rnd.random() < 0.9)
                        else None
                    )
                    title = _fill(template, rnd)
                    description = _description(rnd)
                    html = html_cache.get(description) or html_cache.setdefault(
                        description, markdown.render(description)
                    )
                    label = ["community-server"] if rnd.random() < 0.05 else []
                    fix_target = (
                        rnd.choice(["hotfix", "release", "none"]) if kind == "bug" else "none"
                    )
                    customer = rnd.random() < 0.25
                    rank = ordering.rank_for_time(created)
                    orderable = ordering.Orderable(
                        kind=kind,
                        priority=priority,
                        labels=tuple(label),
                        fix_target=fix_target,
                        customer_reported=customer,
                    )
                    # Untriaged bulk tickets tick the desk's first criterion, so they wait in the queue.
                    criteria = desk.criteria[:1] if priority is None else []
                    team = _demo_team(desk, rnd.choice(desk.teams) if desk.teams else None, tid)
                    in_queue = not closed and desk.admits(priority, criteria, team)
                    tickets.append(
                        {
                            "id": tid,
                            "desk": desk_name,
                            "number": numbers[i],
                            "title": title,
                            "description": description,
                            "description_html": html,
                            "kind": kind,
                            "category": category if category in desk.categories else None,
                            "priority": priority,
                            "status": status,
                            "resolution": "fixed" if closed else None,
                            "assignee_id": assignee,
                            "team": team,
                            "labels": label,
                            "criteria": criteria,
                            "reporter_id": rnd.choice(reporters),
                            "customer_reported": customer,
                            "fix_target": fix_target,
                            "pr_links": [],
                            "blocked": False,
                            "rank": rank,
                            "order_key": ordering.order_key(desk, orderable, rank),
                            "in_queue": in_queue,
                            "is_open": not closed,
                            "created_at": created,
                            "updated_at": created + timedelta(hours=2),
                            "triaged_at": created + timedelta(hours=1) if priority else None,
                            "resolved_at": created + timedelta(hours=30) if closed else None,
                            "last_update_at": created + timedelta(hours=2),
                            "version": 3,
                            "event_seq": 3,
                        }
                    )
                    events += [
                        {
                            "ticket_id": tid,
                            "seq": 1,
                            "at": created,
                            "actor_id": tickets[-1]["reporter_id"],
                            "type": "filed",
                            "field": None,
                            "before": None,
                            "after": ticket_key(desk_name, numbers[i]),
                            "data": {},
                        },
                        {
                            "ticket_id": tid,
                            "seq": 2,
                            "at": created + timedelta(hours=1),
                            "actor_id": responders[0],
                            "type": "changed",
                            "field": "priority",
                            "before": None,
                            "after": priority,
                            "data": {},
                        },
                        {
                            "ticket_id": tid,
                            "seq": 3,
                            "at": created + timedelta(hours=2),
                            "actor_id": responders[0],
                            "type": "commented",
                            "field": None,
                            "before": None,
                            "after": None,
                            "data": {"kind": "comment"},
                        },
                    ]
                    body = rnd.choice(COMMENTS)
                    comments.append(
                        {
                            "ticket_id": tid,
                            "author_id": responders[0],
                            "body": body,
                            "body_html": html_cache.get(body)
                            or html_cache.setdefault(body, markdown.render(body)),
                            "public": True,
                            "created_at": created + timedelta(hours=2),
                        }
                    )
                    labels += [{"ticket_id": tid, "label": x} for x in label]
                    watchers.append({"ticket_id": tid, "user_id": tickets[-1]["reporter_id"]})
                    fts.append({"id": tid, "t": title, "b": description + "\n" + body})
                # Core executemany on the tables: no per-row ORM bookkeeping.
                tables = Base.metadata.tables
                s.execute(insert(tables[Ticket.__tablename__]), tickets)
                s.execute(insert(tables[Event.__tablename__]), events)
                s.execute(insert(tables[Comment.__tablename__]), comments)
                if labels:
                    s.execute(insert(tables[TicketLabel.__tablename__]), labels)
                s.execute(insert(tables[Watcher.__tablename__]), watchers)
                search.store(s, fts)
            done += size
            bar.advance(task, size)
    with db.write() as s:  # the desk's report tallies and claims, recounted with its history
        rebuild_tallies(s, [desk_name])
        rebuild_claims(s, [desk_name])
    if not db.sqlite:
        with db.write() as s:
            s.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
                    "(SELECT max(id) FROM tickets))"
                )
            )
            # Fresh planner statistics for the tables the load grew: until autovacuum gets to
            # them (never, where it is off) PostgreSQL plans 100k tickets as a few hundred,
            # and full-text search reads every row of the desk through its index (measured:
            # 168 ms before, 79 ms after, for a word in 17% of 100k tickets).
            s.execute(text("ANALYZE tickets, events, comments, ticket_labels, ticket_watchers"))
    return done
