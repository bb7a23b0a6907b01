"""GitHub issues: the JSON array GitHub's REST API returns (``GET /repos/O/R/issues``), the
output of ``gh issue list --json number,title,body,author,createdAt,closedAt,state,labels,
comments,url``, or either as JSON Lines. Pull requests are skipped.

The array is read item by item (ijson): memory holds one issue, never the file. A file cut
off inside an item reports that item as truncated; the items before it are imported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import ijson
from pydantic import ValidationError

from dutydesk.imports.reading import BOM, CountingReader, byte_lines, decode, validation_reason
from dutydesk.imports.records import ImportRecord, Rejected, Row
from dutydesk.policy.imports import ImportMapping

# GitHub's state_reason (REST) / stateReason (gh) → resolution. GitHub's "duplicate" names
# no original, and a duplicate needs one here, so it imports as won't-fix.
STATE_REASONS = {
    "completed": "fixed",
    "not_planned": "wont-fix",
    "duplicate": "wont-fix",
    "reopened": None,
}


class _Peek:
    """A binary stream whose first bytes were read to tell an array from JSON Lines."""

    def __init__(self, head: bytes, stream: CountingReader) -> None:
        self.head, self.stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if self.head:  # a short read, as streams may give
            n = len(self.head) if size < 0 else size
            out, self.head = self.head[:n], self.head[n:]
            return out
        return self.stream.read(size)


def github_rows(stream: CountingReader, mapping: ImportMapping) -> Iterator[Row]:
    head = stream.read(4096)
    body = head.removeprefix(BOM).lstrip()
    peek = _Peek(head.removeprefix(BOM), stream)
    if body.startswith(b"["):
        yield from _array_rows(peek, mapping)
        return
    for number, raw in enumerate(byte_lines(peek), start=1):
        if raw is None:
            yield Row(number, rejected=Rejected(number, "line is over the size limit"))
            continue
        try:
            text = decode(raw, number)
            if not text.strip():
                continue
            item = next(ijson.items(text.encode(), ""))
        except (ValueError, ijson.JSONError, StopIteration) as exc:
            yield Row(number, rejected=Rejected(number, f"not valid JSON: {exc}"))
            continue
        yield issue_row(number, item, mapping)


def _array_rows(stream: Any, mapping: ImportMapping) -> Iterator[Row]:
    number = 0
    try:
        for number, item in enumerate(ijson.items(stream, "item", use_float=True), start=1):
            yield issue_row(number, item, mapping)
    except ijson.IncompleteJSONError as exc:
        yield Row(
            number + 1,
            rejected=Rejected(
                number + 1, f"the JSON ends inside item {number + 1} (truncated file?): {exc}"
            ),
        )
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        yield Row(
            number + 1,
            rejected=Rejected(number + 1, f"item {number + 1} is not valid JSON: {exc}"),
        )


def issue_row(number: int, item: object, mapping: ImportMapping) -> Row:
    """One issue (REST or gh shape) as an import record; a pull request is skipped."""
    if not isinstance(item, dict):
        return Row(number, rejected=Rejected(number, "each item must be an issue object"))
    url = item.get("html_url") or item.get("url") or ""
    if "pull_request" in item or "/pull/" in str(url):
        return Row(number, skipped=True)
    try:
        data = issue_record(item, mapping)
        return Row(number, ImportRecord.model_validate(data))
    except ValidationError as exc:
        field, reason = validation_reason(exc)
        return Row(number, rejected=Rejected(number, reason, _external_id(item), field))
    except (KeyError, TypeError, ValueError) as exc:
        return Row(number, rejected=Rejected(number, f"not an issue as GitHub writes it: {exc}"))


def _external_id(item: Mapping[str, Any]) -> str | None:
    """``owner/repo#N`` from the issue's page, so issues of two repositories never collide."""
    url = str(item.get("html_url") or item.get("url") or "")
    parts = url.removeprefix("https://github.com/").split("/")
    number = item.get("number")
    if len(parts) >= 4 and parts[2] == "issues":
        return f"{parts[0]}/{parts[1]}#{parts[3]}"
    return None if number is None else f"#{number}"


def _login(who: object) -> str | None:
    return who.get("login") if isinstance(who, dict) else None


def issue_record(item: Mapping[str, Any], mapping: ImportMapping) -> dict[str, Any]:
    labels = [lb["name"] if isinstance(lb, dict) else str(lb) for lb in item.get("labels") or []]
    fields = map_labels(labels, mapping)
    state = str(item.get("state", "open")).lower()
    closed = state == "closed"
    reason = str(item.get("state_reason") or item.get("stateReason") or "completed").lower()
    html = item.get("html_url") or item.get("url")
    record: dict[str, Any] = {
        "external_id": _external_id(item),
        "title": item["title"],
        "body": item.get("body") or "",
        "created": item.get("created_at") or item.get("createdAt"),
        "reporter": _login(item.get("user") or item.get("author")),
        "labels": fields.pop("labels"),
        "url": html,
        **fields,
    }
    if closed:
        record["resolution"] = STATE_REASONS.get(reason) or "fixed"
        record["resolved"] = item.get("closed_at") or item.get("closedAt")
    comments = item.get("comments")
    if isinstance(comments, list):  # gh's shape; REST gives a count here
        record["comments"] = [_comment(c) for c in comments]
    return record


def _comment(c: Mapping[str, Any]) -> dict[str, Any]:
    ident = c.get("id") or c.get("url")
    return {
        "id": str(ident) if ident is not None else None,
        "author": _login(c.get("author") or c.get("user")),
        "created": c.get("createdAt") or c.get("created_at"),
        "body": c.get("body") or "",
    }


def map_labels(labels: list[str], mapping: ImportMapping) -> dict[str, Any]:
    """Source labels → kind, priority, category, team and the labels kept (pure)."""
    out: dict[str, Any] = {}
    kept: list[str] = []
    lowered = {k.lower(): v for k, v in mapping.labels.items()}
    for label in labels:
        target = mapping.labels.get(label) or lowered.get(label.lower())
        if target is None:
            if mapping.keep_labels:
                kept.append(label)
            continue
        field, _, value = target.partition(":")
        if field == "label":
            kept.append(value)
        else:
            out.setdefault(field, value)  # the first label that names a field wins
    out["labels"] = kept
    return out
