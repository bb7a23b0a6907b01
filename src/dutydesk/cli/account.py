"""People and one's own account over the API: ``user add|change`` (admins), ``password``,
``sessions``, ``inbox``, ``notify prefs`` and ``handbook``. The same use cases, and so the
same refusals, as the pages and the API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dutydesk.cli.client import call, emit, fail, out


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "-"


# ----------------------------------------------------------------------------- people


def user_add(
    name: Annotated[str, typer.Argument(help="login name (lower case)")],
    role: Annotated[
        list[str] | None, typer.Option(help="reporter, responder, lead or admin")
    ] = None,
    desk: Annotated[list[str] | None, typer.Option(help="desk(s) the role applies to")] = None,
    display_name: Annotated[str, typer.Option(help="full name")] = "",
    email: Annotated[str | None, typer.Option(help="e-mail address")] = None,
    team: Annotated[str | None, typer.Option(help="feature team")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read a first password from stdin")
    ] = False,
) -> None:
    """Add a person (admins; audited). They change their password under Settings."""
    body: dict[str, Any] = {
        "name": name,
        "roles": role or ["reporter"],
        "desks": desk or [],
        "display_name": display_name,
        "email": email,
        "team": team,
    }
    if password_stdin:
        body["password"] = sys.stdin.readline().rstrip("\n")
    data = call("POST", "/api/v1/users", json=body)
    emit(data, lambda d: out.print(f"added {d['name']} ({', '.join(d['roles'])})"))


def user_change(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[list[str] | None, typer.Option(help="the new roles (replace the old)")] = None,
    desk: Annotated[list[str] | None, typer.Option(help="the new desks (replace the old)")] = None,
    all_desks: Annotated[
        bool, typer.Option("--all-desks", help="the roles apply on every desk")
    ] = False,
    display_name: Annotated[str | None, typer.Option(help="full name")] = None,
    email: Annotated[str | None, typer.Option(help="e-mail address")] = None,
    team: Annotated[str | None, typer.Option(help="feature team")] = None,
) -> None:
    """Change someone's roles, desks or details (admins; role changes are audited)."""
    body: dict[str, Any] = {}
    if role:
        body["roles"] = role
    if desk or all_desks:
        body["desks"] = [] if all_desks else desk
    for key, value in (("display_name", display_name), ("email", email), ("team", team)):
        if value is not None:
            body[key] = value
    if not body:
        raise fail("nothing to change: give --role, --desk, --all-desks, --team, --email …")
    data = call("PATCH", f"/api/v1/users/{name}", json=body)
    emit(
        data,
        lambda d: out.print(
            f"{d['name']}: {', '.join(d['roles'])} on {', '.join(d['desks']) or 'every desk'}"
        ),
    )


# ----------------------------------------------------------------------------- own account


def password(
    stdin: Annotated[
        bool, typer.Option("--stdin", help="read the old, then the new password from stdin")
    ] = False,
) -> None:
    """Change your password (the current one is required); your browser sessions end."""
    if stdin:
        old, new = sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n")
    else:
        old = typer.prompt("Current password", hide_input=True)
        new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    data = call("POST", "/api/v1/me/password", json={"old_password": old, "new_password": new})
    emit(data, lambda d: out.print(f"password changed; {d['sessions_ended']} session(s) ended"))


sessions_app = typer.Typer(help="Your browser sessions.", invoke_without_command=True)


@sessions_app.callback()
def sessions_list(ctx: typer.Context) -> None:
    """List your open browser sessions, last seen first."""
    if ctx.invoked_subcommand:
        return
    rows = call("GET", "/api/v1/me/sessions")

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table()
        for col in ("id", "browser", "logged in", "last seen", "expires"):
            table.add_column(col)
        for s in rows:
            table.add_row(
                str(s["id"]),
                s["user_agent"] or "-",
                _when(s["created_at"]),
                _when(s["last_seen_at"]),
                _when(s["expires_at"]),
            )
        out.print(table)

    emit(rows, render)


@sessions_app.command("revoke")
def sessions_revoke(
    session_id: Annotated[int, typer.Argument(help="id from `dutydesk sessions`")],
) -> None:
    """Log one session out."""
    data = call("POST", f"/api/v1/me/sessions/{session_id}/revoke")
    emit(data, lambda d: out.print(f"session {d['id']} is logged out"))


@sessions_app.command("revoke-all")
def sessions_revoke_all() -> None:
    """Log every browser session out."""
    data = call("POST", "/api/v1/me/sessions/revoke-others")
    emit(data, lambda d: out.print(f"{d['ended']} session(s) logged out"))


# ----------------------------------------------------------------------------- inbox

inbox_app = typer.Typer(help="What you were notified about.", invoke_without_command=True)


@inbox_app.callback()
def inbox_list(
    ctx: typer.Context,
    unread: Annotated[bool, typer.Option("--unread", help="only unread ones")] = False,
    limit: Annotated[int, typer.Option(help="how many, newest first")] = 30,
) -> None:
    """List your notifications, newest first."""
    if ctx.invoked_subcommand:
        return
    params: dict[str, Any] = {"limit": limit}
    if unread:
        params["unread"] = "true"
    data = call("GET", "/api/v1/me/inbox", params=params)

    def render(d: dict[str, Any]) -> None:
        table = Table(title=f"{d['unread']} unread")
        for col in ("id", "", "when", "ticket", "why", "what"):
            table.add_column(col)
        for i in d["items"]:
            table.add_row(
                str(i["id"]),
                "" if i["read"] else "●",
                _when(i["at"]),
                i["ticket"] or "-",
                i["reason"],
                "\n".join(i["lines"]),
            )
        out.print(table)

    emit(data, render)


