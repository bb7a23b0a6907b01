"""The ``dutydesk`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dutydesk.policy import PolicyError, load_policy
from dutydesk.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def check(
    file: Annotated[
        Path | None, typer.Argument(help="policy file (default: $DUTYDESK_POLICY)")
    ] = None,
) -> None:
    """Validate a dutydesk.toml and explain every error with its location."""
    path = file or get_settings().policy
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        err.print(exc.render(), highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    out.print(f"{path}: ok — {len(policy.desks)} desk(s): {', '.join(policy.desks)}")
