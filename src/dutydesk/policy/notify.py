"""Policy for telling people things: channels, preferences, meetings, status posts, reminders.

Kept apart from :mod:`dutydesk.policy.models` (which imports it) so the notification part of
``dutydesk.toml`` reads as one piece. Secrets never live in the file: a channel names the
environment variable that holds its URL or secret (``url_env = "INFRA_SLACK_URL"``); a
channel whose variable is unset is *not configured* and its messages wait in the outbox,
visible to admins, instead of failing.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dutydesk.durations import parse_days, parse_span

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Why someone hears of a change; a person may mute any of them (see PersonNotify.mute).
REASONS = (
    "reporter",
    "assignee",
    "mention",
    "watching",
    "oncall",
    "slo",
    "update-due",
    "end-of-day",
    "handoff",
    "idle",
)
DESK_POSTS = ("new", "p0", "agenda", "status-post", "oncall-summary", "slo-breach")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _span(value: str) -> str:
    parse_span(value)
    return value


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name (e.g. INFRA_SLACK_URL); "
            "put the secret in the environment, never in this file"
        )
    return value


def _days(value: list[str]) -> list[str]:
    for day in value:
        if day not in WEEKDAYS:
            raise ValueError(f"unknown day {day!r}; use one of {', '.join(WEEKDAYS)}")
    return value


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name") from exc
    return value


class RetryPolicy(_Strict):
    """Exponential backoff: first, 2×first, 4×first … capped at max; dead after ``attempts``."""

    attempts: int = Field(8, ge=1, le=100)
    first: str = "30 seconds"
    max: str = "1 hour"
    factor: float = Field(2.0, ge=1.0, le=10.0)

    _spans = field_validator("first", "max")(_span)


class ChannelPolicy(_Strict):
    """One destination. ``url_env`` holds a webhook URL, or for email an SMTP URL
    (``smtp://user:pass@host:587?starttls=1``, ``smtps://…``)."""

    type: Literal["slack", "mattermost", "webhook", "email"]
    url_env: str
    secret_env: str | None = None  # webhook: HMAC-SHA256 signing secret
    to: list[str] = []  # email: the desk's list address(es)
    sender: str | None = Field(None, alias="from")  # email From; default notify.email.from

    _envs = field_validator("url_env", "secret_env")(_env_name)

    @model_validator(mode="after")
    def _shape(self) -> ChannelPolicy:
        if self.type == "email" and not self.to:
            raise ValueError("an email channel needs 'to', the desk's list address(es)")
        if self.type != "email" and (self.to or self.sender):
            raise ValueError("'to' and 'from' only apply to type = \"email\"")
        if self.type != "webhook" and self.secret_env:
            raise ValueError(
                "'secret_env' signs the generic JSON webhook only (type = \"webhook\")"
            )
        return self


class EmailPolicy(_Strict):
    """How personal notifications are e-mailed."""

    url_env: str = "DUTYDESK_SMTP_URL"
    sender: str = Field("dutydesk <dutydesk@localhost>", alias="from")

    _env = field_validator("url_env")(_env_name)


class SlashPolicy(_Strict):
    """The chat slash command ``/dutydesk``: how requests are verified and which desk they use."""

    slack_signing_secret_env: str | None = "DUTYDESK_SLACK_SIGNING_SECRET"
    mattermost_token_env: str | None = "DUTYDESK_MATTERMOST_TOKEN"
    max_age: str = "5 minutes"  # Slack timestamp window; older or replayed requests get 401
    default_desk: str | None = None
    desks: dict[str, str] = {}  # chat channel name (or id) → desk
    match_user_names: bool = True  # fall back to chat user name == dutydesk user name

    _envs = field_validator("slack_signing_secret_env", "mattermost_token_env")(_env_name)
    _age = field_validator("max_age")(_span)


class NotifyPolicy(_Strict):
    base_url: str | None = None  # links in messages, e.g. https://dutydesk.example.com
    batch_window: str = "2 minutes"  # one message per person per window
    catch_up: str = "12 hours"  # a worker that was down skips periodic posts older than this
    expire_after: str = "1 day"  # personal notices older than this are dropped, not sent
    claim_timeout: str = "2 minutes"  # a delivery not finished by then is retried elsewhere
    timeout: str = "10 seconds"  # one HTTP or SMTP attempt
    concurrency: int = Field(4, ge=1, le=64)
    poll: str = "1 second"  # worker loop interval when idle
    retry: RetryPolicy = RetryPolicy()
    email: EmailPolicy = EmailPolicy()
    channels: dict[str, ChannelPolicy] = {}
    slash: SlashPolicy = SlashPolicy()

    _spans = field_validator(
        "batch_window", "catch_up", "expire_after", "claim_timeout", "timeout", "poll"
    )(_span)

    @model_validator(mode="after")
    def _lease(self) -> NotifyPolicy:
        if parse_span(self.claim_timeout) <= parse_span(self.timeout):
            raise ValueError(
                "claim_timeout must be longer than timeout, or a slow delivery would be "
                "claimed again by another worker while it is still running"
            )
        return self

    @field_validator("channels")
    @classmethod
    def _names(cls, value: dict[str, ChannelPolicy]) -> dict[str, ChannelPolicy]:
        for name in value:
            if not re.match(r"^[a-z][a-z0-9_-]{0,39}$", name):
                raise ValueError(f"channel name {name!r}: use a-z, 0-9, '-' or '_'")
        return value


class MeetingPolicy(_Strict):
    """A recurring meeting; its agenda is posted to the desk channel ``post_before`` it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    agenda: Literal["triage", "status", "weekly-triage", "handoff"]
    days: list[str]
    at: time
    duration: str = "30 minutes"
    post_before: str = "15 minutes"
    timezone: str | None = None  # default: the desk calendar's zone
    # Daily on business days in the N business days before a release (SET: releases on the 16th).
    daily_before_release: str | None = None
    release_day: int = Field(16, ge=1, le=31)

    _days = field_validator("days")(_days)
    _spans = field_validator("duration", "post_before")(_span)
    _tz = field_validator("timezone")(_zone)

    @field_validator("daily_before_release")
    @classmethod
    def _business_days(cls, value: str | None) -> str | None:
        if value is not None and not parse_days(value)[1]:
            raise ValueError(f"{value!r}: write it as 'N business days'")
        return value


class StatusPostPolicy(_Strict):
    """The weekly status post (DESIGN.md §6), posted when the ``after`` meeting ends."""

    after: str  # meeting name
    days: list[str] = ["tue"]
    tag: str = Field("set-update", pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    next: int = Field(5, ge=3, le=5)  # "3–5 tickets next in the queue"
    submitted: str = "Submitted"  # the column a ticket enters when its fix PR is up
    resolutions: list[str] = ["fixed"]  # which resolutions count as "bugs resolved"
    # Which kinds count as bugs in both figures (SET: bugs and customer escalations).
    bug_kinds: list[str] = Field(["bug"], min_length=1)

    _days = field_validator("days")(_days)


class DeskNotify(_Strict):
    channels: list[str] = []  # the desk channel(s), names from [notify.channels]
    post: list[str] = ["new", "p0", "agenda", "status-post", "oncall-summary", "slo-breach"]
    oncall_summary: str | None = None  # "daily 09:00" or "mon 09:00"
    # "daily" posts go out on the business days of the desk's calendar (Monday to Friday
    # without one); "every-day" posts them on weekends and holidays too.
    daily_posts: Literal["business-days", "every-day"] = "business-days"
    eod_nudge: str | None = "30 minutes"  # before the close of business; None turns it off
    handoff_reminder: str = "1 business day"  # before a shift starts
    idle_check: str | None = "09:30"  # daily, local: tell the on-call about idle claims

    @field_validator("post")
    @classmethod
    def _posts(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in DESK_POSTS:
                raise ValueError(f"unknown post {item!r}; use any of {', '.join(DESK_POSTS)}")
        return value

    @field_validator("oncall_summary")
    @classmethod
    def _summary(cls, value: str | None) -> str | None:
        if value is not None:
            parse_weekly(value)
        return value

    @field_validator("eod_nudge")
    @classmethod
    def _nudge(cls, value: str | None) -> str | None:
        return None if value is None else _span(value)

    @field_validator("handoff_reminder")
    @classmethod
    def _reminder(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("idle_check")
    @classmethod
    def _idle(cls, value: str | None) -> str | None:
        if value is not None:
            parse_weekly("daily " + value)
        return value


def parse_weekly(text: str) -> tuple[list[int], time]:
    """'daily 09:00' or 'mon 09:00' or 'mon,thu 09:00' -> (weekday numbers, local time)."""
    match = re.match(r"^\s*([a-z,]+)\s+(\d{1,2}):(\d{2})\s*$", text.lower())
    if not match:
        raise ValueError(f"{text!r}: write 'daily 09:00' or 'mon 09:00'")
    days_text, hh, mm = match.groups()
    if days_text == "daily":
        days = list(range(7))
    else:
        days = []
        for d in days_text.split(","):
            if d not in WEEKDAYS:
                raise ValueError(f"{text!r}: unknown day {d!r}")
            days.append(WEEKDAYS.index(d))
    if int(hh) > 23 or int(mm) > 59:
        raise ValueError(f"{text!r}: not a time of day")
    return days, time(int(hh), int(mm))


class PersonNotify(_Strict):
    """How one person wants to hear things (the API lets them change it at run time)."""

    via: list[Literal["email", "chat"]] = ["email"]
    chat_channel: str | None = None  # a slack/mattermost channel that can post to "@handle"
    mute: list[str] = []

    @field_validator("mute")
    @classmethod
    def _mute(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in REASONS:
                raise ValueError(f"unknown reason {item!r}; use any of {', '.join(REASONS)}")
        return value


def notify_reference_errors(policy: Any) -> list[tuple[str, str]]:
    """Cross-references of the notification policy, each as (location, message)."""
    errors: list[tuple[str, str]] = []
    notify: NotifyPolicy = policy.notify
    known = sorted(notify.channels)
    for name, desk in policy.desks.items():
        for ch in desk.notify.channels:
            if ch not in notify.channels:
                errors.append(
                    (
                        f"desks.{name}.notify.channels",
                        f"unknown channel {ch!r}; declare [notify.channels.{ch}] "
                        f"or use one of {known}",
                    )
                )
        names = [m.name for m in desk.meetings]
        if len(set(names)) != len(names):
            errors.append((f"desks.{name}.meetings", "two meetings share a name"))
        for m in desk.meetings:
            if m.timezone is None and desk.calendar is None:
                errors.append(
                    (
                        f"desks.{name}.meetings",
                        f"meeting {m.name!r} needs a time zone: set 'timezone' or the desk's "
                        "'calendar'",
                    )
                )
        sp = desk.status_post
        if sp is not None and sp.after not in names:
            errors.append(
                (
                    f"desks.{name}.status_post.after",
                    f"unknown meeting {sp.after!r}; declare it under [[desks.{name}.meetings]] "
                    f"or use one of {names}",
                )
            )
    for pname, person in policy.people.items():
        ch = person.notify.chat_channel
        if ch is not None and (
            ch not in notify.channels or notify.channels[ch].type not in ("slack", "mattermost")
        ):
            errors.append(
                (
                    f"people.{pname}.notify.chat_channel",
                    f"{ch!r} is not a slack or mattermost channel under [notify.channels]",
                )
            )
        if "chat" in person.notify.via and ch is None:
            errors.append(
                (
                    f"people.{pname}.notify.via",
                    "'chat' needs notify.chat_channel (the channel that posts to @handle)",
                )
            )
    slash = notify.slash
    for chan, desk_name in slash.desks.items():
        if desk_name not in policy.desks:
            errors.append((f"notify.slash.desks.{chan}", f"unknown desk {desk_name!r}"))
    if slash.default_desk and slash.default_desk not in policy.desks:
        errors.append(("notify.slash.default_desk", f"unknown desk {slash.default_desk!r}"))
    return errors
