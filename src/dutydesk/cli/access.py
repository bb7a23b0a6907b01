"""Access: ``user deactivate|reactivate``, ``token list|revoke`` and ``audit``. They speak the
API (locally as ``--as``, default ``admin``; or to ``--url`` with a token), so the same rules
refuse the same things."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from dutydesk.cli.client import call, emit, out

user_app = typer.Typer(
    no_args_is_help=True, help="Take access away from a person, or give it back."
)


@user_app.command("deactivate")
def deactivate(
    name: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str, typer.Option(help="why, for the audit log")] = "",
) -> None:
    """End their sessions and revoke their tokens now; history keeps their name."""
    data = call("POST", f"/api/v1/users/{name}/deactivate", json={"reason": reason})
    emit(data, lambda d: out.print(f"{d['name']} is deactivated; sessions ended, tokens revoked"))


@user_app.command("reactivate")
def reactivate(name: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Let them log in again (old sessions and tokens stay ended)."""
    data = call("POST", f"/api/v1/users/{name}/reactivate")
    emit(data, lambda d: out.print(f"{d['name']} is active again"))


def token_list(
    user: Annotated[str | None, typer.Option(help="whose tokens (admins)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="everyone's tokens (admins)")] = False,
) -> None:
    """Tokens without their secrets: name, created, last used, expiry, state."""
    params: dict[str, Any] = {"all": "true"} if all_ else {}
    if user:
        params["user"] = user
    rows = call("GET", "/api/v1/tokens", params=params)

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table()
        for col in ("id", "user", "name", "prefix", "created", "last used", "expires", "state"):
            table.add_column(col)
        for t in rows:
            table.add_row(
                str(t["id"]),
                t["user"],
                t["name"] or "-",
                t["prefix"] + "…",
                _when(t["created_at"]),
                _when(t["last_used_at"]),
                _when(t["expires_at"]) if t["expires_at"] else "never",
                t["state"],
            )
        out.print(table)

    emit(rows, render)


def token_revoke(
    token_id: Annotated[int, typer.Argument(help="id from `dutydesk token list`")],
) -> None:
    """Revoke a token: every server refuses it within a second."""
    data = call("POST", f"/api/v1/tokens/{token_id}/revoke")
    emit(data, lambda d: out.print(f"token {d['id']} ({d['prefix']}…) of {d['user']} is revoked"))


def audit(
    user: Annotated[str | None, typer.Option(help="changes by or to this person")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. token.revoked, user.deactivated")] = None,
    limit: Annotated[int, typer.Option(help="how many, newest first")] = 50,
) -> None:
    """Who changed whose access (admins): roles, tokens, deactivations."""
    params: dict[str, Any] = {"limit": limit}
    if user:
        params["user"] = user
    if action:
        params["action"] = action
    rows = call("GET", "/api/v1/audit", params=params)

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table()
        for col in ("at", "by", "action", "subject", "detail"):
            table.add_column(col)
        for e in rows:
            detail = ", ".join(f"{k}={v}" for k, v in e["detail"].items() if v not in (None, ""))
            table.add_row(
                _when(e["at"]), e["actor"] or "(server)", e["action"], e["subject"] or "-", detail
            )
        out.print(table)

    emit(rows, render)


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "-"
