"""Ticket routes: parse, call the service, present. No rules live here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dutydesk.auth.service import has_role
from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import NotFound
from dutydesk.http.deps import Actor, IfMatch, ModelJSONResponse, NoBody, State, etag, write
from dutydesk.inputs import PageLimit
from dutydesk.state import AppState
from dutydesk.tickets import converting, filing, history, queries, recorder, search, service
from dutydesk.tickets.filter_values import check_filter_values
from dutydesk.tickets.models import SavedFilter, Ticket
from dutydesk.tickets.schemas import (
    AssignIn,
    BlockIn,
    CommentIn,
    CommentOut,
    CommentPage,
    ConvertIn,
    EventPage,
    FileTicket,
    MoveIn,
    RankIn,
    TicketFilter,
    TicketOut,
    TicketPage,
    TicketPatch,
    TriageIn,
    WatchIn,
    saved_filter,
)
from dutydesk.triage import accepting
from dutydesk.triage import service as triage_service
from dutydesk.triage.schemas import HintsOut

router = APIRouter(prefix="/api/v1", tags=["tickets"])


def _one(ctx: Ctx, ticket: Ticket) -> tuple[int, Any, int]:
    ctx.session.flush()
    [out] = queries.present(ctx.session, ctx.policy, [ticket], ctx.now)
    return 200, out, ticket.version


@router.post("/desks/{desk}/tickets", status_code=201, response_model=TicketOut)
async def file_ticket(
    desk: str,
    body: FileTicket,
    request: Request,
    state: State,
    actor: Actor,
    hints: Annotated[bool, Query(description="add title and duplicate hints")] = True,
) -> JSONResponse:
    def produce(ctx: Ctx) -> tuple[int, Any, int]:
        filed = filing.file(ctx, desk, body)
        return 201, queries.present_filed(ctx.policy, filed, ctx.now), filed.ticket.version

    response = await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        produce,
        location=lambda out: f"/api/v1/tickets/{out.key}",
        batched=True,
    )
    if response.status_code != 201 or not hints:
        return response
    # Read after the commit, off the event loop: the filing itself never waits for them.
    filed = json.loads(bytes(response.body))
    filed["hints"] = (await run_in_threadpool(_hints, state, filed["key"])).model_dump()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return JSONResponse(filed, status_code=201, headers=headers)


def _hints(state: AppState, key: str) -> HintsOut:
    with state.db.read() as s:
        return triage_service.filing_hints(s, state.policy.desks, key)


@router.get("/tickets/{key}", response_model=TicketOut)
def get_ticket(key: str, state: State, actor: Actor) -> JSONResponse:
    with state.db.read() as s:
        ticket = recorder.get_ticket(s, key)
        [out] = queries.present(s, state.policy, [ticket], state.now())
    return ModelJSONResponse(out, headers={"ETag": etag(ticket.version)})


@router.patch("/tickets/{key}", response_model=TicketOut)
async def patch_ticket(
    key: str, body: TicketPatch, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(exclude_unset=True),
        lambda ctx: _one(ctx, service.patch_ticket(ctx, key, body, version)),
    )


@router.post("/tickets/{key}/move", response_model=TicketOut)
async def move(
    key: str, body: MoveIn, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: _one(
            ctx,
            service.move(
                ctx,
                key,
                body.to,
                body.resolution,
                body.duplicate_of,
                version,
                pr_link=str(body.pr_link) if body.pr_link else None,
            ),
        ),
        batched=True,
    )


@router.post("/tickets/{key}/assign", response_model=TicketOut)
async def assign(
    key: str, body: AssignIn, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: _one(ctx, service.assign(ctx, key, body.assignee, version)),
        batched=True,
    )


@router.post("/tickets/{key}/triage", response_model=TicketOut)
async def triage(
    key: str, body: TriageIn, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: _one(ctx, accepting.triage(ctx, key, body, version)),
        batched=True,
    )


@router.post("/tickets/{key}/convert", response_model=TicketOut)
async def convert(
    key: str, body: ConvertIn, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    """Turn a non-bug into a story or feature request, without a priority. With ``desk``, a
    linked ticket is filed on that desk and this one closes as ``converted``; the answer is
    this ticket, whose ``converted_to`` names the new one."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: _one(ctx, converting.convert(ctx, key, body, version).ticket),
    )


@router.post("/tickets/{key}/watch", response_model=TicketOut)
async def watch(
    key: str, body: WatchIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    """Watch (``{"watch": true}``) or stop watching a ticket, as yourself."""
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: _one(ctx, service.watch(ctx, key, body.watch)),
    )


@router.post("/tickets/{key}/block", response_model=TicketOut)
async def block(
    key: str, body: BlockIn, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: _one(ctx, service.block(ctx, key, body.reason, version)),
    )


