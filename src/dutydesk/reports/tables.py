"""A report as tables: what the CLI prints, ``--csv`` writes and the web page shows beside each
chart. Every report model builds its tables from its own fields (pure), so the three ways of
reading a report can never disagree."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str  # what --table and ?table= say: "flow", "slo"…
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Cell) -> str:
    """A cell as CSV holds it; text a spreadsheet would run as a formula (a ticket title like
    ``=HYPERLINK(…)``) is kept as text with a leading apostrophe."""
    text = cell_text(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralised(csv_text: str) -> str:
    """CSV written elsewhere with every text cell that a spreadsheet would run as a formula
    kept as text (a leading apostrophe, as :func:`csv_cell`); numbers such as ``-3`` stay."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(csv_text, newline="")):
        writer.writerow(
            ["'" + c if c.startswith(FORMULA_STARTS) and not _number(c) else c for c in row]
        )
    return buf.getvalue()


def to_csv(table: Table) -> str:
    """RFC 4180 CSV with a header row: what a spreadsheet opens as it is."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def pick(tables: Sequence[Table], name: str | None) -> Table:
    """The table called ``name`` (the first without one); a ValueError names the choices."""
    if name is None:
        return tables[0]
    for t in tables:
        if t.name == name:
            return t
    raise ValueError(f"no table {name!r}; this report has {', '.join(t.name for t in tables)}")
