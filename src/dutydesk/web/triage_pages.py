"""The desk's suggestions page: how often triagers accepted what dutydesk suggested (team,
kind, priority), and a look-up of possible duplicates for a few words.

Both read through the triage services the API and CLI use (``accepting.accuracy``,
``service.similar_tickets``); the page adds nothing of its own but the layout.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dutydesk.context import desk_policy
from dutydesk.http.deps import State
from dutydesk.triage import accepting, service
from dutydesk.web.deps import PageRoute, PageViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Words = Annotated[str, Query(max_length=300)]


@router.get("/desks/{desk}/suggestions")
def suggestions_page(
    desk: str, request: Request, state: State, viewer: PageViewer, q: Words = ""
) -> Response:
    policy = desk_policy(state.policy, desk)
    with state.db.read() as s:
        accuracy = accepting.accuracy(s, state.policy, desk)
        similar = (
            service.similar_tickets(s, desk, q, "", state.now(), limit=10) if q.strip() else []
        )
    context: dict[str, Any] = {
        "desk": desk,
        "policy": policy,
        "accuracy": accuracy,
        "q": q,
        "similar": similar,
    }
    return render(request, "desks/suggestions.html", context, viewer=viewer)
