"""Routes for people and their own account: adding people and changing their roles and desks
(admins), changing your password, and your browser sessions. The same use cases as the
administration and settings pages and the CLI (``dutydesk users``, ``dutydesk password``,
``dutydesk sessions``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from dutydesk.auth import accounts
from dutydesk.auth.schemas import (
    AccountOut,
    NewUserIn,
    PasswordChanged,
    PasswordIn,
    SessionOut,
    SessionsEnded,
    UserPatchIn,
)
from dutydesk.http.deps import SESSION_COOKIE, Actor, NoBody, State, write

router = APIRouter(prefix="/api/v1", tags=["access"])
SessionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UserName = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("/admin/users", response_model=list[AccountOut], tags=["admin"])
def list_accounts(
    state: State,
    actor: Actor,
    q: Annotated[str | None, Query(max_length=120)] = None,
    after: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=accounts.MAX_PEOPLE_PAGE)] = 100,
) -> list[AccountOut]:
    """People with roles, desks and standing, by login name (admins); ``q`` matches the login
    or full name, ``after`` is the last name of the page before."""
    with state.db.read() as s:
        return accounts.list_accounts(s, actor, q=q, after=after, limit=limit)


@router.post("/users", status_code=201, response_model=AccountOut)
async def add_user(body: NewUserIn, request: Request, state: State, actor: Actor) -> JSONResponse:
    """Add a person (admins); audited as ``user.created``."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, accounts.add_user(ctx, body), None),
    )


@router.patch("/users/{name}", response_model=AccountOut)
async def change_user(
    name: UserName, body: UserPatchIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Change roles, desks or contact details (admins); a role or desk change is audited.
    People declared in the policy file are changed there."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (200, accounts.change_user(ctx, name, body), None),
    )


@router.post("/me/password", response_model=PasswordChanged)
async def change_password(
    body: PasswordIn, request: Request, state: State, actor: Actor
) -> PasswordChanged:
    """Change your password (the current one is required); your other sessions end."""
    keep = request.cookies.get(SESSION_COOKIE)
    ended = await state.run(
        actor, lambda ctx: accounts.change_password(ctx, body.old_password, body.new_password, keep)
    )
    return PasswordChanged(sessions_ended=ended)


@router.get("/me/sessions", response_model=list[SessionOut])
def my_sessions(request: Request, state: State, actor: Actor) -> list[SessionOut]:
    """Your browser sessions that are still open, last seen first."""
    with state.db.read() as s:
        return accounts.list_sessions(s, actor, state.now(), request.cookies.get(SESSION_COOKIE))


@router.post("/me/sessions/{session_id}/revoke", response_model=SessionOut, dependencies=[NoBody])
async def end_session(
    session_id: SessionId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Log one of your sessions out."""
    return await write(
        state, actor, request, "", lambda ctx: (200, accounts.end_session(ctx, session_id), None)
    )


@router.delete("/me/sessions/{session_id}", response_model=SessionOut, dependencies=[NoBody])
async def delete_session(
    session_id: SessionId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await end_session(session_id, request, state, actor)


@router.post("/me/sessions/revoke-others", response_model=SessionsEnded, dependencies=[NoBody])
async def end_other_sessions(request: Request, state: State, actor: Actor) -> JSONResponse:
    """Log out everywhere but this browser (with a token: everywhere)."""
    keep = request.cookies.get(SESSION_COOKIE)
    return await write(
        state,
        actor,
        request,
        "",
        lambda ctx: (200, SessionsEnded(ended=accounts.end_other_sessions(ctx, keep)), None),
    )
