"""The one record every import reads: the JSONL format, which the GitHub and Jira readers
produce too, and what an import reports back.

A record describes a ticket as it stands in its source system; the writer
(:mod:`dutydesk.imports.writer`) decides what that means for the desk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

# Per-row limits: a row over them is refused with its line number, the rest go on.
MAX_LINE_BYTES = 1_000_000
MAX_BODY_CHARS = 50_000  # what filing allows for a description
MAX_COMMENT_CHARS = 50_000
MAX_COMMENTS = 1_000
MAX_LABELS = 30

# Resolutions as other trackers spell them, in lower case (Jira, GitHub's state_reason).
RESOLUTION_ALIASES = {
    "fixed": "fixed",
    "done": "fixed",
    "completed": "fixed",
    "resolved": "fixed",
    "implemented": "fixed",
    "duplicate": "duplicate",
    "won't fix": "wont-fix",
    "wont fix": "wont-fix",
    "won't do": "wont-fix",
    "not_planned": "wont-fix",
    "not planned": "wont-fix",
    "not a problem": "wont-fix",
    "invalid": "wont-fix",
    "incomplete": "wont-fix",
    "later": "moved-to-backlog",
    "cannot reproduce": "cannot-reproduce",
    "can't reproduce": "cannot-reproduce",
    "works for me": "cannot-reproduce",
}


def _utc(value: Any) -> Any:
    """ISO 8601 with or without an offset (naive times are UTC), ``Z`` included."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an ISO 8601 time (2026-12-05T19:09:00Z)") from exc
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return value


def _id_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str | int):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) if isinstance(v, int) else v for v in value]
    return value


def _text(value: Any) -> Any:
    return "" if value is None else value


def _external_id(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


Instant = Annotated[datetime, BeforeValidator(_utc)]


class RecordModel(BaseModel):
    # Unknown keys are refused, so a renamed field ("summary" for "title") is named in the
    # row's error instead of being dropped silently.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ImportedComment(RecordModel):
    id: Annotated[str | None, BeforeValidator(_external_id)] = Field(None, max_length=200)
    author: str | None = Field(None, max_length=200)
    created: Instant
    body: Annotated[str, BeforeValidator(_text)] = Field(max_length=MAX_COMMENT_CHARS)

    def key(self) -> str:
        """What identifies a comment across imports: its own id, or who said what when."""
        if self.id:
            return "id:" + self.id
        digest = hashlib.sha256(self.body.encode()).hexdigest()[:16]
        return f"{self.created.isoformat()}|{self.author or ''}|{digest}"


class ImportRecord(RecordModel):
    """One ticket, one line of a JSONL file."""

    external_id: Annotated[str, BeforeValidator(_external_id)] = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    body: Annotated[str, BeforeValidator(_text)] = Field("", max_length=MAX_BODY_CHARS)
    created: Instant
    reporter: str | None = Field(None, max_length=200)
    status: str | None = Field(None, max_length=60)
    priority: str | None = Field(None, max_length=20)
    kind: str | None = Field(None, max_length=40)
    category: str | None = Field(None, max_length=60)
    team: str | None = Field(None, max_length=60)
    component: str | None = Field(None, max_length=50)
    labels: list[str] = Field(default_factory=list, max_length=MAX_LABELS)
    criteria: list[str] = Field(default_factory=list, max_length=20)
    assignee: str | None = Field(None, max_length=40)
    resolution: str | None = Field(None, max_length=40)
    resolved: Instant | None = None
    duplicate_of: Annotated[list[str], BeforeValidator(_id_list)] = Field(
        default_factory=list, max_length=20
    )
    url: str | None = Field(None, max_length=500)
    comments: list[ImportedComment] = Field(default_factory=list, max_length=MAX_COMMENTS)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a title needs at least one visible character")
        return value

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        spelled = value.strip().lower()
        return RESOLUTION_ALIASES.get(spelled, spelled.replace(" ", "-").replace("'", ""))

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("a source url starts with http:// or https://")
        return value or None


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Rejected:
    """A row the import refused: where it is and why, in words that name the fix."""

    line: int
    reason: str
    external_id: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "external_id": self.external_id,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    desk: str
    source: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows that are not tickets (GitHub pull requests)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_count: int = 0  # all of them, though ``rejected`` keeps the first ones only
    warnings: list[str] = field(default_factory=list)
    tickets: dict[str, str] = field(default_factory=dict)  # external id → key (first ones)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.skipped + self.rejected_count

    def as_dict(self) -> dict[str, Any]:
        return {
            "desk": self.desk,
            "source": self.source,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rejected_count": self.rejected_count,
            "rejected": [r.as_dict() for r in self.rejected],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Row:
    """A record read from line ``line`` of the input, or why it could not be read."""

    line: int
    record: ImportRecord | None = None
    rejected: Rejected | None = None
    skipped: bool = False
