"""What the notification routes take and give: a person's preferences and their inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dutydesk.inputs import RowId
from dutydesk.policy.notify import REASONS


class PrefsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    via: list[Literal["email", "chat"]] = Field(max_length=2)
    chat_channel: str | None = Field(None, max_length=40)
    mute: list[str] = Field(default_factory=list, max_length=len(REASONS))
    digest_window: str | None = Field(
        None,
        max_length=40,
        description="how long notices wait to arrive as one message ('0 minutes', '1 hour'); "
        "empty: the install's default",
    )


class PrefsOut(BaseModel):
    via: list[str]
    chat_channel: str | None
    mute: list[str]
    digest_window: str | None = Field(description="yours; None: the install's default")
    default_digest_window: str
    source: Literal["default", "policy", "user"]


class InboxItemOut(BaseModel):
    id: int
    at: datetime
    reason: str
    ticket: str | None
    title: str
    lines: list[str]
    actor: str | None
    read: bool


class InboxPage(BaseModel):
    items: list[InboxItemOut]
    unread: int = Field(description="all your unread notifications, not only this page's")
    next_before: int | None = Field(description="pass as ``before`` for the next page")


class InboxReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[RowId] = Field(default_factory=list, max_length=500)
    all: bool = Field(False, description="every unread notification of yours")
    read: bool = Field(True, description="false marks them unread again")


class InboxMarked(BaseModel):
    changed: int
    unread: int
