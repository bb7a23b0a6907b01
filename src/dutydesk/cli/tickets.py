"""Ticket commands: ``file``, ``list``, ``queue``, ``show``, ``edit``, ``move``, ``assign``,
``triage``, ``convert``, ``comment``, ``watch``, ``block`` and ``rank``, each one call of the REST API (see ``cli.client``)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from dutydesk.cli.client import call, emit, fail, out
from dutydesk.triage.titles import sections_hint


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
        "admission",
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
    emit(t, _filed)


def _filed(t: dict[str, Any]) -> None:
    out.print(f"filed [bold]{t['key']}[/bold]: {escape(t['title'])}")
    if t.get("admission"):
        out.print(f"  [yellow]weekly triage backlog:[/yellow] {escape(t['admission'])}")
    hints = t.get("hints") or {}
    if hints.get("title"):
        out.print(f"[yellow]hint:[/yellow] {escape(hints['title'])}")
    if sections := sections_hint(hints.get("sections", [])):
        out.print(f"[yellow]hint:[/yellow] {escape(sections)}")
    for s in hints.get("similar", []):
        words = ", ".join(s["words"])
        out.print(f"  possible duplicate: {s['key']} {escape(s['title'])} ({escape(words)})")


def list_(
    desk: Annotated[str | None, typer.Option(help="desk")] = None,
    status: Annotated[list[str] | None, typer.Option(help="column (repeatable)")] = None,
    priority: Annotated[list[str] | None, typer.Option(help="priority (repeatable)")] = None,
    assignee: Annotated[str | None, typer.Option(help="user name, or 'none'")] = None,
    team: Annotated[str | None, typer.Option(help="team")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="kind (repeatable)")] = None,
    category: Annotated[str | None, typer.Option(help="category (toil kind)")] = None,
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
            "category": category,
            "label": label,
            "open": open_,
            "q": q,
            "limit": limit,
        }
        page = call(
            "GET", "/api/v1/tickets", params={k: v for k, v in params.items() if v is not None}
        )
    emit(page, lambda p: _ticket_table(p["items"]))


def queue(
    desk: Annotated[str, typer.Argument(help="desk")],
    limit: Annotated[int, typer.Option(help="how many")] = 30,
    backlog: Annotated[bool, typer.Option(help="show the backlog below admission")] = False,
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
) -> None:
    """The desk's ordered queue, top first."""
    params: dict[str, Any] = {"limit": limit, "backlog": backlog}
    if category:
        params["category"] = category
    page = call("GET", f"/api/v1/desks/{desk}/queue", params=params)
    emit(page, lambda p: _ticket_table(p["items"], f"{desk} {'backlog' if backlog else 'queue'}"))


def show(
    key: Annotated[str, typer.Argument(help="ticket key, e.g. INFRA-42")],
    history: Annotated[bool, typer.Option(help="also print the event timeline")] = False,
) -> None:
    """Show one ticket."""
    t = call("GET", f"/api/v1/tickets/{key}")
    if history:
        t["events"] = _all_pages(f"/api/v1/tickets/{key}/events")

    def render(t: dict[str, Any]) -> None:
        _ticket_detail(t)
        for e in t.get("events", []):
            change = f"{e['field']}: {e['before']} → {e['after']}" if e["field"] else ""
            out.print(
                f"  #{e['seq']:<3} {e['at'][:16]} {e['actor'] or '-':8} {e['type']:10} {change}",
                highlight=False,
            )

    emit(t, render)


def _all_pages(path: str, limit: int = 200) -> list[dict[str, Any]]:
    """Every item of a paginated list, following ``next_cursor`` (a bounded number of pages)."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    for _ in range(1000):
        page = call("GET", path, params=params)
        items.extend(page["items"])
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    return items


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


def move_(
    key: Annotated[str, typer.Argument(help="ticket key")],
    to: Annotated[str, typer.Argument(help="column to move to")],
    resolution: Annotated[str | None, typer.Option(help="required when moving to Done")] = None,
    duplicate_of: Annotated[
        str | None, typer.Option(help="original, for resolution duplicate")
    ] = None,
    pr: Annotated[
        str | None, typer.Option("--pr", help="the fix's PR link (Submitted may require one)")
    ] = None,
) -> None:
    """Move a ticket to another column."""
    body = {"to": to, "resolution": resolution, "duplicate_of": duplicate_of}
    if pr:
        body["pr_link"] = pr
    _action(key, "move", body, "moved")


def assign(
    key: Annotated[str, typer.Argument(help="ticket key")],
    assignee: Annotated[str | None, typer.Argument(help="user name; omit to unassign")] = None,
) -> None:
    """Assign (or unassign) a ticket."""
    _action(key, "assign", {"assignee": assignee}, "assigned")


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
    fix_target: Annotated[str | None, typer.Option(help="hotfix, release or none")] = None,
    label: Annotated[
        list[str] | None, typer.Option(help="the ticket's labels (repeatable; replaces them)")
    ] = None,
) -> None:
    """Triage a new ticket in one step."""
    body: dict[str, Any] = {
        "priority": priority,
        "title": title,
        "team": team,
        "kind": kind,
        "category": category,
        "assignee": assignee,
        "duplicate_of": duplicate_of,
        "note": note,
        "fix_target": fix_target,
        "labels": label,
    }
    _action(key, "triage", {k: v for k, v in body.items() if v is not None}, "triaged")


def comment(
    key: Annotated[str, typer.Argument(help="ticket key")],
    body: Annotated[str, typer.Argument(help="markdown text; '-' reads stdin")],
    internal: Annotated[bool, typer.Option(help="visible to responders only")] = False,
) -> None:
    """Comment on a ticket."""
    text = sys.stdin.read() if body == "-" else body
    c = call("POST", f"/api/v1/tickets/{key}/comments", json={"body": text, "public": not internal})
    emit(c, lambda c: out.print(f"commented on {key.upper()} (#{c['id']})"))


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


def rank_(
    key: Annotated[str, typer.Argument(help="ticket to move")],
    before: Annotated[str | None, typer.Option(help="place it just before this ticket")] = None,
    after: Annotated[str | None, typer.Option(help="place it just after this ticket")] = None,
) -> None:
    """Reorder the queue by hand, within a ticket's class."""
    _action(key, "rank", {"before": before, "after": after}, "ranked")


