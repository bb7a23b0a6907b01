"""The ``dutydesk`` command line.

Ticket commands speak the REST API: to a server with ``--url``/``DUTYDESK_URL`` and a token,
or, by default, to an in-process app on the local database acting as ``--as`` (default
``admin``). One code path, so the CLI obeys exactly the rules the API does.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dutydesk.notify.cli import register as register_notify
from dutydesk.notify.cli import start_embedded_worker
from dutydesk.oncall.cli import handoff, oncall_app
from dutydesk.slo.cli import calendar_app, slo_app

if TYPE_CHECKING:
    import httpx

    from dutydesk.policy import Policy
    from dutydesk.settings import Settings

# Policy, settings and httpx (with pydantic) are imported by the commands that use them, so
# `dutydesk --help` and commands that need none of them start without them.

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_enable=False
)
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
users_app = typer.Typer(help="People who use dutydesk.", invoke_without_command=True)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(token_app, name="token")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(slo_app, name="slo")
app.add_typer(calendar_app, name="calendar")
app.add_typer(oncall_app, name="oncall")
register_notify(app)  # worker, agenda, report, notify, chat
app.command()(handoff)

err = Console(stderr=True)
out = Console()
EXAMPLE_POLICY = Path(__file__).parent / "examples" / "dutydesk.toml"


@dataclass
class Options:
    url: str | None = None
    token: str | None = None
    as_user: str = "admin"
    json: bool = False


opts = Options()


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.callback()
def main(
    url: Annotated[
        str | None,
        typer.Option(envvar="DUTYDESK_URL", help="server to talk to (default: local database)"),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="DUTYDESK_TOKEN", help="API token for --url")
    ] = None,
    as_user: Annotated[
        str, typer.Option("--as", envvar="DUTYDESK_USER", help="local mode: act as this user")
    ] = "admin",
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """An on-call ticket queue: file, triage, serve, hand over."""
    opts.url, opts.token, opts.as_user, opts.json = url, token, as_user, json_out


# ----------------------------------------------------------------------------- local plumbing


def get_settings() -> Settings:
    from dutydesk.settings import get_settings as settings  # pydantic-settings: not for --help

    return settings()


@contextmanager
def startup_gc() -> Iterator[None]:
    """Build the app without the garbage collector, then freeze what was built.

    Importing and wiring the app creates some 130,000 objects the collector tracks, nearly all
    living as long as the process; the full collections they trigger meanwhile scan them all
    and free next to nothing (0.1 to 0.25 s of a start). Frozen, they are also left out of
    every later collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _policy() -> Policy:
    from dutydesk.policy import PolicyError
    from dutydesk.policy_check import load_checked_policy

    path = get_settings().policy
    try:
        return load_checked_policy(path)
    except PolicyError as exc:
        err.print(exc.render(), highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def _state(check_schema: bool = True) -> Any:
    from dutydesk.db import Database
    from dutydesk.migrate import NotMigrated, ensure_current
    from dutydesk.state import AppState

    policy = _policy()
    db = Database(get_settings().database_url)
    if check_schema:
        try:
            ensure_current(db.engine)
        except NotMigrated as exc:
            raise fail(str(exc)) from exc
    return AppState(db=db, policy=policy)


def _client() -> httpx.Client:
    import httpx  # not at the top: `--help` and the local commands do without it

    if opts.url:
        if not opts.token:
            raise fail(
                "--url needs a token: pass --token or set DUTYDESK_TOKEN "
                "(`dutydesk token create USER` on the server makes one)"
            )
        return httpx.Client(
            base_url=opts.url.rstrip("/"),
            timeout=30,
            headers={"Authorization": f"Bearer {opts.token}"},
        )
    with startup_gc():  # local mode builds the whole app in-process, as `serve` does
        import warnings

        warnings.filterwarnings("ignore", category=DeprecationWarning, module="fastapi.testclient")
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient
        from sqlalchemy import select

        from dutydesk.app import create_app
        from dutydesk.auth.models import User
        from dutydesk.http.deps import get_actor

        state = _state()
        with state.db.read() as s:
            user = s.scalar(select(User).where(User.name == opts.as_user))
        if user is None:
            raise fail(f"no local user {opts.as_user!r}: pass --as NAME (see `dutydesk users`)")
        api = create_app(state)
        api.dependency_overrides[get_actor] = lambda: user
        return TestClient(api, raise_server_exceptions=True)


def call(method: str, path: str, **kwargs: Any) -> Any:
    import httpx

    with _client() as client:
        try:
            r = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise fail(f"cannot reach {opts.url}: {exc}") from exc
    if r.status_code >= 400:
        try:
            body = r.json()
            detail = body.get("detail") or body.get("title")
        except ValueError:
            detail = r.text[:200]
        raise fail(f"{detail} (HTTP {r.status_code})")
    return r.json() if r.content else None


def emit(data: Any, render: Any = None) -> None:
    if opts.json or render is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(data)


def _ticket_table(items: list[dict[str, Any]], title: str = "") -> None:
    table = Table(title=title or None, show_lines=False)
    for col in ("key", "P", "status", "title", "assignee", "team", "age"):
        table.add_column(col, no_wrap=col != "title")
    now = datetime.now(UTC)
    for t in items:
        age = now - datetime.fromisoformat(t["created_at"])
        flags = " [red](blocked)[/red]" if t["blocked"] else ""
        table.add_row(
            t["key"],
            t["priority"] or "-",
            t["status"],
            t["title"] + flags,
            t["assignee"] or "-",
            t["team"] or "-",
            f"{age.days}d",
        )
    out.print(table)


def _ticket_detail(t: dict[str, Any]) -> None:
    out.print(f"[bold]{t['key']}[/bold] {t['title']}")
    fields = [
        "status",
        "priority",
        "kind",
        "category",
        "assignee",
        "team",
        "reporter",
        "resolution",
        "duplicate_of",
        "labels",
        "criteria",
        "customer_reported",
        "fix_target",
        "blocked_reason",
        "in_queue",
        "queue_class",
        "created_at",
        "triaged_at",
        "resolved_at",
        "version",
    ]
    for f in fields:
        value = t.get(f)
        if value not in (None, [], "", False) or f in ("status", "priority"):
            out.print(f"  {f:18} {value if value is not None else '-'}", highlight=False)
    if t.get("description"):
        out.print()
        out.print(t["description"], highlight=False)


# ----------------------------------------------------------------------------- setup commands


@app.command()
def check(
    file: Annotated[
        Path | None, typer.Argument(help="policy file (default: $DUTYDESK_POLICY)")
    ] = None,
) -> None:
    """Validate a dutydesk.toml and explain every error with its location."""
    from dutydesk.policy import PolicyError
    from dutydesk.policy_check import load_checked_policy

    path = file or get_settings().policy
    try:
        policy = load_checked_policy(path)
    except PolicyError as exc:
        err.print(exc.render(), highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    out.print(f"{path}: ok — {len(policy.desks)} desk(s): {', '.join(policy.desks)}")
    from dutydesk.oncall.rules import policy_warnings  # rotation gaps in the next 90 days

    for warning in policy_warnings(policy, datetime.now(UTC)):
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (Alembic)."""
    from dutydesk.migrate import upgrade

    upgrade(get_settings().database_url)
    out.print("database is up to date")


@app.command()
def init(
    demo: Annotated[bool, typer.Option("--demo", help="also load realistic demo data")] = False,
    force: Annotated[bool, typer.Option(help="overwrite an existing dutydesk.toml")] = False,
) -> None:
    """Create the database and a policy file in the current folder."""
    from dutydesk.db import Database
    from dutydesk.migrate import upgrade
    from dutydesk.state import sync_policy

    settings = get_settings()
    if not settings.policy.exists() or force:
        settings.policy.write_text(EXAMPLE_POLICY.read_text(encoding="utf-8"), encoding="utf-8")
        out.print(
            f"wrote {settings.policy} (the two reference desks; edit it, then `dutydesk check`)"
        )
    policy = _policy()
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    sync_policy(db, policy, datetime.now(UTC))
    out.print(f"database ready: {settings.database_url}")
    if demo:
        from dutydesk.demo import build_history

        build_history(db, policy, progress=not opts.json)
    db.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
) -> None:
    """Serve the web UI and the API."""
    with startup_gc():
        import socket
        import threading

        import uvicorn
        from uvicorn.config import STARTUP_FAILURE

        from dutydesk.app import create_app
        from dutydesk.slo.policy import load_holidays
        from dutydesk.state import sync_policy

        state = _state()
        state.db.checkpoint_in_background()  # SQLite: commits stop copying the WAL back
        sync_policy(state.db, state.policy, state.now())
        api = create_app(state, max_body_bytes=get_settings().max_body_bytes)
        people = [n for n, p in state.policy.people.items() if p.password]
        out.print(f"dutydesk serving on [bold]http://{host}:{port}[/bold]  (API: /api/v1/docs)")
        if people:
            out.print(f"demo logins (password 'dutydesk'): {', '.join(people)}")

    class Server(uvicorn.Server):
        """Once it listens, starts the notification worker (a thread on SQLite; PostgreSQL:
        `dutydesk worker`) and loads the calendars' holiday tables on a thread of their own:
        the worker's first tick loads them while holding the write lock, which during start-up
        held up the SLO check and the first answer (~0.1 s)."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                start_embedded_worker(state)
                threading.Thread(
                    target=load_holidays, args=(state.policy, state.now().date()), daemon=True
                ).start()

    # What uvicorn.run(api, ...) does for one process without reload.
    server = Server(
        uvicorn.Config(api, host=host, port=port, log_level="warning", access_log=False)
    )
    with suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


@app.command()
def demo(
    desk: Annotated[str, typer.Option(help="desk to add tickets to")] = "infra",
    tickets: Annotated[int, typer.Option(help="how many synthetic tickets")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
) -> None:
    """Add N realistic synthetic tickets (with events and comments) through the bulk path."""
    from dutydesk.demo import bulk_tickets
    from dutydesk.state import sync_policy

    state = _state()
    if desk not in state.policy.desks:
        raise fail(f"--desk {desk!r} is not a desk; use one of {', '.join(state.policy.desks)}")
    sync_policy(state.db, state.policy, state.now())
    started = time.perf_counter()
    n = bulk_tickets(state.db, state.policy, desk, tickets, seed=seed, progress=not opts.json)
    if state.policy.desks[desk].slo:
        from dutydesk.slo.service import recompute

        with state.db.write() as s:  # the bulk path skips the hooks: start the SLO clocks now
            recompute(s, state.policy, desk, state.now(), full=True)
    took = time.perf_counter() - started
    emit(
        {"desk": desk, "tickets": n, "seconds": round(took, 2)},
        lambda d: out.print(f"added {d['tickets']} tickets to {desk} in {d['seconds']} s"),
    )


@app.command()
def reorder(
    desk: Annotated[str | None, typer.Argument(help="desk (default: every desk)")] = None,
) -> None:
    """After editing a desk's ordering or admission rule: re-sort its open tickets."""
    from dutydesk.tickets.service import recompute_order

    state = _state()
    names = [desk] if desk else list(state.policy.desks)
    counts = {}
    for name in names:
        if name not in state.policy.desks:
            raise fail(f"{name!r} is not a desk; use one of {', '.join(state.policy.desks)}")
        with state.db.write() as s:
            counts[name] = recompute_order(s, name, state.policy.desks[name])
    emit(
        counts,
        lambda d: out.print(", ".join(f"{k}: {v} ticket(s) re-sorted" for k, v in d.items())),
    )


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="user the token acts as")],
    name: Annotated[str, typer.Option(help="a note on what the token is for")] = "",
) -> None:
    """Create an API token; it is printed once, on stdout, and only its hash is kept."""
    from dutydesk.auth.service import create_token, user_by_name
    from dutydesk.errors import DomainError

    state = _state()
    try:
        with state.db.write() as s:
            token = create_token(s, user_by_name(s, user), state.now(), name)
    except DomainError as exc:
        raise fail(exc.detail) from exc
    sys.stdout.write(token + "\n")


