"""Log-in and log-out pages.

The log-in form has no session yet, so its CSRF token is a double-submit value: a random
cookie set with the form and echoed in a hidden field; a cross-site form cannot read it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dutydesk.auth.service import close_session
from dutydesk.auth.throttle import log_in
from dutydesk.errors import TooManyRequests, Unauthorized
from dutydesk.http.deps import SESSION_COOKIE, State
from dutydesk.web import present
from dutydesk.web.deps import PageRoute, WriteViewer, render, session_viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LOGIN_COOKIE = "dutydesk_login"


def _demo_people(state: State) -> list[tuple[str, str]]:
    """(name, roles) of people whose password is in policy: a demo install shows them."""
    return [
        (name, ", ".join(p.roles) + (f" · {', '.join(p.desks)}" if p.desks else ""))
        for name, p in state.policy.people.items()
        if p.password
    ]


def _login_form(
    request: Request,
    state: State,
    next_url: str,
    error: str | None,
    username: str = "",
    status_code: int = 401,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "auth/login.html",
        {
            "next": next_url,
            "error": error,
            "username": username,
            "login_token": token,
            "demo_people": _demo_people(state),
        },
        status_code=status_code if error else 200,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=3600,
    )
    return response


@router.get("/login")
def login_page(request: Request, state: State, next: str = "/me") -> Response:
    target = present.safe_next(next)
    if session_viewer(request, state) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_form(request, state, target, None)


@router.post("/login")
def login(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/me",
) -> Response:
    target = present.safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_form(
            request, state, target, "The log-in form expired; please try again.", username
        )
    address = request.client.host if request.client else ""
    try:
        done = log_in(
            state.db,
            state.limits,
            username,
            password,
            address,
            state.now(),
            request.headers.get("user-agent", ""),
        )
    except TooManyRequests as exc:
        response = _login_form(request, state, target, exc.detail, username, status_code=429)
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
        return response
    except Unauthorized:
        return _login_form(request, state, target, "Unknown user or wrong password.", username)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        done.cookie,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=14 * 24 * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, state: State, viewer: WriteViewer) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with state.db.write() as s:
            close_session(s, cookie, state.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(request: Request, state: State) -> Response:
    return RedirectResponse("/me" if session_viewer(request, state) else "/login", status_code=303)
