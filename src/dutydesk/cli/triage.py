"""``dutydesk similar`` and ``dutydesk suggestions``: possible duplicates, suggested fields,
their accuracy, and the recount after a bulk import. All speak the REST API."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from dutydesk.cli.client import call, emit, fail, out

suggestions_app = typer.Typer(
    no_args_is_help=True,
    help="Suggested team, kind and priority: show, accuracy, rebuild (after an import).",
)

Desk = Annotated[str | None, typer.Option(help="desk of the draft, e.g. infra")]
Title = Annotated[str, typer.Option(help="the draft's title")]
Body = Annotated[str, typer.Option(help="the draft's description")]


def _render_similar(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("no similar tickets")
        return
    table = Table("key", "status", "score", "title", "matching words", "from")
    for r in rows:
        status = r["status"] if r["open"] else f"[dim]{r['status']} (closed)[/dim]"
        table.add_row(
            r["key"],
            status,
            f"{r['score']:.2f}",
            r["title"],
            ", ".join(r["words"]),
            r.get("external_id") or "",
        )
    out.print(table)


def similar(
    key: Annotated[str | None, typer.Argument(help="a ticket, e.g. INFRA-12")] = None,
    desk: Desk = None,
    title: Title = "",
    body: Body = "",
    before: Annotated[str | None, typer.Option(help="only tickets filed before (ISO)")] = None,
    team: Annotated[str | None, typer.Option(help="favour this team's tickets")] = None,
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
) -> None:
    """Earlier tickets a ticket (KEY) or a draft (--desk with --title/--body) may repeat:
    open ones first, then those closed in the past year, with the words they share."""
    if key:
        rows = call("GET", f"/api/v1/tickets/{key}/similar", params={"limit": limit})
    elif desk:
        params: dict[str, Any] = {"title": title, "body": body, "limit": limit}
        params.update({k: v for k, v in (("before", before), ("team", team)) if v})
        rows = call("GET", f"/api/v1/desks/{desk}/similar", params=params)
    else:
        raise fail(
            "name a ticket (dutydesk similar INFRA-12) or a draft (--desk infra --title ...)"
        )
    emit(rows, _render_similar)


def _render_suggestions(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("nothing to suggest yet: the desk has no triaged tickets to learn from")
        return
    table = Table("field", "suggested", "confidence", "learned from")
    for r in rows:
        table.add_row(r["field"], r["value"], f"{r['confidence']:.0%}", f"{r['based_on']} tickets")
    out.print(table)
    out.print("[dim]suggestions only: triage sets nothing until you choose it[/dim]")


@suggestions_app.command("show")
def show(
    key: Annotated[str | None, typer.Argument(help="a ticket, e.g. SET-7")] = None,
    desk: Desk = None,
    title: Title = "",
    body: Body = "",
) -> None:
    """Team, kind and priority the desk's triage history suggests, with a confidence."""
    if key:
        rows = call("GET", f"/api/v1/tickets/{key}/suggestions")
    elif desk:
        rows = call(
            "GET", f"/api/v1/desks/{desk}/suggestions", params={"title": title, "body": body}
        )
    else:
        raise fail(
            "name a ticket (dutydesk suggestions show SET-7) or a draft (--desk set --title ...)"
        )
    emit(rows, _render_suggestions)


def _render_accuracy(data: dict[str, Any]) -> None:
    table = Table("field", "accepted", "overridden", "accuracy")
    for f in data["fields"]:
        acc = "-" if f["accuracy"] is None else f"{f['accuracy']:.0%}"
        table.add_row(f["field"], str(f["accepted"]), str(f["overridden"]), acc)
    out.print(f"{data['desk']}: suggestions learned from {data['learned_from']} triaged tickets")
    out.print(table)


@suggestions_app.command("accuracy")
def accuracy(desk: Annotated[str, typer.Option(help="desk, e.g. set")]) -> None:
    """How often triagers accepted each suggested field (from the triage history)."""
    emit(call("GET", f"/api/v1/desks/{desk}/suggestions/accuracy"), _render_accuracy)


@suggestions_app.command("rebuild")
def rebuild(desk: Annotated[str, typer.Option(help="desk, e.g. set")]) -> None:
    """Recount what the desk's triage history teaches: run after a bulk import."""
    data = call("POST", f"/api/v1/desks/{desk}/suggestions/rebuild")
    emit(
        data, lambda d: out.print(f"{d['desk']}: learned from {d['learned_from']} triaged tickets")
    )
