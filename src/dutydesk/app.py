"""create_app(): wires routers, middleware and error handlers around one AppState."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from dutydesk import __version__
from dutydesk.auth.access_api import router as access_router
from dutydesk.auth.accounts_api import router as accounts_router
from dutydesk.auth.api import router as auth_router
from dutydesk.context import desk_policy
from dutydesk.github.api import router as github_router
from dutydesk.handbook.api import router as handbook_router
from dutydesk.http import openapi, ops_api, problems, security
from dutydesk.http.deps import Actor, State
from dutydesk.http.inputs import RefuseNul
from dutydesk.http.limits import BodySizeLimit
from dutydesk.http.observe import Observe
from dutydesk.http.rate_limit import ApiRateLimit
from dutydesk.imports.api import IMPORT_PATH
from dutydesk.imports.api import router as imports_router
from dutydesk.mailgate.api import router as mail_router
from dutydesk.notify.api import router as notify_router
from dutydesk.oncall.api import router as oncall_router
from dutydesk.oncall.feeds_api import router as oncall_feeds_router
from dutydesk.reports.api import router as reports_router
from dutydesk.reports.health_api import router as reports_health_router
from dutydesk.reports.toil_api import router as toil_router
from dutydesk.slo.api import router as slo_router
from dutydesk.state import AppState
from dutydesk.tickets.api import router as tickets_router
from dutydesk.tickets.service import count_open
from dutydesk.triage.api import router as triage_router
from dutydesk.web import router as web_ui


@asynccontextmanager
async def _finish_handed_off_writes(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, the writes handed to the writer thread commit before the process ends."""
    yield
    state: AppState = app.state.dutydesk
    if state.group_commit is not None:
        state.group_commit.stop()


def create_app(
    state: AppState,
    max_body_bytes: int = 256 * 1024,
    max_import_bytes: int = 1 << 30,
    *,
    metrics_token: str = "",
) -> FastAPI:
    app = FastAPI(
        title="dutydesk",
        version=__version__,
        description="An on-call ticket queue. Errors are RFC 9457 problem documents.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=_finish_handed_off_writes,
    )
    app.state.dutydesk = state
    problems.install(app)
    openapi.install(app)  # declares the problem documents the handlers answer
    # Inside the size limit, which counts a body first; the streamed import is not buffered.
    app.add_middleware(RefuseNul, unbuffered=[IMPORT_PATH])
    app.add_middleware(
        BodySizeLimit, max_bytes=max_body_bytes, larger=[(IMPORT_PATH, max_import_bytes)]
    )
    app.add_middleware(ApiRateLimit, limits=state.limits)  # refuses before any work
    app.add_middleware(Observe)  # request ids, access log, latency, last-resort 500
    # Outermost: errors, 413s and last-resort 500s get the headers too.
    security.install(app, lambda: state.policy.web.image_hosts)
    app.include_router(auth_router)
    app.include_router(access_router)
    app.include_router(accounts_router)
    app.include_router(tickets_router)
    app.include_router(triage_router)
    app.include_router(slo_router)
    app.include_router(oncall_router)
    app.include_router(oncall_feeds_router)
    app.include_router(notify_router)
    app.include_router(reports_router)
    app.include_router(toil_router)
    app.include_router(reports_health_router)
    app.include_router(github_router)
    app.include_router(imports_router)
    app.include_router(mail_router)
    app.include_router(handbook_router)
    ops_api.install(app, state, metrics_token)

    @app.get("/api/v1/healthz", tags=["ops"])
    def healthz(state: State) -> dict[str, Any]:
        with state.db.read() as s:
            s.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": state.db.dialect}

    @app.get("/api/v1/desks", tags=["desks"])
    def desks(state: State, actor: Actor) -> list[dict[str, Any]]:
        return [_desk_out(state, name) for name in state.policy.desks]

    @app.get("/api/v1/desks/{desk}", tags=["desks"])
    def desk(desk: str, state: State, actor: Actor) -> dict[str, Any]:
        return _desk_out(state, desk)

    web_ui.install(app)  # keep last: it ends with the HTML 404 for unknown addresses
    return app


def _desk_out(state: AppState, name: str) -> dict[str, Any]:
    desk = desk_policy(state.policy, name)
    with state.db.read() as s:
        open_count = count_open(s, name)
    return {
        "name": name,
        "title": desk.title,
        "columns": desk.columns,
        "priorities": desk.priorities,
        "admit": desk.admit,
        "criteria": desk.criteria,
        "kinds": desk.kinds,
        "categories": desk.categories,
        "teams": desk.teams,
        "rotation": desk.rotation,
        "calendar": desk.calendar,
        "open_tickets": open_count,
        "moves": {c: desk.allowed_moves(c) for c in desk.columns},
        "requires_assignee": desk.assignee_columns,
    }
