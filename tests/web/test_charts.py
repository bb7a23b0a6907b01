"""Report charts: the helper's data, the macro's table and JSON block, the reports index."""

from __future__ import annotations

import json
import re

import pytest

from dutydesk.web.charts import Chart, Series, hours
from dutydesk.web.deps import env
from tests.web.conftest import Web

MACRO = '{% from "reports/_chart.html" import chart %}{{ chart(c) }}'


def _chart(**kw: object) -> Chart:
    base: dict[str, object] = {
        "id": "Tickets per week",
        "title": "Tickets <filed> & done",
        "kind": "line",
        "labels": ["2026-11-02", "2026-11-09"],
        "series": [Series("filed", [3, None]), Series("done </script>", [1.25, 2])],
        "x_title": "week",
        "unit": "h",
        "decimals": 1,
    }
    return Chart(**{**base, **kw})  # type: ignore[arg-type]


def test_a_series_must_have_one_value_per_label() -> None:
    with pytest.raises(ValueError, match="series 'x' has 1 values for 2 labels"):
        Chart("c", "t", "bar", ["a", "b"], [Series("x", [1])])


def test_cells_format_numbers_units_and_gaps() -> None:
    c = _chart()
    assert c.rows() == [
        ("2026-11-02", None, ["3 h", "1.2 h"]),
        ("2026-11-09", None, ["–", "2 h"]),
    ]
    assert c.cell(None) == "–"
    assert c.cell(1234) == "1,234 h"
    assert c.cell(2.0) == "2.0 h"
    assert c.dom_id == "chart-tickets-per-week"
    assert hours(5400) == 1.5 and hours(None) is None


def test_macro_writes_canvas_table_and_escaped_json() -> None:
    html = env.from_string(MACRO).render(c=_chart(links=["/a", "/b"]))
    assert '<canvas role="img"' in html
    assert "Tickets &lt;filed&gt; &amp; done" in html  # the title is escaped
    assert '<a href="/a">2026-11-02</a>' in html
    assert '<td class="num">3 h</td>' in html
    block = re.search(r'<script type="application/json" class="chart-data">(.*?)</script>', html)
    assert block is not None
    assert "</script" not in block.group(1)  # a series name cannot close the data block
    spec = json.loads(block.group(1))
    assert spec["kind"] == "line"
    assert spec["series"][1] == {"name": "done </script>", "values": [1.25, 2]}


def test_an_empty_chart_says_so_instead_of_drawing() -> None:
    html = env.from_string(MACRO).render(c=_chart(series=[Series("filed", [0, None])]))
    assert "Nothing to show for this period." in html
    assert "<canvas" not in html


def test_reports_index_links_every_routed_report(web: Web) -> None:
    ana = web.as_("ana")
    r = ana.get("/desks/infra/reports")
    assert r.status_code == 200
    assert 'href="/desks/infra/reports"' in r.text and 'aria-current="page"' in r.text
    for title in ("Toil", "Queue health", "On-call load", "SET figures"):
        assert title in r.text
    assert ana.get("/desks/nope/reports").status_code == 404
