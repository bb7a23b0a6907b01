"""Log-in for browsers (cookie session + CSRF token), and who am I."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.auth.service import close_session, require
from dutydesk.auth.throttle import log_in
from dutydesk.http.deps import SESSION_COOKIE, Actor, NoBody, State

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


def user_out(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "roles": user.roles,
        "desks": user.desks,
        "team": user.team,
        "active": user.active,
    }


@router.post("/auth/login")
def login(body: LoginIn, request: Request, response: Response, state: State) -> dict[str, Any]:
    address = request.client.host if request.client else ""
    agent = request.headers.get("user-agent", "")
    done = log_in(state.db, state.limits, body.username, body.password, address, state.now(), agent)
    user, csrf = done.user, done.csrf
    response.set_cookie(
        SESSION_COOKIE,
        done.cookie,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=14 * 24 * 3600,
    )
    return {"user": user_out(user), "csrf_token": csrf}


@router.post("/auth/logout", status_code=204, dependencies=[NoBody])
def logout(request: Request, response: Response, state: State, actor: Actor) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with state.db.write() as s:
            close_session(s, cookie, state.now())
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me")
def me(actor: Actor) -> dict[str, Any]:
    return user_out(actor)


@router.get("/users")
def users(state: State, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "responder", None, "list users")
    with state.db.read() as s:
        return [user_out(u) for u in s.scalars(select(User).order_by(User.name))]
