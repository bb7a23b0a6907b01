"""Handbook routes: read, history, diff (anyone logged in), save a version (desk members)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from dutydesk.handbook import service
from dutydesk.handbook.schemas import DiffOut, HandbookIn, HandbookOut, VersionOut
from dutydesk.http.deps import Actor, State, write

router = APIRouter(prefix="/api/v1", tags=["handbook"])
Desk = Annotated[str, Path(min_length=1, max_length=40)]
Version = Annotated[int, Query(ge=0, le=2**31 - 1)]


@router.get("/desks/{desk}/handbook", response_model=HandbookOut | None)
def read_handbook(
    desk: Desk, state: State, actor: Actor, version: Version | None = None
) -> HandbookOut | None:
    """The desk's handbook now (or at ``version``); null when nobody has written it yet."""
    with state.db.read() as s:
        return service.current(s, state.policy, desk, version or None)


@router.get("/desks/{desk}/handbook/history", response_model=list[VersionOut])
def handbook_history(desk: Desk, state: State, actor: Actor) -> list[VersionOut]:
    """Every version with who saved it and when, newest first."""
    with state.db.read() as s:
        return service.history(s, state.policy, desk)


@router.get("/desks/{desk}/handbook/diff", response_model=DiffOut)
def handbook_diff(
    desk: Desk, state: State, actor: Actor, after: Version, before: Version = 0
) -> DiffOut:
    """What changed from version ``before`` (default: none) to ``after``."""
    with state.db.read() as s:
        return service.diff(s, state.policy, desk, before, after)


@router.post("/desks/{desk}/handbook", status_code=201, response_model=VersionOut)
async def save_handbook(
    desk: Desk, body: HandbookIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Save a new version (desk members); ``base_version`` guards against lost edits."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (201, service.save(ctx, desk, body), None),
    )
