"""Pages about people: who is on call (/oncall) and one person's work (/me)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dutydesk.auth.leads import leads_desk
from dutydesk.http.deps import State
from dutydesk.oncall import availability
from dutydesk.oncall import reads as oncall_reads
from dutydesk.oncall import schedule as sched
from dutydesk.oncall import swaps as swap_reads
from dutydesk.oncall import time_off as time_off_reads
from dutydesk.oncall.loading import all_loaded_in
from dutydesk.slo import service as slo_service
from dutydesk.web import present, reads, rotations
from dutydesk.web.deps import PageRoute, PageViewer, Viewer, render

WARN_AHEAD = timedelta(days=60)  # gaps and double bookings the on-call page warns of
router = APIRouter(route_class=PageRoute, include_in_schema=False)


DONE = {
    "taken": "You took the shift.",
    "override": "Override saved.",
    "swap": "Swap saved.",
    "time-off": "Time off saved; the schedule works around it.",
    "undone": "Undone.",
    "cancelled": "Time off cancelled.",
}


@router.get("/oncall")
def oncall(
    request: Request,
    state: State,
    viewer: PageViewer,
    month: Annotated[str | None, Query(max_length=7)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    ctx = oncall_context(state, viewer, month)
    ctx["done"] = DONE.get(done or "")
    return render(request, "oncall/oncall.html", ctx, viewer=viewer)


def oncall_context(state: State, viewer: Viewer, month: str | None) -> dict[str, Any]:
    """Everything the on-call page shows, read with the on-call services' own questions."""
    now = state.now()
    policy = state.policy
    with state.db.read() as s:
        loaded = all_loaded_in(s, policy)
    compiled = rotations.schedules_of(loaded)
    desks = rotations.desk_rotations(policy, compiled, now)
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
    ok = [d for d in desks if not d.error]
    mine = [x for x in loaded if viewer.name in x.spec.people and not x.problems]
    with state.db.read() as s:
        names = {u.name: u.display_name for u in reads.all_users(s)}
        warnings = oncall_reads.gaps(s, policy, now, now + WARN_AHEAD)
        loads = {d.desk: availability.member_loads(s, policy, d.desk, now) for d in ok}
        people = {d.desk: [u.name for u in reads.assignable(s, d.desk)] for d in ok}
        leads = {d.desk: leads_desk(s, policy, viewer.user, d.desk, now) for d in ok}
        swaps = {d.rotation: swap_reads.list_swaps(s, policy, d.rotation, all_=False) for d in ok}
        history = {
            d.rotation: oncall_reads.history(s, policy, d.rotation, 8, None).items for d in ok
        }
        year_ago = now - timedelta(days=365)
        fairness = {
            d.rotation: oncall_reads.fairness_report(s, policy, d.rotation, year_ago, now).totals
            for d in ok
        }
        away = time_off_reads.list_time_off(s, policy, viewer.user, None, None, now, all_=False)
    layers = {x.name: [layer.name for layer in x.spec.layers if not layer.lead_of] for x in loaded}
    my_next = sorted(
        (
            (x.name, shift)
            for x in mine
            for shift in x.schedule.person_shifts(viewer.name, now, now + timedelta(days=400))
        ),
        key=lambda item: item[1].utc_start,
    )[:6]
    return {
        "desks": desks,
        "calendars": calendars,
        "names": names,
        "warnings": warnings,
        "loads": loads,
        "warn_days": WARN_AHEAD.days,
        "people": people,
        "leads": leads,
        # Whom a lead may enter time off for: offered as they type a name.
        "lead_people": sorted({p for d, ps in people.items() if leads.get(d) for p in ps}),
        "swaps": swaps,
        "history": history,
        "fairness": fairness,
        "time_off": away,
        "layers": layers,
        "my_next": my_next,
        "error": None,
        "done": None,
        "feed_url": None,
    }


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
    with state.db.read() as s:
        free_on = [
            d for d in on_call if user.name in availability.free_people(s, state.policy, d, now)
        ]
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
            "free_on": free_on,
            "triage_scope": [n for n, _ in triage_desks],
            "responder": bool(my_desks),
            "my_desks": my_desks,
        },
        viewer=viewer,
    )
