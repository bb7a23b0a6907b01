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


CONTRAST = """el => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const a = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92
    : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; };
  const cs = getComputedStyle(el);
  const a = lum(rgb(cs.color)), b = lum(rgb(cs.backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def _fits(page: Any, width: int) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width + 1, (page.url, wide)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_weeks_pages_fit_a_phone(tabs: Any, site: Site, scheme: str) -> None:  # noqa: F811
    from dutydesk.tickets import service

    # Monday's handoff agenda lists open urgent tickets on long lines; Tuesday's post explains
    # each figure with the PR link that counted it.
    key = site.file("Presubmit queue is backed up: 120 builds waiting for android release bots")
    site.triage(key, priority="P1", assignee="bo")
    bug = site.file(
        "Crash when opening a channel with 1500 pinned messages", desk="set", kind="bug"
    )
    pr = "https://git.example.com/chat/server/pull/40240?files=changed&whitespace=ignored"
    with site.ctx("eva") as ctx:
        service.assign(ctx, bug, "finn", None)
    with site.ctx("eva") as ctx:
        service.move(ctx, bug, "In progress", None, None, None)
    with site.ctx("eva") as ctx:
        service.move(ctx, bug, "Submitted", None, None, None, pr_link=pr)
    dee = tabs("dee", PHONE, scheme)
    page = dee.go("/desks/infra/agenda?meeting=handoff")
    # The handoff report reads as rendered Markdown, each ticket it names a link.
    expect(page.locator(".agenda-text").get_by_role("link", name=key)).to_be_visible()
    expect(page.locator(".agenda-text")).not_to_contain_text("**")
    _fits(page, PHONE)
    dee.shot(f"week-handoff-agenda-{scheme}-{PHONE}", full_page=True)
    page = dee.go("/oncall")
    expect(page.get_by_test_id("time-off-form").get_by_role("button")).to_be_visible()
    _fits(page, PHONE)
    dee.shot(f"week-oncall-{scheme}-{PHONE}", full_page=True)
    eva = tabs("eva", PHONE, scheme)
    page = eva.go("/desks/set/status-post")
    expect(page.locator("#fig-submitted + table")).to_contain_text(pr)
    _fits(page, PHONE)
    eva.shot(f"week-status-post-{scheme}-{PHONE}", full_page=True)


def test_a_lead_enters_a_sick_day_and_a_refusal_names_the_field(
    tabs: Any,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    dee = tabs("dee", PHONE, "dark")
    page = dee.go("/oncall")
    form = page.get_by_test_id("time-off-form")
    # The lead picks whom the time off is for from the desk's people as they type.
    offered = page.eval_on_selector_all("#time-off-people option", "os => os.map(o => o.value)")
    assert "ana" in offered and "bo" in offered, offered
    form.get_by_label("Who").fill("nobody")
    form.get_by_label("First day off").fill("2027-03-09")
    form.get_by_label("Last day off").fill("2027-03-09")
    form.get_by_role("button", name="Enter time off").click()
    error = page.get_by_test_id("oncall-error")
    expect(error).to_have_text("Who: no user named 'nobody'; give a person's login name")
    form = page.get_by_test_id("time-off-form")
    form.get_by_label("Who").fill("ana")
    form.get_by_label("First day off").fill("2027-03-10")
    form.get_by_label("Last day off").fill("2027-03-09")
    form.get_by_role("button", name="Enter time off").click()
    expect(page.get_by_test_id("oncall-error")).to_contain_text("Last day off: ")
    form = page.get_by_test_id("time-off-form")
    form.get_by_label("Who").fill("ana")
    form.get_by_label("First day off").fill("2027-03-09")
    form.get_by_label("Last day off").fill("2027-03-09")
    form.get_by_label("Reason").fill("sick")
    # Keyboard only: Enter on the focused button sends the form.
    form.get_by_role("button", name="Enter time off").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("time-off")).to_contain_text("Ana Alvarez")
    _fits(page, PHONE)


def test_a_token_is_revoked_from_a_phone_with_the_keyboard(
    tabs: Any,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    ana = tabs("ana", PHONE, "dark")
    page = ana.go("/me/tokens")
    page.get_by_label("What is it for?").fill("laptop CLI")
    page.get_by_label("What is it for?").press("Enter")
    expect(page.locator("#new-token")).to_be_visible()
    revoke = page.get_by_role("button", name="Revoke token laptop CLI")
    expect(revoke).to_be_visible()  # a table's actions stay at phone width
    expect(revoke).to_be_in_viewport()  # without scrolling the table sideways
    revoke.focus()
    page.keyboard.press(" ")
    expect(page.get_by_role("row", name="laptop CLI")).to_contain_text("revoked")
    admin = tabs("admin", PHONE, "light")
    page = admin.go("/admin/users")
    expect(page.get_by_role("columnheader", name="Standing")).to_be_visible()


def test_dark_theme_badges_stay_readable(tabs: Any, site: Site) -> None:  # noqa: F811
    from dutydesk.oncall import handoff

    key = site.file("Devicelab bot mac-14 is offline since this morning")
    site.triage(key, priority="P1", assignee="ana")
    with site.ctx("dee") as ctx:
        handoff.add_handoff_note(ctx, key, "Waiting on the lab to power-cycle it.")
    ana = tabs("ana", 1400, "dark")
    page = ana.go(f"/tickets/{key}")
    badge = page.locator(".badge-handoff").first
    expect(badge).to_be_visible()
    ratio = badge.evaluate(CONTRAST)
    assert ratio >= 4.5, ratio
