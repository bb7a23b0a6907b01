"""Jira's CSV export ("Export > CSV (all fields)"): one issue per record, with repeated
columns of the same header for comments, labels and components. A comment cell reads
``05/Dec/26 7:09 PM;author;body``. Times are in the exporting user's time zone (``tz``).

Read line by line and decoded line by line: a line that is not UTF-8 costs the record it
belongs to, not the file; UTF-8 with a byte-order mark (Excel's habit) is read as UTF-8.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError

from dutydesk.imports.github import map_labels
from dutydesk.imports.reading import BOM, CountingReader, byte_lines, validation_reason
from dutydesk.imports.records import MAX_LINE_BYTES, ImportRecord, Rejected, Row
from dutydesk.policy.imports import ImportMapping

REQUIRED = ("Issue key", "Summary", "Created")
# Jira's default priority scheme → P0–P3, unless the desk's imports.priorities says otherwise.
JIRA_PRIORITIES = {
    "blocker": "P0",
    "highest": "P0",
    "critical": "P1",
    "high": "P1",
    "major": "P2",
    "medium": "P2",
    "minor": "P3",
    "low": "P3",
    "trivial": "P3",
    "lowest": "P3",
}
_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%Y %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
)


def parse_jira_time(text: str, tz: tzinfo) -> datetime:
    """Jira's "05/Dec/26 7:09 PM" (and its 24-hour and ISO variants) in zone ``tz``."""
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a Jira time (05/Dec/26 7:09 PM, or ISO 8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _text_lines(stream: CountingReader, bad: set[int]) -> Iterator[str]:
    """Physical lines as text, ends kept (the csv module needs them inside quoted cells);
    the number of every line that is not UTF-8 goes into ``bad``."""
    for number, raw in enumerate(byte_lines(stream, MAX_LINE_BYTES), start=1):
        if raw is None:
            bad.add(-number)  # over the size limit
            yield "\n"
            continue
        if number == 1:
            raw = raw.removeprefix(BOM)
        try:
            yield raw.decode("utf-8") + "\n"
        except UnicodeDecodeError:
            bad.add(number)
            yield raw.decode("utf-8", errors="replace") + "\n"


def jira_rows(stream: CountingReader, mapping: ImportMapping, tz: tzinfo) -> Iterator[Row]:
    bad: set[int] = set()
    lines = _text_lines(stream, bad)
    reader = csv.reader(lines, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        yield Row(1, rejected=Rejected(1, "the file is empty: export the issues with a header row"))
        return
    if 1 in bad:
        yield Row(1, rejected=Rejected(1, _not_utf8(1)))
        return
    columns = _columns(header)
    missing = [name for name in REQUIRED if name.lower() not in columns]
    if missing:
        found = ", ".join(h for h in header[:12] if h)
        yield Row(
            1,
            rejected=Rejected(
                1,
                f"the header has no {', '.join(repr(m) for m in missing)} column "
                f"(found: {found}…); export from Jira with “CSV (all fields)”",
            ),
        )
        return
    last = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start, last = last + 1, reader.line_num
            yield Row(start, rejected=Rejected(start, f"not valid CSV: {exc}"))
            continue
        start, last = last + 1, reader.line_num
        spanned = set(range(start, last + 1))
        if spanned & bad or {-n for n in spanned} & bad:
            oversized = bool({-n for n in spanned} & bad)
            reason = "a line is over the size limit" if oversized else _not_utf8(start)
            yield Row(start, rejected=Rejected(start, reason))
            continue
        if not any(c.strip() for c in cells):
            continue
        yield _row(start, cells, columns, mapping, tz)


def _not_utf8(line: int) -> str:
    return (
        f"line {line} is not UTF-8; export again as UTF-8 (Jira does by default) or "
        "convert the file (iconv -f WINDOWS-1252 -t UTF-8)"
    )


def _columns(header: list[str]) -> dict[str, list[int]]:
    """Header name (lower case) → the positions it appears at (repeated columns)."""
    out: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        out.setdefault(name.strip().lower(), []).append(i)
    for alias, name in (("components", "component/s"), ("label", "labels")):
        if alias in out and name not in out:
            out[name] = out[alias]
    return out


def _cells(cells: list[str], columns: dict[str, list[int]], name: str) -> list[str]:
    return [cells[i].strip() for i in columns.get(name, []) if i < len(cells) and cells[i].strip()]


def _cell(cells: list[str], columns: dict[str, list[int]], name: str) -> str | None:
    found = _cells(cells, columns, name)
    return found[0] if found else None


def _row(
    line: int, cells: list[str], columns: dict[str, list[int]], mapping: ImportMapping, tz: tzinfo
) -> Row:
    key = _cell(cells, columns, "issue key")
    try:
        record = _record(cells, columns, mapping, tz)
        return Row(line, ImportRecord.model_validate(record))
    except ValidationError as exc:
        field, reason = validation_reason(exc)
        return Row(line, rejected=Rejected(line, reason, key, field))
    except ValueError as exc:
        return Row(line, rejected=Rejected(line, str(exc), key))


def _record(
    cells: list[str], columns: dict[str, list[int]], mapping: ImportMapping, tz: tzinfo
) -> dict[str, Any]:
    def one(name: str) -> str | None:
        return _cell(cells, columns, name)

    created = one("created")
    resolved = one("resolved")
    fields = map_labels(_cells(cells, columns, "labels"), mapping)
    components = _cells(cells, columns, "component/s")
    priority = one("priority")
    if priority is not None:
        priority = mapping.priorities.get(priority) or JIRA_PRIORITIES.get(
            priority.lower(), priority
        )
    issue_type = one("issue type")
    status = one("status")
    resolution = one("resolution")
    if resolution and resolution.lower() == "unresolved":
        resolution = None
    record: dict[str, Any] = {
        "external_id": one("issue key"),
        "title": one("summary") or "",
        "body": one("description") or "",
        "created": parse_jira_time(created, tz) if created else None,
        "reporter": one("reporter"),
        "labels": fields.pop("labels") + [f"component:{c}"[:60] for c in components[1:]],
        "component": components[0] if components else None,
        "comments": [_comment(c, tz) for c in _cells(cells, columns, "comment")],
        **fields,
    }
    if priority is not None:
        record.setdefault("priority", priority)
    if issue_type and issue_type in mapping.kinds:
        record.setdefault("kind", mapping.kinds[issue_type])
    if status and status in mapping.statuses:
        record["status"] = mapping.statuses[status]
    if resolution:
        record["resolution"] = resolution
        record["resolved"] = parse_jira_time(resolved, tz) if resolved else None
    return record


def _comment(cell: str, tz: tzinfo) -> dict[str, Any]:
    """``date;author;body`` (the body may hold more semicolons)."""
    when, sep, rest = cell.partition(";")
    author, sep2, body = rest.partition(";")
    if not sep or not sep2:
        raise ValueError(f"comment {cell[:40]!r}… is not 'date;author;body'")
    return {"created": parse_jira_time(when, tz), "author": author.strip() or None, "body": body}
