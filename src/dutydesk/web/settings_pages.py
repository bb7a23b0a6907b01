"""A person's own pages: the notification inbox (/me/inbox) and settings (/me/settings:
notification preferences, password, browser sessions). The same use cases as
``/api/v1/me/...``; every form carries the CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from dutydesk.auth import accounts
from dutydesk.errors import DomainError
from dutydesk.http.deps import SESSION_COOKIE, State
from dutydesk.inputs import RowId
from dutydesk.notify import inbox
from dutydesk.notify import service as notify
from dutydesk.notify.schemas import PrefsIn
from dutydesk.policy.notify import REASONS
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Offered on the page; the API takes any span up to the limit.
DIGEST_CHOICES = [
    ("", "the install's default"),
    ("0 minutes", "at once"),
    ("5 minutes", "5 minutes"),
    ("15 minutes", "15 minutes"),
    ("1 hour", "1 hour"),
    ("4 hours", "4 hours"),
]
REASON_LABELS = {
    "reporter": "Tickets I filed change (triaged, blocked, resolved, public comments)",
    "assignee": "A ticket is assigned to me",
    "mention": "Someone @mentions me",
    "watching": "Tickets I watch change",
    "oncall": "New tickets to triage while I am on call",
    "slo": "SLO clocks at risk or breached",
    "update-due": "Updates due on my urgent tickets",
    "end-of-day": "End-of-day nudges",
    "handoff": "On-call handoff reminders",
    "idle": "Tickets I claimed but left idle",
}

# Why an inbox item reached you, in a few words.
WHY = {
    "reporter": "you filed it",
    "assignee": "assigned to you",
    "mention": "you were mentioned",
    "watching": "you watch it",
    "oncall": "you are on call",
    "slo": "SLO",
    "update-due": "update due",
    "end-of-day": "end of day",
    "handoff": "handoff",
    "idle": "idle claim",
}


# ----------------------------------------------------------------------------- inbox


def _inbox(
    request: Request,
    state: State,
    viewer: Viewer,
    unread: bool,
    before: int | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with state.db.read() as s:
        found = inbox.listing(s, viewer.user.id, unread_only=unread, before=before)
    return render(
        request,
        "me/inbox.html",
        {"page": found, "unread_only": unread, "error": error, "before": before, "why": WHY},
        viewer=viewer,
        status_code=status_code,
    )


@router.get("/me/inbox")
def inbox_page(
    request: Request,
    state: State,
    viewer: PageViewer,
    unread: bool = False,
    before: Annotated[RowId | None, Query()] = None,
) -> Response:
    return _inbox(request, state, viewer, unread, before)


@router.post("/me/inbox/read")
async def mark_read(
    request: Request,
    state: State,
    viewer: WriteViewer,
    ids: Annotated[list[RowId], Form(max_length=500)] = [],  # noqa: B006 (FastAPI copies it)
    all: Annotated[bool, Form()] = False,
    read: Annotated[bool, Form()] = True,
    back: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Mark one, several or all read (or one unread again); then back to the inbox, or to
    the ticket the person clicked."""
    try:
        await state.run(viewer.user, lambda ctx: inbox.mark(ctx, ids, all_=all, read=read))
    except DomainError as exc:
        return _inbox(request, state, viewer, False, None, exc.detail, exc.status)
    target = "/me/inbox?unread=true" if back == "unread" else "/me/inbox"
    return RedirectResponse(target, status_code=303)


@router.post("/me/inbox/{item_id}/open")
async def open_item(
    item_id: RowId, request: Request, state: State, viewer: WriteViewer
) -> Response:
    """Opening a notification marks it read and goes to its ticket."""
    result = await state.run(viewer.user, lambda ctx: inbox.open_item(ctx, item_id))
    return RedirectResponse(f"/tickets/{result}" if result else "/me/inbox", status_code=303)


# ----------------------------------------------------------------------------- settings


def _settings(
    request: Request,
    state: State,
    viewer: Viewer,
    *,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = state.now()
    with state.db.read() as s:
        prefs = notify.prefs_out(state.policy, notify.preferences(s, state.policy, viewer.user))
        sessions = accounts.list_sessions(s, viewer.user, now, request.cookies.get(SESSION_COOKIE))
    chat_channels = [
        name
        for name, ch in state.policy.notify.channels.items()
        if ch.type in ("slack", "mattermost")
    ]
    return render(
        request,
        "me/settings.html",
        {
            "prefs": prefs,
            "reasons": [(r, REASON_LABELS.get(r, r)) for r in REASONS],
            "digest_choices": DIGEST_CHOICES,
            "chat_channels": chat_channels,
            "sessions": sessions,
            "message": message,
            "errors": errors or {},
        },
        viewer=viewer,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/me/settings")
def settings_page(request: Request, state: State, viewer: PageViewer) -> Response:
    return _settings(request, state, viewer)


def _field_of(exc: DomainError, default: str) -> str:
    return str(exc.errors[0].get("field") or default) if exc.errors else default


@router.post("/me/settings/notifications")
async def save_notifications(
    request: Request,
    state: State,
    viewer: WriteViewer,
    email: Annotated[bool, Form()] = False,
    chat: Annotated[bool, Form()] = False,
    chat_channel: Annotated[str, Form(max_length=40)] = "",
    hear: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 (FastAPI copies it)
    digest_window: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """The form lists what to hear of; what is left unticked is muted."""
    body = PrefsIn(
        via=[v for v, on in (("email", email), ("chat", chat)) if on],
        chat_channel=chat_channel or None,
        mute=[r for r in REASONS if r not in hear],
        digest_window=digest_window or None,
    )
    try:
        await state.run(viewer.user, lambda ctx: notify.set_preferences(ctx, body))
    except DomainError as exc:
        return _settings(
            request,
            state,
            viewer,
            errors={_field_of(exc, "notifications"): exc.detail},
            status_code=exc.status,
        )
    return _settings(request, state, viewer, message="Notification preferences saved.")


@router.post("/me/settings/password")
async def change_password(
    request: Request,
    state: State,
    viewer: WriteViewer,
    old_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
    confirm_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if new_password != confirm_password:
        return _settings(
            request,
            state,
            viewer,
            errors={"confirm_password": "the two new passwords differ"},
            status_code=422,
        )
    keep = request.cookies.get(SESSION_COOKIE)
    try:
        ended = await state.run(
            viewer.user,
            lambda ctx: accounts.change_password(ctx, old_password, new_password, keep),
        )
    except DomainError as exc:
        return _settings(
            request,
            state,
            viewer,
            errors={_field_of(exc, "password"): exc.detail},
            status_code=exc.status,
        )
    others = f" {ended} other session{'s' if ended != 1 else ''} logged out." if ended else ""
    return _settings(request, state, viewer, message=f"Password changed.{others}")


@router.post("/me/sessions/{session_id}/revoke")
async def end_session(
    session_id: RowId, request: Request, state: State, viewer: WriteViewer
) -> Response:
    await state.run(viewer.user, lambda ctx: accounts.end_session(ctx, session_id))
    return RedirectResponse("/me/settings#sessions", status_code=303)


@router.post("/me/sessions/revoke-others")
async def end_other_sessions(request: Request, state: State, viewer: WriteViewer) -> Response:
    keep = request.cookies.get(SESSION_COOKIE)
    ended = await state.run(viewer.user, lambda ctx: accounts.end_other_sessions(ctx, keep))
    return _settings(
        request,
        state,
        viewer,
        message=f"Logged out of {ended} other session{'s' if ended != 1 else ''}.",
    )
