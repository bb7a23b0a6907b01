"""Pages about people: who is on call (/oncall) and one person's work (/me)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dutydesk.http.deps import State
from dutydesk.oncall import schedule as sched
from dutydesk.oncall.loading import all_loaded_in
from dutydesk.slo import service as slo_service
from dutydesk.web import present, reads, rotations
from dutydesk.web.deps import PageRoute, PageViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/oncall")
def oncall(
    request: Request,
    state: State,
    viewer: PageViewer,
    month: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    now = state.now()
    with state.db.read() as s:
        compiled = rotations.schedules_of(all_loaded_in(s, state.policy))
    desks = rotations.desk_rotations(state.policy, compiled, now)
    calendars = []
    for d in desks:
        found = compiled.get(d.rotation)
        if not isinstance(found, sched.Schedule):
            continue
        local_today = now.astimezone(found.zone).date()
        year, mon = present.parse_month(month, local_today)
        layer = rotations.main_layer(found)
        days = rotations.month_days(found, year, mon, [layer])
        calendars.append(
            {
                "desk": d,
                "layer": layer,
                "title": f"{present.month_name(year, mon)}",
                "weeks": rotations.calendar_weeks(days, year, mon),
                "today": local_today,
                "prev": present.shift_month(year, mon, -1),
                "next": present.shift_month(year, mon, 1),
            }
        )
    with state.db.read() as s:
        names = {u.name: u.display_name for u in reads.all_users(s)}
    return render(
        request,
        "oncall/oncall.html",
        {"desks": desks, "calendars": calendars, "names": names},
        viewer=viewer,
    )


@router.get("/me")
def me(request: Request, state: State, viewer: PageViewer) -> Response:
    now = state.now()
    user = viewer.user
    my_desks = [
        (name, desk)
        for name, desk in state.policy.desks.items()
        if viewer.can("responder", name) and (not user.desks or name in user.desks)
    ]
    with state.db.read() as s:
        compiled = rotations.schedules_of(all_loaded_in(s, state.policy))
    on_call = rotations.on_call_desks(state.policy, compiled, user.name, now)
    triage_desks = [(n, d) for n, d in my_desks if n in on_call] or my_desks
    with state.db.read() as s:
        assigned = reads.my_assigned(s, user, now)
        # The running (or paused) clock that falls due first; a stopped clock — a triage
        # breached long ago and since done — is history, not what is next due.
        clocks = slo_service.nearest_open_clocks(s, state.policy, [t.id for t in assigned], now)
        requests = reads.my_requests(s, user, now)
        waiting = reads.untriaged(s, triage_desks) if my_desks else []
        counts = {
            "assigned": reads.my_assigned_count(s, user),
            "requests": reads.my_requests_count(s, user),
            "waiting": reads.untriaged_count(s, triage_desks) if my_desks else 0,
        }
        names = reads.user_names(s)
    return render(
        request,
        "me/me.html",
        {
            "assigned": assigned,
            "due": {tid: found.model_dump() for tid, found in clocks.items()},
            "counts": counts,
            "requests": requests,
            "waiting": waiting,
            "names": names,
            "on_call": on_call,
            "triage_scope": [n for n, _ in triage_desks],
            "responder": bool(my_desks),
        },
        viewer=viewer,
    )
