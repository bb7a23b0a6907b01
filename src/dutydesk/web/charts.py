"""Charts on report pages: what a chart shows, as data the page's script draws and a table.

A page builds a :class:`Chart` (labels along the x axis, one :class:`Series` per line or bar
group) and renders it with the ``chart`` macro of ``reports/_chart.html``. The macro writes
the figure three ways: a ``<canvas>`` that ``static/charts.js`` draws with Chart.js (from npm,
``make vendor``), a ``<table>`` beside it with every number (what screen readers, printouts and
anyone without JavaScript read), and the chart's data in a ``<script type="application/json">``
block (the strict Content-Security-Policy allows no inline script). Series never differ by
colour alone: each has its own fill pattern (bars), dash and point shape (lines), and lines
carry their name at their last point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["bar", "stacked", "line", "hbar"]
Number = int | float | None

_ID = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class Series:
    """One named row of values, one per label (None: no value, drawn as a gap)."""

    name: str
    values: Sequence[Number]


@dataclass(frozen=True)
class Chart:
    """A bar, stacked bar, horizontal bar or line chart with its data table.

    ``unit`` follows each number in the table and the tooltips (``h`` for hours);
    ``links`` optionally makes each label of the table a link (same order as ``labels``).
    """

    id: str
    title: str
    kind: Kind
    labels: Sequence[str]
    series: Sequence[Series]
    x_title: str = ""
    y_title: str = ""
    unit: str = ""
    description: str = ""
    links: Sequence[str] | None = None
    decimals: int = 0

    def __post_init__(self) -> None:
        for s in self.series:
            if len(s.values) != len(self.labels):
                raise ValueError(
                    f"chart {self.id}: series {s.name!r} has {len(s.values)} values "
                    f"for {len(self.labels)} labels"
                )

    @property
    def dom_id(self) -> str:
        return "chart-" + _ID.sub("-", self.id.lower()).strip("-")

    @property
    def empty(self) -> bool:
        return not self.labels or all(v in (None, 0) for s in self.series for v in s.values)

    def spec(self) -> dict[str, Any]:
        """The JSON ``static/charts.js`` reads (no markup: Jinja's ``tojson`` escapes it)."""
        return {
            "kind": self.kind,
            "title": self.title,
            "labels": list(self.labels),
            "series": [{"name": s.name, "values": list(s.values)} for s in self.series],
            "x_title": self.x_title,
            "y_title": self.y_title,
            "unit": self.unit,
            "decimals": self.decimals,
        }

    def cell(self, value: Number) -> str:
        """A number as the table shows it: ``–`` for none, ``decimals`` places, the unit."""
        if value is None:
            return "–"
        text = f"{value:,.{self.decimals}f}" if isinstance(value, float) else f"{value:,}"
        return f"{text} {self.unit}".rstrip() if self.unit else text

    def rows(self) -> list[tuple[str, str | None, list[str]]]:
        """The table's rows: label, its link (or None) and one formatted cell per series."""
        links = list(self.links) if self.links is not None else [None] * len(self.labels)
        return [
            (label, links[i], [self.cell(s.values[i]) for s in self.series])
            for i, label in enumerate(self.labels)
        ]


def hours(seconds: float | int | None, places: int = 1) -> float | None:
    """Seconds as hours for a chart (None stays None)."""
    return None if seconds is None else round(seconds / 3600, places)
