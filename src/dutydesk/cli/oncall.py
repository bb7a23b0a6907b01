"""``dutydesk oncall …`` and ``dutydesk handoff``: rotations from the command line.

Every command speaks the REST API like the ticket commands (an in-process app on the local
database by default, or ``--url`` and a token). Times may be ISO 8601 with an offset, a local
time in the rotation's zone (``2026-11-30T10:00``), a date, or ``now``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from dutydesk.cli.client import api_client, call, emit, err, fail, opts, out

oncall_app = typer.Typer(
    no_args_is_help=True,
    help="On-call rotations: who is on call, overrides, swaps, time off, gaps, calendars.",
)
timeoff_app = typer.Typer(
    help="Time off: `dutydesk oncall timeoff` lists it; add and cancel.",
    invoke_without_command=True,
)
oncall_app.add_typer(timeoff_app, name="timeoff")


def _t(text: str | None) -> str:
    if not text:
        return "-"
    value = datetime.fromisoformat(text)
    offset = value.strftime("%z")
    return value.strftime("%Y-%m-%d %H:%M") + (f"{offset[:3]}" if offset[3:] == "00" else offset)


def _shift_table(items: list[dict[str, Any]], title: str | None = None) -> None:
    table = Table(title=title)
    for col in ("from", "to", "layer", "person", "team", "source", "warnings"):
        table.add_column(col)
    for x in items:
        source = x["source"] + (f" #{x['override_id']}" if x.get("override_id") else "")
        table.add_row(
            _t(x["start"]),
            _t(x["end"]),
            x["layer"],
            x["person"],
            x.get("team") or "-",
            source,
            "; ".join(x.get("warnings", [])) or "",
        )
    out.print(table)


def _p(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


# ----------------------------------------------------------------------------- questions


@oncall_app.command()
def now(
    desk: Annotated[str | None, typer.Argument(help="desk (default: every desk)")] = None,
    at: Annotated[str | None, typer.Option(help="another instant than now")] = None,
) -> None:
    """Who is on call for a desk (per layer) now or at an instant."""
    data = call("GET", "/api/v1/oncall", params=_p(desk=desk, at=at))

    def render(d: dict[str, Any]) -> None:
        table = Table()
        for col in ("desk", "rotation", "layer", "person", "team", "since", "until"):
            table.add_column(col)
        for item in d.get("desks", [d]):
            for x in item["layers"]:
                table.add_row(
                    item["desk"] or "-",
                    item["rotation"],
                    x["layer"],
                    x["person"],
                    x.get("team") or "-",
                    _t(x["start"]),
                    _t(x["end"]),
                )
            for layer in item["uncovered"]:
                table.add_row(item["desk"] or "-", item["rotation"], layer, "[red]nobody[/red]")
        out.print(table)

    emit(data, render)


@oncall_app.command()
def free(desk: Annotated[str, typer.Argument(help="desk, e.g. set")]) -> None:
    """Who is on call for a desk now and free to take feature-team work (no open ticket)."""
    data = call("GET", "/api/v1/oncall/free", params={"desk": desk})

    def render(d: dict[str, Any]) -> None:
        table = Table(title=f"on call for {desk} now")
        for col in ("person", "layers", "open tickets", "free"):
            table.add_column(col)
        for m in d["members"]:
            table.add_row(
                m["person"],
                ", ".join(m["layers"]),
                str(m["open_tickets"]),
                "[green]free to take feature-team work[/green]" if m["free"] else "busy",
            )
        out.print(table)

    emit(data, render)


@oncall_app.command("next")
def next_(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    n: Annotated[int, typer.Option("-n", help="shifts per layer")] = 3,
    person: Annotated[str | None, typer.Option(help="one person's coming shifts")] = None,
) -> None:
    """The next N shifts per layer, or one person's."""
    data = call("GET", f"/api/v1/rotations/{rotation}/next", params=_p(n=n, person=person))
    emit(data, lambda d: _shift_table(d, f"{rotation}: next shifts"))


@oncall_app.command()
def schedule(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    start: Annotated[str | None, typer.Option("--from", help="default: now")] = None,
    end: Annotated[str | None, typer.Option("--to", help="default: 28 days later")] = None,
    layer: Annotated[str | None, typer.Option(help="one layer")] = None,
    person: Annotated[str | None, typer.Option(help="one person")] = None,
) -> None:
    """Shifts over a period, overrides, swaps and time off applied."""
    params = _p(layer=layer, person=person)
    if start:
        params["from"] = start
    if end:
        params["to"] = end
    data = call("GET", f"/api/v1/rotations/{rotation}/shifts", params=params)
    emit(data, lambda d: _shift_table(d, rotation))


