"""The rotation's current lead uses the desk's lead powers from the web pages (CSRF
included): gus leads SET's 16 Nov - 16 Dec shift with no lead role; finn is a plain member;
after the 16 Dec handoff gus is refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.reports.models import StatusNote
from tests.conftest import ManualClock
from tests.web.conftest import Web

HANDOFF = datetime(2026, 12, 16, 15, tzinfo=UTC)  # 10:00 in Toronto: hana leads SET now


def test_lead_powers_from_the_web_pages(web: Web, clock: ManualClock) -> None:
    gus, finn = web.as_("gus"), web.as_("finn")
    r = gus.post("/desks/set/status-post/notes", {"text": "Release 11.2 is cut on Friday"})
    assert r.status_code == 303 and "done=note+added" in r.headers["location"], r.headers
    with web.state.db.read() as s:
        note = s.scalars(select(StatusNote)).one()
        assert s.scalar(select(User.name).where(User.id == note.author_id)) == "gus"
    r = finn.post(f"/desks/set/status-post/notes/{note.id}/remove", {})
    assert r.status_code == 303 and "error=" in r.headers["location"]
    assert "remove status notes" in finn.get(r.headers["location"]).text
    no_csrf = gus.client.post("/oncall/set/overrides", data={"person": "jo", "end": "2026-12-02"})
    assert no_csrf.status_code == 403
    form = {"person": "jo", "replaces": "ivan", "start": "2026-12-01", "end": "2026-12-02"}
    done = gus.post("/oncall/set/overrides", form)
    assert done.status_code == 303 and "done=override" in done.headers["location"], done.text
    refused = finn.post(
        "/oncall/set/overrides", {**form, "start": "2026-12-04", "end": "2026-12-05"}
    )
    assert refused.status_code == 403 and "only ivan or jo, or a lead of desk set" in refused.text
    clock.now = HANDOFF
    gus = web.as_("gus")  # a new session: the old one has expired in a month
    late = gus.post("/desks/set/status-post/notes", {"text": "still leading?"})
    assert late.status_code == 303 and "error=" in late.headers["location"]
    assert re.search(
        r"hana leads set(&#39;|')s rotation now", gus.get(late.headers["location"]).text
    )
    later = gus.post("/oncall/set/overrides", {**form, "start": "2027-01-04", "end": "2027-01-05"})
    assert later.status_code == 403 and "only ivan or jo, or a lead of desk set" in later.text


def test_only_who_may_cancel_time_off_is_offered_the_cancel_button(web: Web) -> None:
    """ivan's sick day: ivan and the rotation's lead (gus) may cancel it and see the button;
    finn, a team-mate on another team, sees the absence without the button or the reason."""
    done = web.as_("ivan").post(
        "/oncall/time-off", {"person": "ivan", "start": "2026-12-03", "end": "2026-12-04"}
    )
    assert done.status_code == 303 and "error=" not in done.headers["location"], done.text
    cancel = re.compile(r'action="/oncall/time-off/\d+/cancel"')
    for name, offered in [("ivan", True), ("gus", True), ("finn", False)]:
        page = web.as_(name).get("/oncall").text
        assert "Time off" in page and "ivan" in page
        assert bool(cancel.search(page)) is offered, name
