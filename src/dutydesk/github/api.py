"""The GitHub webhook route: verify, parse, call the bridge, present. No rules live here."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from dutydesk.context import desk_policy
from dutydesk.errors import DomainError, NotFound, field_error
from dutydesk.github import project_items, service
from dutydesk.github.signature import NotConfigured, verify
from dutydesk.github.writeback import write_back
from dutydesk.http.deps import State

router = APIRouter(prefix="/api/v1", tags=["github"])


class UnsupportedMedia(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


_BODY = {
    "requestBody": {
        "required": True,
        "description": "A GitHub webhook payload (issues, issue_comment, ping), as GitHub sends it.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/desks/{desk}/github/webhook",
    openapi_extra=_BODY,
    responses={
        200: {"description": "handled, or a redelivery of a handled event (changes nothing)"},
        202: {"description": "received and ignored (an event or action the desk does not bridge)"},
        401: {"description": "X-Hub-Signature-256 missing or wrong"},
        415: {"description": "the webhook's content type is not application/json"},
    },
)
async def github_webhook(
    desk: str,
    request: Request,
    state: State,
    background: BackgroundTasks,
    x_github_event: Annotated[str, Header(max_length=60)],
    x_github_delivery: Annotated[str, Header(min_length=1, max_length=100)],
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A GitHub webhook for this desk (``[desks.NAME.github]``), signed with its secret:
    issues opened (or labelled) file tickets; their comments, closing and reopening follow."""
    rules = desk_policy(state.policy, desk).github
    if rules is None:
        raise NotFound(f"desk {desk!r} takes no GitHub webhooks: add [desks.{desk}.github]")
    secret = os.environ.get(rules.secret_env, "")
    if not secret:
        # Without its secret the bridge is off: the endpoint does not exist for callers.
        raise NotFound(
            f"desk {desk!r} takes no GitHub webhooks on this server: set {rules.secret_env}"
        )
    body = await request.body()
    verify(secret, x_hub_signature_256, body)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMedia(
            f"content type {media or '(none)'!r}: set the webhook's content type to "
            "application/json on GitHub"
        )
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise field_error("body", f"the payload is not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise field_error("body", "the payload is a JSON object")
    if x_github_event == "ping":
        return JSONResponse({"status": "pong", "zen": payload.get("zen")})
    if x_github_event == "projects_v2_item":
        node = project_items.wanted(rules, payload)
        if node is None:
            return JSONResponse(
                {"status": "ignored", "detail": "not an issue added to this desk's project"},
                status_code=202,
            )
        token = os.environ.get(rules.token_env, "").strip()
        if not token:
            raise NotConfigured(
                f"reading a project item's issue needs a token: set {rules.token_env}"
            )
        payload = await project_items.as_opened_issue(rules, token, node, payload.get("sender"))
    delivery = service.Delivery(x_github_delivery, x_github_event, payload)
    try:
        outcome = await state.run(
            service.GATEWAY, lambda ctx: service.handle(ctx, desk, rules, delivery)
        )
    except IntegrityError:  # the same delivery, handled at the same instant by another worker
        outcome = service.BridgeOutcome("redelivered", "already handled")
    back = write_back(rules, os.environ)
    if outcome.write_back and back is not None:
        background.add_task(back.comment, *outcome.write_back)
    return JSONResponse(
        {
            "status": outcome.status,
            "detail": outcome.detail,
            "ticket": outcome.ticket,
            "hints": list(outcome.hints),
        },
        status_code=202 if outcome.status == "ignored" else 200,
        background=background,
    )
