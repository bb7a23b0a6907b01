"""One form submission, one effect: a double click or a resent form does not file twice.

Every POST form of the pages carries a random ``submission`` token (app.js adds it when the
form is sent; the same form sent again sends the same token). The first request with a
token claims it before the page's use case runs and records where it led; a repeat is sent
to the same place, and one that arrives while the first is still running waits for it. The
claim lives in the table the API's Idempotency-Key uses, under a ``form:`` prefix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from dutydesk.state import AppState
from dutydesk.tickets.models import IdempotencyRecord

FIELD = "submission"
PENDING = 0  # status of a claim whose page has not answered yet
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Earlier:
    """What the first request with this token did: where it led, or None while it runs;
    ``gone`` when it ended without a place to go (its claim was dropped)."""

    location: str | None
    gone: bool = False


def valid(token: object) -> bool:
    return isinstance(token, str) and 16 <= len(token) <= 64 and token.isascii()


def _key(token: str) -> str:
    return f"form:{token}"


def claim(state: AppState, user_id: int, token: str, path: str) -> Earlier | None:
    """None when this request is the first with the token (it now owns it), else what the
    first one did."""
    digest = hashlib.sha256(f"POST {path}".encode()).hexdigest()
    try:
        with state.db.write() as s:
            s.add(
                IdempotencyRecord(
                    user_id=user_id,
                    key=_key(token),
                    request_hash=digest,
                    status_code=PENDING,
                    response=None,
                    etag=None,
                    created_at=state.now(),
                )
            )
        return None
    except IntegrityError:
        return earlier(state, user_id, token)


def earlier(state: AppState, user_id: int, token: str) -> Earlier:
    with state.db.read() as s:
        rec = s.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == _key(token)
            )
        )
    if rec is None:
        return Earlier(None, gone=True)
    if rec.status_code == PENDING or not isinstance(rec.response, dict):
        return Earlier(None)
    return Earlier(str(rec.response.get("location") or "/"))


def settle(state: AppState, user_id: int, token: str, location: str | None) -> None:
    """Record where the first request led; without a place (the form came back with
    errors, or the request failed) the claim is dropped, so the form can be sent again."""
    with state.db.write() as s:
        rec = s.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == _key(token)
            )
        )
        if rec is None:
            return
        if location is None:
            s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == rec.id))
        else:
            rec.status_code, rec.response = 303, {"location": location}


async def wait_for(state: AppState, user_id: int, token: str) -> Earlier:
    """The first request's outcome, waiting while it runs (a double click arrives first)."""
    waited = 0.0
    while True:
        found = await anyio.to_thread.run_sync(earlier, state, user_id, token)
        if found.location is not None or found.gone or waited >= WAIT_SECONDS:
            return found
        await anyio.sleep(0.1)
        waited += 0.1