@oncall_app.command()
def gaps(
    days: Annotated[int, typer.Option(help="how far ahead")] = 90,
    rotation: Annotated[str | None, typer.Option(help="one rotation")] = None,
) -> None:
    """Stretches where a layer has nobody on call, and people booked twice (on two layers at
    once, or on call during their own time off); exit code 2 when there are some."""
    data = call("GET", "/api/v1/oncall/gaps", params=_p(days=days, rotation=rotation))

    def render(d: dict[str, Any]) -> None:
        if not d["gaps"]:
            out.print(f"no gaps in the next {days} days")
        else:
            table = Table(title=f"gaps in the next {days} days")
            for col in ("rotation", "layer", "from", "to", "hours"):
                table.add_column(col)
            for g in d["gaps"]:
                table.add_row(
                    g["rotation"], g["layer"], _t(g["start"]), _t(g["end"]), str(g["hours"])
                )
            out.print(table)
        found = d.get("conflicts", [])
        if not found:
            out.print(f"nobody is double-booked in the next {days} days")
            return
        table = Table(title=f"double-booked in the next {days} days")
        for col in ("person", "kind", "from", "to", "where"):
            table.add_column(col)
        for c in found:
            table.add_row(
                c["person"], c["kind"], _t(c["start"]), _t(c["end"]), ", ".join(c["where"])
            )
        out.print(table)

    emit(data, render)
    if data["gaps"] or data.get("conflicts"):
        raise typer.Exit(2)


@oncall_app.command()
def fairness(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    start: Annotated[str | None, typer.Option("--from", help="default: a year ago")] = None,
    end: Annotated[str | None, typer.Option("--to", help="default: now")] = None,
    layer: Annotated[str | None, typer.Option(help="one layer")] = None,
) -> None:
    """On-call hours, shifts, weekend and holiday hours per person."""
    params = _p(layer=layer)
    if start:
        params["from"] = start
    if end:
        params["to"] = end
    data = call("GET", f"/api/v1/rotations/{rotation}/fairness", params=params)

    def render(d: dict[str, Any]) -> None:
        table = Table(title=f"{rotation}: {_t(d['start'])} → {_t(d['end'])}")
        for col in ("layer", "person", "hours", "shifts", "weekend h", "holiday h"):
            table.add_column(col, justify="right" if col.endswith(("h", "s")) else "left")
        for r in d["rows"]:
            table.add_row(
                r["layer"],
                r["person"],
                f"{r['hours']:.1f}",
                str(r["shifts"]),
                f"{r['weekend_hours']:.1f}",
                f"{r['holiday_hours']:.1f}",
            )
        out.print(table)
        totals = Table(title="per person, across layers (leading while serving counts once)")
        for col in ("person", "hours", "lead h", "layers"):
            totals.add_column(
                col, justify="right" if col.endswith("h") or col == "hours" else "left"
            )
        for t in d.get("totals", []):
            totals.add_row(
                t["person"], f"{t['hours']:.1f}", f"{t['lead_hours']:.1f}", ", ".join(t["layers"])
            )
        out.print(totals)

    emit(data, render)


@oncall_app.command()
def history(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    limit: Annotated[int, typer.Option(help="how many")] = 20,
) -> None:
    """Every change to the schedule, newest first."""
    data = call("GET", f"/api/v1/rotations/{rotation}/history", params={"limit": limit})

    def render(d: dict[str, Any]) -> None:
        for c in d["items"]:
            out.print(
                f"#{c['id']:<4} {_t(c['at'])} {c['actor'] or '-':8} {c['summary']}",
                highlight=False,
            )

    emit(data, render)