@users_app.callback()
def users_list(ctx: typer.Context) -> None:
    """List users (name, roles, desks)."""
    if ctx.invoked_subcommand:
        return
    from sqlalchemy import select

    from dutydesk.auth.api import user_out
    from dutydesk.auth.models import User

    state = _state()
    with state.db.read() as s:
        rows = [user_out(u) for u in s.scalars(select(User).order_by(User.name))]

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table()
        for col in ("name", "display name", "roles", "desks", "team"):
            table.add_column(col)
        for u in rows:
            table.add_row(
                u["name"],
                u["display_name"],
                ", ".join(u["roles"]),
                ", ".join(u["desks"]) or "(all)",
                u["team"] or "-",
            )
        out.print(table)

    emit(rows, render)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[list[str], typer.Option(help="reporter, responder, lead or admin")],
    desk: Annotated[list[str] | None, typer.Option(help="desk(s) the role applies to")] = None,
    display_name: Annotated[str, typer.Option(help="full name")] = "",
    email: Annotated[str | None, typer.Option(help="e-mail address")] = None,
    team: Annotated[str | None, typer.Option(help="feature team")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Create a user."""
    from dutydesk.auth.service import create_user
    from dutydesk.errors import DomainError

    state = _state()
    for d in desk or []:
        if d not in state.policy.desks:
            raise fail(f"--desk {d!r} is not a desk; use one of {', '.join(state.policy.desks)}")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        with state.db.write() as s:
            create_user(
                s,
                name,
                roles=role,
                desks=desk or [],
                display_name=display_name,
                email=email,
                team=team,
                password=password,
                now=state.now(),
            )
    except DomainError as exc:
        raise fail(exc.detail) from exc
    emit(
        {"name": name, "roles": role, "desks": desk or []},
        lambda d: out.print(f"created user {name} ({', '.join(role)})"),
    )


# ----------------------------------------------------------------------------- ticket commands


@app.command("file")
def file_(
    desk: Annotated[str, typer.Argument(help="desk to file into")],
    title: Annotated[str, typer.Argument(help="a descriptive title")],
    description: Annotated[str, typer.Option("--description", "-d", help="markdown")] = "",
    kind: Annotated[str | None, typer.Option(help="ticket kind")] = None,
    category: Annotated[str | None, typer.Option(help="toil category")] = None,
    criterion: Annotated[
        list[str] | None, typer.Option(help="queue criterion that applies")
    ] = None,
    label: Annotated[list[str] | None, typer.Option(help="label (repeatable)")] = None,
    customer: Annotated[bool, typer.Option(help="reported by a customer")] = False,
) -> None:
    """File a ticket."""
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "criteria": criterion or [],
        "labels": label or [],
        "customer_reported": customer,
    }
    if kind:
        body["kind"] = kind
    if category:
        body["category"] = category
    t = call("POST", f"/api/v1/desks/{desk}/tickets", json=body)
    emit(t, lambda t: out.print(f"filed [bold]{t['key']}[/bold]: {t['title']}"))


@app.command("list")
def list_(
    desk: Annotated[str | None, typer.Option(help="desk")] = None,
    status: Annotated[list[str] | None, typer.Option(help="column (repeatable)")] = None,
    priority: Annotated[list[str] | None, typer.Option(help="priority (repeatable)")] = None,
    assignee: Annotated[str | None, typer.Option(help="user name, or 'none'")] = None,
    team: Annotated[str | None, typer.Option(help="team")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="kind (repeatable)")] = None,
    label: Annotated[str | None, typer.Option(help="label")] = None,
    open_: Annotated[
        bool | None, typer.Option("--open/--closed", help="open or closed only")
    ] = None,
    q: Annotated[str | None, typer.Option("--q", "-q", help="full-text search")] = None,
    saved: Annotated[str | None, typer.Option(help="run a saved filter by name")] = None,
    limit: Annotated[int, typer.Option(help="how many")] = 50,
) -> None:
    """List tickets by filters, full-text search or a saved filter."""
    if saved:
        page = call("GET", f"/api/v1/saved-filters/{saved}/tickets", params={"limit": limit})
    else:
        params: dict[str, Any] = {
            "desk": desk,
            "status": status,
            "priority": priority,
            "assignee": assignee,
            "team": team,
            "kind": kind,
            "label": label,
            "open": open_,
            "q": q,
            "limit": limit,
        }
        page = call(
            "GET", "/api/v1/tickets", params={k: v for k, v in params.items() if v is not None}
        )
    emit(page, lambda p: _ticket_table(p["items"]))


@app.command()
def queue(
    desk: Annotated[str, typer.Argument(help="desk")],
    limit: Annotated[int, typer.Option(help="how many")] = 30,
    backlog: Annotated[bool, typer.Option(help="show the backlog below admission")] = False,
) -> None:
    """The desk's ordered queue, top first."""
    page = call("GET", f"/api/v1/desks/{desk}/queue", params={"limit": limit, "backlog": backlog})
    emit(page, lambda p: _ticket_table(p["items"], f"{desk} {'backlog' if backlog else 'queue'}"))


@app.command()
def show(
    key: Annotated[str, typer.Argument(help="ticket key, e.g. INFRA-42")],
    history: Annotated[bool, typer.Option(help="also print the event timeline")] = False,
) -> None:
    """Show one ticket."""
    t = call("GET", f"/api/v1/tickets/{key}")
    if history:
        t["events"] = call("GET", f"/api/v1/tickets/{key}/events")

    def render(t: dict[str, Any]) -> None:
        _ticket_detail(t)
        for e in t.get("events", []):
            change = f"{e['field']}: {e['before']} → {e['after']}" if e["field"] else ""
            out.print(
                f"  #{e['seq']:<3} {e['at'][:16]} {e['actor'] or '-':8} {e['type']:10} {change}",
                highlight=False,
            )

    emit(t, render)


def _action(key: str, action: str, body: dict[str, Any], verb: str) -> None:
    t = call("POST", f"/api/v1/tickets/{key}/{action}", json=body)
    emit(
        t,
        lambda t: out.print(
            f"{t['key']} {verb}: {t['status']}"
            f"{' (' + t['resolution'] + ')' if t.get('resolution') else ''}"
            f", assignee {t['assignee'] or '-'}, priority {t['priority'] or '-'}"
        ),
    )


@app.command("move")
def move_(
    key: Annotated[str, typer.Argument(help="ticket key")],
    to: Annotated[str, typer.Argument(help="column to move to")],
    resolution: Annotated[str | None, typer.Option(help="required when moving to Done")] = None,
    duplicate_of: Annotated[
        str | None, typer.Option(help="original, for resolution duplicate")
    ] = None,
) -> None:
    """Move a ticket to another column."""
    _action(
        key, "move", {"to": to, "resolution": resolution, "duplicate_of": duplicate_of}, "moved"
    )


@app.command()
def assign(
    key: Annotated[str, typer.Argument(help="ticket key")],
    assignee: Annotated[str | None, typer.Argument(help="user name; omit to unassign")] = None,
) -> None:
    """Assign (or unassign) a ticket."""
    _action(key, "assign", {"assignee": assignee}, "assigned")


@app.command("triage")
def triage_(
    key: Annotated[str, typer.Argument(help="ticket key")],
    priority: Annotated[str | None, typer.Option(help="priority, e.g. P1")] = None,
    title: Annotated[str | None, typer.Option(help="clarified title")] = None,
    team: Annotated[str | None, typer.Option(help="owning team")] = None,
    kind: Annotated[str | None, typer.Option(help="kind (convert a non-bug)")] = None,
    category: Annotated[str | None, typer.Option(help="toil category")] = None,
    assignee: Annotated[str | None, typer.Option(help="who works on it")] = None,
    duplicate_of: Annotated[str | None, typer.Option(help="close as duplicate of KEY")] = None,
    note: Annotated[str | None, typer.Option(help="a comment to add")] = None,
) -> None:
    """Triage a new ticket in one step."""
    body = {
        "priority": priority,
        "title": title,
        "team": team,
        "kind": kind,
        "category": category,
        "assignee": assignee,
        "duplicate_of": duplicate_of,
        "note": note,
    }
    _action(key, "triage", {k: v for k, v in body.items() if v is not None}, "triaged")


@app.command()
def comment(
    key: Annotated[str, typer.Argument(help="ticket key")],
    body: Annotated[str, typer.Argument(help="markdown text; '-' reads stdin")],
    internal: Annotated[bool, typer.Option(help="visible to responders only")] = False,
) -> None:
    """Comment on a ticket."""
    text = sys.stdin.read() if body == "-" else body
    c = call("POST", f"/api/v1/tickets/{key}/comments", json={"body": text, "public": not internal})
    emit(c, lambda c: out.print(f"commented on {key.upper()} (#{c['id']})"))


@app.command()
def block(
    key: Annotated[str, typer.Argument(help="ticket key")],
    reason: Annotated[str | None, typer.Argument(help="what it waits on")] = None,
    off: Annotated[bool, typer.Option("--off", help="unblock")] = False,
) -> None:
    """Block a ticket with a reason, or unblock it with --off."""
    if off:
        _action(key, "unblock", {}, "unblocked")
        return
    if not reason:
        raise fail("a block needs a reason: dutydesk block KEY 'waiting on quota approval'")
    _action(key, "block", {"reason": reason}, "blocked")


@app.command("rank")
def rank_(
    key: Annotated[str, typer.Argument(help="ticket to move")],
    before: Annotated[str | None, typer.Option(help="place it just before this ticket")] = None,
    after: Annotated[str | None, typer.Option(help="place it just after this ticket")] = None,
) -> None:
    """Reorder the queue by hand, within a ticket's class."""
    _action(key, "rank", {"before": before, "after": after}, "ranked")


def run() -> None:  # pragma: no cover - console entry point
    os.environ.setdefault("PYTHONUTF8", "1")
    app()
