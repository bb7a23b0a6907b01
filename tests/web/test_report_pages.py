"""Report pages over HTTP: the index, the toil page's charts and tables, following by form."""

from __future__ import annotations

import json
import re

from tests.web.conftest import Web


def _builders(web: Web) -> list[str]:
    return [
        web.file(f"Add a LUCI builder for {name}", category="config-request")
        for name in ("mac arm", "linux arm", "windows")
    ]


def test_index_links_the_routed_reports_with_the_period(web: Web) -> None:
    ana = web.as_("ana")
    r = ana.get("/desks/infra/reports")
    assert r.status_code == 200
    assert 'href="/desks/infra/reports/toil"' in r.text
    assert 'href="/desks/infra/reports"' in r.text  # the desk's Reports tab


def test_toil_page_has_charts_tables_and_downloads(web: Web) -> None:
    _builders(web)
    ana = web.as_("ana")
    r = ana.get("/desks/infra/reports/toil?from=2026-11-01&to=2026-11-30")
    assert r.status_code == 200, r.text
    assert '<script src="/static/charts.js" defer></script>' in r.text
    assert 'value="2026-11-01"' in r.text and 'value="2026-11-30"' in r.text
    assert (
        'href="/api/v1/desks/infra/reports/toil?from=2026-11-01&amp;to=2026-11-30&amp;format=csv"'
        in r.text
    )
    assert 'href="/desks/infra/reports/toil?from=2026-11-01&amp;to=2026-11-30"' in r.text
    blocks = re.findall(
        r'<script type="application/json" class="chart-data">(.*?)</script>', r.text
    )
    specs = {json.loads(b)["title"]: json.loads(b) for b in blocks}
    flow = specs["Filed, done, re-opened and bounced per week"]
    assert flow["series"][0] == {
        "name": "filed",
        "values": [0, 0, 0, 0, 3, 0],
    }  # Sun 1 Nov .. Mon 30 Nov: 6 weeks
    assert "<script>" not in r.text  # no inline script, only data blocks and files
    assert r.text.count('<table class="chart-table">') == len(blocks)
    assert "3 tickets" in r.text and 'name="words" value="add luci builder"' in r.text


def test_following_by_form_needs_the_token_and_a_responder(web: Web) -> None:
    _builders(web)
    ana = web.as_("ana")
    back = "/desks/infra/reports/toil?from=2026-11-01&to=2026-11-30"
    form = {"name": "Builder requests", "words": "add luci builder", "back": back}
    refused = ana.client.post("/desks/infra/reports/toil/follow", data=form)
    assert refused.status_code == 403
    r = ana.post("/desks/infra/reports/toil/follow", form)
    assert r.status_code == 303
    assert r.headers["location"].startswith(back + "&followed=now+following")
    page = ana.get(r.headers["location"])
    assert "Followed requests per week" in page.text
    assert "Builder requests — " in page.text
    off_site = ana.post("/desks/infra/reports/toil/follow", {**form, "name": "x", "back": "//evil"})
    assert off_site.headers["location"].startswith("/desks/infra/reports/toil?followed=")
    rita = web.as_("rita")
    assert 'name="name"' not in rita.get(back).text  # no follow form for a reporter
    assert rita.post("/desks/infra/reports/toil/follow", form).status_code == 403


def test_bad_periods_are_4xx_pages(web: Web) -> None:
    ana = web.as_("ana")
    assert ana.get("/desks/infra/reports/toil?from=2026-12-01&to=2026-11-01").status_code == 422
    assert ana.get("/desks/infra/reports/toil?from=yesterday").status_code == 422
    assert ana.get("/desks/nope/reports/toil").status_code == 404
