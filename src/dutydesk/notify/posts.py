"""Posting a desk's weekly status post now, from the page or the API, instead of waiting for
its scheduled time. It uses the scheduled post's message keys, so the week is posted once:
the scheduled run after a "post now" (or a second "post now") inserts nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dutydesk.auth.service import require
from dutydesk.context import Ctx
from dutydesk.errors import RuleViolation
from dutydesk.notify import outbox
from dutydesk.notify.rows import desk_messages
from dutydesk.reports.status_post import post_day, status_post


@dataclass(frozen=True)
class Posted:
    desk: str
    date: date
    channels: list[str]
    messages: int  # 0: this week's post had gone out already

    def as_json(self) -> dict[str, object]:
        return {
            "desk": self.desk,
            "date": self.date.isoformat(),
            "channels": self.channels,
            "messages": self.messages,
            "already_posted": self.messages == 0,
        }


def post_status_now(ctx: Ctx, desk: str, day: date | None) -> Posted:
    spec = ctx.desk(desk)
    require(ctx.actor, "lead", desk, "post the status post")
    if "status-post" not in spec.notify.post or not spec.notify.channels:
        raise RuleViolation(
            f'desk {desk!r} posts no status post to a channel: add "status-post" to '
            f"[desks.{desk}.notify] post and name its channels",
            rule="no-status-channel",
        )
    day = day or post_day(ctx.policy, desk, ctx.now)
    post = status_post(ctx.session, ctx.policy, desk, ctx.now, day)
    rows = desk_messages(
        ctx.policy,
        desk,
        "status-post",
        f"msg:job:status-post:{desk}:{day}",
        post.text.splitlines()[0],
        post.text,
        ctx.now,
        data=post.as_json(),
    )
    written = outbox.insert_ignore(ctx.session, rows)
    return Posted(desk, day, list(spec.notify.channels), written)
