"""The ``dutydesk`` command line.

Ticket commands speak the REST API: to a server with ``--url``/``DUTYDESK_URL`` and a token,
or, by default, to an in-process app on the local database acting as ``--as`` (default
``admin``). One code path, so the CLI obeys exactly the rules the API does.
"""

# The root only wires the command groups together: each group module imports the shared
# helpers from ``cli.client``, and none imports this one.

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from dutydesk.cli import (
    access,
    account,
    admin,
    backup,
    health_reports,
    imports,
    mail,
    notify,
    oncall,
    reports,
    slo,
    tickets,
    triage,
)
from dutydesk.cli.client import opts

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_enable=False
)


@app.callback()
def main(
    url: Annotated[
        str | None,
        typer.Option(envvar="DUTYDESK_URL", help="server to talk to (default: local database)"),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="DUTYDESK_TOKEN", help="API token for --url")
    ] = None,
    as_user: Annotated[
        str, typer.Option("--as", envvar="DUTYDESK_USER", help="local mode: act as this user")
    ] = "admin",
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """An on-call ticket queue: file, triage, serve, hand over."""
    opts.url, opts.token, opts.as_user, opts.json = url, token, as_user, json_out


COMMANDS: dict[str, Callable[..., None]] = {
    "worker": notify.worker,
    "agenda": notify.agenda,
    "handoff": oncall.handoff,
    "handoff-note": oncall.handoff_note,
    "status-post": notify.set_update,  # the name the design gives it; also `report set-update`
    "check": admin.check,
    "init": admin.init,
    "serve": admin.serve,
    "demo": admin.demo,
    "reorder": admin.reorder,
    "file": tickets.file_,
    "list": tickets.list_,
    "queue": tickets.queue,
    "show": tickets.show,
    "edit": tickets.edit,
    "convert": tickets.convert,
    "watch": tickets.watch,
    "move": tickets.move_,
    "assign": tickets.assign,
    "triage": tickets.triage_,
    "comment": tickets.comment,
    "block": tickets.block,
    "rank": tickets.rank_,
    "mailgate": mail.mailgate,
    "audit": access.audit,
    "backup": backup.backup,
    "restore": backup.restore,
    "export": backup.export,
    "similar": triage.similar,
    "password": account.password,
}
GROUPS = {
    "token": admin.token_app,
    "users": admin.users_app,
    "user": access.user_app,
    "db": admin.db_app,
    "slo": slo.slo_app,
    "calendar": slo.calendar_app,
    "oncall": oncall.oncall_app,
    "report": notify.report_app,
    "release": notify.release_app,
    "notify": notify.notify_app,
    "chat": notify.chat_app,
    "suggestions": triage.suggestions_app,
    "import": imports.import_app,
    "sessions": account.sessions_app,
    "inbox": account.inbox_app,
    "handbook": account.handbook_app,
}
admin.token_app.command("list")(access.token_list)
admin.token_app.command("revoke")(access.token_revoke)
access.user_app.command("add")(account.user_add)
access.user_app.command("change")(account.user_change)
notify.notify_app.command("prefs")(account.prefs)
for name, command in COMMANDS.items():
    app.command(name)(command)
admin.db_app.command("copy")(backup.db_copy)
for name, group in GROUPS.items():
    app.add_typer(group, name=name)
notify.report_app.command("suggestions")(triage.accuracy)
notify.report_app.command("toil")(reports.toil)
notify.report_app.command("queue")(health_reports.queue)
notify.report_app.command("oncall")(health_reports.oncall)
notify.report_app.command("set")(health_reports.set_figures)
notify.report_app.command("rebuild")(reports.rebuild)
