"""The ticket page and every action on it: comment, move, assign, triage, block, rank, PR links.

Each action is a plain HTML form (works without JavaScript: success redirects, a refusal
re-renders the ticket page with the rule's message). The board's scripts post to the same
routes with ``Accept: application/json`` and get ``{"key", "status", "version"}`` or
``{"detail"}`` with the refusal's status, so drag and drop and forms obey one set of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dutydesk.context import Ctx
from dutydesk.errors import DomainError, Invalid
from dutydesk.http.deps import State
from dutydesk.mailgate import attachments
from dutydesk.tickets import queries, recorder, service
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.schemas import TicketPatch, TriageIn
from dutydesk.triage import accepting, learning
from dutydesk.triage.service import SimilarTicket, similar_to_ticket
from dutydesk.web import present, reads, timeline
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render, wants_json

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Version = Annotated[str, Form(max_length=12)]
Next = Annotated[str, Form(max_length=500)]


def _version(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def ticket_context(state: State, key: str, viewer: Viewer) -> dict[str, Any]:
    with state.db.read() as s:
        ticket = recorder.get_ticket(s, key)
        desk = state.policy.desks[ticket.desk]
        [out] = queries.present(s, state.policy, [ticket], now=state.now())
        watching = reads.is_watching(s, ticket, viewer.user)
        can = present.abilities(viewer.user, ticket.desk, ticket, watching)
        history = timeline.timeline(
            service.events(s, key), service.comments(s, key, include_internal=can.respond)
        )
        people = [u.name for u in reads.assignable(s, ticket.desk)] if can.respond else []
        files = attachments.listing(s, key, internal=can.respond)
        dupes: list[SimilarTicket] = []
        suggested: dict[str, learning.Suggestion] = {}
        if can.respond and ticket.is_open:
            # Responders only: the panel is theirs, and so is the history it reads.
            dupes = similar_to_ticket(s, key)
            suggested = {x.field: x for x in learning.suggest_for_ticket(s, state.policy, key)}
    return {
        "t": out,
        "ticket": ticket,
        "desk": desk,
        "desk_name": ticket.desk,
        "zone": present.desk_zone(state.policy, ticket.desk),
        "can": can,
        "timeline": history,
        "people": people,
        "attachments": files,
        "dupes": dupes,
        "suggested": suggested,
        "moves": desk.allowed_moves(ticket.status) if ticket.status in desk.columns else [],
        "resolutions": present.resolutions(),
        "needs_triage": ticket.is_open and ticket.triaged_at is None,
        "queue_note": present.admission_note(desk),
    }


def _page(
    request: Request,
    state: State,
    viewer: Viewer,
    key: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    flash: str | None = None,
    filed: bool = False,
) -> Response:
    ctx = ticket_context(state, key, viewer)
    if filed:
        admission = ctx["t"].admission
        flash = (
            f"Your request is filed to the weekly triage backlog: {admission}."
            if admission
            else "Your request is filed. On-call triages new tickets and will set its priority "
            "and owner; you can follow it here and under My work."
        )
    ctx.update(error=error, flash=flash)
    return render(request, "tickets/ticket.html", ctx, viewer=viewer, status_code=status_code)


@router.get("/tickets/{key}")
def ticket_page(
    key: str, request: Request, state: State, viewer: PageViewer, filed: int = 0
) -> Response:
    return _page(request, state, viewer, key, filed=bool(filed))


async def _act(
    request: Request,
    state: State,
    viewer: Viewer,
    key: str,
    action: Callable[[Ctx], Ticket],
    next_url: str = "",
    *,
    batched: bool = False,
) -> Response:
    """Run one use case (``AppState.run``, as the API does; ``batched`` for the short, frequent
    ones); answer JSON to scripts, a redirect or the page with the refusal to forms."""

    def run(ctx: Ctx) -> dict[str, Any]:
        ticket = action(ctx)
        return {"key": ticket.key, "status": ticket.status, "version": ticket.version}

    try:
        result = await state.run(viewer.user, run, batched=batched)
    except DomainError as exc:
        if exc.status == 404 and not wants_json(request):
            raise
        return await run_in_threadpool(_refused, request, state, viewer, key, exc)
    if wants_json(request):
        return JSONResponse(result)
    return RedirectResponse(
        present.safe_next(next_url, f"/tickets/{result['key']}"), status_code=303
    )


def _refused(
    request: Request, state: State, viewer: Viewer, key: str, exc: DomainError
) -> Response:
    if wants_json(request):
        body: dict[str, Any] = {"detail": exc.detail, "status": exc.status}
        if "rule" in exc.extra:
            body["rule"] = exc.extra["rule"]
        return JSONResponse(body, status_code=exc.status)
    return _page(request, state, viewer, key, error=exc.detail, status_code=exc.status)


@router.post("/tickets/{key}/comment")
async def comment(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    body: Annotated[str, Form(max_length=50_000)] = "",
    internal: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def run(ctx: Ctx) -> Ticket:
        if not body.strip():
            raise Invalid("write a comment first")
        return service.add_comment(ctx, key, body.strip(), public=not internal)[0]

    return await _act(
        request, state, viewer, key, run, f"/tickets/{key}#timeline-end", batched=True
    )


@router.post("/tickets/{key}/move")
async def move(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    to: Annotated[str, Form(max_length=60)],
    resolution: Annotated[str, Form(max_length=40)] = "",
    duplicate_of: Annotated[str, Form(max_length=40)] = "",
    pr_link: Annotated[str, Form(max_length=2000)] = "",
    version: Version = "",
    next: Next = "",
) -> Response:
    return await _act(
        request,
        state,
        viewer,
        key,
        lambda ctx: service.move(
            ctx,
            key,
            to,
            resolution or None,
            duplicate_of.strip() or None,
            _version(version),
            pr_link=pr_link.strip() or None,
        ),
        next,
        batched=True,
    )


@router.post("/tickets/{key}/assign")
async def assign(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    assignee: Annotated[str, Form(max_length=40)] = "",
    version: Version = "",
    next: Next = "",
) -> Response:
    return await _act(
        request,
        state,
        viewer,
        key,
        lambda ctx: service.assign(ctx, key, assignee or None, _version(version)),
        next,
        batched=True,
    )


@router.post("/tickets/{key}/triage")
async def triage(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    priority: Annotated[str, Form(max_length=20)] = "",
    title: Annotated[str, Form(max_length=400)] = "",
    team: Annotated[str, Form(max_length=60)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    assignee: Annotated[str, Form(max_length=40)] = "",
    duplicate_of: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=50_000)] = "",
    version: Version = "",
    next: Next = "",
) -> Response:
    """The triage checklist in one submit; a 'close as duplicate' button sends only duplicate_of."""
    fields = {
        "priority": priority,
        "title": title,
        "team": team,
        "kind": kind,
        "assignee": assignee,
        "duplicate_of": duplicate_of.strip(),
        "note": note.strip(),
    }

    def run(ctx: Ctx) -> Ticket:
        data = TriageIn.model_validate({k: v for k, v in fields.items() if v})
        return accepting.triage(ctx, key, data, _version(version))

    return await _act(request, state, viewer, key, run, next, batched=True)


@router.post("/tickets/{key}/block")
async def block(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    reason: Annotated[str, Form(max_length=2000)] = "",
    version: Version = "",
) -> Response:
    def run(ctx: Ctx) -> Ticket:
        if len(reason.strip()) < 3:
            raise Invalid("say what it is blocked on (at least 3 characters)")
        return service.block(ctx, key, reason.strip(), _version(version))

    return await _act(request, state, viewer, key, run)


@router.post("/tickets/{key}/unblock")
async def unblock(
    key: str, request: Request, state: State, viewer: WriteViewer, version: Version = ""
) -> Response:
    return await _act(
        request, state, viewer, key, lambda ctx: service.unblock(ctx, key, _version(version))
    )


@router.post("/tickets/{key}/rank")
async def rank(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    before: Annotated[str, Form(max_length=40)] = "",
    after: Annotated[str, Form(max_length=40)] = "",
    version: Version = "",
    next: Next = "",
) -> Response:
    def run(ctx: Ctx) -> Ticket:
        if bool(before) == bool(after):
            raise Invalid("give exactly one of before or after")
        return service.rank(ctx, key, before or None, after or None, _version(version))

    return await _act(request, state, viewer, key, run, next)


@router.post("/tickets/{key}/links")
async def links(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    url: Annotated[str, Form(max_length=2000)] = "",
    remove: Annotated[str, Form(max_length=2000)] = "",
    version: Version = "",
) -> Response:
    """Add or remove one pull-request link."""

    def run(ctx: Ctx) -> Ticket:
        current = list(recorder.get_ticket(ctx.session, key).pr_links or [])
        if remove:
            wanted = [u for u in current if u != remove]
        elif url.strip():
            wanted = [*current, url.strip()] if url.strip() not in current else current
        else:
            raise Invalid("paste a pull-request URL first")
        patch = TicketPatch.model_validate({"pr_links": wanted})
        return service.patch_ticket(ctx, key, patch, _version(version))

    return await _act(request, state, viewer, key, run, f"/tickets/{key}")
