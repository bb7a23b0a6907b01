"""What the reports answer (typed results the API returns as they are and the CLI reads back)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from dutydesk.inputs import Input


class PeriodOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    zone: str
    weeks: list[date] = Field(description="the Monday of every ISO week the period touches")

    model_config = {"populate_by_name": True}


class Durations(BaseModel):
    """Hours over the tickets done in the period: business hours of the desk's calendar
    (wall-clock hours when the desk keeps none)."""

    done: int = Field(description="tickets done (resolved) in the period")
    median_to_done_hours: float | None = Field(description="median filed → done")
    total_to_done_hours: float = Field(description="sum of filed → done")
    median_in_progress_hours: float | None = Field(
        description="median time in the started column, over done tickets that were in it"
    )
    total_in_progress_hours: float = Field(description="sum of time in the started column")


class ToilSummary(Durations):
    filed: int = Field(description="tickets filed in the period")
    reopened: int = Field(description="tickets re-opened (moved out of the done column)")
    reopen_moves: int = Field(description="moves out of the done column")
    bounced: int = Field(
        description="tickets handed back: moved to an earlier column (not a re-open) or "
        "routed from one team to another"
    )
    bounce_moves: int


class CategoryRow(Durations):
    category: str | None = Field(description="null: no category set")
    filed: int


class KindRow(Durations):
    kind: str
    filed: int


class CategoryKindCell(BaseModel):
    category: str | None
    kind: str
    filed: int


class WeekRow(BaseModel):
    week: date = Field(description="Monday of the ISO week (desk's zone)")
    filed: int
    done: int
    reopened: int
    bounced: int
    filed_by_category: dict[str, int] = Field(description="'' is the tickets without a category")


class ClusterMember(BaseModel):
    key: str
    title: str
    status: str
    category: str | None
    filed_at: datetime
    effort_hours: float | None


class Cluster(BaseModel):
    words: list[str] = Field(description="the words (as written) most members share")
    stems: list[str] = Field(description="the stems of those words")
    core: list[str] = Field(description="the words every member shares: what following matches")
    count: int
    effort_hours: float = Field(
        description="median effort per member: business hours in progress; the desk's median "
        "when no member was ever in progress (see effort_measured)"
    )
    effort_measured: int = Field(
        0, description="members whose time in progress was measured (0: effort is the desk's)"
    )
    score: float = Field(description="count × effort: the hours the requests cost")
    categories: dict[str, int]
    name: str | None = Field(description="the name of the followed cluster these words match")
    members: list[ClusterMember] = Field(description="the newest members first (at most 50)")


class FollowedWeek(BaseModel):
    week: date
    count: int


class Followed(BaseModel):
    id: int
    name: str
    stems: list[str]
    words: list[str]
    created_at: datetime
    created_by: str | None
    count: int = Field(description="tickets filed in the period whose text has every stem")
    weeks: list[FollowedWeek]


class Recurring(BaseModel):
    tickets: int = Field(description="tickets filed in the period that were compared")
    clustered: int = Field(description="of those, in a cluster")
    clusters: list[Cluster]
    followed: list[Followed]
    computed_at: datetime
    seconds: float = Field(description="time the clustering took")


class ToilReport(BaseModel):
    desk: str
    period: PeriodOut
    business_hours: bool = Field(
        description="false: the desk has no calendar; hours are wall-clock"
    )
    summary: ToilSummary
    categories: list[CategoryRow]
    kinds: list[KindRow]
    category_kinds: list[CategoryKindCell]
    weeks: list[WeekRow]
    recurring: Recurring | None = Field(description="null when asked without clusters")


class FollowIn(Input):
    name: str = Field(min_length=1, max_length=80, description="what the team calls the requests")
    words: list[str] = Field(
        min_length=1, max_length=8, description="the cluster's defining words (stemmed here)"
    )
