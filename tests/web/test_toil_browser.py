"""The toil report in real Chromium: charts drawn under the CSP, tables beside them, following
a recurring request from its cluster."""

from __future__ import annotations

from typing import Any

from dutydesk.tickets import service
from tests.web.test_browser import Site, browser, expect, pytestmark, site, tabs  # noqa: F401


def test_toil_report_draws_its_charts_and_follows_a_cluster(tabs: Any, site: Site) -> None:  # noqa: F811
    keys = [
        site.file(f"Add a LUCI builder for {name}", category="config-request")
        for name in ("mac arm", "linux arm", "windows", "fuchsia")
    ]
    site.file("Quota almost out for mac builders", kind="incident", category="quota")
    for key in keys[:2]:
        site.triage(key, priority="P1", assignee="ana")
        with site.ctx("ana") as ctx:
            service.move(ctx, key, "Done", "fixed", None, None)
    ana = tabs("ana")
    page = ana.go("/desks/infra/reports")
    page.get_by_role("link", name="Toil").first.click()
    page.wait_for_url("**/desks/infra/reports/toil")
    figures = page.locator("figure.chart:has(canvas)")  # a chart with nothing to show has none
    assert figures.count() >= 3
    expect(page.locator("figure.chart.chart-drawn")).to_have_count(figures.count())
    # Chart.js drew on each canvas (pixels set), and each table holds the numbers.
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('figure.chart canvas')].map(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
            return n; })"""
    )
    assert all(n > 100 for n in drawn), drawn
    flow = page.locator("#chart-toil-flow table")
    expect(flow.locator("thead th")).to_have_text(
        ["week of", "filed", "done", "re-opened", "bounced"]
    )
    assert "5" in flow.locator("tbody").inner_text()
    expect(page.locator("#toil-categories")).to_contain_text("config-request")
    cluster = page.locator("article.cluster").first
    expect(cluster).to_contain_text("4 tickets")
    expect(cluster.locator("h4")).to_contain_text("builder")
    ana.shot("toil-report", full_page=True)

    cluster.get_by_label("Follow as").fill("Builder requests")
    cluster.get_by_role("button", name="Follow").click()
    page.wait_for_url("**/reports/toil?*followed=*")
    expect(page.get_by_role("status")).to_contain_text("now following “Builder requests”")
    expect(page.locator("#chart-toil-followed")).to_have_class("chart chart-drawn")
    expect(page.locator("article.cluster h4").first).to_contain_text("Builder requests")
    page.get_by_role("button", name="Stop following").click()
    expect(page.get_by_role("status")).to_contain_text("stopped following")
    expect(page.locator("#chart-toil-followed")).to_have_count(0)
