"""Desk pages: the board, the ordered queue and the filing form.

Boards and queues refresh themselves: the page polls ``…/live?since=N`` every few seconds, N
being the newest event id it has shown. The answer is an empty 204 until a ticket of this desk
changes, so an idle board costs one primary-key lookup per poll, never a re-render.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from dutydesk.context import desk_policy
from dutydesk.errors import DomainError
from dutydesk.http.deps import State
from dutydesk.inputs import MAX_ID
from dutydesk.oncall.availability import free_people
from dutydesk.slo import service as slo_service
from dutydesk.slo.schemas import ClockOut
from dutydesk.tickets import filing, saved_views, search
from dutydesk.tickets.schemas import FileTicket
from dutydesk.triage.service import SimilarTicket, similar_open_tickets
from dutydesk.triage.titles import vague_title_hint
from dutydesk.web import cards, present, queue_query, reads
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render, render_html

router = APIRouter(route_class=PageRoute, include_in_schema=False)
QUEUE_PAGE = 50

# The last event id the page saw (-1: none yet); ids beyond MAX_ID do not exist.
Since = Annotated[int, Query(ge=-1, le=MAX_ID)]


# ----------------------------------------------------------------------------- board


def _board_context(
    state: State, desk: str, viewer: Viewer, only: set[int] | None = None
) -> dict[str, Any]:
    """The board; with ``only``, SLO clocks are read for those tickets alone (a live update
    sends just their cards)."""
    policy = desk_policy(state.policy, desk)
    now = state.now()
    with state.db.read() as s:
        version = reads.latest_event_id(s)
        tickets, totals = reads.board_tickets(s, desk, policy, now)
        names = reads.user_names(s)
        backlog = reads.backlog_count(s, desk)
        people = [u.name for u in reads.assignable(s, desk)]
        open_ids = [
            t.id
            for t in tickets
            if t.status != policy.done_column and (only is None or t.id in only)
        ]
        clocks = slo_service.nearest_open_clocks(s, state.policy, open_ids, now)
        free = free_people(s, state.policy, desk, now) if policy.rotation else []
    shown = [cards.card_of(t, names, policy, now, _clock_of(clocks.get(t.id))) for t in tickets]
    return {
        "desk": desk,
        "policy": policy,
        "columns": cards.board_columns(policy, shown, totals),
        "ids": {t.key: t.id for t in tickets},
        "version": version,
        "can": present.abilities(viewer.user, desk),
        "backlog": backlog,
        "people": people,
        "resolutions": present.resolutions(),
        "free": free,
    }


def _clock_of(c: ClockOut | None) -> tuple[str, str, str] | None:
    return (c.name, c.state, c.remaining) if c is not None else None


@router.get("/desks/{desk}/board")
def board(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    return render(request, "desks/board.html", _board_context(state, desk, viewer), viewer=viewer)


@router.get("/desks/{desk}/board/live")
def board_live(
    desk: str, request: Request, state: State, viewer: PageViewer, since: Since = -1
) -> Response:
    """The whole board again, but only when a ticket of this desk changed after ``since``."""
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        _, changed = reads.desk_changed(s, desk, since)
    if not changed and since >= 0:
        return Response(status_code=204)
    return render(request, "desks/_board.html", _board_context(state, desk, viewer), viewer=viewer)


@router.get("/desks/{desk}/board/changes")
def board_changes(
    desk: str, request: Request, state: State, viewer: PageViewer, since: Since = -1
) -> Response:
    """What changed on the board since version ``since``, for the page to patch itself.

    204 while nothing of this desk changed. Otherwise JSON: every column's card keys in order
    and its size (a few bytes a card), and the rendered cards of the tickets that changed —
    not the whole board. With too many changes (or ``since=-1``) ``board`` holds it all.
    """
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        _, changed = reads.desk_changes(s, desk, since) if since >= 0 else (0, None)
    if changed is not None and not changed:
        return Response(status_code=204)
    ctx = _board_context(state, desk, viewer, only=changed)
    base = {"csrf_token": viewer.csrf, "now": state.now()}
    body: dict[str, Any] = {"version": ctx["version"]}
    if changed is None:
        body["board"] = render_html("desks/_board.html", {**base, **ctx})
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
    body["columns"] = [
        {"name": col.name, "total": col.total, "keys": [c.key for c in col.cards]}
        for col in ctx["columns"]
    ]
    ids = ctx["ids"]
    body["cards"] = {
        c.key: render_html("desks/_card_one.html", {**base, "c": c, "col": col, "can": ctx["can"]})
        for col in ctx["columns"]
        for c in col.cards
        if ids.get(c.key) in changed
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# ----------------------------------------------------------------------------- queue


def _queue_context(
    state: State,
    desk: str,
    request: Request,
    viewer: Viewer,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``params``: the filters, when not the request's own query (a refused save re-shows the
    page it was sent from)."""
    policy = desk_policy(state.policy, desk)
    asked = dict(request.query_params if params is None else params)
    query = queue_query.QueueQuery.parse(asked)
    extra: dict[str, Any] = {}
    now = state.now()
    error = None
    current = None
    with state.db.read() as s:
        version = reads.latest_event_id(s)
        saved = reads.saved_filters(s, desk, viewer.user.id)
        if query.saved:
            current = reads.saved_filter(s, query.saved, viewer.user.id)
            if current is None:
                error = f"There is no saved filter named “{query.saved}”."
            else:
                saved_params = queue_query.saved_filter_params(current.query)
                known = set(saved_params) | {"desk", "customer_reported"}
                extra = {
                    k: v
                    for k, v in current.query.items()
                    if k not in known and k not in ("in_queue", "open")
                }
                merged = {**saved_params, **{k: v for k, v in asked.items() if v}}
                query = queue_query.QueueQuery.parse(merged)
        result = reads.QueuePage([], 0, 1, 1, query.effective_sort)
        try:
            who = search.readers(viewer.user, state.policy.desks)
            result = reads.queue_page(s, desk, policy, query, extra, now, QUEUE_PAGE, who)
        except DomainError as exc:
            error = exc.detail
        except ValidationError as exc:
            error = "; ".join(present.in_words(e) for e in exc.errors()[:3])
        names = reads.user_names(s)
        people = [u.name for u in reads.assignable(s, desk)]
        clocks = slo_service.nearest_open_clocks(
            s, state.policy, [t.id for t in result.rows if t.is_open], now
        )
    classes = any(not isinstance(o, str) for o in policy.order)
    items = [(cards.card_of(t, names, policy, now), t, clocks.get(t.id)) for t in result.rows]
    first = (result.page - 1) * QUEUE_PAGE
    return {
        "desk": desk,
        "policy": policy,
        "query": query,
        "items": items,
        "result": result,
        "first": first,
        "saved": saved,
        "current_saved": current,
        "can_delete_view": current is not None
        and saved_views.may_delete(current, viewer.user, state.policy.saved_filters),
        "version": version,
        "error": error,
        "save_error": None,
        "save_values": None,
        "people": people,
        "views": queue_query.VIEWS,
        "show_class": classes,
        "zone": policy_zone(state, desk),
        "can": present.abilities(viewer.user, desk),
        "share_url": str(request.url)
        if params is None
        else str(request.base_url)[:-1] + query.url(desk),
        "live_base": f"/desks/{desk}/queue/live?"
        + urlencode([(k, v) for k, v in asked.items() if k != "since"]),
    }


