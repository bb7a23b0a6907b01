"""The week's rituals in real Chromium: Tuesday's status post (a note, copy as Markdown, post
now), the release calendar and a meeting's agenda, Monday's handoff with a handoff note."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dutydesk.notify.models import OutboxMessage
from dutydesk.tickets import service
from dutydesk.web.vendor import missing as vendor_missing
from tests.web import test_browser
from tests.web.test_browser import CHROMIUM, Site, expect

# The browser module's fixtures: one server, one Chromium for this module too.
site = test_browser.site
browser = test_browser.browser
tabs = test_browser.tabs

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
    pytest.mark.skipif(bool(vendor_missing()), reason="needs the front-end files: make vendor"),
]


def test_the_status_post_from_the_board(tabs: Any, site: Site) -> None:
    key = site.file("Crash when opening a pinned channel", desk="set", kind="bug")
    with site.ctx("eva") as ctx:
        service.assign(ctx, key, "finn", None)
    with site.ctx("eva") as ctx:
        service.move(ctx, key, "In progress", None, None, None)
    with site.ctx("eva") as ctx:
        pr = "https://github.com/acme/chat/pull/42"
        service.move(ctx, key, "Submitted", None, None, None, pr_link=pr)
    eva = tabs("eva")
    eva.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page = eva.go("/desks/set/board")
    page.get_by_role("link", name="Status post").click()
    page.wait_for_url("**/desks/set/status-post")
    post = page.locator("[data-status-post]")
    expect(post).to_contain_text("Bug fix PRs submitted in the last 7 days: 1")
    post.locator('[data-figure="submitted"]').click()
    behind = page.locator("#fig-submitted + table")
    expect(behind.get_by_role("link", name=key)).to_be_visible()
    expect(behind).to_contain_text("first PR link added")

    page.get_by_label("Add a note or qualifier for this week").fill("Release 11.2 is cut Friday")
    page.get_by_label("Add a note or qualifier for this week").press("Enter")
    expect(page.locator(".flash-ok")).to_have_text("note added")
    expect(post).to_contain_text("Release 11.2 is cut Friday")

    page.get_by_role("button", name="Copy as Markdown").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#post-markdown").input_value()
    assert (
        copied.startswith("#set-update #set-update-") and "* Release 11.2 is cut Friday" in copied
    )

    page.get_by_role("button", name="Post now to set-chat").click()
    expect(page.locator(".flash-ok")).to_have_text("posted to set-chat")
    with site.state.db.read() as s:
        posted = s.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.channel == "set-chat")
        ).all()
    assert any(k.startswith("msg:job:status-post:set:") for k in posted)
    eva.shot("status-post", full_page=True)

    page.get_by_role("button", name="Remove the note Release 11.2 is cut Friday").click()
    expect(page.locator(".flash-ok")).to_have_text("note removed")
    page.get_by_role("link", name="←").first.click()
    expect(page.locator("[data-status-post]")).to_be_visible()

    phone = tabs("finn", width=390)
    small = phone.go("/desks/set/status-post")
    expect(small.locator("[data-status-post]")).to_be_visible()
    expect(small.get_by_role("button", name="Post now to set-chat")).to_have_count(0)
    phone.shot("status-post-phone", full_page=True)


def test_release_calendar_and_an_agenda(tabs: Any, site: Site) -> None:
    eva = tabs("eva")
    page = eva.go("/desks/set/meetings")
    page.get_by_label("Release", exact=True).fill("11.3")
    page.get_by_label("on", exact=True).fill("2027-03-12")
    page.get_by_role("button", name="Add release").click()
    expect(page.locator(".flash-ok")).to_have_text("release 11.3 is on 2027-03-12")
    row = page.locator("tr", has_text="11.3")
    row.get_by_label("New date of 11.3").fill("2027-03-19")
    row.get_by_label("Why 11.3 moves").fill("a blocker found in QA")
    row.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(".flash-ok")).to_have_text("release 11.3 moved to 2027-03-19")
    expect(page.locator("main")).to_contain_text("a blocker found in QA")
    eva.shot("meetings", full_page=True)
    page.get_by_role("link", name="agenda").first.click()
    expect(page.locator("main h2").first).to_contain_text("meeting,")
    eva.shot("agenda", full_page=True)


def test_a_handoff_note_in_the_report_and_the_timeline(tabs: Any, site: Site) -> None:
    key = site.file("Quota for the web builders is almost used up")
    site.triage(key, priority="P1", assignee="ana")
    ana = tabs("ana")
    page = ana.go("/desks/infra/board")
    page.get_by_role("link", name="Handoff").click()
    page.wait_for_url("**/desks/infra/handoff")
    page.get_by_label("Leave a handoff note on ticket").fill(key)
    page.get_by_label("What the incoming on-call should know").fill(
        "Quota raise requested; **ping the vendor Tuesday**"
    )
    page.get_by_role("button", name="Add handoff note").click()
    expect(page.locator(".flash-ok")).to_have_text(f"handoff note left on {key}")
    notes = page.locator(".handoff-notes")
    expect(notes.get_by_role("link", name=key)).to_be_visible()
    expect(notes.locator("strong", has_text="ping the vendor Tuesday")).to_be_visible()
    ana.shot("handoff", full_page=True)
    notes.get_by_role("link", name=key).click()
    expect(page.locator(".badge-handoff")).to_have_text("handoff note")
    expect(page.locator(".timeline")).to_contain_text("Quota raise requested")
