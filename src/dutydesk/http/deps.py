"""Dependencies: the app state, who is calling, If-Match, and idempotent writes."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from dutydesk.auth.models import User
from dutydesk.auth.service import session_user, sha256, token_holder
from dutydesk.auth.tokens import note_token_use
from dutydesk.context import Ctx
from dutydesk.errors import Invalid, Unauthorized, field_error
from dutydesk.state import AppState
from dutydesk.tickets.models import IdempotencyRecord

SESSION_COOKIE = "dutydesk_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# Dependencies that never wait on the database are ``async def``: FastAPI runs a sync
# dependency in the threadpool, and a thread hop per dependency costs more than the work.


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.dutydesk
    return state


State = Annotated[AppState, Depends(get_state)]


async def get_actor(request: Request, state: State) -> User:
    """Who is calling. A bearer token seen in the last seconds is answered from memory on the
    event loop; anything that needs the database goes to the threadpool."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token:
            user = state.tokens.get(sha256(token.strip()), state.now())
            if user is not None:
                return user
    return await run_in_threadpool(authenticate, request, state)


def authenticate(request: Request, state: AppState) -> User:
    """Bearer token for scripts and the CLI; session cookie plus CSRF token for browsers."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("use 'Authorization: Bearer TOKEN' (`dutydesk token create`)")
        key, now = sha256(token.strip()), state.now()
        user = state.tokens.get(key, now)
        if user is None:
            with state.db.read() as s:
                holder = token_holder(s, token.strip(), now)
            note_token_use(state.db, holder, now)
            user = holder.user
            state.tokens.put(key, user, holder.expires_at)
        return user
    with state.db.read() as s:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            found = session_user(s, cookie, state.now())
            if found is None:
                raise Unauthorized("your session has expired; log in again")
            user, csrf = found
            if request.method not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER) or request.scope.get("dutydesk.csrf")
                if not sent or not hmac.compare_digest(str(sent), csrf):
                    raise Unauthorized(
                        f"missing or wrong {CSRF_HEADER} for a browser session", reason="csrf"
                    )
            request.state.csrf_token = csrf
            return user
    raise Unauthorized("log in, or send 'Authorization: Bearer TOKEN'")


Actor = Annotated[User, Depends(get_actor)]


async def no_body(request: Request, actor: Actor) -> None:
    """For operations that take no request body: a body that says something is refused, not
    ignored, so a client that sends options an action does not have learns it was not heard.
    An empty body or ``{}`` is fine. It depends on the caller, so anonymous calls get their
    401 first."""
    if (await request.body()).strip() not in (b"", b"{}"):
        raise field_error("body", "this operation takes no request body; send none (or {})")


NoBody = Depends(no_body)


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise field_error("If-Match", f'{value!r} is not an ETag from this API (like "3")')
    return int(tag)


async def if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    return parse_if_match(if_match)


IfMatch = Annotated[int | None, Depends(if_match)]


def etag(version: int) -> str:
    return f'"{version}"'


Produce = Callable[[Ctx], tuple[int, Any, int | None]]


async def write(
    state: AppState,
    actor: User,
    request: Request,
    payload: Any,
    produce: Produce,
    location: Callable[[Any], str] | None = None,
    *,
    batched: bool = False,
) -> JSONResponse:
    """Run one use case in one transaction (``AppState.run``; ``batched`` for the short,
    frequent ones), honouring an Idempotency-Key on POST.

    ``produce`` returns (status, body, version for the ETag or None); the body is JSON-able
    or a pydantic model, which is serialized by pydantic's own encoder (several times faster
    than building a dict for ``json.dumps``; a ticket is some forty fields).
    A retry with the same key and body gets the first response; a different body is a 422.
    """
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    if key is not None and not 1 <= len(key) <= 200:
        raise field_error("Idempotency-Key", "use 1 to 200 characters")
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n{payload}".encode()).hexdigest()

    def use_case(ctx: Ctx) -> tuple[int, Any, int | None] | JSONResponse:
        if key is not None:
            rec = ctx.session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == key
                )
            )
            if rec is not None:
                return _replay(rec, digest)
        status, body, version = produce(ctx)
        if key is not None:
            ctx.session.add(
                IdempotencyRecord(
                    user_id=actor.id,
                    key=key,
                    request_hash=digest,
                    status_code=status,
                    response=_jsonable(body),
                    etag=etag(version) if version is not None else None,
                    created_at=ctx.now,
                )
            )
            ctx.session.flush()
        return status, body, version

    for _attempt in range(2):
        try:
            done = await state.run(actor, use_case, batched=batched)
        except IntegrityError:
            if key is None:
                raise
            continue  # a concurrent request with the same key won: replay its answer
        if isinstance(done, JSONResponse):
            return done
        status, body, version = done
        headers = {"ETag": etag(version)} if version is not None else {}
        if location is not None:
            headers["Location"] = location(body)
        return ModelJSONResponse(body, status_code=status, headers=headers)
    raise Invalid("the request could not be completed; retry it")


class ModelJSONResponse(JSONResponse):
    """A JSON response that serializes a pydantic model with pydantic's own encoder."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.model_dump_json().encode()
        return super().render(content)


def _jsonable(body: Any) -> Any:
    """What a replay returns; a model's ``replay_exclude`` fields (a secret shown once) are
    not kept."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude=getattr(body, "replay_exclude", None))
    return body


def _replay(rec: IdempotencyRecord, digest: str) -> JSONResponse:
    if rec.request_hash != digest:
        raise Invalid(
            "this Idempotency-Key was already used for a different request; "
            "use a new key for a new request",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different body"}],
        )
    headers = {"Idempotent-Replayed": "true"}
    if rec.etag:
        headers["ETag"] = rec.etag
    return JSONResponse(rec.response, status_code=rec.status_code, headers=headers)
