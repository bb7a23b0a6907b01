"""The filing form refuses a reporter's fix target (a triager field of the priority of work,
like the top class's label), with the service's words beside the field; nothing is filed."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from dutydesk.tickets.models import Ticket
from tests.web.conftest import Web


def test_the_filing_form_refuses_a_fix_target_from_a_reporter(web: Web) -> None:
    sam = web.as_("sam")
    for target in ("hotfix", "release"):
        r = sam.post(
            "/desks/set/new",
            {"title": "Crash when opening a pinned channel", "kind": "bug", "fix_target": target},
        )
        assert r.status_code == 422, r.text
        assert "triager" in html.unescape(r.text)
    no_csrf = sam.client.post(
        "/desks/set/new", data={"title": "Crash on open", "fix_target": "hotfix"}
    )
    assert no_csrf.status_code == 403
    with web.state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
    filed = web.as_("eva").post(
        "/desks/set/new",
        {"title": "Crash when opening a pinned channel", "kind": "bug", "fix_target": "hotfix"},
    )
    assert filed.status_code == 303, filed.text
    with web.state.db.read() as s:
        assert s.scalar(select(Ticket.fix_target)) == "hotfix"
