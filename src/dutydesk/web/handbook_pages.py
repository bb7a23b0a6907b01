"""A desk's handbook pages: read (/desks/D/handbook), edit (desk members), the history of
versions with who saved each, and the diff between two. The same use cases as
``/api/v1/desks/D/handbook``. ``/desks/D/handbook/beside`` is the fragment the filing form
loads next to itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from dutydesk.context import desk_policy
from dutydesk.errors import DomainError
from dutydesk.handbook import service
from dutydesk.handbook.schemas import MAX_BODY, HandbookIn
from dutydesk.http.deps import State
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Version = Annotated[int, Query(ge=0, le=2**31 - 1)]


def _base(state: State, desk: str, viewer: Viewer) -> dict[str, object]:
    return {
        "desk": desk,
        "policy": desk_policy(state.policy, desk),
        "may_edit": service.may_edit(viewer.user, desk),
    }


@router.get("/desks/{desk}/handbook")
def handbook_page(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    version: Version | None = None,
    saved: bool = False,
) -> Response:
    base = _base(state, desk, viewer)
    with state.db.read() as s:
        page = service.current(s, state.policy, desk, version or None)
        latest = service.current(s, state.policy, desk) if version else page
    return render(
        request,
        "handbook/handbook.html",
        {
            **base,
            "page": page,
            "latest": latest,
            "old": bool(version)
            and latest is not None
            and page is not None
            and page.version != latest.version,
            "saved": saved,
            "tab": "handbook",
        },
        viewer=viewer,
    )


@router.get("/desks/{desk}/handbook/beside")
def handbook_beside(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    """The handbook as a fragment, for the filing form to show beside itself."""
    base = _base(state, desk, viewer)
    with state.db.read() as s:
        page = service.current(s, state.policy, desk)
    return render(request, "handbook/_beside_body.html", {**base, "page": page}, viewer=viewer)


def _edit(
    request: Request,
    state: State,
    viewer: Viewer,
    desk: str,
    *,
    body: str | None = None,
    summary: str = "",
    base_version: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    base = _base(state, desk, viewer)
    with state.db.read() as s:
        page = service.current(s, state.policy, desk)
    return render(
        request,
        "handbook/edit.html",
        {
            **base,
            "page": page,
            "body": body if body is not None else (page.body if page else ""),
            "summary": summary,
            "base_version": base_version
            if base_version is not None
            else (page.version if page else 0),
            "max_body": MAX_BODY,
            "error": error,
            "tab": "handbook",
        },
        viewer=viewer,
        status_code=status_code,
    )


@router.get("/desks/{desk}/handbook/edit")
def edit_page(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    return _edit(request, state, viewer, desk)


@router.post("/desks/{desk}/handbook")
async def save(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    body: Annotated[str, Form(max_length=MAX_BODY)] = "",
    summary: Annotated[str, Form(max_length=200)] = "",
    base_version: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    try:
        await state.run(
            viewer.user,
            lambda ctx: service.save(
                ctx, desk, HandbookIn(body=body, summary=summary, base_version=base_version)
            ),
        )
    except DomainError as exc:
        # Keep what they wrote: a refused edit (someone saved meanwhile) is not lost.
        return _edit(
            request,
            state,
            viewer,
            desk,
            body=body,
            summary=summary,
            base_version=base_version,
            error=exc.detail,
            status_code=exc.status,
        )
    return RedirectResponse(f"/desks/{desk}/handbook?saved=1", status_code=303)


@router.get("/desks/{desk}/handbook/history")
def history_page(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    base = _base(state, desk, viewer)
    with state.db.read() as s:
        versions = service.history(s, state.policy, desk)
    return render(
        request,
        "handbook/history.html",
        {**base, "versions": versions, "tab": "handbook"},
        viewer=viewer,
    )


@router.get("/desks/{desk}/handbook/diff")
def diff_page(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    after: Version,
    before: Version | None = None,
) -> Response:
    """``before`` defaults to the version just before ``after``."""
    base = _base(state, desk, viewer)
    with state.db.read() as s:
        found = service.diff(s, state.policy, desk, after - 1 if before is None else before, after)
    return render(
        request, "handbook/diff.html", {**base, "diff": found, "tab": "handbook"}, viewer=viewer
    )
