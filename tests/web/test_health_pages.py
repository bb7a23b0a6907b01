"""Queue health, on-call load and SET figures pages: charts with their tables, the period and
filters in the URL, downloads of the same figures."""

from __future__ import annotations

import json
import re

from dutydesk.tickets import service
from tests.web.conftest import Web


def _chart_specs(html: str) -> dict[str, dict[str, object]]:
    """Each drawn chart's data block, by the id of its figure."""
    found = {}
    for dom_id, body in re.findall(r'<figure class="chart" id="([^"]+)"(.*?)</figure>', html, re.S):
        block = re.search(r'class="chart-data">(.*?)</script>', body, re.S)
        if block:
            found[dom_id] = json.loads(block.group(1))
    return found


def test_queue_page_draws_flow_ages_and_lists(web: Web) -> None:
    a = web.file("Quota for the perf pool is nearly gone")
    web.file("Mirror the toolchain bucket")
    web.triage(a, priority="P1", assignee="chen")
    ana = web.as_("ana")
    r = ana.get("/desks/infra/reports/queue?from=2026-11-16&to=2026-11-29")
    assert r.status_code == 200, r.text
    specs = _chart_specs(r.text)
    flow = specs["chart-queue-flow"]
    assert flow["labels"] == ["2026-W47", "2026-W48"]
    assert flow["series"] == [
        {"name": "New", "values": [0, 1]},
        {"name": "Triaged", "values": [0, 1]},
        {"name": "In progress", "values": [0, 0]},
    ]
    assert "chart-queue-ages" in specs
    assert 'id="r-from" name="from" type="date" value="2026-11-16"' in r.text
    assert (
        "/api/v1/desks/infra/reports/queue?from=2026-11-16&amp;to=2026-11-29&amp;format=csv"
        in r.text
    )
    assert 'id="queue-unowned"' in r.text and "Mirror the toolchain bucket" in r.text
    # The download link answers the same figures to the browser session.
    csv_text = ana.get(
        "/api/v1/desks/infra/reports/queue?from=2026-11-16&to=2026-11-29&format=csv"
    ).text
    assert csv_text.splitlines()[-1].startswith("2026-W48,")


def test_oncall_and_set_pages(web: Web) -> None:
    key = web.file(
        "Crash on login", desk="set", who="eva", kind="bug", team="mobile", assignee="eva"
    )
    with web.ctx("eva") as ctx:
        service.move(ctx, key, "Done", "fixed", None, None)
    eva = web.as_("eva")
    r = eva.get("/desks/infra/reports/oncall?from=2026-11-16&to=2026-11-29")
    assert r.status_code == 200, r.text
    specs = _chart_specs(r.text)
    # Up to now (Mon 23 Nov 09:00): ana until Mon 16 Nov 10:00, then bo.
    assert specs["chart-oncall-hours"]["labels"] == ["ana", "bo"]
    assert 'id="oncall-shifts"' in r.text
    r = eva.get("/desks/set/reports/set?from=2026-11-16&to=2026-11-29&area=team")
    assert r.status_code == 200, r.text
    specs = _chart_specs(r.text)
    assert specs["chart-set-resolved"]["series"][0] == {"name": "bugs resolved", "values": [0, 1]}
    assert specs["chart-set-areas"]["series"] == [{"name": "mobile", "values": [0, 1]}]
    assert '<option value="team" selected>' in r.text
    r = eva.get("/desks/set/reports/set?from=2026-11-16&to=2026-11-29&area=label")
    assert '<option value="label" selected>' in r.text and "area=label" in r.text


def test_bad_period_and_unknown_desk(web: Web) -> None:
    ana = web.as_("ana")
    r = ana.get("/desks/infra/reports/queue?from=2026-12-01&to=2026-11-01")
    assert r.status_code == 422 and "from" in r.text
    assert ana.get("/desks/nope/reports/oncall").status_code == 404
    assert ana.get("/desks/set/reports/set?area=planet").status_code == 422
