"""Routes that give and take access: tokens (yours; admins: anyone's), deactivating and
reactivating people (admins), and the audit log (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from dutydesk.auth import access, audit, tokens
from dutydesk.auth.schemas import (
    AuditOut,
    DeactivateIn,
    StandingOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from dutydesk.http.deps import Actor, NoBody, State, write

router = APIRouter(prefix="/api/v1", tags=["access"])
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # an id both databases can hold


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(
    state: State,
    actor: Actor,
    user: Annotated[str | None, Query(max_length=40)] = None,
    all: bool = False,
) -> list[TokenOut]:
    """Your tokens (admins: ``user=NAME`` or ``all=true``), without their secrets."""
    with state.db.read() as s:
        return tokens.list_tokens(s, actor, state.now(), user, all_=all)


@router.post("/tokens", status_code=201, response_model=TokenCreated)
async def create_token(body: TokenIn, request: Request, state: State, actor: Actor) -> JSONResponse:
    """A new token; ``token`` is its secret, shown in this answer only."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, tokens.create(ctx, body.name, body.expires_in, body.user), None),
    )


@router.delete("/tokens/{token_id}", response_model=TokenOut, dependencies=[NoBody])
async def revoke_token(
    token_id: TokenId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Revoke a token; every replica refuses it within a second."""
    done = await write(
        state, actor, request, "", lambda ctx: (200, tokens.revoke(ctx, token_id), None)
    )
    state.tokens.clear()  # this replica at once; the others when their cache lapses
    return done


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut, dependencies=[NoBody])
async def revoke_token_post(
    token_id: TokenId, request: Request, state: State, actor: Actor
) -> JSONResponse:
    return await revoke_token(token_id, request, state, actor)


@router.post("/users/{name}/deactivate", response_model=StandingOut)
async def deactivate(
    name: str, body: DeactivateIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Take access away (admins): sessions end and tokens are revoked; history keeps the
    name; they can no longer be assigned or put on call."""
    done = await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (200, access.deactivate(ctx, name, body.reason), None),
    )
    state.tokens.clear()
    return done


@router.post("/users/{name}/reactivate", response_model=StandingOut, dependencies=[NoBody])
async def reactivate(name: str, request: Request, state: State, actor: Actor) -> JSONResponse:
    """Give access back (admins); they log in again and make new tokens."""
    return await write(
        state, actor, request, "", lambda ctx: (200, access.reactivate(ctx, name), None)
    )


@router.get("/audit", response_model=list[AuditOut])
def audit_log(
    state: State,
    actor: Actor,
    user: Annotated[str | None, Query(max_length=40)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 100,
) -> list[AuditOut]:
    """Access changes, newest first (admins); ``before`` is the last id of the page before."""
    with state.db.read() as s:
        return audit.audit_log(s, actor, user=user, action=action, before=before, limit=limit)
