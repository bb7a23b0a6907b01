"""Queue health, on-call load and SET figures in real Chromium: every chart drawn under the
CSP (no violation), its table beside it, the period form putting the period in the URL."""

from __future__ import annotations

from typing import Any

from dutydesk.oncall.reads import on_call_desk
from dutydesk.tickets import service
from tests.web.test_browser import Site, browser, expect, pytestmark, site, tabs  # noqa: F401

DRAWN_PIXELS = """() => [...document.querySelectorAll('figure.chart canvas')].map(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
    return n; })"""


def _all_drawn(page: Any) -> None:
    figures = page.locator("figure.chart:has(canvas)")
    assert figures.count() >= 2
    expect(page.locator("figure.chart.chart-drawn")).to_have_count(figures.count())
    drawn = page.evaluate(DRAWN_PIXELS)
    assert drawn and all(n > 100 for n in drawn), drawn


def test_health_reports_draw_under_the_csp(tabs: Any, site: Site) -> None:  # noqa: F811
    keys = [site.file(f"Raise the quota for pool {n}") for n in ("a", "b", "c")]
    site.triage(keys[0], priority="P1", assignee="ana")
    with site.state.db.read() as s:
        on_call = on_call_desk(s, site.state.policy, "infra", site.state.now()).layers[0].person
    site.triage(keys[1], who=on_call, priority="P2")
    with site.ctx("ana") as ctx:
        service.move(ctx, keys[0], "In progress", None, None, None)
    bug = site.file(
        "Crash on login",
        desk="set",
        who="eva",
        kind="bug",
        team="mobile",
        assignee="eva",
        customer_reported=True,
    )
    with site.ctx("eva") as ctx:
        service.move(ctx, bug, "Done", "fixed", None, None)
    ana = tabs("ana")

    page = ana.go("/desks/infra/reports")
    page.get_by_role("link", name="Queue health").first.click()
    page.wait_for_url("**/desks/infra/reports/queue")
    _all_drawn(page)
    expect(page.locator("#chart-queue-flow table tbody tr").last).to_contain_text("2")
    expect(page.locator("#queue-unowned")).to_contain_text(keys[2])
    ana.shot("report-queue-health", full_page=True)

    page.get_by_role("link", name="On-call load").click()
    page.wait_for_url("**/desks/infra/reports/oncall?*")
    _all_drawn(page)
    expect(page.locator("#oncall-shifts tbody tr").last).to_contain_text(on_call)
    expect(page.locator("#chart-oncall-work table tbody")).to_contain_text(on_call)
    ana.shot("report-oncall-load", full_page=True)

    page = ana.go("/desks/set/reports/set")
    _all_drawn(page)
    page.get_by_label("Bugs by", exact=True).select_option("label")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/desks/set/reports/set?*area=label*")
    expect(page.locator("#chart-set-resolved table tbody")).to_contain_text("1")
    page.get_by_label("Bugs by", exact=True).select_option("team")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**area=team*")
    expect(page.locator("#chart-set-areas table thead")).to_contain_text("mobile")
    ana.shot("report-set-figures", full_page=True)
