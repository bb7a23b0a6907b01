"""Each desk's description template comes from policy, and a desk may require its sections:
the one filing service refuses a ticket without them, whichever way it comes in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.db import Database
from dutydesk.policy import Policy, parse_policy
from dutydesk.state import AppState, sync_policy
from dutydesk.tickets import workflow
from tests.conftest import Api, ManualClock
from tests.notify.test_slash import SECRET, slack
from tests.test_cli import run

DESK = parse_policy(
    """
[desks.q]
columns = ["New", "Done"]
prompts = [
  { heading = "Why", required = true },
  { heading = "What exactly" },
  { heading = "How to verify", required = true },
]
"""
).desks["q"]


@pytest.mark.parametrize(
    ("description", "missing"),
    [
        ("Why: release blocked\nHow to verify: the build is green", []),
        ("## Why\nrelease blocked\n\n**How to verify**: green build", []),
        ("why: lower case counts\nHOW TO VERIFY: too", []),
        ("Why: …\nWhat exactly: a builder\nHow to verify:", ["Why", "How to verify"]),
        ("Whyever not: no heading here\nHow to verify: x", ["Why"]),
        ("", ["Why", "How to verify"]),
    ],
)
def test_required_sections(description: str, missing: list[str]) -> None:
    assert workflow.missing_sections(DESK, description) == missing
    refusal = workflow.template_refusal(DESK, description)
    assert (refusal.field if refusal else None) == ("description" if missing else None)  # type: ignore[union-attr]


@pytest.fixture
def strict(db: Database, policy: Policy, clock: ManualClock) -> Iterator[Api]:
    """The example policy with infra's Why and How to verify sections required."""
    raw = policy.model_dump(by_alias=True)
    for prompt in raw["desks"]["infra"]["prompts"]:
        prompt["required"] = prompt["heading"] in ("Why", "How to verify")
    state = AppState(db=db, policy=Policy.model_validate(raw), clock=clock)
    sync_policy(db, state.policy, clock())
    with db.write() as s:
        tokens = {n: create_token(s, user_by_name(s, n), clock(), "t") for n in ("rita", "ana")}
    with TestClient(create_app(state)) as client:
        yield Api(client, tokens)


def test_api_refuses_a_ticket_without_the_required_sections(strict: Api) -> None:
    r = strict.req(
        "rita",
        "POST",
        "/api/v1/desks/infra/tickets",
        json={"title": "Builders slow to start", "description": "Why: since Monday"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "description"
    assert "'How to verify'" in r.json()["detail"]
    ok = strict.file(description="Why: since Monday\n\nHow to verify: pool starts in 1 min")
    assert ok["key"] == "INFRA-1"


def test_chat_filing_obeys_the_template_too(
    strict: Api, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUTYDESK_SLACK_SIGNING_SECRET", SECRET)
    r = slack(strict, clock, "file Builders slow to start")
    assert r.status_code == 200
    assert r.json()["text"].startswith("Sorry: description: this desk needs the sections 'Why'")


def test_cli_filing_obeys_the_template(tmp_path: Path) -> None:
    run(tmp_path, "init")
    policy = tmp_path / "dutydesk.toml"
    policy.write_text(
        policy.read_text().replace(
            '{ heading = "Why", hint = "what is blocked or at risk, and since when" }',
            '{ heading = "Why", hint = "what is blocked or at risk, and since when", '
            "required = true }",
        )
    )
    refused = run(tmp_path, "--as", "rita", "file", "infra", "Builders slow to start", ok=False)
    assert refused.returncode == 1 and "this desk needs the section 'Why'" in refused.stderr
    filed = run(
        tmp_path, "--as", "rita", "file", "infra", "Builders slow to start", "-d", "Why: a release"
    )
    assert "filed INFRA-1" in filed.stdout
