"""Notification routes: chat slash commands, the admin outbox (dead letters, retry), the
channel status and a person's own preferences. Thin: parse, call, present."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dutydesk.auth.service import require
from dutydesk.errors import field_error
from dutydesk.http.deps import Actor, NoBody, State, write
from dutydesk.inputs import PageLimit, RowId
from dutydesk.notify import inbox, outbox, service, slash
from dutydesk.notify.channels import load_channels
from dutydesk.notify.models import OutboxMessage
from dutydesk.notify.schemas import InboxMarked, InboxPage, InboxReadIn, PrefsIn, PrefsOut

router = APIRouter(prefix="/api/v1", tags=["notifications"])


# ----------------------------------------------------------------------------- chat


async def _form(request: Request) -> tuple[bytes, dict[str, str]]:
    body = await request.body()
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise field_error("body", "a slash command is form-encoded UTF-8") from exc
    return body, {k: v[0] for k, v in parsed.items()}


@router.post("/chat/slack/command", tags=["chat"])
async def slack_command(request: Request, state: State) -> dict[str, Any]:
    """Slack slash command; the request must carry a valid, fresh, unseen v0 signature."""
    body, form = await _form(request)
    policy, now = state.policy, state.now()
    env = policy.notify.slash.slack_signing_secret_env
    max_age = slash.slash_max_age(policy)
    signature = request.headers.get("x-slack-signature")
    slash.verify_slack(
        os.environ.get(env) if env else None,
        request.headers.get("x-slack-request-timestamp"),
        signature,
        body,
        now,
        max_age,
    )

    def run() -> dict[str, Any]:
        with state.db.write() as s:
            slash.remember(s, signature or "", now, max_age)
        return slash.handle(state, "slack", form)

    return await run_in_threadpool(run)


@router.post("/chat/mattermost/command", tags=["chat"])
async def mattermost_command(request: Request, state: State) -> dict[str, Any]:
    """Mattermost slash command; the form's token must match the configured one."""
    _, form = await _form(request)
    env = state.policy.notify.slash.mattermost_token_env
    slash.verify_token(os.environ.get(env) if env else None, form.get("token"))
    return await run_in_threadpool(slash.handle, state, "mattermost", form)


# ----------------------------------------------------------------------------- admin


def outbox_out(r: OutboxMessage) -> dict[str, Any]:
    p = r.payload or {}
    return {
        "id": r.id,
        "kind": r.kind,
        "state": r.state,
        "channel": r.channel,
        "recipient": r.recipient,
        "desk": r.desk,
        "subject": p.get("subject") or p.get("job") or p.get("ticket"),
        "dedupe_key": r.dedupe_key,
        "delivery_id": r.delivery_id,
        "attempts": r.attempts,
        "due_at": r.due_at.isoformat(),
        "created_at": r.created_at.isoformat(),
        "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
        "dead_at": r.dead_at.isoformat() if r.dead_at else None,
        "last_error": r.last_error,
    }


@router.get("/admin/outbox", tags=["admin"])
def list_outbox(
    state: State,
    actor: Actor,
    state_: Annotated[str | None, Query(alias="state")] = None,
    kind: str | None = None,
    limit: PageLimit = 50,
    cursor: RowId | None = None,
) -> dict[str, Any]:
    """The outbox, newest first: ``state=dead`` is the dead-letter list, ``parked`` waits
    for a channel to be configured."""
    require(actor, "admin", None, "read the outbox")
    with state.db.read() as s:
        rows, nxt = outbox.listing(s, state_, limit, cursor, kind)
        counts = outbox.counts(s)
        queued = service.queued_count(s)
    return {
        "items": [outbox_out(r) for r in rows],
        "next_cursor": nxt,
        "counts": counts,
        "changes_queued": queued,  # ticket changes the worker has yet to fan out
    }


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[RowId] = Field(default_factory=list, max_length=1000)
    state: Literal["dead", "parked"] | None = None
    channel: str | None = None


@router.post("/admin/outbox/retry", tags=["admin"])
async def retry_outbox(body: RetryIn, state: State, actor: Actor) -> dict[str, Any]:
    """Put dead or parked messages back in line now (by id, or all of a state/channel)."""
    n = await state.run(
        actor,
        lambda ctx: service.retry_deliveries(
            ctx, ids=body.ids, state=body.state, channel=body.channel
        ),
    )
    return {"retried": n}


@router.post("/admin/outbox/{message_id}/retry", tags=["admin"], dependencies=[NoBody])
async def retry_one(message_id: RowId, state: State, actor: Actor) -> dict[str, Any]:
    n = await state.run(actor, lambda ctx: service.retry_deliveries(ctx, ids=[message_id]))
    return {"retried": n}


@router.get("/admin/channels", tags=["admin"])
def channels(state: State, actor: Actor) -> list[dict[str, Any]]:
    """Which channels this process can use (secrets are never shown)."""
    require(actor, "admin", None, "see the channels")
    found = load_channels(state.policy, os.environ)
    try:
        return found.status()
    finally:
        found.close()


# ----------------------------------------------------------------------------- preferences


@router.get("/me/notifications", tags=["notifications"], response_model=PrefsOut)
def my_prefs(state: State, actor: Actor) -> PrefsOut:
    """Your notification preferences: channels, muted reasons, digest window."""
    with state.db.read() as s:
        return service.prefs_out(state.policy, service.preferences(s, state.policy, actor))


@router.put("/me/notifications", tags=["notifications"], response_model=PrefsOut)
async def set_my_prefs(body: PrefsIn, state: State, actor: Actor) -> PrefsOut:
    return await state.run(actor, lambda ctx: service.set_preferences(ctx, body))


# ----------------------------------------------------------------------------- inbox


@router.get("/me/inbox", tags=["notifications"], response_model=InboxPage)
def my_inbox(
    state: State,
    actor: Actor,
    unread: bool = False,
    before: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_PAGE)] = 50,
) -> InboxPage:
    """What you were notified about, newest first, with the unread count."""
    with state.db.read() as s:
        return inbox.listing(s, actor.id, unread_only=unread, before=before, limit=limit)


@router.post("/me/inbox/read", tags=["notifications"], response_model=InboxMarked)
async def mark_inbox(
    body: InboxReadIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Mark notifications read (``ids``, or ``all``), or unread again (``read: false``)."""
    if not body.ids and not body.all:
        raise field_error("ids", "name notification ids, or send all: true")
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: (200, inbox.mark(ctx, body.ids, all_=body.all, read=body.read), None),
    )


def parse_now(text: str) -> datetime:
    """``--now`` and query instants: ISO 8601 with an offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise field_error(
            "now", f"{text!r} is not an ISO 8601 instant like 2026-12-01T09:00-08:00"
        ) from exc
    if value.tzinfo is None:
        raise field_error("now", f"{text!r} needs an offset, like 2026-12-01T09:00-08:00")
    return value
