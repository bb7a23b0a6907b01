"""Setting up and running an installation: ``init``, ``check``, ``db upgrade``, ``serve``,
``demo``, ``reorder``, ``users`` and ``token create``. These work on the local database and
policy file, not through the API.

Library and domain imports sit inside the commands, for start-up time (see ``cli.client``).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from dutydesk.cli.client import (
    call,
    emit,
    err,
    fail,
    get_settings,
    local_policy,
    local_state,
    opts,
    out,
    startup_gc,
)
from dutydesk.cli.notify import start_embedded_worker
from dutydesk.errors import DomainError

token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
users_app = typer.Typer(help="People who use dutydesk.", invoke_without_command=True)
db_app = typer.Typer(
    no_args_is_help=True, help="Database schema (upgrade) and moving house (copy)."
)

EXAMPLE_POLICY = Path(__file__).parents[1] / "examples" / "dutydesk.toml"
# On SIGTERM, requests in flight get this long to finish before their connections are closed.
GRACEFUL_SECONDS = 30


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
        err.print(exc.render(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    out.print(f"{path}: ok — {len(policy.desks)} desk(s): {', '.join(policy.desks)}")
    from dutydesk.oncall.rules import policy_warnings  # rotation gaps in the next 90 days
    from dutydesk.policy_check import column_role_warnings

    for warning in [*column_role_warnings(policy), *policy_warnings(policy, datetime.now(UTC))]:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (Alembic)."""
    from dutydesk.migrate import upgrade

    upgrade(get_settings().database_url)
    out.print("database is up to date")


def init(
    demo: Annotated[bool, typer.Option("--demo", help="also load realistic demo data")] = False,
    force: Annotated[bool, typer.Option(help="overwrite an existing dutydesk.toml")] = False,
) -> None:
    """Create the database and a policy file in the current folder."""
    from dutydesk.db import Database
    from dutydesk.migrate import upgrade
    from dutydesk.state import sync_policy
    from dutydesk.tickets.moves import sync as derive_moves

    settings = get_settings()
    if not settings.policy.exists() or force:
        settings.policy.write_text(EXAMPLE_POLICY.read_text(encoding="utf-8"), encoding="utf-8")
        out.print(
            f"wrote {settings.policy} (the two reference desks; edit it, then `dutydesk check`)"
        )
    policy = local_policy()
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    sync_policy(db, policy, datetime.now(UTC))
    derive_moves(db, policy, datetime.now(UTC))
    out.print(f"database ready: {settings.database_url}")
    if demo:
        from dutydesk.demo import build_history

        build_history(db, policy, progress=not opts.json)
        _learn_suggestions(db, list(policy.desks))
    db.dispose()


def _learn_suggestions(db: Any, desks: list[str]) -> None:
    """Demo data is written in bulk, not triaged one by one: count what suggestions learn."""
    from dutydesk.triage import learning

    with db.write() as s:
        for desk in desks:
            learning.rebuild(s, desk)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
) -> None:
    """Serve the web UI and the API."""
    with startup_gc():
        import uvicorn
        from uvicorn.config import STARTUP_FAILURE

        from dutydesk.app import create_app
        from dutydesk.logs import configure as configure_logging
        from dutydesk.slo.policy import load_holidays
        from dutydesk.state import sync_policy
        from dutydesk.tickets.moves import sync as derive_moves

        settings = get_settings()
        configure_logging(json_lines=settings.log_json, access=settings.access_log)
        state = local_state()
        state.db.checkpoint_in_background()  # SQLite: commits stop copying the WAL back
        sync_policy(state.db, state.policy, state.now())
        derive_moves(state.db, state.policy, state.now())
        api = create_app(
            state,
            max_body_bytes=settings.max_body_bytes,
            max_import_bytes=settings.max_import_bytes,
            metrics_token=settings.metrics_token,
        )
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
        uvicorn.Config(
            api,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,  # dutydesk.access writes one line per request, with its id
            log_config=None,  # keep the handlers configured above
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
    )
    with suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def demo(
    desk: Annotated[str, typer.Option(help="desk to add tickets to")] = "infra",
    tickets: Annotated[int, typer.Option(help="how many synthetic tickets")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
) -> None:
    """Add N realistic synthetic tickets (with events and comments) through the bulk path."""
    from dutydesk.demo import bulk_tickets
    from dutydesk.state import sync_policy

    state = local_state()
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


def reorder(
    desk: Annotated[str | None, typer.Argument(help="desk (default: every desk)")] = None,
) -> None:
    """After editing a desk's ordering or admission rule: re-sort its open tickets."""
    from dutydesk.tickets.service import recompute_order

    state = local_state()
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
    expires: Annotated[
        str | None, typer.Option(help="lifetime, e.g. 90d or 12h (default: no expiry)")
    ] = None,
) -> None:
    """Create an API token; it is printed once, on stdout, and only its hash is kept.

    Locally (no --url) it needs no token, so it is how the first one is made."""
    if opts.url:
        body = {"name": name, "expires_in": expires, "user": user}
        sys.stdout.write(call("POST", "/api/v1/tokens", json=body)["token"] + "\n")
        return
    from dutydesk.auth.service import user_by_name
    from dutydesk.auth.tokens import create_for, parse_lifetime

    state = local_state()
    try:
        with state.db.write() as s:
            lifetime = parse_lifetime(expires, "--expires")
            made = create_for(s, state.now(), None, user_by_name(s, user), name, lifetime)
    except DomainError as exc:
        raise fail(exc.detail) from exc
    sys.stdout.write(made.token + "\n")


@users_app.callback()
def users_list(ctx: typer.Context) -> None:
    """List users (name, roles, desks)."""
    if ctx.invoked_subcommand:
        return
    from sqlalchemy import select

    from dutydesk.auth.api import user_out
    from dutydesk.auth.models import User

    state = local_state()
    with state.db.read() as s:
        rows = [user_out(u) for u in s.scalars(select(User).order_by(User.name))]

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table()
        for col in ("name", "display name", "roles", "desks", "team", "active"):
            table.add_column(col)
        for u in rows:
            table.add_row(
                u["name"],
                u["display_name"],
                ", ".join(u["roles"]),
                ", ".join(u["desks"]) or "(all)",
                u["team"] or "-",
                "yes" if u["active"] else "deactivated",
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

    state = local_state()
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
