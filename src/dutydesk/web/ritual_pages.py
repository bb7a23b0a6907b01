"""The week's rituals in the browser: the status post (notes, preview of any week, copy as
Markdown, post now), the meeting agendas with the release calendar, and the handoff report
with the outgoing on-call's handoff notes.

Every figure and list comes from the same services as the API and CLI; every write goes
through ``AppState.run`` with the page's CSRF token and the service's role check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from dutydesk import markdown
from dutydesk.auth.leads import leads_desk
from dutydesk.context import Ctx, desk_policy
from dutydesk.errors import DomainError, NotFound, field_error
from dutydesk.http.deps import State
from dutydesk.inputs import MAX_ID
from dutydesk.notify.posts import post_status_now
from dutydesk.notify.rules import link
from dutydesk.oncall import handoff
from dutydesk.oncall.rules import recent_handoffs
from dutydesk.reports import agenda as agendas
from dutydesk.reports import notes, releases
from dutydesk.reports.meetings import meetings_of
from dutydesk.reports.status_post import (
    StatusPost,
    note_rows,
    post_day,
    post_window,
    status_post,
)
from dutydesk.slo.policy import desk_zone
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, WriteViewer, render
from dutydesk.web.present import in_words, link_ticket_keys

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DayQuery = Annotated[str | None, Query(alias="date", max_length=10)]
Text = Annotated[str, Form(min_length=1, max_length=2000)]


def _day(value: str | None, name: str = "date") -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise field_error(name, f"{value!r} is not a date: write YYYY-MM-DD") from None
    if not 1970 <= day.year <= 2200:
        raise field_error(name, "pick a date between 1970 and 2200")
    return day


def report_links(desk: str, start: date, end: date) -> dict[str, str]:
    """The report pages for the same period (``from``/``to`` local dates)."""
    period = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    return {
        slug: f"/desks/{desk}/reports/{slug}?{period}"
        for slug in ("toil", "queue", "oncall", "set")
    }


async def _write(
    request: Request,
    state: State,
    viewer: Viewer,
    use_case: Callable[[Ctx], Any],
    back: str,
    done: str,
) -> Response:
    """Run one use case; back to the page with what happened (or why it was refused)."""
    try:
        await state.run(viewer.user, use_case)
    except DomainError as exc:
        return RedirectResponse(f"{back}{_sep(back)}{urlencode({'error': exc.detail})}", 303)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = f"{where}: {in_words(first)}"
        return RedirectResponse(f"{back}{_sep(back)}{urlencode({'error': message})}", 303)
    return RedirectResponse(f"{back}{_sep(back)}{urlencode({'done': done})}", 303)


def _sep(url: str) -> str:
    return "&" if "?" in url else "?"


def _flash(request: Request) -> dict[str, str]:
    return {
        k: str(request.query_params.get(k, ""))[:500]
        for k in ("done", "error")
        if request.query_params.get(k)
    }


# ----------------------------------------------------------------------------- status post


@dataclass(frozen=True)
class Figure:
    """One number of the post and the tickets behind it."""

    anchor: str
    label: str
    items: list[dict[str, Any]]


def _figures(post: StatusPost) -> list[Figure]:
    explain = {
        name: [{**c, "at": datetime.fromisoformat(c["at"]) if c.get("at") else None} for c in rows]
        for name, rows in post.explain().items()
    }
    return [
        Figure("resolved", "Bugs resolved", explain["bugs_resolved"]),
        Figure(
            "resolved-customers",
            "Bugs resolved, reported by customers",
            explain["bugs_resolved_by_customers"],
        ),
        Figure("submitted", "Bug fix PRs submitted", explain["bug_fix_prs_submitted"]),
        Figure(
            "submitted-customers",
            "Bug fix PRs submitted, reported by customers",
            explain["bug_fix_prs_submitted_by_customers"],
        ),
    ]


def _status_context(state: State, desk: str, viewer: Viewer, day: date | None) -> dict[str, Any]:
    spec = desk_policy(state.policy, desk)
    if spec.status_post is None:
        raise NotFound(f"desk {desk!r} makes no status post ([desks.{desk}.status_post])")
    now = state.now()
    zone = desk_zone(state.policy, desk)
    this_week = post_day(state.policy, desk, now)
    day = day or this_week
    start, end = post_window(state.policy, desk, day)
    with state.db.read() as s:
        post = status_post(s, state.policy, desk, now, day)
        shown = note_rows(s, desk, start, end)
        lead = leads_desk(s, state.policy, viewer.user, desk, now)
    local_start = start.astimezone(zone).date()
    local_end = end.astimezone(zone).date()
    return {
        "desk": desk,
        "policy": spec,
        "post": post,
        "figures": _figures(post),
        "notes": shown,
        "user_notes": len(shown),
        "day": day,
        "this_week": this_week,
        "prev": day - timedelta(days=7),
        "next": day + timedelta(days=7),
        "zone": str(zone),
        "lead": lead,  # the lead role, or the rotation's lead shift now (auth.leads)
        "can_post": "status-post" in spec.notify.post and bool(spec.notify.channels),
        "channels": spec.notify.channels,
        "reports": report_links(desk, local_start, local_end),
        "flash": {},
        "tab": "status",
    }


@router.get("/desks/{desk}/status-post")
def status_page(
    desk: str, request: Request, state: State, viewer: PageViewer, date_: DayQuery = None
) -> Response:
    context = _status_context(state, desk, viewer, _day(date_))
    context["flash"] = _flash(request)
    return render(request, "reports/status_post.html", context, viewer=viewer)


def _status_back(desk: str, day: str) -> str:
    chosen = _day(day)
    return f"/desks/{desk}/status-post" + (f"?date={chosen.isoformat()}" if chosen else "")


@router.post("/desks/{desk}/status-post/notes")
async def add_note_form(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    text: Text,
    day: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    desk_policy(state.policy, desk)
    back = _status_back(desk, day)
    return await _write(
        request, state, viewer, lambda ctx: notes.add_note(ctx, desk, text), back, "note added"
    )


@router.post("/desks/{desk}/status-post/notes/{note_id}/remove")
async def remove_note_form(
    desk: str,
    note_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    state: State,
    viewer: WriteViewer,
    day: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    desk_policy(state.policy, desk)
    back = _status_back(desk, day)
    return await _write(
        request,
        state,
        viewer,
        lambda ctx: notes.remove_note(ctx, desk, note_id),
        back,
        "note removed",
    )


@router.post("/desks/{desk}/status-post/publish")
async def publish_form(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    day: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    desk_policy(state.policy, desk)
    chosen = _day(day)
    back = _status_back(desk, day)
    posted: list[Any] = []

    def use_case(ctx: Ctx) -> None:
        posted.append(post_status_now(ctx, desk, chosen))

    response = await _write(request, state, viewer, use_case, back, "posted")
    if posted and posted[0].messages == 0:
        note = {"done": "this week's post had gone out already: nothing was posted again"}
        return RedirectResponse(f"{back}{_sep(back)}{urlencode(note)}", 303)
    if posted:
        note = {"done": f"posted to {', '.join(posted[0].channels)}"}
        return RedirectResponse(f"{back}{_sep(back)}{urlencode(note)}", 303)
    return response


# ----------------------------------------------------------------------------- agendas


@dataclass(frozen=True)
class AgendaItem:
    key: str | None
    text: str


def _items(section: agendas.Section, base_url: str | None) -> list[AgendaItem]:
    """Each item with the ticket it names split off, to link it on the page."""
    out = []
    for i, text in enumerate(section.items):
        key = section.keys[i] if i < len(section.keys) else None
        if key is not None:
            prefix = link(key, base_url)
            out.append(AgendaItem(key, text.removeprefix(prefix).lstrip()))
        else:
            out.append(AgendaItem(None, text))
    return out


def _meetings_context(state: State, desk: str, viewer: Viewer) -> dict[str, Any]:
    spec = desk_policy(state.policy, desk)
    now = state.now()
    zone = desk_zone(state.policy, desk)
    declared = meetings_of(spec)
    with state.db.read() as s:
        upcoming = []
        for m in declared:
            try:
                upcoming.append(agendas.occurrence_on(s, state.policy, desk, None, m.name, now))
            except NotFound:
                continue
        past = agendas.past_occurrences(s, state.policy, desk, now)[:30]
        calendar = releases.list_releases(s, desk)
        history = releases.history(s, desk, limit=20)
        lead = leads_desk(s, state.policy, viewer.user, desk, now)
    return {
        "desk": desk,
        "policy": spec,
        "declared": declared,
        "upcoming": sorted(upcoming, key=lambda o: o.start),
        "past": past,
        "releases": calendar,
        "history": history,
        "today": now.astimezone(zone).date(),
        "zone": str(zone),
        "lead": lead,  # the lead role, or the rotation's lead shift now (auth.leads)
        "flash": {},
        "tab": "meetings",
    }


@router.get("/desks/{desk}/meetings")
def meetings_page(desk: str, request: Request, state: State, viewer: PageViewer) -> Response:
    context = _meetings_context(state, desk, viewer)
    context["flash"] = _flash(request)
    return render(request, "reports/meetings.html", context, viewer=viewer)


@router.get("/desks/{desk}/agenda")
def agenda_page(
    desk: str,
    request: Request,
    state: State,
    viewer: PageViewer,
    meeting: Annotated[str | None, Query(max_length=40)] = None,
    date_: DayQuery = None,
) -> Response:
    spec = desk_policy(state.policy, desk)
    now = state.now()
    with state.db.read() as s:
        occ = agendas.occurrence_on(s, state.policy, desk, _day(date_), meeting, now)
        built = agendas.build(s, state.policy, occ, now)
    base = state.policy.notify.base_url
    sections = [(sec, _items(sec, base)) for sec in built.sections]
    zone = desk_zone(state.policy, desk)
    return render(
        request,
        "reports/agenda.html",
        {
            "desk": desk,
            "policy": spec,
            "occ": occ,
            "agenda": built,
            # An agenda without sections (the handoff report) is Markdown: shown rendered.
            "agenda_html": Markup(link_ticket_keys(markdown.render(built.text), desk))
            if not sections and built.text
            else None,
            "sections": sections,
            "historical": built.as_of is not None and built.as_of < now,
            "zone": str(zone),
            "tab": "meetings",
        },
        viewer=viewer,
    )


@router.post("/desks/{desk}/releases")
async def add_release_form(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    name: Annotated[str, Form(min_length=1, max_length=60)],
    on: Annotated[str, Form(min_length=10, max_length=10)],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    desk_policy(state.policy, desk)
    day = _day(on, "on")
    assert day is not None
    back = f"/desks/{desk}/meetings"
    return await _write(
        request,
        state,
        viewer,
        lambda ctx: releases.add_release(ctx, desk, name.strip(), day, note.strip() or None),
        back,
        f"release {name.strip()} is on {day.isoformat()}",
    )


@router.post("/desks/{desk}/releases/{name}/move")
async def move_release_form(
    desk: str,
    name: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    on: Annotated[str, Form(min_length=10, max_length=10)],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    desk_policy(state.policy, desk)
    day = _day(on, "on")
    assert day is not None
    return await _write(
        request,
        state,
        viewer,
        lambda ctx: releases.move_release(ctx, desk, name, day, note.strip() or None),
        f"/desks/{desk}/meetings",
        f"release {name} moved to {day.isoformat()}",
    )


@router.post("/desks/{desk}/releases/{name}/remove")
async def remove_release_form(
    desk: str, name: str, request: Request, state: State, viewer: WriteViewer
) -> Response:
    desk_policy(state.policy, desk)
    return await _write(
        request,
        state,
        viewer,
        lambda ctx: releases.remove_release(ctx, desk, name),
        f"/desks/{desk}/meetings",
        f"release {name} removed",
    )


# ----------------------------------------------------------------------------- handoff

RECENT_HANDOFFS = 8  # the past handoffs the page offers to open


def _handoff_context(state: State, desk: str, viewer: Viewer, day: date | None) -> dict[str, Any]:
    spec = desk_policy(state.policy, desk)
    if not spec.rotation:
        raise NotFound(f"desk {desk!r} has no rotation, so no handoff")
    now = state.now()
    with state.db.read() as s:
        found = handoff.desk_rotation(s, state.policy, desk)[1]
        zone = found.zone
        # A chosen day reads the handoff of that day; a past one shows its tickets as they
        # were at it (from the history), the current one as they are now.
        at = (
            min(now, datetime.combine(day + timedelta(days=1), time(0)).replace(tzinfo=zone))
            if day
            else now
        )
        report = handoff.handoff_report(s, state.policy, desk, at, now=now)
        recent = recent_handoffs(found.schedule, now, RECENT_HANDOFFS)
    shift = report["shift"]
    handoff_day = datetime.fromisoformat(report["handoff_at"]).date()
    if shift:
        period = (
            datetime.fromisoformat(shift["start"]).date(),
            datetime.fromisoformat(shift["end"]).date(),
        )
    else:
        period = (handoff_day - timedelta(days=7), handoff_day)
    keys = [t["key"] for t in report["touched"]] + [t["key"] for t in report["open_urgent"]]
    return {
        "desk": desk,
        "policy": spec,
        "report": report,
        "markdown": handoff.render_markdown(report),
        "day": day,
        "handoff_day": handoff_day,
        "prev": handoff_day - timedelta(days=7),
        "next": handoff_day + timedelta(days=7),
        "note_keys": list(dict.fromkeys(keys)),
        "recent": [x.astimezone(zone) for x in recent],
        "responder": viewer.can("responder", desk),
        "reports": report_links(desk, *period),
        "zone": str(zone),
        "flash": {},
        "tab": "handoff",
    }


@router.get("/desks/{desk}/handoff")
def handoff_page(
    desk: str, request: Request, state: State, viewer: PageViewer, date_: DayQuery = None
) -> Response:
    context = _handoff_context(state, desk, viewer, _day(date_))
    context["flash"] = _flash(request)
    return render(request, "reports/handoff.html", context, viewer=viewer)


@router.post("/desks/{desk}/handoff/notes")
async def handoff_note_form(
    desk: str,
    request: Request,
    state: State,
    viewer: WriteViewer,
    key: Annotated[str, Form(min_length=1, max_length=40)],
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
    day: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    desk_policy(state.policy, desk)
    chosen = _day(day)
    back = f"/desks/{desk}/handoff" + (f"?date={chosen.isoformat()}" if chosen else "")
    ticket_key = key.strip().upper()

    def use_case(ctx: Ctx) -> dict[str, Any]:
        if not ticket_key.startswith(f"{desk.upper()}-"):
            raise field_error("key", f"{ticket_key} is not a ticket of desk {desk}")
        return handoff.add_handoff_note(ctx, ticket_key, text)

    return await _write(
        request, state, viewer, use_case, back, f"handoff note left on {ticket_key}"
    )
