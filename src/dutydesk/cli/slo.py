"""``dutydesk slo`` and ``dutydesk calendar``: what is due, attainment, and why a due time is.

``slo`` commands speak the REST API like the ticket commands (local in-process app by
default).  ``calendar explain`` is pure arithmetic on the policy file: no database needed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from dutydesk.cli.client import call, emit, fail, local_policy, opts, out
from dutydesk.durations import format_span
from dutydesk.errors import DomainError


class _DeskFirst(TyperGroup):
    """``dutydesk slo infra`` means ``dutydesk slo show infra``; subcommands still work."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


slo_app = typer.Typer(
    cls=_DeskFirst,
    no_args_is_help=True,
    help="SLO clocks: `dutydesk slo DESK` lists what is due; attainment; recompute.",
)
calendar_app = typer.Typer(no_args_is_help=True, help="Business calendars from the policy.")

JsonFlag = Annotated[bool, typer.Option("--json", help="machine-readable output")]

_STATE_STYLE = {
    "breached": "bold red",
    "at_risk": "yellow",
    "paused": "cyan",
    "running": "green",
    "met": "green",
    "cancelled": "dim",
}


def _when(value: str | None, zone: ZoneInfo | None) -> str:
    if not value:
        return "-"
    t = datetime.fromisoformat(value)
    return t.astimezone(zone).strftime("%a %m-%d %H:%M") if zone else t.isoformat()


@slo_app.command("show")
def show(
    desk: Annotated[str, typer.Argument(help="desk, e.g. infra")],
    limit: Annotated[int, typer.Option(help="how many clocks")] = 50,
    json_out: JsonFlag = False,
) -> None:
    """Open tickets' clocks by nearest due, with breached / at-risk counts."""

    opts.json = opts.json or json_out
    data = call("GET", f"/api/v1/desks/{desk}/slo", params={"limit": limit})

    def render(d: dict[str, Any]) -> None:
        zone = ZoneInfo(d["timezone"]) if d["timezone"] else None
        n = d["counts"]
        out.print(
            f"[bold]{d['desk']}[/bold]: [bold red]{n['breached']} breached[/bold red] · "
            f"[yellow]{n['at_risk']} at risk[/yellow] · {n['running']} running · "
            f"{n['paused']} paused"
            + (f" ({d['calendar']}, {d['timezone']})" if d["calendar"] else ""),
            highlight=False,
        )
        table = Table()
        for col in ("ticket", "P", "clock", "state", "due", "remaining", "assignee"):
            table.add_column(col, no_wrap=True)
        table.add_column("title", min_width=24, ratio=1)  # wraps; narrow terminals trim the rest
        for c in d["clocks"]:
            style = _STATE_STYLE.get(c["state"], "")
            table.add_row(
                c["ticket"],
                c["priority"] or "-",
                c["name"],
                f"[{style}]{c['state']}[/{style}]" if style else c["state"],
                _when(c["due_at"], zone),
                c["remaining"],
                c["assignee"] or "-",
                c["title"],
            )
        out.print(table)

    emit(data, render)


@slo_app.command("attainment")
def attainment(
    desk: Annotated[str, typer.Argument(help="desk, e.g. infra")],
    weeks: Annotated[int, typer.Option(help="how many ISO weeks, this one included")] = 8,
    json_out: JsonFlag = False,
) -> None:
    """Met / breached and median business hours per week, priority and clock."""

    opts.json = opts.json or json_out
    data = call("GET", f"/api/v1/desks/{desk}/slo/attainment", params={"weeks": weeks})

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.0f}%"

    def render(d: dict[str, Any]) -> None:
        table = Table(title=f"{d['desk']} SLO attainment ({d['timezone']} weeks)")
        for col in ("week", "P", "clock", "met", "breached", "attained", "median h"):
            table.add_column(col, justify="right" if col in ("met", "breached") else "left")
        for r in [*d["rows"], *d["totals"]]:
            median = r["median_business_hours"]
            table.add_row(
                r["week"] or "[bold]all[/bold]",
                r["priority"],
                r["clock"],
                str(r["met"]),
                str(r["breached"]),
                pct(r["attainment"]),
                "-" if median is None else f"{median:.2f}",
            )
        if not d["rows"]:
            out.print(f"no clock outcomes in the last {len(d['weeks'])} week(s)")
            return
        out.print(table)

    emit(data, render)


