"""The web UI's routes, static files and the HTML fallback, wired into the app by ``install``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match
from starlette.types import Scope

from dutydesk.web import (
    admin_pages,
    auth_pages,
    desk_pages,
    handbook_pages,
    health_pages,
    oncall_pages,
    people_pages,
    report_pages,
    ritual_pages,
    settings_pages,
    ticket_pages,
    toil_pages,
    token_pages,
    triage_pages,
)
from dutydesk.web.deps import PageRoute, error_page

STATIC = Path(__file__).parent / "static"

# Each page router goes straight onto the app: FastAPI builds an included route's handler once
# per inclusion, and one more router around these built every page's handler in create_app,
# only for the app to build them again on the first request.
PAGES = (
    auth_pages.router,
    desk_pages.router,
    ticket_pages.router,
    people_pages.router,
    oncall_pages.router,
    token_pages.router,
    report_pages.router,
    ritual_pages.router,
    toil_pages.router,
    triage_pages.router,
    health_pages.router,
    settings_pages.router,
    admin_pages.router,
    handbook_pages.router,
)


class _FallbackRoute(PageRoute):
    """Matches any address outside /api/ and /static/, so the API keeps its 404/405 problems."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path.startswith(("/api/", "/static/")) or path == "/api":
            return Match.NONE, {}
        return super().matches(scope)


fallback = APIRouter(route_class=_FallbackRoute, include_in_schema=False)


@fallback.get("/{path:path}")
def not_found(path: str, request: Request) -> Response:
    """Unknown addresses get an HTML 404 page, with the nav bar to find the way back."""
    return error_page(request, 404, f"There is no page at {request.url.path}.")


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC, check_dir=False)


def install(app: FastAPI) -> None:
    """Pages first, then /static, then the HTML 404 for any other address (keep it last)."""
    for pages in PAGES:
        app.include_router(pages)
    app.mount("/static", static_files(), name="static")
    app.include_router(fallback)