@router.post("/tickets/{key}/unblock", response_model=TicketOut, dependencies=[NoBody])
async def unblock(
    key: str, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    return await write(
        state, actor, request, "", lambda ctx: _one(ctx, service.unblock(ctx, key, version))
    )


@router.post("/tickets/{key}/rank", response_model=TicketOut)
async def rank(
    key: str, body: RankIn, request: Request, state: State, actor: Actor, version: IfMatch
) -> JSONResponse:
    return await write(
        state,
        actor,
        request,
        body.model_dump_json(),
        lambda ctx: _one(ctx, service.rank(ctx, key, body.before, body.after, version)),
    )


@router.post("/tickets/{key}/comments", status_code=201, response_model=CommentOut)
async def comment(
    key: str, body: CommentIn, request: Request, state: State, actor: Actor
) -> JSONResponse:
    def produce(ctx: Ctx) -> tuple[int, Any, int]:
        ticket, c = service.add_comment(ctx, key, body.body, body.public)
        out = CommentOut(
            id=c.id,
            author=ctx.actor.name,
            body=c.body,
            body_html=c.body_html,
            public=c.public,
            created_at=c.created_at,
        )
        return 201, out.model_dump(mode="json"), ticket.version

    return await write(state, actor, request, body.model_dump_json(), produce, batched=True)


@router.get("/tickets/{key}/comments", response_model=CommentPage)
def list_comments(
    key: str, state: State, actor: Actor, limit: int = 100, cursor: str | None = None
) -> CommentPage:
    """The ticket's comments oldest first, a page at a time (``next_cursor`` continues)."""
    with state.db.read() as s:
        ticket = recorder.get_ticket(s, key)
        internal = has_role(actor, "responder", ticket.desk)
        return history.comments_page(s, key, internal, limit, cursor)


@router.get("/tickets/{key}/events", response_model=EventPage)
def list_events(
    key: str, state: State, actor: Actor, limit: int = 100, cursor: str | None = None
) -> EventPage:
    """The ticket's history in order, a page at a time (``next_cursor`` continues)."""
    with state.db.read() as s:
        return history.events_page(s, key, limit, cursor)


def ticket_filter(
    desk: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    priority: Annotated[list[str] | None, Query()] = None,
    assignee: str | None = None,
    reporter: str | None = None,
    team: str | None = None,
    kind: Annotated[list[str] | None, Query()] = None,
    category: str | None = None,
    label: str | None = None,
    customer_reported: bool | None = None,
    blocked: bool | None = None,
    open: bool | None = None,
    in_queue: bool | None = None,
    resolution: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    resolved_from: datetime | None = None,
    resolved_to: datetime | None = None,
    resolved_within: str | None = None,
    q: str | None = None,
    sort: str | None = None,
) -> TicketFilter:
    given = {k: v for k, v in locals().items() if v is not None}
    try:
        return TicketFilter.model_validate(given)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        ) from exc


Filter = Annotated[TicketFilter, Depends(ticket_filter)]


def _page(state: State, tickets: list[Ticket], nxt: str | None, s: Session) -> JSONResponse:
    # Serialized here by pydantic's encoder; FastAPI would dump the page to dicts first.
    items = queries.present(s, state.policy, tickets, state.now())
    return ModelJSONResponse(TicketPage(items=items, next_cursor=nxt))


@router.get("/tickets", response_model=TicketPage)
def list_tickets(
    state: State, actor: Actor, f: Filter, limit: PageLimit = 50, cursor: str | None = None
) -> JSONResponse:
    check_filter_values(state.policy, f)
    with state.db.read() as s:
        who = search.readers(actor, state.policy.desks)
        tickets, nxt = queries.list_tickets(s, f, state.now(), limit, cursor, who)
        return _page(state, tickets, nxt, s)


@router.get("/desks/{desk}/queue", response_model=TicketPage, tags=["desks"])
def desk_queue(
    desk: str,
    state: State,
    actor: Actor,
    limit: PageLimit = 50,
    cursor: str | None = None,
    backlog: bool = False,
    category: str | None = None,
) -> JSONResponse:
    """Open tickets in the desk's order; ``backlog=true`` lists those below admission;
    ``category`` keeps one category's."""
    desk_policy(state.policy, desk)
    check_filter_values(state.policy, TicketFilter(desk=desk, category=category))
    with state.db.read() as s:
        tickets, nxt = queries.queue(s, desk, limit, cursor, backlog=backlog, category=category)
        return _page(state, tickets, nxt, s)


@router.get("/saved-filters", tags=["saved filters"])
def saved_filters(state: State, actor: Actor) -> list[dict[str, Any]]:
    with state.db.read() as s:
        rows = s.scalars(select(SavedFilter).order_by(SavedFilter.name)).all()
        return [
            {
                "name": r.name,
                "description": r.description,
                "query": r.query,
                "shared": r.shared,
                "tickets_url": f"/api/v1/saved-filters/{r.name}/tickets",
            }
            for r in rows
            if r.shared or r.owner_id == actor.id
        ]


@router.get("/saved-filters/{name}/tickets", response_model=TicketPage, tags=["saved filters"])
def saved_filter_tickets(
    name: str, state: State, actor: Actor, limit: PageLimit = 50, cursor: str | None = None
) -> JSONResponse:
    with state.db.read() as s:
        row = s.scalar(select(SavedFilter).where(SavedFilter.name == name))
        if row is None or not (row.shared or row.owner_id == actor.id):
            raise NotFound(f"no saved filter named {name!r}; GET /api/v1/saved-filters lists them")
        f = saved_filter(row.query)
        who = search.readers(actor, state.policy.desks)
        tickets, nxt = queries.list_tickets(s, f, state.now(), limit, cursor, who)
        return _page(state, tickets, nxt, s)