@oncall_app.command()
def triage(desk: Annotated[str, typer.Argument(help="desk")]) -> None:
    """The on-call's view: new tickets, tickets awaiting an owner, claimed but idle ones."""
    data = call("GET", f"/api/v1/desks/{desk}/triage")

    def render(d: dict[str, Any]) -> None:
        people = ", ".join(f"{x['person']} ({x['layer']})" for x in d["on_call"]) or "nobody"
        out.print(f"[bold]{desk}[/bold] on call: {people}")
        for title, key in (
            ("New", "new"),
            ("Awaiting an owner", "awaiting_owner"),
            (f"Claimed but idle ({d['idle_after']})", "idle"),
        ):
            items = d[key]
            out.print(f"\n[bold]{title}[/bold] ({len(items)})")
            for t in items:
                step = t.get("suggested")
                extra = f" — idle {t['idle_for']}" if key == "idle" else ""
                out.print(
                    f"  {t['key']:10} {t['priority'] or '-':3} {escape(t['title'])}"
                    f" [{t['assignee'] or 'unassigned'}]{extra}"
                    + (f"  → `{escape(step['command'])}`" if step else ""),
                    highlight=False,
                )
        for note in d["notes"]:
            out.print(f"\n{note}")

    emit(data, render)


# ----------------------------------------------------------------------------- changes


def _override_line(o: dict[str, Any]) -> str:
    line = (
        f"override #{o['id']}: {o['person']} on {o['layer']} {_t(o['start'])} → {_t(o['end'])}"
        + (f" for {o['replaces']}" if o.get("replaces") else "")
    )
    return line + "".join(f"\n  warning: {w}" for w in o.get("warnings", []))


@oncall_app.command()
def override(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    person: Annotated[str, typer.Argument(help="who covers")],
    end: Annotated[str, typer.Option("--until", "--to", help="end (a date: through that day)")],
    start: Annotated[str | None, typer.Option("--from", help="default: now")] = None,
    layer: Annotated[str | None, typer.Option(help="default: the person's layer")] = None,
    covers: Annotated[str | None, typer.Option("--for", help="who is being covered")] = None,
    replace: Annotated[bool, typer.Option(help="replace overlapping overrides")] = False,
    note: Annotated[str, typer.Option(help="why")] = "",
) -> None:
    """PERSON covers ROTATION from --from (default now) until --until."""
    body = _p(person=person, start=start, end=end, layer=layer, replaces=covers)
    body.update(replace=replace, note=note)
    o = call("POST", f"/api/v1/rotations/{rotation}/overrides", json=body)
    emit(o, lambda o: out.print(_override_line(o), highlight=False))


@oncall_app.command()
def overrides(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    all_: Annotated[bool, typer.Option("--all", help="also undone ones and pins")] = False,
) -> None:
    """Stored overrides from now on (or all of them)."""
    data = call("GET", f"/api/v1/rotations/{rotation}/overrides", params={"all": all_})

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table(title=f"{rotation} overrides")
        for col in ("id", "layer", "person", "for", "from", "to", "kind", "by", "undone"):
            table.add_column(col)
        for o in rows:
            table.add_row(
                str(o["id"]),
                o["layer"],
                o["person"],
                o["replaces"] or "-",
                _t(o["start"]),
                _t(o["end"]),
                o["kind"],
                o["created_by"] or "-",
                _t(o["cancelled_at"]) if o["cancelled_at"] else "",
            )
        out.print(table)

    emit(data, render)


@oncall_app.command()
def undo(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    item: Annotated[int, typer.Argument(help="override (or --swap: swap) number")],
    swap_: Annotated[bool, typer.Option("--swap", help="undo a swap")] = False,
) -> None:
    """Undo an override (or a swap): cancelled if not started, cut at now if under way."""
    kind = "swaps" if swap_ else "overrides"
    data = call("DELETE", f"/api/v1/rotations/{rotation}/{kind}/{item}")
    what = "swap" if swap_ else "override"
    emit(data, lambda d: out.print(f"{what} #{item} undone"))


@oncall_app.command()
def take(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    layer: Annotated[str | None, typer.Option(help="default: your layer")] = None,
    until: Annotated[str | None, typer.Option(help="default: the next handoff")] = None,
    person: Annotated[str | None, typer.Option(help="leads: take it for someone")] = None,
) -> None:
    """Take the current shift from whoever holds it, until the next handoff."""
    o = call(
        "POST",
        f"/api/v1/rotations/{rotation}/take",
        json=_p(layer=layer, until=until, person=person),
    )
    emit(o, lambda o: out.print(_override_line(o), highlight=False))


