"""CLI: ``worker``, ``agenda``, ``report set-update|note``, ``notify …`` (outbox, dead letters,
retry, channels, test) and ``chat link``.

Reading and admin commands speak the REST API like the ticket commands (local in-process app
by default, or ``--url``); ``worker`` and ``chat link`` work on the local database.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from dutydesk.cli.client import call, emit, err, fail, local_state, opts, out
from dutydesk.clock import fixed_clock
from dutydesk.errors import DomainError

notify_app = typer.Typer(
    no_args_is_help=True, help="Notifications: outbox, dead letters, channels."
)
report_app = typer.Typer(
    no_args_is_help=True, help="Reports: toil, the weekly status post, suggestion accuracy."
)
chat_app = typer.Typer(no_args_is_help=True, help="Chat (Slack/Mattermost) accounts.")


def _instant(text: str) -> datetime:
    from dutydesk.notify.api import parse_now

    try:
        return parse_now(text)
    except DomainError as exc:
        raise fail(f"--now: {exc.detail}") from exc


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="work until nothing is due, then exit")
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(help="run as if it were this instant, e.g. 2026-12-01T09:00-08:00"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="log warnings only")] = False,
) -> None:
    """Deliver notifications: periodic posts, reminders, SLO timers, retries (Ctrl-C stops)."""
    from dutydesk.logs import configure as configure_logging
    from dutydesk.notify.worker import Worker
    from dutydesk.settings import get_settings
    from dutydesk.state import sync_policy

    configure_logging(
        json_lines=get_settings().log_json, level=logging.WARNING if quiet else logging.INFO
    )
    start = _instant(now) if now else None
    state = local_state()
    if start is not None and once:
        clock = fixed_clock(start)
    elif start is not None:
        t0, origin = time.monotonic(), start

        def clock() -> datetime:  # starts at --now, then runs in real time
            return (origin + timedelta(seconds=time.monotonic() - t0)).astimezone(UTC)

    else:
        clock = state.clock
    sync_policy(state.db, state.policy, clock())
    w = Worker(state.db, state.policy, clock)
    try:
        if once:
            try:
                stats = w.run_once()
            except Exception as exc:  # one clear line, not a traceback
                raise fail(f"worker: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
            emit(
                stats.as_dict(),
                lambda d: out.print(", ".join(f"{k} {v}" for k, v in d.items()), highlight=False),
            )
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        if not opts.json:
            err.print(f"dutydesk worker on {state.db.dialect}; Ctrl-C stops", highlight=False)
        w.run(stop)
    finally:
        w.close()
        state.db.dispose()


def agenda(
    desk: Annotated[str, typer.Argument(help="desk, e.g. set")],
    date: Annotated[str | None, typer.Option("--date", help="meeting date YYYY-MM-DD")] = None,
    meeting: Annotated[str | None, typer.Option(help="meeting name (default: the next)")] = None,
) -> None:
    """The agenda of a desk's meeting (its next one, or the one on --date)."""
    params = {k: v for k, v in {"date": date, "meeting": meeting}.items() if v}
    data = call("GET", f"/api/v1/desks/{desk}/agenda", params=params)
    emit(data, lambda d: sys.stdout.write(d["text"]))


@report_app.command("set-update")
def set_update(
    date: Annotated[
        str | None, typer.Option("--date", help="post date YYYY-MM-DD (default: now)")
    ] = None,
    desk: Annotated[str, typer.Option(help="desk")] = "set",
    explain: Annotated[bool, typer.Option(help="also list what was counted (stderr)")] = False,
) -> None:
    """The weekly status post, exactly in the team's template, for any week."""
    data = call("GET", f"/api/v1/desks/{desk}/status-post", params={"date": date} if date else {})

    def render(d: dict[str, Any]) -> None:
        sys.stdout.write(d["text"])
        if explain:
            w = d["window"]
            err.print(f"window: {w['from']} .. {w['to']}", highlight=False)
            for label, items in (
                ("resolved", d["bugs_resolved"]),
                ("submitted", d["bug_fix_prs_submitted"]),
            ):
                for c in items:
                    cust = " (customer)" if c["customer"] else ""
                    err.print(f"  {label}: {c['key']} {c['title']}{cust}", highlight=False)

    emit(data, render)


@report_app.command("note")
def note(
    text: Annotated[str, typer.Argument(help="a note or qualifier for this week's post")],
    desk: Annotated[str, typer.Option(help="desk")] = "set",
) -> None:
    """Add a note to this week's status post (leads)."""
    data = call("POST", f"/api/v1/desks/{desk}/status-notes", json={"text": text})
    emit(data, lambda d: out.print(f"noted for {desk}'s next status post"))