def policy_zone(state: State, desk: str) -> str:
    """The desk's calendar zone: SLO due times read in the team's own clock."""
    policy = desk_policy(state.policy, desk)
    calendar = state.policy.calendars.get(policy.calendar) if policy.calendar else None
    return calendar.timezone if calendar is not None else "UTC"


@router.get("/desks/{desk}/queue")
def queue(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    ctx = _queue_context(state, desk, request, viewer)
    return render(request, "desks/queue.html", ctx, viewer=viewer)


@router.get("/desks/{desk}/queue/live")
def queue_live(
    desk: str, request: Request, state: State, viewer: PageViewer, since: Since = -1
) -> Response:
    """This page of rows again, with the total and the pager, only when a ticket of this desk
    changed after ``since``."""
    desk_policy(state.policy, desk)
    with state.db.read() as s:
        _, changed = reads.desk_changed(s, desk, since)
    if not changed and since >= 0:
        return Response(status_code=204)
    ctx = _queue_context(state, desk, request, viewer)
    return render(request, "desks/_queue_live.html", ctx, viewer=viewer)


@router.post("/desks/{desk}/queue/views")
async def save_view(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    name: Annotated[str, Form(max_length=80)] = "",
    description: Annotated[str, Form(max_length=300)] = "",
    scope: Annotated[str, Form(max_length=10)] = "personal",
    filters: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Save the page's current filters (sent as the page's query string) as a named view."""
    desk_policy(state.policy, desk)
    query = queue_query.QueueQuery.parse(dict(parse_qsl(filters)))
    body = saved_views.NewView(
        name=name.strip(),
        description=description.strip(),
        query=query.saved_query(desk),
        shared=scope == "desk",
        desk=desk,
    )
    try:
        row_name = await state.run(viewer.user, lambda ctx: saved_views.save(ctx, body).name)
    except DomainError as exc:
        if exc.status == 404:
            raise
        shown = dict(parse_qsl(filters))
        ctx_ = await run_in_threadpool(_queue_context, state, desk, request, viewer, shown)
        ctx_["save_error"] = exc.detail
        ctx_["save_values"] = {"name": name, "description": description, "scope": scope}
        return render(request, "desks/queue.html", ctx_, viewer=viewer, status_code=exc.status)
    return RedirectResponse(
        f"/desks/{desk}/queue?{urlencode({'saved': row_name})}", status_code=303
    )


@router.post("/desks/{desk}/queue/views/{name}/delete")
async def delete_view(desk: str, name: str, state: State, viewer: WriteViewer) -> Response:
    desk_policy(state.policy, desk)
    await state.run(viewer.user, lambda ctx: saved_views.delete(ctx, name))
    return RedirectResponse(f"/desks/{desk}/queue", status_code=303)


# ----------------------------------------------------------------------------- search

SEARCH_LIMIT = 50


@router.get("/search")
def search_page(
    request: Request,
    state: State,
    viewer: PageViewer,
    q: Annotated[str, Query(max_length=200)] = "",
    desk: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """The header's search: tickets on every desk the viewer sees, best match first."""
    visible = [name for name, _ in present.nav_desks(state.policy, viewer.user)]
    scope = [desk] if desk in visible else visible
    rows: list[Any] = []
    more = False
    now = state.now()
    if q.strip():
        who = search.readers(viewer.user, state.policy.desks)
        with state.db.read() as s:
            rows, more = reads.search_tickets(s, scope, q, who, SEARCH_LIMIT)
            names = reads.user_names(s)
        items = [(cards.card_of(t, names, desk_policy(state.policy, t.desk), now), t) for t in rows]
    else:
        items = []
    ctx = {
        "q": q,
        "desk": desk if desk in visible else "",
        "desks": [(n, state.policy.desks[n].title or n) for n in visible],
        "items": items,
        "more": more,
    }
    return render(request, "search.html", ctx, viewer=viewer)


# ----------------------------------------------------------------------------- filing


def _form_context(
    state: State, desk: str, viewer: Viewer, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    policy = desk_policy(state.policy, desk)
    with state.db.read() as s:
        people = [u.name for u in reads.assignable(s, desk)]
    title = str(values.get("title", ""))
    return {
        "desk": desk,
        "policy": policy,
        "values": values,
        "errors": errors,
        "can": present.abilities(viewer.user, desk),
        "people": people,
        "prompts": policy.prompts,
        "admit": present.admission_note(policy),
        "title_hint": vague_title_hint(title) if title else None,
    }


@router.get("/desks/{desk}/new")
def new_ticket(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    ctx = _form_context(state, desk, viewer, {"criteria": []}, {})
    return render(request, "desks/new.html", ctx, viewer=viewer)


@router.get("/desks/{desk}/new/hint")
def title_hint(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    title: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """Under the title as the reporter types: the vague-title nudge and possible duplicates."""
    desk_policy(state.policy, desk)
    dupes: list[SimilarTicket] = []
    if len(title.strip()) >= 4:
        with state.db.read() as s:
            dupes = similar_open_tickets(s, desk, title, state.now())
    return render(
        request,
        "desks/_title_hint.html",
        {"hint": vague_title_hint(title) if title.strip() else None, "dupes": dupes},
        viewer=viewer,
    )


@router.post("/desks/{desk}/new")
async def file_ticket(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    title: Annotated[str, Form(max_length=400)] = "",
    description: Annotated[str, Form(max_length=60_000)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    category: Annotated[str, Form(max_length=60)] = "",
    criteria: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    labels: Annotated[str, Form(max_length=2000)] = "",
    customer_reported: Annotated[str, Form(max_length=10)] = "",
    priority: Annotated[str, Form(max_length=20)] = "",
    assignee: Annotated[str, Form(max_length=40)] = "",
    team: Annotated[str, Form(max_length=60)] = "",
    fix_target: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    values: dict[str, Any] = {
        "title": title,
        "description": description,
        "kind": kind,
        "category": category,
        "criteria": criteria,
        "labels": labels,
        "customer_reported": bool(customer_reported),
        "priority": priority,
        "assignee": assignee,
        "team": team,
        "fix_target": fix_target,
    }
    data: dict[str, Any] = {
        "title": title,
        "description": description,
        "kind": kind or None,
        "category": category or None,
        "criteria": criteria,
        "labels": [x.strip() for x in labels.split(",") if x.strip()],
        "customer_reported": bool(customer_reported),
    }
    for name in ("priority", "assignee", "team", "fix_target"):
        if values[name]:
            data[name] = values[name]
    errors: dict[str, str] = {}
    try:
        body = FileTicket.model_validate(data)
        key = await state.run(
            viewer.user, lambda ctx: filing.file_ticket(ctx, desk, body).key, batched=True
        )
    except ValidationError as exc:
        for e in exc.errors():
            field = str(e["loc"][0]) if e.get("loc") else "form"
            errors.setdefault(field, present.in_words(e))
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors["form"] = exc.detail  # the whole sentence, naming the rule, above the form
        for item in exc.errors:
            errors.setdefault(str(item.get("field", "form")), str(item.get("message", exc.detail)))
    if errors:
        ctx_ = await run_in_threadpool(_form_context, state, desk, viewer, values, errors)
        return render(request, "desks/new.html", ctx_, viewer=viewer, status_code=422)
    return RedirectResponse(f"/tickets/{key}?filed=1", status_code=303)
