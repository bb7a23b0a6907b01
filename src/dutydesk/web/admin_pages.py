"""Administration (admins only, refused by the same services as the API): people (/admin/users:
add, change roles and desks, deactivate, reactivate, their tokens), the outbox
(/admin/outbox: dead letters and parked messages, retried) and the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from dutydesk.auth import access, accounts, audit, tokens
from dutydesk.auth.schemas import NewUserIn, UserPatchIn
from dutydesk.auth.service import require, user_by_name
from dutydesk.errors import DomainError
from dutydesk.http.deps import State
from dutydesk.inputs import RowId
from dutydesk.notify import outbox
from dutydesk.notify import service as notify
from dutydesk.notify.models import DEAD, PARKED, PENDING, STATES
from dutydesk.policy.models import ROLES
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
UserName = Annotated[str, Form(max_length=40)]
OUTBOX_PAGE = 50
# The states an admin acts on; delivered history is not counted on every view.
COUNTED = (PENDING, DEAD, PARKED)
PEOPLE_PAGE = 100


def _users(
    request: Request,
    state: State,
    viewer: Viewer,
    *,
    error: str | None = None,
    values: Mapping[str, object] | None = None,
    message: str | None = None,
    status_code: int = 200,
    q: str | None = None,
    after: str | None = None,
) -> Response:
    with state.db.read() as s:
        people = accounts.list_accounts(s, viewer.user, q=q, after=after, limit=PEOPLE_PAGE + 1)
    more = len(people) > PEOPLE_PAGE
    people = people[:PEOPLE_PAGE]
    return render(
        request,
        "admin/users.html",
        {
            "people": people,
            "q": q or "",
            "after": after,
            "next_after": people[-1].name if more and people else None,
            "roles": ROLES,
            "desks": list(state.policy.desks),
            "error": error,
            "message": message,
            "values": values or {},
        },
        viewer=viewer,
        status_code=status_code,
    )


@router.get("/admin/users")
def users_page(
    request: Request,
    state: State,
    viewer: PageViewer,
    q: Annotated[str | None, Query(max_length=120)] = None,
    after: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _users(request, state, viewer, q=q or None, after=after or None)


@router.post("/admin/users")
async def add_user(
    request: Request,
    state: State,
    viewer: WriteViewer,
    name: UserName = "",
    display_name: Annotated[str, Form(max_length=120)] = "",
    email: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "reporter",
    desks: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 (FastAPI copies it)
    team: Annotated[str, Form(max_length=60)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {"name": name, "display_name": display_name, "email": email, "role": role}
    try:
        made = await state.run(
            viewer.user,
            lambda ctx: accounts.add_user(
                ctx,
                NewUserIn(
                    name=name,
                    display_name=display_name,
                    email=email or None,
                    roles=[role],
                    desks=desks,
                    team=team or None,
                    password=password or None,
                ),
            ),
        )
    except DomainError as exc:
        return _users(
            request, state, viewer, error=exc.detail, values=values, status_code=exc.status
        )
    return RedirectResponse(f"/admin/users/{made.name}?added=1", status_code=303)


def _user(
    request: Request,
    state: State,
    viewer: Viewer,
    name: str,
    *,
    error: str | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    now = state.now()
    with state.db.read() as s:
        require(viewer.user, "admin", None, "manage people")
        person = accounts.account_out(user_by_name(s, name))
        their_tokens = tokens.list_tokens(s, viewer.user, now, name)
        history = audit.audit_log(s, viewer.user, user=name, limit=20)
    return render(
        request,
        "admin/user.html",
        {
            "person": person,
            "tokens": their_tokens,
            "history": history,
            "roles": ROLES,
            "desks": list(state.policy.desks),
            "error": error,
            "message": message,
        },
        viewer=viewer,
        status_code=status_code,
    )


@router.get("/admin/users/{name}")
def user_page(
    name: str, request: Request, state: State, viewer: PageViewer, added: bool = False
) -> Response:
    return _user(request, state, viewer, name, message="Added." if added else None)


@router.post("/admin/users/{name}")
async def change_user(
    name: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    display_name: Annotated[str, Form(max_length=120)] = "",
    email: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str], Form(max_length=4)] = [],  # noqa: B006 (FastAPI copies it)
    desks: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 (FastAPI copies it)
    team: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    try:
        await state.run(
            viewer.user,
            lambda ctx: accounts.change_user(
                ctx,
                name,
                UserPatchIn(
                    display_name=display_name,
                    email=email,
                    roles=roles,
                    desks=desks,
                    team=team,
                ),
            ),
        )
    except DomainError as exc:
        return _user(request, state, viewer, name, error=exc.detail, status_code=exc.status)
    return _user(request, state, viewer, name, message="Saved.")


@router.post("/admin/users/{name}/deactivate")
async def deactivate(
    name: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        await state.run(viewer.user, lambda ctx: access.deactivate(ctx, name, reason.strip()))
    except DomainError as exc:
        return _user(request, state, viewer, name, error=exc.detail, status_code=exc.status)
    state.tokens.clear()
    return _user(
        request, state, viewer, name, message="Deactivated: sessions ended, tokens revoked."
    )


@router.post("/admin/users/{name}/reactivate")
async def reactivate(name: str, request: Request, state: State, viewer: WriteViewer) -> Response:
    await state.run(viewer.user, lambda ctx: access.reactivate(ctx, name))
    return _user(request, state, viewer, name, message="Active again.")


@router.post("/admin/users/{name}/tokens/{token_id}/revoke")
async def revoke_token(
    name: str, token_id: RowId, request: Request, state: State, viewer: WriteViewer
) -> Response:
    await state.run(viewer.user, lambda ctx: tokens.revoke(ctx, token_id, name))
    state.tokens.clear()
    return RedirectResponse(f"/admin/users/{name}", status_code=303)


# ----------------------------------------------------------------------------- outbox


def _outbox(
    request: Request,
    state: State,
    viewer: Viewer,
    shown: str | None,
    cursor: int | None,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with state.db.read() as s:
        require(viewer.user, "admin", None, "read the outbox")
        rows, nxt = outbox.listing(s, shown, OUTBOX_PAGE, cursor)
        counts = outbox.count_of(s, COUNTED)
        queued = notify.queued_count(s)
    return render(
        request,
        "admin/outbox.html",
        {
            "rows": rows,
            "next_cursor": nxt,
            "counts": counts,
            "queued": queued,
            "shown": shown,
            "states": STATES,
            "message": message,
            "error": error,
        },
        viewer=viewer,
        status_code=status_code,
    )


@router.get("/admin/outbox")
def outbox_page(
    request: Request,
    state: State,
    viewer: PageViewer,
    shown: Annotated[str | None, Query(alias="state", max_length=12)] = "dead",
    cursor: Annotated[RowId | None, Query()] = None,
) -> Response:
    return _outbox(request, state, viewer, shown or None, cursor)


@router.post("/admin/outbox/retry")
async def retry(
    request: Request,
    state: State,
    viewer: WriteViewer,
    ids: Annotated[list[RowId], Form(max_length=200)] = [],  # noqa: B006 (FastAPI copies it)
    all_of: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Retry the ticked messages, or every dead (or parked) one."""
    which = all_of if all_of in ("dead", "parked") else None
    try:
        n = await state.run(
            viewer.user, lambda ctx: notify.retry_deliveries(ctx, ids=ids, state=which)
        )
    except DomainError as exc:
        return _outbox(
            request, state, viewer, "dead", None, error=exc.detail, status_code=exc.status
        )
    return _outbox(
        request,
        state,
        viewer,
        which or "dead",
        None,
        message=f"{n} message{'s' if n != 1 else ''} back in line; the worker sends them now.",
    )


@router.get("/admin/audit")
def audit_page(
    request: Request,
    state: State,
    viewer: PageViewer,
    before: Annotated[RowId | None, Query()] = None,
) -> Response:
    with state.db.read() as s:
        rows = audit.audit_log(s, viewer.user, before=before, limit=100)
    return render(
        request,
        "admin/audit.html",
        {"rows": rows, "next_before": rows[-1].id if len(rows) == 100 else None},
        viewer=viewer,
    )
