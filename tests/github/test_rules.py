"""The bridge's pure parts in tables: the signature check, payload reading, its policy."""

from __future__ import annotations

from typing import Any

import pytest

from dutydesk.errors import Invalid, Unauthorized
from dutydesk.github.payloads import IssuesEvent, read
from dutydesk.github.signature import sign, verify
from dutydesk.policy import Policy
from tests.github import payloads as gh

BODY = b'{"action":"opened"}'
# GitHub's documented test vector: secret "It's a Secret to Everybody", body "Hello, World!".
DOCUMENTED = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_the_signature_matches_githubs_documented_example() -> None:
    assert sign("It's a Secret to Everybody", b"Hello, World!") == DOCUMENTED
    verify("It's a Secret to Everybody", DOCUMENTED, b"Hello, World!")


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "is missing"),
        ("", "is missing"),
        ("sha1=" + sign("s", BODY)[7:], "does not match"),
        (sign("other secret", BODY), "does not match"),
        (sign("s", BODY + b" "), "does not match"),
        (sign("s", BODY).upper(), "does not match"),
        ("sha256=", "does not match"),
    ],
)
def test_a_wrong_or_missing_signature_is_refused(header: str | None, why: str) -> None:
    with pytest.raises(Unauthorized, match=why):
        verify("s", header, BODY)


def test_payloads_read_what_the_bridge_needs_and_name_what_is_missing() -> None:
    ev = read(IssuesEvent, gh.issues_event("closed", state="closed", state_reason="not_planned"))
    assert (ev.issue.number, ev.issue.state_reason, ev.sender.login) == (
        1,
        "not_planned",
        "Codertocat",
    )
    broken: dict[str, Any] = gh.issues_event("opened")
    del broken["issue"]["title"]
    broken["issue"]["number"] = "one"
    with pytest.raises(Invalid) as refused:
        read(IssuesEvent, broken)
    fields = {e["field"] for e in refused.value.errors}
    assert fields == {"issue.title", "issue.number"}


def _desk_with(github: dict[str, Any]) -> dict[str, Any]:
    return {"desks": {"ops": {"columns": ["New", "Done"], "kinds": ["bug"], "github": github}}}


@pytest.mark.parametrize(
    ("github", "why"),
    [
        ({"file_on": ["labeled"]}, "needs label"),
        ({"file_on": ["project"]}, "needs project"),
        ({"labels": {"bug": "priority:P0"}}, "write 'kind:X', 'category:X' or 'label:X'"),
        ({"labels": {"q": "kind:question"}}, "maps to kind 'question'"),
        ({"resolutions": {"completed": "done"}}, "maps to 'done'"),
        ({"repositories": ["just-a-name"]}, "write it as 'owner/name'"),
        ({"secret_env": "my secret"}, "not an environment variable name"),
    ],
)
def test_a_desks_bridge_policy_is_checked(github: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Policy.model_validate(_desk_with(github))


def test_mail_policy_is_checked_and_message_ids_take_the_senders_domain() -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
        Policy.model_validate(
            {"desks": {"ops": {"columns": ["New", "Done"], "mail": {"address": "ops"}}}}
        )
    p = Policy.model_validate(
        {
            "desks": {"ops": {"columns": ["New", "Done"]}},
            "notify": {"email": {"from": "Ops <ops@corp.example>"}},
        }
    )
    assert p.mail.message_domain(p.notify.email.sender) == "corp.example"
