"""What every command group shares: the global options, output, errors and the API client.

Commands speak the REST API: to a server with ``--url``/``DUTYDESK_URL`` and a token, or, by
default, to an in-process app on the local database acting as ``--as`` (default ``admin``).

Policy, settings, the database and httpx (with pydantic and SQLAlchemy) are imported inside
the functions that need them, here and in every command group: ``dutydesk --help`` and the
commands that need none of them start without them (``--help`` takes 0.15 s; importing what
the commands use takes 0.8 s; BENCHMARKS.md, pinned by ``tests/test_startup.py``).
"""

from __future__ import annotations

import gc
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    import httpx

    from dutydesk.policy import Policy
    from dutydesk.settings import Settings
    from dutydesk.state import AppState

err = Console(stderr=True)
out = Console()


@dataclass
class Options:
    url: str | None = None
    token: str | None = None
    as_user: str = "admin"
    json: bool = False


opts = Options()  # set once per run by the root app's callback


def fail(message: str, code: int = 1) -> typer.Exit:
    """The message as written: brackets in it (``[people.ana]``) are text, not markup."""
    from rich.markup import escape

    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def get_settings() -> Settings:
    from dutydesk.settings import get_settings as settings

    return settings()


@contextmanager
def startup_gc() -> Iterator[None]:
    """Build the app without the garbage collector, then freeze what was built.

    Importing and wiring the app creates some 130,000 objects the collector tracks, nearly all
    living as long as the process; the full collections they trigger meanwhile scan them all
    and free next to nothing (0.1 to 0.25 s of a start). Frozen, they are also left out of
    every later collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def local_policy() -> Policy:
    """The policy file of this installation; a broken one is explained and exits 1."""
    from dutydesk.policy import PolicyError
    from dutydesk.policy_check import load_checked_policy

    path = get_settings().policy
    try:
        return load_checked_policy(path)
    except PolicyError as exc:
        err.print(exc.render(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def local_state(check_schema: bool = True) -> AppState:
    """The local database and policy, as ``dutydesk serve`` would hold them."""
    from dutydesk.db import Database
    from dutydesk.migrate import NotMigrated, ensure_current
    from dutydesk.state import AppState

    policy = local_policy()
    db = Database(get_settings().database_url)
    if check_schema:
        try:
            ensure_current(db.engine)
        except NotMigrated as exc:
            raise fail(str(exc)) from exc
    from dutydesk.auth.throttle import AccessLimits

    return AppState(db=db, policy=policy, limits=AccessLimits.from_settings(get_settings()))


def api_client() -> httpx.Client:
    """A client of the REST API: the server at ``--url``, or the app built in-process."""
    import httpx

    if opts.url:
        if not opts.token:
            raise fail(
                "--url needs a token: pass --token or set DUTYDESK_TOKEN "
                "(`dutydesk token create USER` on the server makes one)"
            )
        return httpx.Client(
            base_url=opts.url.rstrip("/"),
            timeout=30,
            headers={"Authorization": f"Bearer {opts.token}"},
        )
    with startup_gc():  # local mode builds the whole app in-process, as `serve` does
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="fastapi.testclient")
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient
        from sqlalchemy import select

        from dutydesk.app import create_app
        from dutydesk.auth.models import User
        from dutydesk.http.deps import get_actor

        state = local_state()
        with state.db.read() as s:
            user = s.scalar(select(User).where(User.name == opts.as_user))
        if user is None:
            raise fail(f"no local user {opts.as_user!r}: pass --as NAME (see `dutydesk users`)")
        if not user.active:
            raise fail(f"{user.name} is deactivated (`dutydesk user reactivate {user.name}`)")
        api = create_app(state)
        api.dependency_overrides[get_actor] = lambda: user
        return TestClient(api, raise_server_exceptions=True)


def call(method: str, path: str, **kwargs: Any) -> Any:
    import httpx

    with api_client() as client:
        try:
            r = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise fail(f"cannot reach {opts.url}: {exc}") from exc
    if r.status_code >= 400:
        try:
            body = r.json()
            detail = body.get("detail") or body.get("title")
        except ValueError:
            detail = r.text[:200]
        raise fail(f"{detail} (HTTP {r.status_code})")
    return r.json() if r.content else None


def emit(data: Any, render: Callable[[Any], object] | None = None) -> None:
    if opts.json or render is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(data)
