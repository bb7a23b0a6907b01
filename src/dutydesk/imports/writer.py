"""Writing one imported record: a new ticket with its history, or an update of the ticket an
earlier import made from the same external id.

The record is checked by the rules filing and moving use (``check_choice``, ``check_labels``,
``workflow.move_refusal``, ``assignable``). A new ticket keeps its original times: it is
filed by its reporter at ``created``, its priority is the importing admin's triage decision,
its comments carry their authors and times, and a last event says who imported it from
where. Creating history notifies nobody: the change record is not queued (an import is not
news; open imported tickets wait in the triage list, their clocks starting at the import).
A later import that changes a ticket is an ordinary change (``TicketChange``), heard of as any.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from dutydesk import markdown
from dutydesk.auth.models import User
from dutydesk.auth.service import create_user
from dutydesk.context import Ctx
from dutydesk.db import Prepared
from dutydesk.errors import field_error
from dutydesk.imports.models import TicketSource
from dutydesk.imports.records import ImportRecord
from dutydesk.policy.models import RESOLUTIONS, DeskPolicy
from dutydesk.reports.tallies import follow as follow_tallies
from dutydesk.slo import service as slo_service
from dutydesk.tickets import moves as ticket_moves
from dutydesk.tickets import ordering, search, workflow
from dutydesk.tickets import times as ticket_times
from dutydesk.tickets.idle import claim_activity
from dutydesk.tickets.models import Comment, Event, Ticket, TicketLabel, Watcher
from dutydesk.tickets.numbers import take_number
from dutydesk.tickets.recorder import (
    TicketChange,
    assignable,
    check_choice,
    check_labels,
    set_labels,
)

_TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
_TICKET_COLUMNS = tuple(c.name for c in _TICKETS.columns if c.name != "id")
_INSERT_TICKET = Prepared(insert(_TICKETS).returning(_TICKETS.c.id), _TICKET_COLUMNS)
_EVENT_COLUMNS = ("ticket_id", "seq", "at", "actor_id", "type", "field", "before", "after", "data")
_INSERT_EVENTS = Prepared(insert(Event), _EVENT_COLUMNS)
_COMMENT_COLUMNS = ("ticket_id", "author_id", "body", "body_html", "public", "created_at")
_INSERT_COMMENT = Prepared(insert(Comment).returning(Comment.id), _COMMENT_COLUMNS)
_INSERT_LABELS = Prepared(insert(TicketLabel), ("ticket_id", "label"))
_INSERT_WATCHER = Prepared(insert(Watcher), ("ticket_id", "user_id"))
_SOURCE_COLUMNS = (
    "desk",
    "external_id",
    "ticket_id",
    "source",
    "source_url",
    "fingerprint",
    "comment_keys",
    "imported_at",
    "updated_at",
)
_INSERT_SOURCE = Prepared(insert(TicketSource), _SOURCE_COLUMNS)
_RANK_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # ranks count from here (ordering)
_FUTURE_SLACK = timedelta(days=1)


def fingerprint(record: ImportRecord) -> str:
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def component_label(component: str) -> str:
    """A ticket has no component field: it becomes the label ``component:NAME``."""
    return f"component:{component.strip()}"[:60]


# ----------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    id: int
    name: str


class People:
    """Names in the source → users, remembered for the whole import. Unknown names become
    guest reporters of the desk (no password, so they cannot log in until an admin sets one),
    or ``default`` when given; a missing name is the default, else the importing admin."""

    def __init__(self, desk: str, default: str | None) -> None:
        self.desk, self.default = desk, default
        self.known: dict[str, Person] = {}
        self.guests: list[str] = []  # created in the current batch, newest last
        self.row_mark = 0
        self.ctx: Ctx | None = None

    def start_batch(self, ctx: Ctx, names: set[str]) -> None:
        """A new transaction: look up every name its rows use in one query."""
        self.ctx, self.guests, self.row_mark = ctx, [], 0
        wanted = {_user_name(n) for n in names if n and n.strip()} - self.known.keys()
        if self.default:
            wanted.add(self.default)
        if wanted:
            rows = ctx.session.execute(select(User.id, User.name).where(User.name.in_(wanted)))
            for uid, name in rows:
                self.known[name] = Person(uid, name)

    def start_row(self) -> None:
        self.row_mark = len(self.guests)

    def row_rolled_back(self) -> None:
        """Guests the refused row created are gone with it."""
        for name in self.guests[self.row_mark :]:
            self.known.pop(name, None)
        del self.guests[self.row_mark :]

    def batch_rolled_back(self) -> None:
        self.row_mark = 0
        self.row_rolled_back()

    def user(self, name: str | None) -> Person:
        assert self.ctx is not None
        if not name or not name.strip():
            if self.default:
                return self._default()
            return Person(self.ctx.actor.id, self.ctx.actor.name)
        name = _user_name(name)
        found = self.known.get(name)
        if found is not None:
            return found
        if self.default:
            return self._default()
        user = create_user(
            self.ctx.session,
            name,
            roles=["reporter"],
            desks=[self.desk],
            display_name=name,
            now=self.ctx.now,
        )
        self.known[name] = person = Person(user.id, user.name)
        self.guests.append(name)
        return person

    def _default(self) -> Person:
        assert self.default is not None
        found = self.known.get(self.default)
        if found is None:
            raise field_error("reporter", f"the default reporter {self.default!r} is not a user")
        return found


def _user_name(name: str) -> str:
    """A user name from a source's name: spaces become dots, at most 40 characters."""
    return ".".join(name.split())[:40]


