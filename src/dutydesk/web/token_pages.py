"""/me/tokens: a person's API tokens — listed without secrets, created (the secret shown on
this one answer only), revoked. The same use cases as ``/api/v1/tokens``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dutydesk.auth import tokens
from dutydesk.auth.schemas import TokenCreated
from dutydesk.errors import DomainError
from dutydesk.http.deps import State
from dutydesk.inputs import RowId
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LIFETIMES = [("30d", "30 days"), ("90d", "90 days"), ("365d", "1 year"), ("", "never")]


def _page(
    request: Request,
    state: State,
    viewer: Viewer,
    *,
    created: TokenCreated | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with state.db.read() as s:
        rows = tokens.list_tokens(s, viewer.user, state.now())
    return render(
        request,
        "me/tokens.html",
        {"tokens": rows, "created": created, "error": error, "lifetimes": LIFETIMES},
        viewer=viewer,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},  # the page may show a secret once
    )


@router.get("/me/tokens")
def token_page(request: Request, state: State, viewer: PageViewer) -> Response:
    return _page(request, state, viewer)


@router.post("/me/tokens")
async def create_token(
    request: Request,
    state: State,
    viewer: WriteViewer,
    name: Annotated[str, Form(max_length=80)] = "",
    expires: Annotated[str, Form(max_length=40)] = "90d",
) -> Response:
    try:
        created = await state.run(
            viewer.user, lambda ctx: tokens.create(ctx, name.strip(), expires or None)
        )
    except DomainError as exc:
        return _page(request, state, viewer, error=exc.detail, status_code=exc.status)
    return _page(request, state, viewer, created=created, status_code=201)


@router.post("/me/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: RowId, request: Request, state: State, viewer: WriteViewer
) -> Response:
    try:
        await state.run(viewer.user, lambda ctx: tokens.revoke(ctx, token_id))
    except DomainError as exc:
        return _page(request, state, viewer, error=exc.detail, status_code=exc.status)
    state.tokens.clear()
    return RedirectResponse("/me/tokens", status_code=303)