@slo_app.command("recompute")
def recompute(
    desk: Annotated[str | None, typer.Argument(help="desk (default: every desk)")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Recompute open tickets' clocks after a policy or calendar edit (also a backfill)."""

    opts.json = opts.json or json_out
    desks = [desk] if desk else [d["name"] for d in call("GET", "/api/v1/desks")]
    results = [call("POST", f"/api/v1/desks/{name}/slo/recompute") for name in desks]

    def render(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            tickets = "" if r["open_tickets"] is None else f"{r['open_tickets']} open tickets, "
            out.print(
                f"{r['desk']}: {tickets}{r['active_clocks']} running or paused clocks "
                f"({r['updated']} updated, {r['started']} started, {r['stopped']} stopped)",
                highlight=False,
            )

    emit(results, render)


@calendar_app.command("explain")
def explain(
    name: Annotated[str, typer.Argument(help="calendar name from [calendars.NAME]")],
    from_: Annotated[
        str | None,
        typer.Option("--from", help="ISO 8601 with offset, e.g. 2026-11-27T16:30-08:00"),
    ] = None,
    add: Annotated[str, typer.Option(help="4h, 1h30m, 2d or '4 business hours'")] = "4h",
    filed: Annotated[
        str | None,
        typer.Option(help="triage due if filed at this ISO 8601 instant (the clock's rule)"),
    ] = None,
    desk: Annotated[
        str | None,
        typer.Option(help="with --filed: whose triage SLO (default: the calendar's desk)"),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Print each business interval that `--add` consumes from `--from`, and the due time;
    with `--filed`, when a ticket filed then must be triaged and which rule applied."""
    from dutydesk.slo import explain
    from dutydesk.slo.calendar import CalendarError

    opts.json = opts.json or json_out
    policy = local_policy()
    if filed and from_:
        raise fail("give either --from (with --add) or --filed, not both")
    try:
        if filed:
            at = explain.parse_instant(filed, "--filed")
            result = explain.explain_triage(policy, name, at, desk)
        else:
            start = (
                explain.parse_instant(from_, "--from") if from_ else datetime.now(ZoneInfo("UTC"))
            )
            result = explain.explain(policy, name, start, add)
    except DomainError as exc:
        raise fail(exc.detail) from exc
    except (CalendarError, OverflowError) as exc:
        raise fail(str(exc)) from exc

    def render(d: dict[str, Any]) -> None:
        triage = d.get("triage")
        if triage:
            whose = f"desk {triage['desk']}" if triage["desk"] else "the default rule"
            out.print(
                f"[bold]{d['calendar']}[/bold] ({d['timezone']}): triage due if filed at "
                f"{triage['filed_local']} ({whose}: {triage['within']}"
                + (f", outside hours {triage['outside_hours']}" if triage["outside_hours"] else "")
                + ")",
                highlight=False,
            )
            out.print(f"  rule: {escape(triage['reason'])}", highlight=False)
            if triage["opens_local"]:
                out.print(f"  that day opens {triage['opens_local']}", highlight=False)
        else:
            out.print(
                f"[bold]{d['calendar']}[/bold] ({d['timezone']}): {d['add']} of business time "
                f"from {d['start_local']}"
                + ("" if d["open_at_start"] else " [dim](closed then)[/dim]"),
                highlight=False,
            )
            if not d["open_at_start"]:
                out.print(
                    "  [dim]a triage clock started while closed follows its own rule: "
                    "see --filed[/dim]",
                    highlight=False,
                )
        lines: list[tuple[str, str]] = []
        for c in d["closed_days"]:
            lines.append(
                (
                    c["date"],
                    f"  [dim]closed {c['weekday'].title()} {c['date']} ({c['reason']})[/dim]",
                )
            )
        for i in d["intervals"]:
            took = format_span(timedelta(seconds=i["seconds"]))
            total = format_span(timedelta(seconds=i["total_seconds"]))
            day = datetime.fromisoformat(i["start"]).astimezone(ZoneInfo(d["timezone"])).date()
            lines.append(
                (
                    day.isoformat(),
                    f"  {i['start_local']} → {i['end_local']}  {took:>7}  ({total} so far)",
                )
            )
        for _, line in sorted(lines, key=lambda x: x[0]):
            out.print(line, highlight=False)
        out.print(
            f"due [bold]{d['due_local']}[/bold] ({d['due'].replace('+00:00', 'Z')})",
            highlight=False,
        )

    emit(result.model_dump(mode="json"), render)