def _outbox_table(data: dict[str, Any]) -> None:
    table = Table()
    for col in ("id", "state", "kind", "channel", "to", "subject", "tries", "due", "error"):
        table.add_column(col, overflow="fold")
    for r in data["items"]:
        table.add_row(
            str(r["id"]),
            r["state"],
            r["kind"],
            r["channel"] or "-",
            r["recipient"] or "-",
            str(r["subject"] or "")[:60],
            str(r["attempts"]),
            r["due_at"][:16],
            (r["last_error"] or "")[:80],
        )
    out.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in data["counts"].items() if v)
    out.print(f"outbox: {counts or 'empty'}", highlight=False)
    if data.get("changes_queued"):
        out.print(
            f"ticket changes not yet fanned out: {data['changes_queued']} (the worker's next tick)",
            highlight=False,
        )


@notify_app.command("outbox")
def outbox_list(
    state: Annotated[
        str | None, typer.Option(help="pending, delivered, dead, parked, expired, skipped")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="message, notice or job")] = None,
    limit: Annotated[int, typer.Option(help="how many")] = 30,
) -> None:
    """The outbox, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if state:
        params["state"] = state
    if kind:
        params["kind"] = kind
    emit(call("GET", "/api/v1/admin/outbox", params=params), _outbox_table)


@notify_app.command("dead")
def dead(limit: Annotated[int, typer.Option(help="how many")] = 30) -> None:
    """The dead-letter list: messages that failed every attempt."""
    data = call("GET", "/api/v1/admin/outbox", params={"state": "dead", "limit": limit})
    emit(data, _outbox_table)


@notify_app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="message ids")] = None,
    dead_: Annotated[bool, typer.Option("--dead", help="every dead message")] = False,
    parked: Annotated[bool, typer.Option("--parked", help="every parked message")] = False,
    channel: Annotated[str | None, typer.Option(help="only this channel")] = None,
) -> None:
    """Send dead or parked messages again (a fresh retry budget, due now)."""
    if not ids and not dead_ and not parked:
        raise fail("name message ids, or pass --dead or --parked")
    if dead_ and parked:
        raise fail("pass --dead or --parked, not both")
    body: dict[str, Any] = {"ids": ids or []}
    if dead_ or parked:
        body["state"] = "dead" if dead_ else "parked"
    if channel:
        body["channel"] = channel
    data = call("POST", "/api/v1/admin/outbox/retry", json=body)
    emit(data, lambda d: out.print(f"{d['retried']} message(s) back in line"))


@notify_app.command("channels")
def channels() -> None:
    """Which channels are configured here (from the environment) and which are not."""

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table()
        for col in ("channel", "configured", "type / why not"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["name"], "yes" if r["configured"] else "no", r.get("type") or r.get("reason", "")
            )
        out.print(table)

    emit(call("GET", "/api/v1/admin/channels"), render)


@chat_app.command("link")
def chat_link(
    user: Annotated[str, typer.Argument(help="dutydesk user name")],
    platform: Annotated[str, typer.Option(help="slack or mattermost")],
    chat_id: Annotated[str, typer.Option("--id", help="the chat user id (Slack: U024BE7LH)")],
) -> None:
    """Link a chat account to a dutydesk user, for /dutydesk slash commands."""
    from dutydesk.auth.service import user_by_name
    from dutydesk.notify.models import ChatAccount

    if platform not in ("slack", "mattermost"):
        raise fail("--platform must be slack or mattermost")
    state = local_state()
    try:
        with state.db.write() as s:
            target = user_by_name(s, user)
            row = s.get(ChatAccount, (platform, chat_id))
            if row is None:
                s.add(
                    ChatAccount(
                        platform=platform,
                        chat_user_id=chat_id,
                        user_id=target.id,
                        created_at=state.now(),
                    )
                )
            else:
                row.user_id = target.id
    except DomainError as exc:
        raise fail(exc.detail) from exc
    emit(
        {"user": user, "platform": platform, "id": chat_id},
        lambda d: out.print(f"{platform} user {chat_id} is now {user}"),
    )


def start_embedded_worker(state: Any) -> Any:
    """For ``dutydesk serve``: the worker as a thread, on SQLite only (PostgreSQL installs run
    ``dutydesk worker`` processes, as many as they like)."""
    if not state.db.sqlite:
        return None
    from dutydesk.notify.worker import start_embedded

    return start_embedded(state.db, state.policy, state.clock)
