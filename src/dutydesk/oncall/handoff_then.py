"""A past handoff's tickets as they were at it (from :func:`dutydesk.tickets.as_of.load_rows_at`),
in the item shape of :mod:`dutydesk.oncall.handoff`'s report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dutydesk.durations import format_span
from dutydesk.policy.models import Policy
from dutydesk.tickets.as_of import Row
from dutydesk.tickets.idle import idle_rule, is_idle

LIST_LIMIT = 100


def row_item(r: Row, at: datetime, zone: ZoneInfo, **extra: Any) -> dict[str, Any]:
    """A ticket of a past handoff as it was then; no next step (the moment has passed)."""
    return {
        "key": r.key,
        "title": r.title,
        "status": r.status,
        "priority": r.priority,
        "assignee": r.assignee,
        "team": r.team,
        "blocked": r.blocked,
        "created_at": r.created_at.astimezone(zone).isoformat(),
        "last_update_at": r.last_activity.astimezone(zone).isoformat(),
        "since_update": format_span(at - r.last_activity),
        "url": f"/api/v1/tickets/{r.key}",
        "reassign": None,
        "suggested": None,
        **extra,
    }


def sections_then(
    rows: Sequence[Row],
    policy: Policy,
    desk: str,
    at: datetime,
    zone: ZoneInfo,
    urgent: Sequence[str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Open urgent, awaiting triage and idle claims of a past handoff, as they were at ``at``
    (the same idle rule as today's report: :mod:`dutydesk.tickets.idle`)."""
    rule = idle_rule(policy, desk)
    idle = sorted(
        (
            (r.assignee_activity, r)
            for r in rows
            if r.assignee_activity is not None
            and is_idle(
                rule,
                is_open=True,
                assigned=r.assignee is not None,
                last_activity=r.assignee_activity,
                now=at,
            )
        ),
        key=lambda x: x[0],
    )
    return (
        [row_item(r, at, zone) for r in rows if r.priority in urgent][:LIST_LIMIT],
        [row_item(r, at, zone) for r in rows if not r.triaged][:LIST_LIMIT],
        [
            row_item(
                r,
                at,
                zone,
                last_activity_at=last.astimezone(zone).isoformat(),
                idle_since=rule.idle_since(last).astimezone(zone).isoformat(),
                idle_for=format_span(at - last),
            )
            for last, r in idle[:LIST_LIMIT]
        ],
    )
