"""``dutydesk mailgate``: one mail on standard input, as an MTA pipes it (Postfix alias
``infra: "|dutydesk mailgate --desk infra"``). Exit codes follow sysexits(3) — see
:mod:`dutydesk.mailgate.parse` — so the MTA bounces what should bounce and retries the rest."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dutydesk.cli.client import emit, err, local_state

EX_TEMPFAIL = 75


def mailgate(
    desk: Annotated[str, typer.Option("--desk", help="the desk the mail is addressed to")],
) -> None:
    """Read one RFC 5322 message on stdin: file a ticket, or comment on the one it answers."""
    from sqlalchemy.exc import OperationalError

    from dutydesk.mailgate.parse import MailRefused
    from dutydesk.mailgate.service import desk_mail, take

    try:
        state = local_state()
    except typer.Exit as exc:  # the policy or schema is broken: the MTA should try later
        raise typer.Exit(EX_TEMPFAIL if exc.exit_code else 0) from exc
    try:
        limit = desk_mail(state, desk).max_message_bytes
        # Read one byte past the limit: enough to refuse a mail bomb without holding it all.
        raw = sys.stdin.buffer.read(limit + 1)
        outcome = take(state, desk, raw)
    except MailRefused as exc:
        err.print(f"mailgate: {exc.message}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(exc.code) from exc
    except OperationalError as exc:
        err.print(
            f"mailgate: the database is unavailable, try again later: {exc.orig}", markup=False
        )
        raise typer.Exit(EX_TEMPFAIL) from exc
    finally:
        state.db.dispose()
    emit(
        {
            "action": outcome.action,
            "key": outcome.key,
            "detail": outcome.detail,
            "hints": list(outcome.hints),
        },
        lambda o: print(o["detail"] + "".join(f"\nhint: {h}" for h in o["hints"])),
    )