# ----------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Plan:
    """What a record means on this desk, after every rule had its say."""

    kind: str
    status: str
    resolution: str | None
    labels: list[str]
    criteria: list[str]
    assignee: User | None
    done: bool
    resolved_at: datetime | None
    duplicate_of: tuple[str, ...]


def plan(ctx: Ctx, desk_name: str, desk: DeskPolicy, record: ImportRecord) -> Plan:
    """Check a record against the desk's choices and workflow; raises a ``DomainError``."""
    if record.created > ctx.now + _FUTURE_SLACK:
        raise field_error("created", f"{record.created.isoformat()} is in the future")
    kind = record.kind or desk.kinds[0]
    check_choice("kind", kind, desk.kinds, desk_name)
    check_choice("category", record.category, desk.categories, desk_name)
    check_choice("priority", record.priority, desk.priorities, desk_name)
    check_choice("team", record.team, desk.teams, desk_name)
    for criterion in record.criteria:
        check_choice("criteria", criterion, desk.criteria, desk_name)
    labels = list(record.labels)
    if record.component:
        labels.append(component_label(record.component))
    labels = check_labels(labels)
    if len(labels) > 30:
        raise field_error("labels", "at most 30 labels, the component's included")
    assignee = assignable(ctx, desk_name, record.assignee)
    resolution = record.resolution
    if resolution is None and record.duplicate_of:
        resolution = "duplicate"
    status = record.status
    if status is None:
        if resolution is not None or record.resolved is not None:
            status = desk.done_column
        elif record.priority is not None and desk.triaged_column:
            status = desk.triaged_column
        else:
            status = desk.intake_column
    if status not in desk.columns:
        raise field_error(
            "status", f"{status!r} is not a column of desk {desk_name!r}: {', '.join(desk.columns)}"
        )
    if status != desk.intake_column:
        # The rules of a move to that column (resolution, duplicate, assignee), not its path:
        # a ticket's history in another tracker need not follow this desk's columns.
        facts = workflow.TicketFacts(
            key=record.external_id,
            desk=desk_name,
            status=desk.intake_column,
            assigned=assignee is not None,
            priority=record.priority,
        )
        dup = record.duplicate_of[0] if record.duplicate_of else None
        refusal = workflow.move_refusal(desk, facts, status, resolution, dup)
        if refusal is not None and refusal.rule not in ("column-order", "no-op-move"):
            raise refusal.error()
    elif resolution is not None or record.duplicate_of:
        raise field_error(
            "resolution", f"a resolution is only set on a ticket in {desk.done_column!r}"
        )
    if resolution is not None and resolution not in RESOLUTIONS:
        raise field_error("resolution", f"{resolution!r} is not one of {', '.join(RESOLUTIONS)}")
    done = status == desk.done_column
    resolved_at = None
    if done:
        resolved_at = record.resolved or max(
            [record.created, *(c.created for c in record.comments)]
        )
        if resolved_at < record.created:
            raise field_error("resolved", "a ticket cannot be resolved before it was created")
    return Plan(
        kind=kind,
        status=status,
        resolution=resolution if done else None,
        labels=labels,
        criteria=list(dict.fromkeys(record.criteria)),
        assignee=assignee,
        done=done,
        resolved_at=resolved_at,
        duplicate_of=tuple(record.duplicate_of) if done else (),
    )


# ----------------------------------------------------------------------------- creating


@dataclass
class _Ev:
    at: datetime
    actor_id: int | None
    type: str
    field: str | None = None
    before: Any = None
    after: Any = None
    data: dict[str, Any] | None = None


