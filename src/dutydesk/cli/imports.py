"""``dutydesk import jsonl|github|jira-csv FILE --desk DESK``: a team's history, streamed.

On the local database the import runs in this process (with a progress bar on a terminal);
with ``--url`` the file is streamed to the server's import endpoint. Both run the same use
case (``dutydesk.imports.service``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dutydesk.cli.client import emit, err, fail, local_state, opts, out

if TYPE_CHECKING:
    from dutydesk.imports.records import ImportResult

import_app = typer.Typer(no_args_is_help=True, help="Import a team's tickets from elsewhere.")

DeskOpt = Annotated[str, typer.Option("--desk", help="the desk to import into")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="say what would happen, store nothing")]
ReporterOpt = Annotated[
    str | None,
    typer.Option(
        "--default-reporter",
        help="user for unknown or missing reporters (default: unknown ones become guests)",
    ),
]
FileArg = Annotated[Path, typer.Argument(help="the export file ('-' for standard input)")]


@import_app.command("jsonl")
def jsonl(
    file: FileArg, desk: DeskOpt, dry_run: DryRunOpt = False, default_reporter: ReporterOpt = None
) -> None:
    """One JSON object per line (the format is in the README)."""
    _run("jsonl", file, desk, dry_run, default_reporter, {})


LabelMapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--label-map", help="'source label=FIELD:VALUE', e.g. 'bug=kind:bug' (repeatable)"
    ),
]


def _label_map(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        label, sep, target = item.partition("=")
        if not sep or not label.strip() or ":" not in target:
            raise fail(f"--label-map {item!r}: write it as 'label=kind:bug' (or priority:P1, …)")
        out[label.strip()] = target.strip()
    return out


@import_app.command("github")
def github(
    file: FileArg,
    desk: DeskOpt,
    dry_run: DryRunOpt = False,
    default_reporter: ReporterOpt = None,
    label_map: LabelMapOpt = None,
) -> None:
    """GitHub issues: the REST API's JSON array or `gh issue list --json number,title,body,
    author,createdAt,closedAt,state,labels,comments,url` output. Pull requests are skipped."""
    _run("github", file, desk, dry_run, default_reporter, {"label_map": _label_map(label_map)})


@import_app.command("jira-csv")
def jira_csv(
    file: FileArg,
    desk: DeskOpt,
    dry_run: DryRunOpt = False,
    default_reporter: ReporterOpt = None,
    label_map: LabelMapOpt = None,
    timezone: Annotated[
        str, typer.Option(help="the exporting user's time zone (Jira writes local times)")
    ] = "UTC",
) -> None:
    """Jira's CSV export (all fields), repeated Comment, Labels and Component/s columns."""
    extra = {"label_map": _label_map(label_map), "timezone": timezone}
    _run("jira-csv", file, desk, dry_run, default_reporter, extra)


def _run(
    fmt: str,
    file: Path,
    desk: str,
    dry_run: bool,
    default_reporter: str | None,
    extra: dict[str, Any],
) -> None:
    if str(file) != "-" and not file.is_file():
        raise fail(f"no file {file}: give the path of the export")
    if opts.url:
        data = _over_api(fmt, file, desk, dry_run, default_reporter, extra)
    else:
        data = _in_process(fmt, file, desk, dry_run, default_reporter, extra).as_dict()
    emit(data, _render)
    if data["rejected_count"]:
        raise typer.Exit(2)


def _in_process(
    fmt: str,
    file: Path,
    desk: str,
    dry_run: bool,
    default_reporter: str | None,
    extra: dict[str, Any],
) -> ImportResult:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from dutydesk.errors import DomainError
    from dutydesk.imports import service

    state = local_state()
    stream = sys.stdin.buffer if str(file) == "-" else file.open("rb")
    size = None if str(file) == "-" else file.stat().st_size
    show = sys.stderr.isatty() and not opts.json
    with (
        stream,
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not show,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task(f"importing {file.name}", total=size)

        def advance(n: int) -> None:
            bar.advance(task, n)

        try:
            return service.import_file(
                state,
                fmt,
                stream,
                desk=desk,
                actor=opts.as_user,
                dry_run=dry_run,
                default_reporter=default_reporter,
                progress=advance,
                **extra,
            )
        except DomainError as exc:
            raise fail(exc.detail) from exc


def _over_api(
    fmt: str,
    file: Path,
    desk: str,
    dry_run: bool,
    default_reporter: str | None,
    extra: dict[str, Any],
) -> Any:
    from dutydesk.cli.client import call

    def chunks() -> Iterator[bytes]:
        stream = sys.stdin.buffer if str(file) == "-" else file.open("rb")
        with stream:
            while chunk := stream.read(1 << 16):
                yield chunk

    params: dict[str, Any] = {"format": fmt, "dry_run": str(dry_run).lower()}
    if default_reporter:
        params["default_reporter"] = default_reporter
    if extra.get("timezone"):
        params["timezone"] = extra["timezone"]
    if extra.get("label_map"):
        params["label_map"] = [f"{k}={v}" for k, v in extra["label_map"].items()]
    return call(
        "POST",
        f"/api/v1/desks/{desk}/imports",
        params=params,
        content=chunks(),
        headers={"content-type": "application/octet-stream"},
        timeout=None,
    )


def _render(d: dict[str, Any]) -> None:
    verb = "would" if d["dry_run"] else ""
    lead = f"{d['source']} into {d['desk']}: " + ("dry run, " if d["dry_run"] else "")
    out.print(
        lead
        + f"{verb + ' create' if verb else 'created'} {d['created']}, "
        + f"{verb + ' update' if verb else 'updated'} {d['updated']}, "
        + f"unchanged {d['unchanged']}, skipped {d['skipped']}, "
        + f"{verb + ' reject' if verb else 'rejected'} {d['rejected_count']}",
        highlight=False,
    )
    for r in d["rejected"]:
        ext = f" ({r['external_id']})" if r.get("external_id") else ""
        err.print(f"line {r['line']}{ext}: {r['reason']}", highlight=False, soft_wrap=True)
    if d["rejected_count"] > len(d["rejected"]):
        err.print(f"… and {d['rejected_count'] - len(d['rejected'])} more", highlight=False)
    for w in d["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {w}", highlight=False, soft_wrap=True)
