"""Import use cases: a stream of records into a desk, a batch of rows per transaction.

Each row is written under a savepoint of its batch's transaction, so a refused row leaves
nothing behind and the valid rows around it go in. ``duplicate_of`` names external ids,
possibly of later rows: those links are made once every row is in. A dry run does the same
work and rolls every batch back, so it reports exactly what a real run would do.

The CLI, the API and in-process callers (an evaluation harness) all call these functions:

    result = import_jsonl(state, "history.jsonl", desk="infra", actor="admin")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from dutydesk.auth.models import User
from dutydesk.auth.service import require, user_by_name
from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import DomainError, field_error
from dutydesk.imports import writer
from dutydesk.imports.github import github_rows
from dutydesk.imports.jira_csv import jira_rows
from dutydesk.imports.models import TicketSource
from dutydesk.imports.reading import CountingReader, Readable, jsonl_rows, lines_of
from dutydesk.imports.records import ImportRecord, ImportResult, Rejected, Row
from dutydesk.policy.imports import ImportMapping
from dutydesk.state import AppState
from dutydesk.tickets import workflow
from dutydesk.tickets.models import Event, Ticket, ticket_key

BATCH_ROWS = 200
KEEP_REJECTED = 1000  # rejections listed in full; the rest are counted
KEEP_KEYS = 1000  # external id → ticket key pairs listed in the result

Source = IO[bytes] | Iterable[str] | Iterable[bytes] | str | Path
Progress = Callable[[int], None]


class _DryRun(Exception):
    """Raised at the end of a dry run's batch so its transaction rolls back."""


@dataclass(frozen=True)
class _Link:
    ticket_id: int
    line: int
    external_id: str
    targets: tuple[str, ...]


@dataclass
class ImportOptions:
    desk: str
    actor: str | User
    dry_run: bool = False
    default_reporter: str | None = None
    batch_rows: int = BATCH_ROWS