def create(
    ctx: Ctx,
    desk_name: str,
    desk: DeskPolicy,
    record: ImportRecord,
    p: Plan,
    people: People,
    *,
    source: str,
    line: int,
) -> Ticket:
    """A new ticket with its original history; nothing is queued for notification."""
    s = ctx.session
    conn = s.connection()
    reporter = people.user(record.reporter)
    importer = ctx.actor
    created = record.created
    number = take_number(conn, desk_name)
    rank = ordering.rank_for_time(max(created, _RANK_EPOCH))
    comments = [(c, people.user(c.author)) for c in record.comments]
    times = [created, *(c.created for c in record.comments)]
    if p.resolved_at:
        times.append(p.resolved_at)
    started = p.status == desk.started_column
    row: dict[str, Any] = {
        "desk": desk_name,
        "number": number,
        "title": record.title,
        "description": record.body,
        "description_html": markdown.render(record.body, ctx.policy.web.image_hosts),
        "kind": p.kind,
        "category": record.category,
        "priority": record.priority,
        "status": p.status,
        "resolution": p.resolution,
        "duplicate_of_id": None,  # linked once every row is in (forward references)
        "assignee_id": p.assignee.id if p.assignee else None,
        "team": record.team,
        "labels": p.labels,
        "criteria": p.criteria,
        "reporter_id": reporter.id,
        "customer_reported": False,
        "fix_target": "none",
        "pr_links": [],
        "blocked": False,
        "blocked_reason": None,
        "blocked_at": None,
        "blocked_by_id": None,
        "rank": rank,
        "order_key": "",
        "in_queue": not p.done and desk.admits(record.priority, p.criteria, record.team),
        "is_open": not p.done,
        "created_at": created,
        "updated_at": max(times),
        "triaged_at": created if record.priority is not None else None,
        "triaged_by_id": importer.id if record.priority is not None else None,
        "started_at": created if started else None,
        "resolved_at": p.resolved_at,
        "last_update_at": max(c.created for c in record.comments) if record.comments else None,
        "version": 1,
        "event_seq": 0,
    }
    ticket = Ticket(**row)
    row["order_key"] = ticket.order_key = ordering.order_key(desk, ticket.orderable(), rank)
    key = ticket.key
    marker = {"imported": source}
    history = [
        _Ev(
            created,
            reporter.id,
            "filed",
            None,
            None,
            key,
            {"title": record.title, "criteria": p.criteria, **marker},
        ),
    ]
    if record.priority is not None:
        history.append(
            _Ev(created, importer.id, "changed", "priority", None, record.priority, marker)
        )
        history.append(
            _Ev(
                created,
                importer.id,
                "triaged",
                None,
                None,
                record.priority,
                {"triager": importer.name, **marker},
            )
        )
    if p.assignee is not None:
        history.append(
            _Ev(created, importer.id, "changed", "assignee", None, p.assignee.name, marker)
        )
    when = p.resolved_at or created
    if p.status != desk.intake_column:
        history.append(
            _Ev(when, importer.id, "changed", "status", desk.intake_column, p.status, marker)
        )
    if p.done:
        history.append(_Ev(when, importer.id, "changed", "resolution", None, p.resolution, marker))
    comment_rows = []
    for c, author in comments:
        crow = {
            "ticket_id": None,
            "author_id": author.id,
            "body": c.body,
            "body_html": markdown.render(c.body, ctx.policy.web.image_hosts),
            "public": True,
            "created_at": c.created,
        }
        comment_rows.append(crow)
    row["event_seq"] = len(history) + len(comments) + 1  # the comments' and the import's
    row["claim_active_at"] = claim_activity(
        row["assignee_id"],
        None,
        created,
        [
            *((e.at, e.actor_id, e.field) for e in history),
            *((c.created, author.id, None) for c, author in comments),
            (ctx.now, importer.id, None),  # the "imported" event, written below
        ],
    )
    ticket.claim_active_at = row["claim_active_at"]
    ticket_id = _INSERT_TICKET.execute(conn, row).scalar_one()
    ticket.id = ticket_id
    for (c, author), crow in zip(comments, comment_rows, strict=True):
        crow["ticket_id"] = ticket_id
        cid = _INSERT_COMMENT.execute(conn, crow).scalar_one()
        history.append(
            _Ev(
                c.created,
                author.id,
                "commented",
                None,
                None,
                None,
                {"comment_id": cid, "kind": "comment", "public": True, **marker},
            )
        )
    # History in time order (the filing first), then the import itself, now.
    history.sort(key=lambda e: max(e.at, created))
    history.append(
        _Ev(
            ctx.now,
            importer.id,
            "imported",
            None,
            None,
            None,
            {"source": source, "external_id": record.external_id, "url": record.url, "line": line},
        )
    )
    _INSERT_EVENTS.executemany(
        conn,
        [
            {
                "ticket_id": ticket_id,
                "seq": seq,
                "at": e.at,
                "actor_id": e.actor_id,
                "type": e.type,
                "field": e.field,
                "before": e.before,
                "after": e.after,
                "data": e.data or {},
            }
            for seq, e in enumerate(history, start=1)
        ],
    )
    ticket.event_seq = len(history)
    follow_tallies(s, ticket, None, history)  # the report tallies of the whole history
    if p.done:  # its business time for the reports, from the history just written
        ticket_times.refresh_ticket(s, ctx.policy, ticket)
    ticket_moves.record(s, ctx.policy, ticket, history)  # its re-opens and bounces, if any
    if p.labels:
        _INSERT_LABELS.executemany(conn, [{"ticket_id": ticket_id, "label": x} for x in p.labels])
    watchers = {reporter.id} | ({p.assignee.id} if p.assignee else set())
    _INSERT_WATCHER.executemany(conn, [{"ticket_id": ticket_id, "user_id": u} for u in watchers])
    body = "\n".join([record.body, *(c.body for c in record.comments)])
    search.store(s, [{"id": ticket_id, "t": record.title, "b": body}])
    slo_service.on_change(ctx, ticket, new=True)  # open tickets: clocks start at the import
    _INSERT_SOURCE.execute(
        conn,
        {
            "desk": desk_name,
            "external_id": record.external_id,
            "ticket_id": ticket_id,
            "source": source,
            "source_url": record.url,
            "fingerprint": fingerprint(record),
            "comment_keys": [c.key() for c in record.comments],
            "imported_at": ctx.now,
            "updated_at": ctx.now,
        },
    )
    return ticket


