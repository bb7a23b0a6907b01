"""Shared rotations for the on-call tests: the two reference desks from the design."""

from __future__ import annotations

from datetime import UTC, datetime

from dutydesk.policy.rotations import RotationSpec, rotation_from_policy

INFRA_POLICY: dict[str, object] = {
    "timezone": "America/Los_Angeles",
    "every": "week",
    "handoff": "mon 10:00",
    "members": ["ana", "bo", "chen", "dee"],
    "start": "2026-01-05",
}

SET_POLICY: dict[str, object] = {
    "timezone": "America/Toronto",
    "every": "month",
    "handoff": "16 09:00",
    "one_per_team": True,
    "teams": {
        "channels": ["eva", "finn"],
        "playbooks": ["gus", "hana"],
        "mobile": ["ivan", "jo"],
        "platform": ["kai", "lee"],
    },
    "lead": "rotate-teams",
    "lead_order": ["channels", "playbooks", "mobile", "platform"],
    "start": "2026-01-16",
}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant, the unambiguous way to write expectations."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def infra() -> RotationSpec:
    return rotation_from_policy("infra-oncall", INFRA_POLICY)


def set_rotation() -> RotationSpec:
    return rotation_from_policy("set", SET_POLICY)
