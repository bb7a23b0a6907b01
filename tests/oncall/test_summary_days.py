"""The daily on-call summary follows the desk's business days unless the policy says not."""

from __future__ import annotations

from datetime import UTC, datetime

from dutydesk.oncall.jobs import plan_summaries
from dutydesk.policy import Policy, load_policy
from tests.conftest import EXAMPLE

# Thanksgiving week in Los Angeles: Thursday 26 is a holiday, 28 and 29 a weekend.
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
END = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def days(policy: Policy, desk: str) -> list[str]:
    return [str(p.payload["date"]) for p in plan_summaries(policy, START, END) if p.desk == desk]


def test_daily_summary_skips_weekends_and_holidays() -> None:
    policy = load_policy(EXAMPLE)
    assert days(policy, "infra") == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27"]
    # A named day is the policy's choice: SET's Monday summary.
    assert days(policy, "set") == ["2026-11-23"]


def test_policy_may_post_every_day() -> None:
    raw = load_policy(EXAMPLE).model_dump(by_alias=True)
    raw["desks"]["infra"]["notify"]["daily_posts"] = "every-day"
    policy = Policy.model_validate(raw)
    assert len(days(policy, "infra")) == 7
    dedupe = [p.key for p in plan_summaries(policy, START, END) if p.desk == "infra"]
    assert dedupe[0] == "job:oncall-summary:infra:2026-11-23"  # keys as before
