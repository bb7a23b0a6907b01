"""CLI: ``report queue|oncall|set DESK``: the report's tables, one table as CSV, or JSON.

Each command reads the report's API route (local in-process app by default, or ``--url``)
and prints the tables the report model builds (:mod:`dutydesk.reports.tables`): the same
rows the web page shows beside its charts and the API's ``format=csv`` answers.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from dutydesk.cli.client import call, emit, fail, opts, out

DeskArg = Annotated[str, typer.Argument(help="desk, e.g. infra")]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="first day YYYY-MM-DD (default: 12 weeks ago)")
]
ToOpt = Annotated[str | None, typer.Option("--to", help="last day YYYY-MM-DD (default: today)")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="one table as CSV (see --table)")]
TableOpt = Annotated[
    str | None, typer.Option("--table", help="with --csv: which table (default: the first)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _model(kind: str) -> Any:
    """The report's model, imported when a report command runs: the CLI starts without
    pydantic and SQLAlchemy (tests/test_startup.py)."""
    if kind == "queue":
        from dutydesk.reports.queue_health import QueueHealth

        return QueueHealth
    if kind == "oncall":
        from dutydesk.reports.oncall_load import OncallLoad

        return OncallLoad
    from dutydesk.reports.set_figures import SetFigures

    return SetFigures


def _report(
    kind: str,
    desk: str,
    start: str | None,
    end: str | None,
    csv_out: bool,
    table: str | None,
    json_out: bool,
    **extra: str,
) -> None:
    if csv_out and json_out:
        raise fail("--csv and --json: pick one")
    if table is not None and not csv_out:
        raise fail("--table picks the table --csv writes; add --csv")
    opts.json = opts.json or json_out
    params = {k: v for k, v in {"from": start, "to": end, **extra}.items() if v}
    data = call("GET", f"/api/v1/desks/{desk}/reports/{kind}", params=params)
    from dutydesk.reports.tables import cell_text, pick, to_csv

    report: Any = _model(kind).model_validate(data)
    tables = report.tables()
    if csv_out and not opts.json:
        try:
            chosen = pick(tables, table)
        except ValueError as exc:
            raise fail(f"--table: {exc}") from None
        sys.stdout.write(to_csv(chosen))
        return

    def render(d: dict[str, Any]) -> None:
        p = d["period"]
        out.print(
            f"[bold]{d['desk']}[/bold] {kind} report, {p['from']} to {p['to']} ({p['zone']})",
            highlight=False,
        )
        for t in tables:
            shown = RichTable(title=t.title, title_justify="left")
            for col in t.columns:
                shown.add_column(col, overflow="fold")
            for row in t.rows:
                shown.add_row(*(cell_text(v) or "-" for v in row))
            if not t.rows:
                out.print(f"{t.title}: none", highlight=False)
                continue
            out.print(shown)

    emit(data, render)


def queue(
    desk: DeskArg,
    start: FromOpt = None,
    end: ToOpt = None,
    csv_out: CsvOpt = False,
    table: TableOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Queue health: open tickets by column and priority per week, ages, unowned tickets,
    idle claims, SLO attainment (tables: flow, priorities, age, unowned, idle, slo)."""
    _report("queue", desk, start, end, csv_out, table, json_out)


def oncall(
    desk: DeskArg,
    start: FromOpt = None,
    end: ToOpt = None,
    csv_out: CsvOpt = False,
    table: TableOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """On-call load per person and per shift, beside the fairness hours (tables: people,
    shifts)."""
    _report("oncall", desk, start, end, csv_out, table, json_out)


def set_figures(
    desk: DeskArg,
    start: FromOpt = None,
    end: ToOpt = None,
    area: Annotated[str, typer.Option(help="group bugs by team, category or label")] = "team",
    csv_out: CsvOpt = False,
    table: TableOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """SET figures: bugs resolved and customer share, fixes submitted, days in each column,
    escalations' time to fix, bugs by area (tables: weekly, columns, escalations, areas)."""
    _report("set", desk, start, end, csv_out, table, json_out, area=area)
