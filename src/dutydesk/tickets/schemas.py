"""API shapes for tickets. Inputs forbid unknown fields so typos are errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

from dutydesk.durations import bounded, parse_duration, parse_span
from dutydesk.errors import Invalid
from dutydesk.inputs import Input

Label = Field(min_length=1, max_length=60, pattern=r"^[\w .:/-]+$")


class In(Input):
    """Unknown fields are errors; text is stripped; dates stay inside the calendar."""


class FileTicket(In):
    title: str = Field(min_length=3, max_length=300)
    description: str = Field("", max_length=50_000)
    kind: str | None = Field(None, max_length=40)
    category: str | None = Field(None, max_length=60)
    criteria: list[str] = Field(default_factory=list, max_length=20)
    labels: list[str] = Field(default_factory=list, max_length=30)
    customer_reported: bool = False
    # Only responders may set these when filing; reporters get a 403 naming the field.
    priority: str | None = None
    assignee: str | None = None
    team: str | None = None
    fix_target: Literal["hotfix", "release", "none"] | None = None


class TicketPatch(In):
    title: str | None = Field(None, min_length=3, max_length=300)
    description: str | None = Field(None, max_length=50_000)
    kind: str | None = Field(None, max_length=40)
    category: str | None = Field(None, max_length=60)
    priority: str | None = None
    team: str | None = None
    labels: list[str] | None = Field(None, max_length=30)
    criteria: list[str] | None = Field(None, max_length=20)
    customer_reported: bool | None = None
    fix_target: Literal["hotfix", "release", "none"] | None = None
    pr_links: list[HttpUrl] | None = Field(None, max_length=20)
    watchers: list[str] | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _not_empty(self) -> TicketPatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: send at least one field")
        return self


class MoveIn(In):
    to: str = Field(min_length=1, max_length=60)
    resolution: str | None = None
    duplicate_of: str | None = None
    # Added to the ticket's PR links in the same change (a column may require one).
    pr_link: HttpUrl | None = None


class AssignIn(In):
    assignee: str | None


class TriageIn(In):
    priority: str | None = None
    title: str | None = Field(None, min_length=3, max_length=300)
    team: str | None = None
    kind: str | None = None
    category: str | None = None
    assignee: str | None = None
    duplicate_of: str | None = None
    fix_target: Literal["hotfix", "release", "none"] | None = None
    labels: list[str] | None = Field(None, max_length=30)
    note: str | None = Field(None, max_length=50_000)

    @model_validator(mode="after")
    def _priority_or_duplicate(self) -> TriageIn:
        if self.priority is None and self.duplicate_of is None:
            raise ValueError("triage needs 'priority' (or 'duplicate_of' to close as a duplicate)")
        return self


class ConvertIn(In):
    """Turn a non-bug into a story or feature request: on this desk, or (``desk``) as a new,
    linked ticket on another desk, closing this one as ``converted``. No priority needed."""

    kind: str = Field(min_length=1, max_length=40, description="story or feature-request")
    desk: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        description="file it on this desk (default: the desk's convert_to; its own desk "
        "converts in place)",
    )
    note: str | None = Field(None, max_length=50_000, description="a comment on both tickets")


class WatchIn(In):
    watch: bool = Field(description="true to watch the ticket, false to stop watching it")


class BlockIn(In):
    reason: str = Field(min_length=3, max_length=2000)


class RankIn(In):
    before: str | None = Field(None, min_length=1, max_length=40, description="a ticket key")
    after: str | None = Field(None, min_length=1, max_length=40, description="a ticket key")

    @model_validator(mode="after")
    def _one(self) -> RankIn:
        if (self.before is None) == (self.after is None):
            raise ValueError("give exactly one of 'before' or 'after' (a ticket key)")
        return self


class CommentIn(In):
    body: str = Field(min_length=1, max_length=50_000)
    public: bool = True


class SourceOut(BaseModel):
    """Where an imported or bridged ticket came from: the system, its id there, a link."""

    system: str  # jsonl, github, jira-csv (an import) or github-webhook (the bridge)
    external_id: str
    url: str | None


class TicketOut(BaseModel):
    key: str
    desk: str
    number: int
    title: str
    description: str
    description_html: str
    kind: str
    category: str | None
    priority: str | None
    status: str
    resolution: str | None
    duplicate_of: str | None
    assignee: str | None
    team: str | None
    labels: list[str]
    criteria: list[str]
    reporter: str
    customer_reported: bool
    fix_target: str
    pr_links: list[str]
    watchers: list[str]
    blocked: bool
    blocked_reason: str | None
    blocked_at: datetime | None
    blocked_by: str | None
    rank: str
    in_queue: bool
    # Why an open ticket is not in the urgent queue (the weekly triage backlog), else null.
    admission: str | None = None
    queue_class: str | None
    open: bool
    created_at: datetime
    updated_at: datetime
    triaged_at: datetime | None
    triaged_by: str | None
    started_at: datetime | None
    resolved_at: datetime | None
    last_update_at: datetime | None
    version: int
    clocks: list[dict[str, Any]] = []
    source: SourceOut | None = None  # imported or bridged tickets: where they came from
    # A conversion's references both ways: the ticket this one became, or came from.
    converted_to: str | None = None
    converted_from: str | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class EventOut(BaseModel):
    seq: int
    at: datetime
    actor: str | None
    type: str
    field: str | None
    before: Any
    after: Any
    data: dict[str, Any]


class CommentOut(BaseModel):
    id: int
    author: str | None
    body: str
    body_html: str
    public: bool
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class TicketFilter(In):
    """Filters for lists and saved filters; every field is optional and combined with AND."""

    desk: str | None = None
    status: list[str] | None = None
    priority: list[str] | None = None
    assignee: str | None = None  # a user name, or "none"
    reporter: str | None = None
    team: str | None = None
    kind: list[str] | None = None
    category: str | None = None
    label: str | None = None
    customer_reported: bool | None = None
    blocked: bool | None = None
    open: bool | None = None
    in_queue: bool | None = None
    resolution: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    resolved_from: datetime | None = None
    resolved_to: datetime | None = None
    resolved_within: str | None = None  # a wall-clock span: '7d', '24h', '2 weeks'

    q: str | None = Field(None, max_length=200)
    sort: Literal["-created", "created", "-updated", "-resolved", "relevance"] | None = None

    @field_validator("resolved_within")
    @classmethod
    def _span(cls, value: str | None) -> str | None:
        if value is not None:
            bounded(parse_duration(value), value)
            parse_span(value)
        return value

    @field_validator("status", "priority", "kind", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def saved_filter(raw: dict[str, Any]) -> TicketFilter:
    """A stored or policy-declared saved filter, refused with a clear error if it cannot run."""
    try:
        return TicketFilter.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(f"saved filter is not a valid ticket filter: {exc}") from exc