def import_jsonl(
    state: AppState,
    source: Source,
    *,
    desk: str,
    actor: str | User = "admin",
    dry_run: bool = False,
    default_reporter: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import JSON Lines (see the README's format) from a path, a binary stream or an
    iterable of lines; returns what was created, updated, left alone and refused."""
    options = ImportOptions(desk, actor, dry_run, default_reporter)
    with ExitStack() as stack:
        stream = _open(stack, source)
        return run_import(state, jsonl_rows(lines_of(stream, progress)), options, "jsonl")


FORMATS = ("jsonl", "github", "jira-csv")


def import_github(
    state: AppState,
    source: Source,
    *,
    desk: str,
    actor: str | User = "admin",
    dry_run: bool = False,
    default_reporter: str | None = None,
    label_map: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """GitHub issues (REST array, ``gh issue list --json`` output, or either as JSON Lines);
    labels map through the desk's ``imports`` policy, then ``label_map``."""
    options = ImportOptions(desk, actor, dry_run, default_reporter)
    mapping = _mapping(state, desk, label_map)
    with ExitStack() as stack:
        stream = CountingReader(_binary(stack, source), progress)
        return run_import(state, github_rows(stream, mapping), options, "github")


def import_jira_csv(
    state: AppState,
    source: Source,
    *,
    desk: str,
    actor: str | User = "admin",
    dry_run: bool = False,
    default_reporter: str | None = None,
    label_map: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    progress: Progress | None = None,
) -> ImportResult:
    """Jira's CSV export; its times are read in ``timezone`` (the exporting user's)."""
    options = ImportOptions(desk, actor, dry_run, default_reporter)
    mapping = _mapping(state, desk, label_map)
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise field_error("timezone", f"{timezone!r} is not an IANA time zone") from exc
    with ExitStack() as stack:
        stream = CountingReader(_binary(stack, source), progress)
        return run_import(state, jira_rows(stream, mapping, tz), options, "jira-csv")


def import_file(
    state: AppState,
    fmt: str,
    source: Source,
    *,
    desk: str,
    actor: str | User = "admin",
    dry_run: bool = False,
    default_reporter: str | None = None,
    label_map: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    progress: Progress | None = None,
) -> ImportResult:
    """Any supported format by name (what the CLI and the API call)."""
    common: dict[str, Any] = {
        "desk": desk,
        "actor": actor,
        "dry_run": dry_run,
        "default_reporter": default_reporter,
        "progress": progress,
    }
    if fmt == "jsonl":
        return import_jsonl(state, source, **common)
    if fmt == "github":
        return import_github(state, source, label_map=label_map, **common)
    if fmt == "jira-csv":
        return import_jira_csv(state, source, label_map=label_map, timezone=timezone, **common)
    raise field_error("format", f"{fmt!r} is not an import format: {', '.join(FORMATS)}")


def _mapping(state: AppState, desk: str, label_map: Mapping[str, str] | None) -> ImportMapping:
    policy = desk_policy(state.policy, desk)
    mapping = policy.imports
    if label_map:
        mapping = mapping.model_copy(update={"labels": {**mapping.labels, **label_map}})
        d = policy
        problems = mapping.errors(
            kinds=d.kinds,
            priorities=d.priorities,
            categories=d.categories,
            teams=d.teams,
            columns=d.columns,
        )
        if problems:
            raise field_error("label_map", problems[0])
    return mapping


def _binary(stack: ExitStack, source: Source) -> Readable:
    opened = _open(stack, source)
    if hasattr(opened, "read"):
        return opened  # type: ignore[return-value]
    assert not isinstance(opened, str | Path)
    return _LinesStream(iter(opened))  # type: ignore[arg-type]


class _LinesStream:
    """An iterable of lines (str or bytes) read as a binary stream, one line at a time."""

    def __init__(self, lines: Iterator[str] | Iterator[bytes]) -> None:
        self.lines = lines

    def read(self, size: int = -1) -> bytes:
        line = next(self.lines, None)
        if line is None:
            return b""
        data = line.encode() if isinstance(line, str) else line
        return data if data.endswith(b"\n") else data + b"\n"


def _open(stack: ExitStack, source: Source) -> IO[bytes] | Iterable[str] | Iterable[bytes]:
    if isinstance(source, str | Path):
        return stack.enter_context(open(source, "rb"))
    return source


def run_import(
    state: AppState, rows: Iterable[Row], options: ImportOptions, source: str
) -> ImportResult:
    """Write ``rows`` into the desk: the heart of every import format."""
    desk_policy(state.policy, options.desk)  # refuses an unknown desk by name
    actor = _actor(state, options.actor)
    require(actor, "admin", options.desk, "import tickets")
    result = ImportResult(desk=options.desk, source=source, dry_run=options.dry_run)
    seen: dict[str, int] = {}  # external id → its line: a second row with it is refused
    links: list[_Link] = []
    people = writer.People(options.desk, options.default_reporter)
    for batch in _batches(rows, options.batch_rows):
        records = [r.record for r in batch if r.record is not None]
        try:
            with state.write(actor) as ctx:
                people.start_batch(ctx, _names(records))
                sources = writer.find_sources(
                    ctx.session, options.desk, [r.external_id for r in records]
                )
                for row in batch:
                    _one_row(ctx, row, people, sources, seen, links, result, options, source)
                if options.dry_run:
                    raise _DryRun
        except _DryRun:
            people.batch_rolled_back()
        except BaseException:
            people.batch_rolled_back()
            raise
    if links:
        _link_duplicates(state, actor, options, links, seen, result)
    if not options.dry_run and result.created + result.updated >= SETTLE_ROWS:
        settle(state)
    return result


SETTLE_ROWS = 1000  # an import this large changes the tickets table's shape
# The GIN indexes of the tickets table (full-text vectors): their pending lists are merged
# by VACUUM, not by a manual ANALYZE.
_GIN_INDEXES = text(
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
    " JOIN pg_am a ON a.oid = c.relam"
    " WHERE i.indrelid = 'tickets'::regclass AND a.amname = 'gin'"
)


def settle(state: AppState) -> None:
    """After a bulk import on PostgreSQL: fresh planner statistics for the tickets, and the
    full-text indexes' pending entries merged. Until autovacuum comes round (if it is on at
    all), the planner would guess the new rows' sizes and every search would scan the
    thousands of entries a bulk insert leaves pending in each GIN index."""
    with state.db.write() as s:
        if s.get_bind().dialect.name != "postgresql":
            return
        conn = s.connection()
        for (index,) in conn.execute(_GIN_INDEXES).all():
            conn.execute(text("SELECT gin_clean_pending_list(CAST(:i AS regclass))"), {"i": index})
        for table in ("tickets", "comments", "events", "ticket_sources"):
            conn.execute(text(f"ANALYZE {table}"))


def _names(records: list[ImportRecord]) -> set[str]:
    names = {r.reporter for r in records if r.reporter}
    names |= {c.author for r in records for c in r.comments if c.author}
    return names


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _actor(state: AppState, actor: str | User) -> User:
    if isinstance(actor, User):
        return actor
    with state.db.read() as s:
        return user_by_name(s, actor)


def _reject(result: ImportResult, rejected: Rejected) -> None:
    result.rejected_count += 1
    if len(result.rejected) < KEEP_REJECTED:
        result.rejected.append(rejected)


def _one_row(
    ctx: Ctx,
    row: Row,
    people: writer.People,
    sources: dict[str, TicketSource],
    seen: dict[str, int],
    links: list[_Link],
    result: ImportResult,
    options: ImportOptions,
    source: str,
) -> None:
    if row.skipped:
        result.skipped += 1
        return
    if row.rejected is not None or row.record is None:
        _reject(result, row.rejected or Rejected(row.line, "unreadable row"))
        return
    record = row.record
    ext = record.external_id
    first = seen.get(ext)
    if first is not None:
        _reject(
            result,
            Rejected(
                row.line,
                f"external_id {ext!r} is already on line {first} of this input; "
                "each ticket appears once (the first one was imported)",
                ext,
                "external_id",
            ),
        )
        return
    seen[ext] = row.line
    policy = ctx.desk(options.desk)
    people.start_row()
    try:
        with ctx.session.begin_nested():
            p = writer.plan(ctx, options.desk, policy, record)
            existing = sources.get(ext)
            if existing is None:
                ticket = writer.create(
                    ctx, options.desk, policy, record, p, people, source=source, line=row.line
                )
                result.created += 1
            elif existing.fingerprint == writer.fingerprint(record):
                result.unchanged += 1
                return
            else:
                ticket = writer.update(
                    ctx, policy, record, p, people, existing, source=source, line=row.line
                )
                result.updated += 1
    except DomainError as exc:
        people.row_rolled_back()
        field = exc.errors[0].get("field") if exc.errors else None
        _reject(result, Rejected(row.line, exc.detail, ext, field))
        return
    except SQLAlchemyError as exc:
        people.row_rolled_back()
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
        _reject(result, Rejected(row.line, f"the database refused the row: {reason}", ext))
        return
    if len(result.tickets) < KEEP_KEYS:
        result.tickets[ext] = ticket.key
    if p.duplicate_of:
        links.append(_Link(ticket.id, row.line, ext, p.duplicate_of))


def ticket_keys(state: AppState, desk: str, external_ids: Iterable[str]) -> dict[str, str]:
    """The ticket key each external id was imported as (ids never imported are left out)."""
    wanted = list(dict.fromkeys(external_ids))
    out: dict[str, str] = {}
    with state.db.read() as s:
        for start in range(0, len(wanted), 500):
            rows = s.execute(
                select(TicketSource.external_id, Ticket.desk, Ticket.number)
                .join(Ticket, Ticket.id == TicketSource.ticket_id)
                .where(
                    TicketSource.desk == desk,
                    TicketSource.external_id.in_(wanted[start : start + 500]),
                )
            )
            out.update({ext: ticket_key(d, n) for ext, d, n in rows})
    return out


# ----------------------------------------------------------------------------- duplicates


def _link_duplicates(
    state: AppState,
    actor: User,
    options: ImportOptions,
    links: list[_Link],
    seen: dict[str, int],
    result: ImportResult,
) -> None:
    """Close-as-duplicate links by external id, once every row is in (forward references).

    The first target found on the desk becomes ``duplicate_of``; the workflow's duplicate
    rule (no self-reference, no cycle) applies. A target missing from the input and the desk
    is reported as a warning: the ticket stays closed as a duplicate, without its link."""
    if options.dry_run:
        for link in links:
            if not any(t in seen for t in link.targets) and not _known(state, options, link):
                result.warnings.append(_missing(link))
        return
    for start in range(0, len(links), options.batch_rows):
        with state.write(actor) as ctx:
            for link in links[start : start + options.batch_rows]:
                _link_one(ctx, options.desk, link, result)


def _known(state: AppState, options: ImportOptions, link: _Link) -> bool:
    with state.db.read() as s:
        return (
            s.scalar(
                select(TicketSource.id).where(
                    TicketSource.desk == options.desk,
                    TicketSource.external_id.in_(link.targets),
                )
            )
            is not None
        )


def _missing(link: _Link) -> str:
    return (
        f"line {link.line}: duplicate_of {', '.join(link.targets)} is neither in this input "
        f"nor on the desk; {link.external_id} stays closed as a duplicate without a link"
    )


def _link_one(ctx: Ctx, desk: str, link: _Link, result: ImportResult) -> None:
    s = ctx.session
    found = dict(
        s.execute(
            select(TicketSource.external_id, TicketSource.ticket_id).where(
                TicketSource.desk == desk, TicketSource.external_id.in_(link.targets)
            )
        ).all()
    )
    target_id = next((found[t] for t in link.targets if t in found), None)
    if target_id is None:
        result.warnings.append(_missing(link))
        return
    ticket = s.get(Ticket, link.ticket_id, with_for_update=True)
    original = s.get(Ticket, target_id)
    assert ticket is not None and original is not None
    if ticket.duplicate_of_id == original.id:
        return
    chain: list[int] = []
    cursor: Ticket | None = original
    while cursor is not None and cursor.duplicate_of_id is not None:
        if cursor.duplicate_of_id in chain:
            break
        chain.append(cursor.duplicate_of_id)
        cursor = s.get(Ticket, cursor.duplicate_of_id)
    refusal = workflow.duplicate_refusal(
        workflow.TicketRef(ticket.id, ticket.key),
        original.key,
        workflow.TicketRef(original.id, original.key),
        chain,
    )
    if refusal is not None:
        result.warnings.append(f"line {link.line}: {link.external_id}: {refusal.message}")
        return
    before = ticket.duplicate_of_id
    ticket.duplicate_of_id = original.id
    ticket.event_seq += 1
    s.add(
        Event(
            ticket_id=ticket.id,
            seq=ticket.event_seq,
            at=ctx.now,
            actor_id=ctx.actor.id,
            type="changed",
            field="duplicate_of",
            before=before,
            after=original.key,
            data={"imported": "duplicate_of"},
        )
    )