@oncall_app.command()
def swap(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    person_a: Annotated[str, typer.Argument(help="first person")],
    shift_a: Annotated[str, typer.Argument(help="their shift: its start or a date in it")],
    person_b: Annotated[str, typer.Argument(help="second person")],
    shift_b: Annotated[str | None, typer.Argument(help="default: their next shift")] = None,
    layer: Annotated[str | None, typer.Option(help="default: the first person's layer")] = None,
) -> None:
    """Two people exchange two whole shifts."""
    body = _p(person_a=person_a, shift_a=shift_a, person_b=person_b, shift_b=shift_b, layer=layer)
    w = call("POST", f"/api/v1/rotations/{rotation}/swaps", json=body)
    emit(
        w,
        lambda w: out.print(
            f"swap #{w['id']}: {w['person_a']} takes {_t(w['shift_b'])}, "
            f"{w['person_b']} takes {_t(w['shift_a'])}",
            highlight=False,
        ),
    )


@oncall_app.command()
def join(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    person: Annotated[str, typer.Argument(help="who joins")],
    effective: Annotated[str, typer.Option("--from", help="first local date (YYYY-MM-DD)")],
    layer: Annotated[str | None, typer.Option(help="default: the person's team")] = None,
    position: Annotated[int | None, typer.Option(help="place in the list (0 = first)")] = None,
) -> None:
    """PERSON joins a layer from a date (shifts already started never move)."""
    _membership(rotation, person, "join", effective, layer, position)


@oncall_app.command()
def leave(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    person: Annotated[str, typer.Argument(help="who leaves")],
    effective: Annotated[str, typer.Option("--from", help="first local date without them")],
    layer: Annotated[str | None, typer.Option(help="default: the layer they are in")] = None,
) -> None:
    """PERSON leaves a layer from a date."""
    _membership(rotation, person, "leave", effective, layer, None)


def _membership(
    rotation: str, person: str, action: str, effective: str, layer: str | None, pos: int | None
) -> None:
    body = _p(person=person, action=action, effective=effective, layer=layer, position=pos)
    m = call("POST", f"/api/v1/rotations/{rotation}/members", json=body)

    def render(m: dict[str, Any]) -> None:
        verb = "joins" if action == "join" else "leaves"
        out.print(f"{person} {verb} {m['layer']} from the shift starting {_t(m['first_shift'])}")
        for w in m["warnings"]:
            out.print(f"  warning: {w}", highlight=False)

    emit(m, render)


@oncall_app.command()
def feed(
    rotation: Annotated[str | None, typer.Argument(help="rotation (team calendar)")] = None,
    person: Annotated[str | None, typer.Option(help="a personal calendar instead")] = None,
) -> None:
    """Create a secret calendar link (shown once) for a rotation or a person."""
    if (rotation is None) == (person is None):
        raise fail("name a rotation, or --person NAME for a personal calendar")
    path = f"/api/v1/rotations/{rotation}" if rotation else f"/api/v1/people/{person}"
    data = call("POST", f"{path}/feed-tokens")
    base = (opts.url or "http://127.0.0.1:8080").rstrip("/")
    data["url"] = base + data["url"]
    emit(data, lambda d: sys.stdout.write(d["url"] + "\n"))