# ----------------------------------------------------------------------------- updating


def update(
    ctx: Ctx,
    desk: DeskPolicy,
    record: ImportRecord,
    p: Plan,
    people: People,
    src: TicketSource,
    *,
    source: str,
    line: int,
) -> Ticket:
    """Bring the ticket up to what the source now says (the source wins for the fields it
    carries), add the comments not imported before; an ordinary, heard-of change."""
    s = ctx.session
    ticket = s.get(Ticket, src.ticket_id, with_for_update=True)
    assert ticket is not None  # a source row always names its ticket
    change = TicketChange(ctx, ticket, desk)
    change.set("title", record.title)
    if change.set("description", record.body):
        ticket.description_html = markdown.render(record.body, ctx.policy.web.image_hosts)
    if record.kind is not None:
        change.set("kind", p.kind)
    for name in ("category", "team", "priority"):
        value = getattr(record, name)
        if value is not None:
            change.set(name, value)
    if record.priority is not None and ticket.triaged_at is None:
        ticket.triaged_at, ticket.triaged_by_id = ctx.now, ctx.actor.id
        change.event("triaged", None, None, record.priority, triager=ctx.actor.name)
    if p.labels != list(ticket.labels or []):
        set_labels(s, ticket, p.labels)
        change.set("labels", p.labels)
    if p.assignee is not None and p.assignee.id != ticket.assignee_id:
        change.set("assignee_id", p.assignee.id, shown=p.assignee.name)
    was_done = ticket.status == desk.done_column
    if record.status is not None or p.done != was_done:
        change.set("status", p.status)
        change.set("resolution", p.resolution)
        change.set("resolved_at", p.resolved_at)
        if not p.done and ticket.duplicate_of_id is not None:
            change.set("duplicate_of_id", None)
    elif p.done and p.resolution != ticket.resolution:
        change.set("resolution", p.resolution)
    known = set(src.comment_keys or [])
    added = []
    for c in record.comments:
        k = c.key()
        if k in known:
            continue
        author = people.user(c.author)
        crow = {
            "ticket_id": ticket.id,
            "author_id": author.id,
            "body": c.body,
            "body_html": markdown.render(c.body, ctx.policy.web.image_hosts),
            "public": True,
            "created_at": c.created,
        }
        cid = _INSERT_COMMENT.execute(s.connection(), crow).scalar_one()
        change.event(
            "commented",
            None,
            None,
            None,
            comment_id=cid,
            kind="comment",
            public=True,
            author=author.name,
            written_at=c.created.isoformat(),
            imported=source,
        )
        search.index_comment(s, ticket.id, c.body, public=True)
        known.add(k)
        added.append(k)
    change.event(
        "imported",
        None,
        None,
        None,
        source=source,
        external_id=record.external_id,
        url=record.url,
        line=line,
        update=True,
    )
    change.finish()
    src.fingerprint = fingerprint(record)
    src.comment_keys = [*(src.comment_keys or []), *added]
    src.source_url = record.url
    src.updated_at = ctx.now
    return ticket


def find_sources(session: Session, desk: str, external_ids: list[str]) -> dict[str, TicketSource]:
    """What earlier imports made of these external ids, in one query."""
    if not external_ids:
        return {}
    rows = session.scalars(
        select(TicketSource).where(
            TicketSource.desk == desk, TicketSource.external_id.in_(set(external_ids))
        )
    )
    return {src.external_id: src for src in rows}
