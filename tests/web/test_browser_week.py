"""A team's week in real Chromium at phone and desktop width, light and dark: the pages a lead,
a responder and an admin open during it read without sideways scrolling, and the queue's live
refresh keeps its total and pager true."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import Site, browser, pytestmark, site, tabs  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
expect = sync_api.expect

PHONE = 390


def test_the_queue_live_refresh_updates_the_total_and_the_pager(
    tabs: Any,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    for n in range(50):
        site.file(f"Story {n}: export the weekly report as CSV", desk="product")
    ana = tabs("ana")
    page = ana.go("/desks/product/queue?view=all")
    count = page.locator("#result-count")
    pager = page.get_by_role("navigation", name="Pages")
    expect(count).to_have_text("50 tickets")
    expect(pager).to_contain_text("Page 1 of 1")
    expect(pager.get_by_role("link", name="Next →")).to_have_count(0)
    site.file("Story 50: one more than a page holds", desk="product")
    # The next live refresh brings the new total and a second page, without a reload.
    expect(count).to_have_text("51 tickets, 1–50 shown", timeout=8000)
    expect(pager).to_contain_text("Page 1 of 2")
    pager.get_by_role("link", name="Next →").click()
    expect(page.locator("#result-count")).to_have_text("51 tickets, 51–51 shown")