@oncall_app.command("import-ics")
def import_ics(
    rotation: Annotated[str, typer.Argument(help="rotation name")],
    file: Annotated[Path, typer.Argument(help="an .ics export (PagerDuty, Grafana OnCall, …)")],
    layer: Annotated[str | None, typer.Option(help="layer to fill (if several)")] = None,
    alias: Annotated[
        list[str] | None, typer.Option(help="'Name in calendar=user' (repeatable)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show, store nothing")] = False,
    replace: Annotated[bool, typer.Option(help="replace overlapping overrides")] = False,
    skip_unknown: Annotated[
        bool, typer.Option("--skip-unknown", help="import the rest when names are unknown")
    ] = False,
    start: Annotated[
        str | None,
        typer.Option("--from", help="window start, ISO date-time with offset (default: now)"),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--until", help="window end, ISO date-time with offset (default: +92 days)"),
    ] = None,
) -> None:
    """Store a calendar's shifts in a window (from now on) as fixed overrides; recurring
    events (RRULE, EXDATE, RECURRENCE-ID) are expanded; unknown names are reported."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from exc
    aliases: dict[str, str] = {}
    for item in alias or []:
        name, sep, user = item.partition("=")
        if not sep or not name.strip() or not user.strip():
            raise fail(f"--alias {item!r}: write it as 'Name in calendar=user'")
        aliases[name.strip()] = user.strip()
    body = {
        "ics": text,
        "layer": layer,
        "aliases": aliases,
        "dry_run": dry_run,
        "replace": replace,
        "skip_unknown": skip_unknown,
        "start": start,
        "end": end,
    }
    data = call("POST", f"/api/v1/rotations/{rotation}/import", json=_p(**body))

    def render(d: dict[str, Any]) -> None:
        verb = "would import" if d["dry_run"] else "imported"
        _shift_table(d["imported"], f"{verb} {len(d['imported'])} shift(s) into {rotation}")
        if d["past"]:
            out.print(f"left out {d['past']} event(s) before now: the past is fixed")
        for name in d["unknown"]:
            err.print(f"unknown person: {name} (map with --alias '{name}=USER')")
        for line in d["skipped"]:
            err.print(f"skipped: {line}", highlight=False)
        for line in d["conflicts"]:
            err.print(f"conflict: {line}", highlight=False)
        if d["dry_run"] and d["conflicts"]:
            err.print(
                f"the import would be refused: {len(d['conflicts'])} conflict(s)", highlight=False
            )

    emit(data, render)


# ----------------------------------------------------------------------------- time off


@timeoff_app.callback()
def timeoff_list(
    ctx: typer.Context,
    person: Annotated[str | None, typer.Option(help="one person")] = None,
    rotation: Annotated[str | None, typer.Option(help="members of one rotation")] = None,
) -> None:
    """Time off that is not over yet."""
    if ctx.invoked_subcommand:
        return
    data = call("GET", "/api/v1/time-off", params=_p(person=person, rotation=rotation))

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table(title="time off")
        for col in ("id", "person", "from", "to", "reason", "by"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                str(r["id"]),
                r["person"],
                _t(r["start"]),
                _t(r["end"]),
                r["reason"],
                r["created_by"] or "-",
            )
        out.print(table)

    emit(data, render)


@timeoff_app.command("add")
def timeoff_add(
    start: Annotated[str, typer.Argument(help="first day (or a time)")],
    end: Annotated[str, typer.Argument(help="last day off, included (or a time)")],
    person: Annotated[str | None, typer.Option(help="default: you (leads: anyone)")] = None,
    reason: Annotated[str, typer.Option(help="e.g. vacation")] = "",
) -> None:
    """Declare time off; rotations skip the person for the shifts it covers."""
    body = _p(person=person, start=start, end=end)
    body["reason"] = reason
    r = call("POST", "/api/v1/time-off", json=body)

    def render(r: dict[str, Any]) -> None:
        out.print(f"time off #{r['id']}: {r['person']} {_t(r['start'])} → {_t(r['end'])}")
        for x in r["covered"]:
            out.print(
                f"  {x['person']} covers {x['layer']} {_t(x['start'])} → {_t(x['end'])}",
                highlight=False,
            )
        for w in r["warnings"]:
            out.print(f"  warning: {w}", highlight=False)

    emit(r, render)


@timeoff_app.command("cancel")
def timeoff_cancel(item: Annotated[int, typer.Argument(help="time off number")]) -> None:
    """Cancel time off (one under way ends now)."""
    r = call("DELETE", f"/api/v1/time-off/{item}")
    emit(r, lambda r: out.print(f"time off #{item} cancelled"))


# ----------------------------------------------------------------------------- handoff


def handoff(
    desk: Annotated[str, typer.Argument(help="desk")],
    markdown: Annotated[bool, typer.Option("--markdown", help="markdown ready to post")] = False,
    at: Annotated[str | None, typer.Option(help="a past instant: that handoff, as it was")] = None,
) -> None:
    """The handoff report: touched tickets, urgent ones, triage, idle, SLO breaches, who is next."""
    if markdown:
        with api_client() as http:
            r = http.get(f"/api/v1/desks/{desk}/handoff", params=_p(at=at, format="markdown"))
        if r.status_code >= 400:
            raise fail(f"{r.json().get('detail')} (HTTP {r.status_code})")
        sys.stdout.write(r.text)
        return
    data = call("GET", f"/api/v1/desks/{desk}/handoff", params=_p(at=at))

    def render(d: dict[str, Any]) -> None:
        from dutydesk.oncall.handoff import render_markdown

        out.print(render_markdown(d), highlight=False, markup=False)

    emit(data, render)


def handoff_note(
    key: Annotated[str, typer.Argument(help="ticket key")],
    text: Annotated[str, typer.Argument(help="what the incoming on-call should know")],
) -> None:
    """Leave a handoff note on a ticket (the outgoing on-call): it shows in the handoff report
    and in the ticket's timeline."""
    data = call("POST", f"/api/v1/tickets/{key}/handoff-note", json={"text": text})
    emit(data, lambda d: out.print(f"handoff note left on {d['key']}"))