@inbox_app.command("read")
def inbox_read(
    ids: Annotated[list[int] | None, typer.Argument(help="notification ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every unread notification")] = False,
    unread: Annotated[bool, typer.Option("--unread", help="mark them unread again")] = False,
) -> None:
    """Mark notifications read (or unread again)."""
    if not ids and not all_:
        raise fail("name notification ids (from `dutydesk inbox`), or give --all")
    body = {"ids": ids or [], "all": all_, "read": not unread}
    data = call("POST", "/api/v1/me/inbox/read", json=body)
    emit(data, lambda d: out.print(f"{d['changed']} changed; {d['unread']} unread"))


def prefs(
    via: Annotated[list[str] | None, typer.Option(help="email and/or chat")] = None,
    chat_channel: Annotated[
        str | None, typer.Option(help="chat channel for direct messages")
    ] = None,
    mute: Annotated[list[str] | None, typer.Option(help="a reason not to hear of")] = None,
    unmute_all: Annotated[bool, typer.Option("--unmute-all", help="hear of everything")] = False,
    digest_window: Annotated[
        str | None, typer.Option(help="e.g. '0 minutes', '1 hour'; 'default' for the install's")
    ] = None,
) -> None:
    """Show your notification preferences; with options, change them."""
    current = call("GET", "/api/v1/me/notifications")
    if (
        via is None
        and chat_channel is None
        and mute is None
        and not unmute_all
        and digest_window is None
    ):
        data = current
    else:
        body = {
            "via": via if via is not None else current["via"],
            "chat_channel": chat_channel if chat_channel is not None else current["chat_channel"],
            "mute": [] if unmute_all else (mute if mute is not None else current["mute"]),
            "digest_window": (
                None
                if digest_window == "default"
                else digest_window
                if digest_window is not None
                else current["digest_window"]
            ),
        }
        data = call("PUT", "/api/v1/me/notifications", json=body)

    def render(d: dict[str, Any]) -> None:
        out.print(f"via: {', '.join(d['via']) or 'nothing (inbox only)'}")
        if d["chat_channel"]:
            out.print(f"chat channel: {d['chat_channel']}")
        out.print(f"muted: {', '.join(d['mute']) or 'nothing'}")
        window = d["digest_window"] or f"{d['default_digest_window']} (the install's default)"
        out.print(f"digest window: {window}")

    emit(data, render)


# ----------------------------------------------------------------------------- handbook

handbook_app = typer.Typer(no_args_is_help=True, help="Each desk's own 'how we work' page.")


@handbook_app.command("show")
def handbook_show(
    desk: Annotated[str, typer.Argument(help="desk name")],
    version: Annotated[int | None, typer.Option(help="an older version")] = None,
) -> None:
    """Print the handbook's Markdown."""
    data = call(
        "GET", f"/api/v1/desks/{desk}/handbook", params={"version": version} if version else {}
    )
    if data is None:
        raise fail(f"the {desk} handbook is empty; `dutydesk handbook edit {desk} FILE` writes it")
    emit(data, lambda d: out.print(d["body"], markup=False, highlight=False))


@handbook_app.command("history")
def handbook_history(desk: Annotated[str, typer.Argument(help="desk name")]) -> None:
    """Every version with who saved it."""
    rows = call("GET", f"/api/v1/desks/{desk}/handbook/history")

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table()
        for col in ("version", "by", "when", "what changed"):
            table.add_column(col)
        for v in rows:
            table.add_row(str(v["version"]), v["author"], _when(v["at"]), v["summary"] or "-")
        out.print(table)

    emit(rows, render)


@handbook_app.command("diff")
def handbook_diff(
    desk: Annotated[str, typer.Argument(help="desk name")],
    after: Annotated[int, typer.Argument(help="the newer version")],
    before: Annotated[
        int | None, typer.Argument(help="the older one (default: the one before)")
    ] = None,
) -> None:
    """What changed between two versions."""
    params = {"after": after, "before": after - 1 if before is None else before}
    data = call("GET", f"/api/v1/desks/{desk}/handbook/diff", params=params)
    marks = {"added": "+ ", "removed": "- ", "same": "  ", "hunk": ""}

    def render(d: dict[str, Any]) -> None:
        for line in d["lines"]:
            out.print(marks[line["kind"]] + line["text"], markup=False, highlight=False)

    emit(data, render)


@handbook_app.command("edit")
def handbook_edit(
    desk: Annotated[str, typer.Argument(help="desk name")],
    file: Annotated[Path, typer.Argument(help="Markdown file with the new text ('-': stdin)")],
    summary: Annotated[str, typer.Option(help="what changed")] = "",
    base: Annotated[
        int | None,
        typer.Option(help="the version your text started from (default: the current one)"),
    ] = None,
) -> None:
    """Save a new version from a file (desk members). With --base, refused if someone saved
    a newer version since the one you edited."""
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from exc
    if base is None:
        current = call("GET", f"/api/v1/desks/{desk}/handbook")
        base = current["version"] if current else 0
    body = {"body": text, "summary": summary, "base_version": base}
    data = call("POST", f"/api/v1/desks/{desk}/handbook", json=body)
    emit(data, lambda d: out.print(f"saved version {d['version']} of the {desk} handbook"))
