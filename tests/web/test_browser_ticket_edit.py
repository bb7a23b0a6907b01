# ruff: noqa: F811 - the fixtures imported from the main browser flows are parameters here
"""Editing a ticket in real Chromium: reclassify, watch, convert, the confirmation after
triage, the live refresh and markdown lists (one bullet each)."""

from __future__ import annotations

from typing import Any

from dutydesk.tickets import service
from dutydesk.tickets.schemas import TicketPatch
from tests.web.test_browser import (  # noqa: F401 - the fixtures, shared with the main flows
    Site,
    browser,
    expect,
    pytestmark,
    site,
    tabs,
)


def test_a_lead_reclassifies_and_the_page_confirms(tabs: Any, site: Site) -> None:
    key = site.file("Crash when opening a pinned channel", desk="set", who="sam", kind="bug")
    eva = tabs("eva")
    page = eva.go(f"/tickets/{key}")
    page.locator("#edit-panel summary").click()
    form = page.locator("form.edit-form")
    form.get_by_label("Fix target").select_option("hotfix")
    form.get_by_label("Labels").fill("community-server, ios")
    form.get_by_label("Reported by a customer").check()
    form.get_by_label("Description").fill("Steps to reproduce:\n\n- open a channel\n- pin it")
    eva.shot("ticket-edit-panel")
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash-ok")).to_have_text("Saved.")
    expect(page.locator(".fields")).to_contain_text("community-quality")
    t = site.ticket(key)
    assert (t.fix_target, t.labels, t.customer_reported) == (
        "hotfix",
        ["community-server", "ios"],
        True,
    )
    # The description's list has one bullet per item (the list's own), not two.
    items = page.locator(".description .markdown li")
    expect(items).to_have_count(2)
    marker = items.first.evaluate("li => getComputedStyle(li, '::before').content")
    assert marker in ("none", "normal"), marker


def test_a_comment_list_in_the_timeline_has_one_bullet(tabs: Any, site: Site) -> None:
    key = site.file("Crash when opening a pinned channel", desk="set", who="sam")
    eva = tabs("eva")
    page = eva.go(f"/tickets/{key}")
    page.get_by_label("Add a comment").fill("Tried:\n\n- restart\n- reinstall")
    page.get_by_role("button", name="Comment").click()
    item = page.locator(".timeline .tl-comment .markdown li").first
    expect(item).to_have_text("restart")
    assert item.evaluate("li => getComputedStyle(li, '::before').content") in ("none", "normal")
    assert item.evaluate("li => getComputedStyle(li).listStyleType") == "disc"
    # The timeline's own dots stay on its entries.
    entry = page.locator(".timeline > li").first
    assert entry.evaluate("li => getComputedStyle(li, '::before').content") != "none"


def test_triage_confirms_and_routing_leaves_the_board(tabs: Any, site: Site) -> None:
    key = site.file("Channel header overlaps on small screens", desk="set", who="sam", kind="bug")
    eva = tabs("eva")
    board = eva.go("/desks/set/board")
    expect(eva.column("To do").locator(f"#card-{key}")).to_be_visible()
    page = eva.go(f"/tickets/{key}")
    triage = page.locator("section.triage")
    triage.get_by_label("P2").check()
    triage.get_by_label("Team").select_option("channels")
    triage.get_by_role("button", name="Mark triaged").click()
    expect(page.locator(".flash-ok")).to_contain_text("Triaged: priority P2, team channels")
    expect(page.locator(".flash-ok")).to_contain_text(
        "It left this desk's queue for team channels's view"
    )
    eva.shot("ticket-triage-confirmed")
    board = eva.go("/desks/set/board")
    expect(board.locator(f"#card-{key}")).to_have_count(0)
    view = eva.go("/desks/set/queue?saved=set-channels")
    expect(view.locator(f'a[href="/tickets/{key}"]').first).to_be_visible()


def test_watch_button_and_convert_to_product(tabs: Any, site: Site) -> None:
    key = site.file("Let admins pin messages", desk="set", who="rita", kind="question")
    sam = tabs("sam")
    page = sam.go(f"/tickets/{key}")
    page.get_by_role("button", name="Watch", exact=True).click()
    expect(page.locator(".flash-ok")).to_contain_text("You are watching this ticket")
    expect(page.get_by_role("button", name="Unwatch")).to_be_visible()
    eva = tabs("eva")
    page = eva.go(f"/tickets/{key}")
    convert = page.locator("section[aria-labelledby=convert-h]")
    convert.get_by_label("Into a").select_option("feature-request")
    convert.get_by_label("On desk").select_option("product")
    convert.get_by_role("button", name="Convert").click()
    expect(page.locator(".flash-ok")).to_contain_text("Converted: it continues as PRODUCT-")
    page.locator("#converted-to a").click()
    expect(page.locator("#converted-from")).to_contain_text(key)
    eva.shot("ticket-converted")
    assert site.ticket(key).resolution == "converted"


def test_the_open_ticket_page_updates_live(tabs: Any, site: Site) -> None:
    key = site.file("Crash when opening a pinned channel", desk="set", who="sam")
    eva = tabs("eva")
    page = eva.go(f"/tickets/{key}")
    page.locator("#edit-panel summary").click()  # an open panel stays open across refreshes
    with site.ctx("finn") as ctx:
        service.patch_ticket(ctx, key, TicketPatch(fix_target="release", labels=["ios"]), None)
    expect(page.locator(".fields")).to_contain_text("release", timeout=8000)
    expect(page.locator(".timeline")).to_contain_text("fix target", timeout=8000)
    assert page.locator("#edit-panel").evaluate("d => d.open")
    # While someone types, the page waits instead of replacing their text.
    page.get_by_label("Add a comment").fill("half a thought")
    with site.ctx("finn") as ctx:
        service.patch_ticket(ctx, key, TicketPatch(title="Crash when pinning a channel"), None)
    page.wait_for_timeout(4000)
    expect(page.get_by_label("Add a comment")).to_have_value("half a thought")
