"""``dutydesk report toil``: the toil report as tables, one table as CSV, or JSON (the API's)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from dutydesk.cli.client import call, emit, fail, opts, out

TABLES = ("categories", "kinds", "category_kinds", "weeks", "clusters", "summary")


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _render(d: dict[str, Any]) -> None:
    p, s = d["period"], d["summary"]
    unit = "business hours" if d["business_hours"] else "hours (no calendar)"
    out.print(
        f"[bold]Toil on {d['desk']}[/bold], {p['from']} – {p['to']} ({p['zone']}); {unit}",
        highlight=False,
    )
    out.print(
        f"filed {s['filed']} · done {s['done']} · filed→done median "
        f"{_num(s['median_to_done_hours'])} h, total {_num(s['total_to_done_hours'])} h · "
        f"in progress median {_num(s['median_in_progress_hours'])} h, total "
        f"{_num(s['total_in_progress_hours'])} h · re-opened {s['reopened']} · "
        f"bounced {s['bounced']}",
        highlight=False,
    )
    cats = Table("category", "filed", "done", "median h", "total h", "in progress h")
    for c in d["categories"]:
        cats.add_row(
            c["category"] or "(none)",
            _num(c["filed"]),
            _num(c["done"]),
            _num(c["median_to_done_hours"]),
            _num(c["total_to_done_hours"]),
            _num(c["total_in_progress_hours"]),
        )
    out.print(cats)
    kinds = Table("kind", "filed", "done", "median h", "total h")
    for k in d["kinds"]:
        kinds.add_row(
            k["kind"],
            _num(k["filed"]),
            _num(k["done"]),
            _num(k["median_to_done_hours"]),
            _num(k["total_to_done_hours"]),
        )
    out.print(kinds)
    weeks = Table("week", "filed", "done", "re-opened", "bounced")
    for w in d["weeks"]:
        weeks.add_row(w["week"], *(_num(w[x]) for x in ("filed", "done", "reopened", "bounced")))
    out.print(weeks)
    rec = d.get("recurring")
    if rec:
        out.print(
            f"[bold]Recurring requests[/bold]: {rec['clustered']} of {rec['tickets']} tickets "
            f"in {len(rec['clusters'])} clusters",
            highlight=False,
        )
        table = Table("#", "words", "count", "effort h", "score h", "name", "examples")
        for i, c in enumerate(rec["clusters"][:15]):
            table.add_row(
                str(i + 1),
                " ".join(c["words"]),
                str(c["count"]),
                _num(c["effort_hours"]),
                _num(c["score"]),
                c["name"] or "",
                ", ".join(m["key"] for m in c["members"][:4]),
            )
        out.print(table)
        for f in rec["followed"]:
            trend = " ".join(str(w["count"]) for w in f["weeks"])
            out.print(f"followed {f['name']!r}: {f['count']} tickets; per week: {trend}")


def toil(
    desk: Annotated[str, typer.Argument(help="desk, e.g. infra")],
    from_: Annotated[
        str | None, typer.Option("--from", help="first day YYYY-MM-DD (default: 12 weeks ago)")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="last day YYYY-MM-DD (default: today)")
    ] = None,
    csv_out: Annotated[
        bool, typer.Option("--csv", help="print one table as CSV (see --table)")
    ] = False,
    table: Annotated[str, typer.Option(help=f"with --csv: {', '.join(TABLES)}")] = "categories",
    json_out: Annotated[bool, typer.Option("--json", help="the API's JSON")] = False,
    clusters: Annotated[
        bool, typer.Option("--clusters/--no-clusters", help="include the recurring requests")
    ] = True,
) -> None:
    """The toil report: tickets by category and kind, week by week, time to done and in
    progress (business hours), re-opened and bounced, and the recurring requests."""
    if csv_out and json_out:
        raise fail("--csv and --json: pick one")
    if table not in TABLES:
        raise fail(f"--table {table!r}: use one of {', '.join(TABLES)}")
    params: dict[str, Any] = {"clusters": clusters}
    if from_:
        params["from"] = from_
    if to:
        params["to"] = to
    path = f"/api/v1/desks/{desk}/reports/toil"
    if csv_out:
        from dutydesk.reports.schemas import ToilReport
        from dutydesk.reports.tables import neutralised
        from dutydesk.reports.toil import csv_table

        data = call("GET", path, params=params | {"clusters": clusters or table == "clusters"})
        sys.stdout.write(neutralised(csv_table(ToilReport.model_validate(data), table)))
        return
    data = call("GET", path, params=params)
    if json_out or opts.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    _render(data)


def rebuild(
    desk: Annotated[
        list[str] | None, typer.Option(help="only this desk (repeatable); default every desk")
    ] = None,
) -> None:
    """Store the business times of done tickets that lack them or hold stale ones, and
    classify every move that re-opened, bounced or submitted a ticket (after an upgrade, a bulk
    load, or a change of calendar or columns), which the toil report and SET figures read;
    recount the hourly tallies queue health and on-call load sum, and the priority each SLO
    clock is reported under, and each claim's last activity (idle claims), from the events.
    Local database."""
    from dutydesk.cli.client import local_state
    from dutydesk.context import desk_policy
    from dutydesk.errors import DomainError
    from dutydesk.reports.tallies import rebuild as rebuild_tallies
    from dutydesk.slo.service import follow_priorities
    from dutydesk.tickets.idle import rebuild as rebuild_claims
    from dutydesk.tickets.moves import rebuild as rebuild_moves
    from dutydesk.tickets.times import rebuild as rebuild_times

    state = local_state()
    try:
        for name in desk or []:
            desk_policy(state.policy, name)
    except DomainError as exc:
        raise fail(f"--desk: {exc.detail}") from exc
    with state.db.write() as s:
        written = rebuild_times(s, state.policy, desk or None)
        moved = rebuild_moves(s, state.policy, state.now(), desk or None)
        counted = rebuild_tallies(s, desk or None)
        follow_priorities(s)
        claims = rebuild_claims(s, desk or None)
    emit(
        {"written": written, "moves": moved, "tallies": counted, "claims": claims},
        lambda d: out.print(
            "\n".join(
                [
                    f"{k}: {n:,} done tickets timed, {d['moves'][k]:,} re-opening or bouncing moves"
                    for k, n in d["written"].items()
                ]
                + [f"{k}: {n:,} hourly tally rows" for k, n in d["tallies"].items()]
                + [f"{d['claims']:,} claimed tickets' last activity"]
            ),
            highlight=False,
        ),
    )
