"""What the handbook routes take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BODY = 50_000


class HandbookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(max_length=MAX_BODY, description="Markdown")
    summary: str = Field("", max_length=200, description="what changed, for the history")
    base_version: int = Field(
        ge=0,
        le=2**31 - 1,
        description="the version your edit started from (0: none yet); a newer one is a 412",
    )


class VersionOut(BaseModel):
    desk: str
    version: int
    summary: str
    author: str
    at: datetime


class HandbookOut(VersionOut):
    body: str
    html: str = Field(description="the body rendered and sanitized")


class DiffLine(BaseModel):
    kind: Literal["same", "added", "removed", "hunk"]
    text: str


class DiffOut(BaseModel):
    desk: str
    before: VersionOut | None
    after: VersionOut
    lines: list[DiffLine]
