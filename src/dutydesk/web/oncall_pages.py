"""On-call changes from the browser: take a shift, cover or override, swap, time off, undo,
and the personal calendar link. Every form calls the same on-call use cases as the API (the
permissions live there: people act for themselves, leads, including the rotation's current
lead, for anyone); a refusal re-renders the on-call page with the service's own sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from dutydesk.context import Ctx
from dutydesk.errors import DomainError
from dutydesk.http.deps import State
from dutydesk.inputs import MAX_ID
from dutydesk.oncall import feeds, overrides, swaps, time_off
from dutydesk.oncall.schemas import OverrideIn, SwapIn, TakeIn, TimeOffIn
from dutydesk.web.deps import PageRoute, WriteViewer, render
from dutydesk.web.people_pages import oncall_context
from dutydesk.web.present import in_words

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Rotation = Annotated[str, Path(max_length=60)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Form(max_length=300)]
Short = Annotated[str, Form(max_length=60)]


def _opt(value: str) -> str | None:
    return value.strip() or None


# The API's field names as each form labels them: a refusal names the field people see.
OVERRIDE_LABELS = {"person": "Who covers", "replaces": "For", "start": "From", "end": "Until"}
SWAP_LABELS = {"person_a": "Who", "shift_a": "Their shift on", "person_b": "Swaps with"}
TIME_OFF_LABELS = {"person": "Who", "start": "First day off", "end": "Last day off"}


def _named(field: str, message: str, labels: Mapping[str, str]) -> str:
    return f"{labels.get(field, field.replace('_', ' ').capitalize())}: {message}"


async def _apply(
    request: Request,
    state: State,
    viewer: WriteViewer,
    done: str,
    build: Callable[[], Any],
    use_case: Callable[[Ctx, Any], Any],
    labels: Mapping[str, str] | None = None,
) -> Response:
    """Parse the form with the API's schema, run the use case, then back to the page (303)
    with a confirmation, or the page again with the refusal (422/403/404/409)."""
    try:
        body = build()
        await state.run(viewer.user, lambda ctx: use_case(ctx, body))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        msg = in_words(first)
        shown = _named(where, msg, labels or {}) if where else msg
        return await _again(request, state, viewer, shown, 422)
    except DomainError as exc:
        shown = exc.detail
        if exc.errors and exc.errors[0].get("field"):
            shown = _named(exc.errors[0]["field"], exc.errors[0]["message"], labels or {})
        return await _again(request, state, viewer, shown, exc.status)
    return RedirectResponse(f"/oncall?done={done}", status_code=303)


async def _again(
    request: Request, state: State, viewer: WriteViewer, error: str, status: int
) -> Response:
    ctx = await run_in_threadpool(oncall_context, state, viewer, None)
    ctx["error"] = error
    return render(request, "oncall/oncall.html", ctx, viewer=viewer, status_code=status)


@router.post("/oncall/{rotation}/take")
async def take(
    rotation: Rotation, request: Request, state: State, viewer: WriteViewer, layer: Short = ""
) -> Response:
    return await _apply(
        request,
        state,
        viewer,
        "taken",
        lambda: TakeIn(layer=_opt(layer)),
        lambda ctx, body: overrides.take(ctx, rotation, body),
    )


@router.post("/oncall/{rotation}/overrides")
async def add_override(
    rotation: Rotation,
    request: Request,
    state: State,
    viewer: WriteViewer,
    person: Short = "",
    start: Short = "",
    end: Short = "",
    layer: Short = "",
    replaces: Short = "",
    note: Text = "",
) -> Response:
    return await _apply(
        request,
        state,
        viewer,
        "override",
        lambda: OverrideIn.model_validate(
            {
                "person": person or viewer.name,
                "start": _opt(start),
                "end": end,
                "layer": _opt(layer),
                "replaces": _opt(replaces),
                "note": note,
            }
        ),
        lambda ctx, body: overrides.create_override(ctx, rotation, body),
        OVERRIDE_LABELS,
    )


@router.post("/oncall/{rotation}/overrides/{override_id}/undo")
async def undo_override(
    rotation: Rotation, override_id: Id, request: Request, state: State, viewer: WriteViewer
) -> Response:
    return await _apply(
        request,
        state,
        viewer,
        "undone",
        lambda: None,
        lambda ctx, _: overrides.undo_override(ctx, rotation, override_id),
    )


@router.post("/oncall/{rotation}/swaps")
async def add_swap(
    rotation: Rotation,
    request: Request,
    state: State,
    viewer: WriteViewer,
    person_a: Short = "",
    shift_a: Short = "",
    person_b: Short = "",
    shift_b: Short = "",
    note: Text = "",
) -> Response:
    return await _apply(
        request,
        state,
        viewer,
        "swap",
        lambda: SwapIn.model_validate(
            {
                "person_a": person_a or viewer.name,
                "shift_a": shift_a,
                "person_b": person_b,
                "shift_b": _opt(shift_b),
                "note": note,
            }
        ),
        lambda ctx, body: swaps.create_swap(ctx, rotation, body),
        SWAP_LABELS,
    )


@router.post("/oncall/{rotation}/swaps/{swap_id}/undo")
async def undo_swap(
    rotation: Rotation, swap_id: Id, request: Request, state: State, viewer: WriteViewer
) -> Response:
    return await _apply(
        request,
        state,
        viewer,
        "undone",
        lambda: None,
        lambda ctx, _: swaps.undo_swap(ctx, rotation, swap_id),
    )


@router.post("/oncall/time-off")
async def add_time_off(
    request: Request,
    state: State,
    viewer: WriteViewer,
    person: Short = "",
    start: Short = "",
    end: Short = "",
    reason: Text = "",
) -> Response:
    return await _apply(
        request,
        state,
        viewer,
        "time-off",
        lambda: TimeOffIn.model_validate(
            {"person": _opt(person), "start": start, "end": end, "reason": reason}
        ),
        time_off.add_time_off,
        TIME_OFF_LABELS,
    )


@router.post("/oncall/time-off/{time_off_id}/cancel")
async def cancel_time_off(
    time_off_id: Id, request: Request, state: State, viewer: WriteViewer
) -> Response:
    return await _apply(
        request,
        state,
        viewer,
        "cancelled",
        lambda: None,
        lambda ctx, _: time_off.cancel_time_off(ctx, time_off_id),
    )


@router.post("/oncall/feed-link")
async def feed_link(request: Request, state: State, viewer: WriteViewer) -> Response:
    """A secret link to the viewer's own calendar; shown once, on the page it returns."""
    try:
        made = await state.run(
            viewer.user, lambda ctx: feeds.create_feed_token(ctx, "person", viewer.name)
        )
    except DomainError as exc:
        return await _again(request, state, viewer, exc.detail, exc.status)
    ctx = await run_in_threadpool(oncall_context, state, viewer, None)
    ctx["feed_url"] = str(request.base_url).rstrip("/") + (made.url or "")
    return render(request, "oncall/oncall.html", ctx, viewer=viewer)
