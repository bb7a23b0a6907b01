"""The status post, meetings, agenda and handoff pages: what they show and every write they
offer, through the same services as the API (role checks and CSRF included)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from dutydesk.notify.models import OutboxMessage
from dutydesk.tickets import service
from tests.conftest import ManualClock
from tests.web.conftest import Web

PR = "https://github.com/acme/chat/pull/7"


def test_status_post_page_figures_notes_and_post_now(web: Web, clock: ManualClock) -> None:
    key = web.file("Crash on pinned channel", desk="set", kind="bug", customer_reported=True)
    web.run("eva", lambda ctx: service.assign(ctx, key, "finn", None))
    web.run("eva", lambda ctx: service.move(ctx, key, "In progress", None, None, None))
    web.run("eva", lambda ctx: service.move(ctx, key, "Submitted", None, None, None, pr_link=PR))
    lead = web.as_("eva")
    page = lead.get("/desks/set/status-post")
    assert page.status_code == 200, page.text
    html = page.text
    assert "#set-update #set-update-2026-11-24" in html  # this week's post: Tue Nov 24
    # Each figure links to the list of its tickets, which links each ticket.
    assert re.search(r'href="#fig-submitted" data-figure="submitted">1<', html)
    assert re.search(r'href="#fig-submitted-customers" data-figure="submitted-customers">1<', html)
    assert f'<a href="/tickets/{key}">{key}</a>' in html and "first PR link added" in html
    assert "/desks/set/reports/toil?from=2026-11-17&amp;to=2026-11-24" in html
    assert "/desks/set/reports/set?from=2026-11-17&amp;to=2026-11-24" in html  # its figures
    assert "/desks/set/reports/queue?from=2026-11-17&amp;to=2026-11-24" in html
    assert "Bug fix PRs submitted in the last 7 days: 1 (1 reported by customer)" in html

    r = lead.post("/desks/set/status-post/notes", {"text": "Release 11.2 is cut on Friday"})
    assert r.status_code == 303 and "done=note+added" in r.headers["location"]
    html = lead.get("/desks/set/status-post").text
    assert "<li>Release 11.2 is cut on Friday</li>" in html
    note_id = re.search(r"/status-post/notes/(\d+)/remove", html)
    assert note_id is not None
    r = lead.post(f"/desks/set/status-post/notes/{note_id.group(1)}/remove", {})
    assert r.status_code == 303 and "done=note+removed" in r.headers["location"], r.headers
    assert "<li>Release 11.2 is cut on Friday</li>" not in lead.get("/desks/set/status-post").text

    member = web.as_("finn")
    shown = member.get("/desks/set/status-post").text
    assert "Post now" not in shown and "Add note" not in shown
    r = member.post("/desks/set/status-post/notes", {"text": "sneaky"})
    assert r.status_code == 303 and "error=" in r.headers["location"]
    refused = member.get(r.headers["location"]).text
    assert "add status notes" in refused and "sneaky" not in refused.split("flash-error")[0]
    no_csrf = member.client.post("/desks/set/status-post/notes", data={"text": "x"})
    assert no_csrf.status_code == 403

    r = lead.post("/desks/set/status-post/publish", {})
    assert r.status_code == 303 and "posted+to+set-chat" in r.headers["location"]
    with web.state.db.read() as s:
        sent = list(s.scalars(select(OutboxMessage).where(OutboxMessage.desk == "set")))
    posts = [m for m in sent if m.dedupe_key.startswith("msg:job:status-post:set:2026-11-24")]
    assert len(posts) == 1 and posts[0].channel == "set-chat"
    again = lead.post("/desks/set/status-post/publish", {})
    assert "gone+out+already" in again.headers["location"]

    preview = lead.get("/desks/set/status-post?date=2026-12-08").text
    assert "#set-update-2026-12-08" in preview and "Preview" in preview
    assert lead.get("/desks/set/status-post?date=2026-02-30").status_code == 422
    assert lead.get("/desks/infra/status-post").status_code == 404


def test_meetings_page_release_calendar_and_a_past_agenda(web: Web, clock: ManualClock) -> None:
    key = web.file("Reactions vanish after reload", desk="set", kind="bug")
    lead = web.as_("eva")
    r = lead.post("/desks/set/releases", {"name": "11.2", "on": "2026-12-04"})
    assert r.status_code == 303 and "error" not in r.headers["location"], r.headers["location"]
    page = lead.get("/desks/set/meetings").text
    assert "Fri 2026-12-04" in page and "eva added 11.2" in page
    assert 'action="/desks/set/releases/11.2/move"' in page
    r = lead.post("/desks/set/releases/11.2/move", {"on": "2026-12-11", "note": "QA blocker"})
    assert r.status_code == 303 and "moved+to+2026-12-11" in r.headers["location"]
    assert "QA blocker" in lead.get("/desks/set/meetings").text
    member = web.as_("finn")
    assert "Add release" not in member.get("/desks/set/meetings").text
    refused = member.post("/desks/set/releases", {"name": "12.0", "on": "2027-01-16"})
    assert "error=" in refused.headers["location"]

    clock.advance(days=2)  # Wed Nov 25: the ticket is triaged and done after Tuesday
    web.triage(key, who="eva", priority="P2", team="mobile")
    page = lead.get("/desks/set/meetings").text
    assert "/desks/set/agenda?meeting=triage&amp;date=2026-11-24" in page
    past = lead.get("/desks/set/agenda?meeting=triage&date=2026-11-24").text
    assert "A past meeting" in past
    awaiting = past.split("Awaiting triage")[1].split("</section>")[0]
    assert f'<a href="/tickets/{key}">{key}</a>' in awaiting
    upcoming = lead.get("/desks/set/agenda?meeting=triage").text
    assert "A past meeting" not in upcoming
    assert key not in upcoming.split("Awaiting triage")[1].split("</section>")[0]


def test_handoff_page_with_a_handoff_note(web: Web, clock: ManualClock) -> None:
    key = web.file("Runner pool is draining")
    web.triage(key, priority="P1", assignee="ana")
    clock.advance(hours=3)
    oncall = web.as_("ana")
    page = oncall.get("/desks/infra/handoff")
    assert page.status_code == 200, page.text
    assert f'<option value="{key}">' in page.text
    r = oncall.post(
        "/desks/infra/handoff/notes", {"key": key, "text": "Vendor answers **Tuesday**"}
    )
    assert r.status_code == 303 and "handoff+note+left" in r.headers["location"]
    html = oncall.get("/desks/infra/handoff").text
    notes = html.split('id="notes-h"')[1].split("</section>")[0]
    assert f'<a href="/tickets/{key}">{key}</a>' in notes
    assert "<strong>Tuesday</strong>" in notes  # markdown, sanitized
    assert "Handoff notes (1)" in html and "Vendor answers **Tuesday**" in html  # the Markdown
    ticket = oncall.get(f"/tickets/{key}").text
    assert "handoff note" in ticket and "Vendor answers" in ticket
    assert "/desks/infra/reports/toil?from=" in html
    assert "/desks/infra/reports/oncall?from=" in html  # how heavy the shift was
    reporter = web.as_("rita")
    assert "Add handoff note" not in reporter.get("/desks/infra/handoff").text
    wrong = oncall.post("/desks/infra/handoff/notes", {"key": "SET-1", "text": "x"})
    assert "error=" in wrong.headers["location"]
    earlier = oncall.get("/desks/infra/handoff?date=2026-11-16")
    assert earlier.status_code == 200 and "Handoff 2026-11-16" in earlier.text
    assert (clock.now - timedelta(hours=3)).date().isoformat() == "2026-11-23"


def test_the_rotations_current_lead_gets_the_lead_forms(web: Web, clock: ManualClock) -> None:
    """gus leads SET's rotation this shift without the lead role: the status post's note form
    and the release calendar's editor are his, as the services allow; finn gets neither."""
    gus, finn = web.as_("gus").get("/desks/set/status-post").text, web.as_("finn")
    assert 'action="/desks/set/status-post/notes"' in gus
    assert 'action="/desks/set/status-post/notes"' not in finn.get("/desks/set/status-post").text
    assert 'action="/desks/set/releases"' in web.as_("gus").get("/desks/set/meetings").text
    assert 'action="/desks/set/releases"' not in finn.get("/desks/set/meetings").text
