"""Choosing a past handoff in real Chromium: the list of recent handoffs, the date in the
address, and a page that says it shows the tickets as they were then."""

from __future__ import annotations

from typing import Any

import pytest

from dutydesk.web.vendor import missing as vendor_missing
from tests.web import test_browser
from tests.web.test_browser import CHROMIUM, Site, expect

site = test_browser.site
browser = test_browser.browser
tabs = test_browser.tabs

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
    pytest.mark.skipif(bool(vendor_missing()), reason="needs the front-end files: make vendor"),
]


def test_a_past_handoff_is_opened_from_the_list(tabs: Any, site: Site) -> None:
    key = site.file("Release builder disk is full")
    site.triage(key, priority="P0", assignee="ana")
    ana = tabs("ana")
    page = ana.go("/desks/infra/handoff")
    expect(
        page.locator("section", has_text="Open P0/P1").get_by_role("link", name=key)
    ).to_be_visible()
    expect(page.get_by_text("A past handoff")).to_have_count(0)
    recent = page.get_by_role("navigation", name="Recent handoffs")
    links = recent.get_by_role("link")
    expect(links).to_have_count(8)
    older = links.nth(2)
    label = older.inner_text()  # e.g. "Mon 2026-11-16"
    older.click()
    page.wait_for_url(f"**/desks/infra/handoff?date={label.split()[1]}")
    expect(page.locator(".flash", has_text="A past handoff")).to_contain_text(
        "the tickets are shown as they were at"
    )
    expect(page.get_by_role("heading", level=2)).to_contain_text(f"Handoff {label.split()[1]}")
    # filed after that handoff: not in its report
    expect(
        page.locator("section", has_text="Open P0/P1").get_by_role("link", name=key)
    ).to_have_count(0)
    expect(recent.locator('[aria-current="page"]')).to_have_text(label)
    ana.shot("handoff-past", full_page=True)
