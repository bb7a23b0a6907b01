"""The ticket page and every action on it: comment, edit, move, assign, triage, convert, watch,
block, rank, PR links; and its live refresh (``/tickets/KEY/live``, as the board's).

Each action is a plain HTML form (works without JavaScript: success redirects, a refusal
re-renders the ticket page with the rule's message). The board's scripts post to the same
routes with ``Accept: application/json`` and get ``{"key", "status", "version"}`` or
``{"detail"}`` with the refusal's status, so drag and drop and forms obey one set of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dutydesk.context import Ctx
from dutydesk.errors import DomainError, Invalid
from dutydesk.http.deps import State
from dutydesk.inputs import MAX_ID
from dutydesk.mailgate import attachments
from dutydesk.tickets import converting, queries, recorder, service, workflow
from dutydesk.tickets.models import Ticket
from dutydesk.tickets.schemas import ConvertIn, TicketPatch, TriageIn
from dutydesk.triage import accepting, learning
from dutydesk.triage.service import SimilarTicket, similar_to_ticket
from dutydesk.web import present, reads, timeline
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render, wants_json

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Version = Annotated[str, Form(max_length=12)]
Next = Annotated[str, Form(max_length=500)]


def _version(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


# What the page confirms after an action (``?ok=NAME`` on the redirect): fixed words, or
# words built from the ticket as it now is, never text from the URL.
OK_MESSAGES = {
    "edited": "Saved.",
    "watching": "You are watching this ticket: you will hear of its changes.",
    "unwatched": "You stopped watching this ticket.",
    "links": "Pull-request links saved.",
}


def _confirmation(ok: str, t: Any) -> str | None:
    if ok == "triaged":
        parts = [f"priority {t.priority}" if t.priority else None]
        parts += [f"team {t.team}" if t.team else None, f"assigned to {t.assignee}"]
        if not t.assignee:
            parts[-1] = "nobody assigned yet"
        where = ""
        if t.open and not t.in_queue:
            where = (
                f" It left this desk's queue for team {t.team}'s view."
                if t.admission and t.admission.startswith("routed to team")
                else " It waits in the weekly triage backlog."
            )
        if t.resolution == "duplicate":
            return f"Triaged: closed as a duplicate of {t.duplicate_of}."
        return "Triaged: " + ", ".join(p for p in parts if p) + "." + where
    if ok == "converted":
        if t.converted_to:
            return f"Converted: it continues as {t.converted_to}; this ticket is closed."
        return f"Converted: this ticket is now a {t.kind}."
    return OK_MESSAGES.get(ok)


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
        "watching": watching,
        "convert_kinds": workflow.CONVERSION_KINDS,
        "convert_desks": _convert_desks(state, ticket.desk),
        "ranked_labels": workflow.triager_labels(desk),
        "routed_out": not desk.routed_here(ticket.team),
    }


def _convert_desks(state: State, desk_name: str) -> list[str]:
    """Where a conversion may go: the desk's convert_to first, then any desk that has a
    story or feature-request kind (its own desk last: converting in place)."""
    desks = state.policy.desks
    first = desks[desk_name].convert_to
    others = [
        n
        for n, d in desks.items()
        if n not in (first, desk_name) and set(d.kinds) & set(workflow.CONVERSION_KINDS)
    ]
    here = [desk_name] if set(desks[desk_name].kinds) & set(workflow.CONVERSION_KINDS) else []
    return [n for n in [first, *others, *here] if n]


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
    ok: str = "",
    template: str = "tickets/ticket.html",
) -> Response:
    ctx = ticket_context(state, key, viewer)
    if ok:
        flash = _confirmation(ok, ctx["t"])
    if filed:
        admission = ctx["t"].admission
        flash = (
            f"Your request is filed to the weekly triage backlog: {admission}."
            if admission
            else "Your request is filed. On-call triages new tickets and will set its priority "
            "and owner; you can follow it here and under My work."
        )
    ctx.update(error=error, flash=flash)
    return render(request, template, ctx, viewer=viewer, status_code=status_code)


Ok = Annotated[str, Query(max_length=20, pattern=r"^[a-z]*$")]


@router.get("/tickets/{key}")
def ticket_page(
    key: str, request: Request, state: State, viewer: PageViewer, filed: int = 0, ok: Ok = ""
) -> Response:
    return _page(request, state, viewer, key, filed=bool(filed), ok=ok)


@router.get("/tickets/{key}/live")
def ticket_live(
    key: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    since: Annotated[int, Query(ge=-1, le=MAX_ID)] = -1,
) -> Response:
    """The ticket page's body again, but only when the ticket changed after version ``since``
    (the board's live refresh, for one ticket): polling an unchanged ticket costs one read."""
    with state.db.read() as s:
        version = recorder.get_ticket(s, key).version
    if version == since:
        return Response(status_code=204)
    return _page(request, state, viewer, key, template="tickets/_ticket.html")


async def _act(
    request: Request,
    state: State,
    viewer: Viewer,
    key: str,
    action: Callable[[Ctx], Ticket],
    next_url: str = "",
    *,
    batched: bool = False,
    ok: str = "",
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
    back = f"/tickets/{result['key']}" + (f"?ok={ok}" if ok else "")
    return RedirectResponse(present.safe_next(next_url, back), status_code=303)


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

    return await _act(request, state, viewer, key, run, next, batched=True, ok="triaged")


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

    return await _act(request, state, viewer, key, run, ok="links")


def _names(text: str) -> list[str]:
    """A comma- or space-separated list as the forms take labels and watchers."""
    return list(dict.fromkeys(x.strip() for x in text.replace(",", " ").split() if x.strip()))


@router.post("/tickets/{key}/edit")
async def edit(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    title: Annotated[str | None, Form(max_length=400)] = None,
    description: Annotated[str | None, Form(max_length=50_000)] = None,
    kind: Annotated[str | None, Form(max_length=40)] = None,
    category: Annotated[str | None, Form(max_length=60)] = None,
    team: Annotated[str | None, Form(max_length=60)] = None,
    labels: Annotated[str | None, Form(max_length=2000)] = None,
    fix_target: Annotated[str | None, Form(max_length=20)] = None,
    customer_reported: Annotated[str, Form(max_length=10)] = "",
    has_customer: Annotated[str, Form(max_length=10)] = "",
    watchers: Annotated[str | None, Form(max_length=4000)] = None,
    version: Version = "",
) -> Response:
    """The edit form: sends what differs from the ticket as it is, as one PATCH would (so a
    reporter who only rewords the description is not refused for the fields left alone)."""

    def run(ctx: Ctx) -> Ticket:
        t = recorder.get_ticket(ctx.session, key)
        want: dict[str, Any] = {}
        if title is not None and title.strip() != t.title:
            want["title"] = title.strip()
        if description is not None:
            text = description.replace("\r\n", "\n")
            if text.strip() != t.description.strip():
                want["description"] = text
        if kind is not None and kind != t.kind:
            want["kind"] = kind
        for name, value in (("category", category), ("team", team)):
            if value is not None and (value or None) != getattr(t, name):
                want[name] = value or None
        if fix_target is not None and fix_target != t.fix_target:
            want["fix_target"] = fix_target
        if labels is not None and _names(labels) != list(t.labels or []):
            want["labels"] = _names(labels)
        if has_customer and bool(customer_reported) != t.customer_reported:
            want["customer_reported"] = bool(customer_reported)
        if watchers is not None:
            current = reads.watcher_names(ctx.session, t)
            if set(_names(watchers)) != set(current):
                want["watchers"] = _names(watchers)
        if not want:
            raise Invalid("nothing changed: edit a field first")
        patch = TicketPatch.model_validate(want)
        return service.patch_ticket(ctx, key, patch, _version(version))

    return await _act(request, state, viewer, key, run, ok="edited")


@router.post("/tickets/{key}/convert")
async def convert(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    kind: Annotated[str, Form(max_length=40)] = "",
    desk: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=50_000)] = "",
    version: Version = "",
) -> Response:
    """Turn a non-bug into a story or feature request: one transaction, no priority needed."""

    def run(ctx: Ctx) -> Ticket:
        data = ConvertIn.model_validate(
            {"kind": kind or "story", "desk": desk or None, "note": note.strip() or None}
        )
        return converting.convert(ctx, key, data, _version(version)).ticket

    return await _act(request, state, viewer, key, run, ok="converted")


@router.post("/tickets/{key}/watch")
async def watch(
    key: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    watch: Annotated[str, Form(max_length=10)] = "1",
) -> Response:
    """The watch / unwatch button: the viewer, for themselves."""
    on = watch not in ("0", "", "no", "false")
    return await _act(
        request,
        state,
        viewer,
        key,
        lambda ctx: service.watch(ctx, key, on),
        ok="watching" if on else "unwatched",
    )
