"""Triage assistance routes: possible duplicates, suggested fields, their accuracy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from dutydesk.context import Ctx
from dutydesk.errors import NotFound, field_error
from dutydesk.http.deps import Actor, NoBody, State, write
from dutydesk.triage import accepting, learning, service
from dutydesk.triage.schemas import AccuracyOut, RebuildOut, SimilarOut, SuggestionOut

router = APIRouter(prefix="/api/v1", tags=["triage"])

Limit = Annotated[int, Query(ge=1, le=service.MAX_LIMIT)]
# A draft travels in the URL: an HTTP server refuses request lines past ~16 KB before the app
# sees them, so the fields are capped where a 422 can still name them. A longer draft's first
# thousand characters carry its words.
Title = Annotated[str, Query(max_length=300)]
Text = Annotated[str, Query(max_length=1000)]


def _desk(state: State, desk: str) -> str:
    if desk not in state.policy.desks:
        raise NotFound(f"no desk {desk!r}")
    return desk


def _draft(title: str, body: str) -> None:
    if not title.strip() and not body.strip():
        raise field_error("title", "give a title or a body to compare with the desk's tickets")


@router.get("/desks/{desk}/similar", response_model=list[SimilarOut])
def similar_to_draft(
    desk: str,
    state: State,
    actor: Actor,
    title: Title = "",
    body: Text = "",
    before: datetime | None = None,
    team: str | None = None,
    limit: Limit = 5,
) -> list[SimilarOut]:
    """Earlier tickets a draft may repeat (open then first); ``before`` defaults to now."""
    _desk(state, desk)
    _draft(title, body)
    when = (
        state.now() if before is None else (before if before.tzinfo else before.replace(tzinfo=UTC))
    )
    with state.db.read() as s:
        found = service.similar_tickets(
            s,
            desk,
            title,
            body,
            when,
            team=team,
            limit=limit,
            # "now" includes what was filed this instant; an explicit instant is strict
            same_instant_below=service.NOW_INCLUSIVE if before is None else None,
        )
    return service.present(found)


@router.get("/tickets/{key}/similar", response_model=list[SimilarOut])
def similar_to_ticket(key: str, state: State, actor: Actor, limit: Limit = 5) -> list[SimilarOut]:
    """Tickets filed before this one that it may repeat; never itself or a later ticket."""
    with state.db.read() as s:
        return service.present(service.similar_to_ticket(s, key, limit))


def _suggestions(found: list[learning.Suggestion]) -> list[SuggestionOut]:
    return [
        SuggestionOut(field=x.field, value=x.value, confidence=x.confidence, based_on=x.based_on)
        for x in found
    ]


@router.get("/desks/{desk}/suggestions", response_model=list[SuggestionOut])
def suggest_for_draft(
    desk: str, state: State, actor: Actor, title: Title = "", body: Text = ""
) -> list[SuggestionOut]:
    """Team, kind and priority the desk's triage history suggests; nothing is applied."""
    _desk(state, desk)
    _draft(title, body)
    with state.db.read() as s:
        return _suggestions(learning.suggest(s, state.policy, desk, title, body))


@router.get("/tickets/{key}/suggestions", response_model=list[SuggestionOut])
def suggest_for_ticket(key: str, state: State, actor: Actor) -> list[SuggestionOut]:
    with state.db.read() as s:
        return _suggestions(learning.suggest_for_ticket(s, state.policy, key))


@router.get("/desks/{desk}/suggestions/accuracy", response_model=AccuracyOut)
def suggestion_accuracy(desk: str, state: State, actor: Actor) -> AccuracyOut:
    """How often triagers accepted each suggested field, from the triage events."""
    with state.db.read() as s:
        return accepting.accuracy(s, state.policy, desk)


@router.post("/desks/{desk}/suggestions/rebuild", response_model=RebuildOut, dependencies=[NoBody])
async def rebuild_suggestions(
    desk: str, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Recount the desk's triage history (after a bulk import); leads and admins."""

    def produce(ctx: Ctx) -> tuple[int, RebuildOut, None]:
        return 200, accepting.rebuild(ctx, desk), None

    return await write(state, actor, request, desk, produce)