def edit(
    key: Annotated[str, typer.Argument(help="ticket key, e.g. SET-12")],
    title: Annotated[str | None, typer.Option(help="new title")] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="new description; '-' reads stdin")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="kind, e.g. bug")] = None,
    category: Annotated[str | None, typer.Option(help="toil category ('' clears it)")] = None,
    priority: Annotated[str | None, typer.Option(help="priority (responders)")] = None,
    team: Annotated[str | None, typer.Option(help="owning team ('' clears it)")] = None,
    fix_target: Annotated[
        str | None, typer.Option(help="hotfix, release or none (triagers)")
    ] = None,
    customer: Annotated[
        bool | None, typer.Option("--customer/--no-customer", help="reported by a customer")
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option(help="add a label, e.g. community-server (repeatable)")
    ] = None,
    remove_label: Annotated[list[str] | None, typer.Option(help="remove a label")] = None,
    pr: Annotated[list[str] | None, typer.Option(help="add a pull-request link")] = None,
    remove_pr: Annotated[list[str] | None, typer.Option(help="remove a pull-request link")] = None,
    watcher: Annotated[list[str] | None, typer.Option(help="add a watcher (user name)")] = None,
    remove_watcher: Annotated[list[str] | None, typer.Option(help="remove a watcher")] = None,
) -> None:
    """Reclassify or edit a ticket after filing (one PATCH, guarded by the ticket's version)."""
    t = call("GET", f"/api/v1/tickets/{key}")
    body: dict[str, Any] = {}
    if title is not None:
        body["title"] = title
    if description is not None:
        body["description"] = sys.stdin.read() if description == "-" else description
    for name, value in (("kind", kind), ("priority", priority)):
        if value is not None:
            body[name] = value
    for name, value in (("category", category), ("team", team)):
        if value is not None:
            body[name] = value or None
    if fix_target is not None:
        body["fix_target"] = fix_target
    if customer is not None:
        body["customer_reported"] = customer
    lists = (
        ("labels", label, remove_label),
        ("pr_links", pr, remove_pr),
        ("watchers", watcher, remove_watcher),
    )
    for name, add, remove in lists:
        if add or remove:
            current = [x for x in t[name] if x not in (remove or [])]
            body[name] = current + [x for x in add or [] if x not in current]
    if not body:
        raise fail(
            "nothing to change: give an option, e.g. "
            f"dutydesk edit {key} --fix-target hotfix --label community-server"
        )
    updated = call(
        "PATCH", f"/api/v1/tickets/{key}", json=body, headers={"If-Match": f'"{t["version"]}"'}
    )
    emit(updated, lambda u: _edited(u, sorted(body)))


def _edited(t: dict[str, Any], fields: list[str]) -> None:
    out.print(f"{t['key']} edited: {', '.join(fields)} (version {t['version']})")
    for f in fields:
        if f != "description":
            value = t.get(f)
            out.print(f"  {f:18} {value if value not in (None, []) else '-'}", highlight=False)


def convert(
    key: Annotated[str, typer.Argument(help="ticket key, e.g. SET-12")],
    kind: Annotated[str, typer.Option(help="story or feature-request")] = "story",
    desk: Annotated[
        str | None,
        typer.Option(help="file it on this desk (e.g. product); default: the desk's convert_to"),
    ] = None,
    here: Annotated[
        bool, typer.Option("--here", help="convert in place, on the ticket's own desk")
    ] = False,
    note: Annotated[str | None, typer.Option(help="a comment on both tickets")] = None,
) -> None:
    """Turn a non-bug into a story or feature request (no priority needed). On a desk with
    convert_to (SET → product) it becomes a linked ticket there and this one closes."""
    body: dict[str, Any] = {"kind": kind}
    if desk and here:
        raise fail("give --desk or --here, not both")
    if here:
        body["desk"] = key.rpartition("-")[0].lower()
    elif desk:
        body["desk"] = desk
    if note:
        body["note"] = note
    t = call("POST", f"/api/v1/tickets/{key}/convert", json=body)

    def render(t: dict[str, Any]) -> None:
        if t.get("converted_to"):
            out.print(
                f"{t['key']} converted: filed as [bold]{t['converted_to']}[/bold] ({kind}); "
                f"{t['key']} is {t['status']} ({t['resolution']})"
            )
        else:
            out.print(f"{t['key']} converted in place: kind {t['kind']}")

    emit(t, render)


def watch(
    key: Annotated[str, typer.Argument(help="ticket key")],
    off: Annotated[bool, typer.Option("--off", help="stop watching")] = False,
) -> None:
    """Watch a ticket (hear of its changes), or stop with --off."""
    t = call("POST", f"/api/v1/tickets/{key}/watch", json={"watch": not off})
    emit(
        t,
        lambda t: out.print(
            f"{'stopped watching' if off else 'watching'} {t['key']}; "
            f"watchers: {', '.join(t['watchers']) or '-'}"
        ),
    )
