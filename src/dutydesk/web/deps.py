"""What every page route shares: templates, who is logged in, CSRF on writes, HTML errors.

Pages use the same cookie session as the JSON API (``dutydesk_session``). Reads need only the
cookie; every write also needs the session's CSRF token, sent as the hidden ``csrf_token``
form field (plain forms, which work without JavaScript) or the ``X-CSRF-Token`` header (fetch
and htmx requests). Domain errors raised by a page become HTML pages with the same status, while
``/api/v1`` keeps its problem JSON.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from dutydesk.auth.accounts import LAST_SEEN_GRAIN, note_session_seen
from dutydesk.auth.models import User
from dutydesk.auth.service import has_role, session_seen
from dutydesk.durations import format_age_since, format_ago
from dutydesk.errors import DomainError, Forbidden, Unauthorized
from dutydesk.http.deps import CSRF_HEADER, SESSION_COOKIE, State
from dutydesk.notify import inbox
from dutydesk.state import AppState
from dutydesk.web import present, submissions, vendor

log = logging.getLogger("dutydesk.web")
TEMPLATES = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every {{ value }} is escaped; only sanitized markdown HTML is marked safe
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.filters["age"] = format_age_since
env.filters["ago"] = format_ago
env.filters["when"] = present.format_when
env.filters["audit_words"] = present.audit_words
env.globals["priority_class"] = present.priority_class
env.globals["priority_label"] = present.priority_label


class LoginRequired(Exception):
    """No valid session on a page that needs one: the browser goes to the log-in page."""


@dataclass(frozen=True)
class Viewer:
    """The logged-in person as pages see them, with the CSRF token their forms must echo."""

    user: User
    csrf: str

    @property
    def name(self) -> str:
        return self.user.name

    def can(self, role: str, desk: str | None = None) -> bool:
        return has_role(self.user, role, desk)


def session_viewer(request: Request, state: AppState) -> Viewer | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    now = state.now()
    with state.db.read() as s:
        found = session_seen(s, cookie, now)
    if found is None:
        return None
    user, csrf, seen = found
    if seen is None or now - seen >= LAST_SEEN_GRAIN:
        with state.db.write() as s:  # "last seen" on the sessions page, to the minute
            note_session_seen(s, cookie, now)
    return Viewer(user, csrf)


def page_viewer(request: Request, state: State) -> Viewer:
    viewer = session_viewer(request, state)
    if viewer is None:
        raise LoginRequired()
    return viewer


PageViewer = Annotated[Viewer, Depends(page_viewer)]


async def _form_csrf(request: Request) -> str | None:
    """The CSRF token a write carries: header first, else the form field (form parsed once)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent:
        return sent
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def write_viewer(
    request: Request, state: State, sent: Annotated[str | None, Depends(_form_csrf)]
) -> Viewer:
    """A logged-in person whose request proves it came from one of our pages."""
    viewer = session_viewer(request, state)
    if viewer is None:
        raise Unauthorized("your session has expired; log in again")
    if not sent or not hmac.compare_digest(sent, viewer.csrf):
        raise Forbidden(
            "this form was not sent from a current dutydesk page (missing or wrong CSRF token); "
            "reload the page and try again",
            reason="csrf",
        )
    return viewer


WriteViewer = Annotated[Viewer, Depends(write_viewer)]


def wants_json(request: Request) -> bool:
    """Scripts on our pages (drag and drop) ask for JSON; plain forms get pages and redirects."""
    return "application/json" in request.headers.get("accept", "")


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    state: AppState = request.app.state.dutydesk
    base = {
        "viewer": viewer,
        "csrf_token": viewer.csrf if viewer else "",
        "nav_desks": present.nav_desks(state.policy, viewer.user if viewer else None),
        "path": request.url.path,
        "now": state.now(),
        "vendor_missing": vendor.missing(),
        "inbox_unread": _unread(state, viewer),
    }
    return HTMLResponse(
        render_html(template, {**base, **context}), status_code=status_code, headers=headers
    )


HEADER_UNREAD_CAP = 100  # shown as "99+"


def _unread(state: AppState, viewer: Viewer | None) -> int:
    """The header's unread count: one count on the (user, read_at) index."""
    if viewer is None:
        return 0
    with state.db.read() as s:
        return inbox.unread_count(s, viewer.user.id, cap=HEADER_UNREAD_CAP)


def render_html(template: str, context: dict[str, Any]) -> str:
    """A template as one string, each escaped chunk made a plain ``str`` as it streams out.

    Jinja's escaped chunks are ``Markup`` objects, which the garbage collector tracks; a 500-card
    board makes ~10k of them, and holding them all until the final join set off collections
    (a full one walks the whole server heap: tens of ms). Plain strings are not tracked, so the
    board renders without triggering any, and faster.
    """
    chunks = env.get_template(template).generate(context)
    return "".join([c if type(c) is str else str(c) for c in chunks])


def login_redirect(request: Request) -> Response:
    """To the log-in page, then back. A polling htmx request is told to send the whole tab
    there (a plain redirect would be followed inside the request and swap the log-in form
    into the board)."""
    if request.headers.get("HX-Request"):
        tab = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = present.safe_next(tab.path + (f"?{tab.query}" if tab.query else ""))
        return Response(
            status_code=401, headers={"HX-Redirect": f"/login?next={quote(back, safe='')}"}
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


ERROR_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    409: "Refused by a workflow rule",
    412: "Changed meanwhile",
    422: "Not valid",
}


def error_page(request: Request, status: int, detail: str) -> Response:
    if wants_json(request):
        return JSONResponse({"status": status, "detail": detail}, status_code=status)
    viewer = session_viewer(request, request.app.state.dutydesk)
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": ERROR_TITLES.get(status, "Error"), "detail": detail},
        viewer=viewer,
        status_code=status,
    )


async def _submission(request: Request) -> tuple[AppState, int, str] | None:
    """(state, user id, token) of a page form that carries a submission token."""
    if request.method != "POST":
        return None
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    token = (await request.form()).get(submissions.FIELD)
    if not submissions.valid(token):
        return None
    state: AppState = request.app.state.dutydesk
    viewer = await run_in_threadpool(session_viewer, request, state)
    if viewer is None:
        return None
    return state, viewer.user.id, str(token)


class PageRoute(APIRoute):
    """Routes whose failures are pages: log-in redirects, HTML 403/404/409, never problem JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except Unauthorized as exc:
                if request.method == "GET":
                    return login_redirect(request)
                return error_page(request, 401, exc.detail)
            except DomainError as exc:
                return error_page(request, exc.status, exc.detail)
            except RequestValidationError as exc:
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                    f"{present.in_words(e)}"
                    for e in exc.errors()[:5]
                )
                return error_page(request, 422, detail)

        async def page_handler(request: Request) -> Response:
            sent = await _submission(request)
            if sent is None:
                return await answer(request)
            state, user_id, token = sent
            first = await run_in_threadpool(
                submissions.claim, state, user_id, token, request.url.path
            )
            if first is not None:  # sent again: go where the first one went
                if first.location is None and not first.gone:
                    first = await submissions.wait_for(state, user_id, token)
                if first.location is not None:
                    return RedirectResponse(first.location, status_code=303)
                return await answer(request)  # the first came back with errors: try this one
            location: str | None = None
            try:
                response = await answer(request)
                if response.status_code in (302, 303):
                    location = response.headers.get("location")
                return response
            finally:
                await run_in_threadpool(submissions.settle, state, user_id, token, location)

        return page_handler
