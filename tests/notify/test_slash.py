"""/dutydesk from Slack (signed) and Mattermost (token): verified, mapped, filed via the service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from dutydesk.notify.slash import Command, parse, slack_signature
from dutydesk.notify.worker import fan_out
from dutydesk.state import AppState
from tests.conftest import Api, ManualClock

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "mm-token-123"


@pytest.fixture(autouse=True)
def chat_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUTYDESK_SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("DUTYDESK_MATTERMOST_TOKEN", TOKEN)


def slack(
    api: Api,
    clock: ManualClock,
    text: str,
    *,
    user: str = "rita",
    secret: str = SECRET,
    age: int = 0,
    **form: str,
) -> Any:
    body = urlencode(
        {
            "command": "/dutydesk",
            "text": text,
            "user_id": f"U-{user}",
            "user_name": user,
            "channel_name": "hackers-infra",
            **form,
        }
    )
    ts = str(int(clock.now.timestamp()) - age)
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(secret, ts, body.encode()),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return api.client.post("/api/v1/chat/slack/command", content=body, headers=headers)


def mattermost(
    api: Api,
    text: str,
    *,
    token: str = TOKEN,
    user: str = "eva",
    channel: str = "sustained-engineering",
) -> Any:
    body = urlencode(
        {"token": token, "text": text, "user_id": "mm1", "user_name": user, "channel_name": channel}
    )
    return api.client.post(
        "/api/v1/chat/mattermost/command",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def count(api: Api, desk: str) -> int:
    return len(api.req("admin", "GET", "/api/v1/tickets", params={"desk": desk}).json()["items"])


def test_a_signed_slack_command_files_a_ticket_through_the_service(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    r = slack(api, clock, "file Devicelab bot 7 is offline")
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["response_type"] == "in_channel"
    # No queue criterion can be ticked from chat: the reporter is told where it waits.
    first, note, *_hints = reply["text"].split("\n")
    assert first == "rita filed *INFRA-1*: Devicelab bot 7 is offline"
    assert note.startswith("Weekly triage backlog: no queue criterion ticked")
    t = api.req("admin", "GET", "/api/v1/tickets/INFRA-1").json()
    assert (t["reporter"], t["status"], t["priority"]) == ("rita", "New", None)
    assert (t["in_queue"], t["clocks"]) == (False, [])
    fan_out(state.db, state.policy)
    outbox = api.req("admin", "GET", "/api/v1/admin/outbox", params={"kind": "message"}).json()[
        "items"
    ]
    assert any(
        i["channel"] == "infra-chat" and i["desk"] == "infra" for i in outbox
    )  # notifications apply


def test_filing_from_chat_replies_with_the_filing_hints(api: Api, clock: ManualClock) -> None:
    """The same hints as the API's answer: the vague-title nudge and possible duplicates."""
    assert slack(api, clock, "file Devicelab bot 7 is offline").status_code == 200
    lines = slack(api, clock, "file devicelab bot offline again").json()["text"].split("\n")
    assert "Possible duplicate: *INFRA-1* Devicelab bot 7 is offline" in lines
    vague = slack(api, clock, "file help").json()["text"].split("\n")
    assert any(line.startswith("Hint: ") for line in vague)
    assert not any(line.startswith("Possible duplicate") for line in vague)
    # Chat files a title alone: every prompt of the desk's template is left to answer.
    assert any(line.startswith("Hint: the description has nothing under Why") for line in vague)


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "not-the-secret"},  # bad signature
        {"age": 600},  # outside the 5-minute window
    ],
)
def test_bad_or_stale_signatures_get_401_and_file_nothing(
    api: Api, clock: ManualClock, tamper: dict[str, Any]
) -> None:
    r = slack(api, clock, "file Should not exist", **tamper)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert count(api, "infra") == 0


def test_a_replayed_request_gets_401(api: Api, clock: ManualClock) -> None:
    assert slack(api, clock, "file Only once please").status_code == 200
    again = slack(api, clock, "file Only once please")  # same timestamp and body: same signature
    assert again.status_code == 401 and "replay" in again.json()["detail"]
    assert count(api, "infra") == 1


def test_missing_headers_and_unconfigured_secret(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    r = api.client.post("/api/v1/chat/slack/command", content="text=queue")
    assert r.status_code == 401
    monkeypatch.delenv("DUTYDESK_MATTERMOST_TOKEN")
    assert mattermost(api, "queue").status_code == 401


def test_mattermost_token_channel_desk_and_user_mapping(api: Api) -> None:
    r = mattermost(api, "file Push notifications arrive twice")
    assert (
        r.status_code == 200
        and r.json()["text"].split("\n")[0] == "eva filed *SET-1*: Push notifications arrive twice"
    )
    assert mattermost(api, "queue", token="wrong").status_code == 401
    stranger = mattermost(api, "queue", user="mallory")
    assert stranger.status_code == 200
    assert "not linked to a dutydesk user" in stranger.json()["text"]
    assert stranger.json()["response_type"] == "ephemeral"


def test_queue_show_oncall_and_help(api: Api, clock: ManualClock) -> None:
    api.file(title="Almost out of quota")  # with a queue criterion ticked: in the queue
    clock.advance(seconds=1)
    q = slack(api, clock, "queue").json()["text"]
    assert (
        q.startswith("Top of the infra queue:") and "*INFRA-1* [untriaged] Almost out of quota" in q
    )
    clock.advance(seconds=1)
    s = slack(api, clock, "show infra-1").json()["text"]
    assert s.startswith("*INFRA-1* Almost out of quota\nNew · untriaged")
    clock.advance(seconds=1)
    o = slack(api, clock, "oncall").json()["text"]
    assert o.startswith("On call for infra:\n• now (primary): bo until Mon 11-23 10:00 PST")
    clock.advance(seconds=1)
    assert slack(api, clock, "what").json()["text"].startswith("Usage: `/dutydesk file")
    clock.advance(seconds=1)
    bad = slack(api, clock, "show INFRA-99").json()
    assert bad == {"response_type": "ephemeral", "text": "Sorry: no ticket INFRA-99"}


def test_parse_commands() -> None:
    desks = {"infra", "set"}
    assert parse("file set: Crash: on login", desks) == parse("file  set:Crash: on login", desks)
    assert parse("file set: Crash: on login", desks).desk == "set"
    assert parse("file Build: broken", desks).arg == "Build: broken"
    assert parse("queue SET", desks).desk == "set"
    assert parse("", desks).name == "help"


def test_similar_answers_the_top_possible_duplicates(api: Api, clock: ManualClock) -> None:
    api.file(title="Devicelab bot 7 is offline", description="The bot stopped taking jobs.")
    api.file(title="Almost out of disk quota on the builders")
    clock.advance(seconds=1)
    api.file(title="Devicelab bot 9 offline again")
    clock.advance(seconds=1)
    text = slack(api, clock, "similar devicelab bot offline").json()["text"]
    lines = text.split("\n")
    assert lines[0] == "Possible duplicates on infra:"
    assert lines[1].startswith("1. *INFRA-") and "(open, score" in lines[1]
    assert {line.split("*")[1] for line in lines[1:3]} == {"INFRA-1", "INFRA-3"}
    assert "shares: devicelab, bot, offline" in text
    assert "INFRA-2" not in text  # nothing in common
    clock.advance(seconds=1)
    # A ticket's own earlier look-alikes: never itself, never a later ticket.
    mine = slack(api, clock, "similar infra-3").json()["text"].split("\n")
    assert mine[0] == "Earlier tickets INFRA-3 may repeat:"
    assert [line.split("*")[1] for line in mine[1:]] == ["INFRA-1"]
    clock.advance(seconds=1)
    none = slack(api, clock, "similar set: devicelab bot offline").json()["text"]
    assert none.startswith("Possible duplicates on set: none found")
    clock.advance(seconds=1)
    assert slack(api, clock, "similar").json()["text"].startswith("Give a title or a ticket key")
    clock.advance(seconds=1)
    assert slack(api, clock, "similar INFRA-99").json()["text"] == "Sorry: no ticket INFRA-99"


def test_parse_similar() -> None:
    desks = {"infra", "set"}
    assert parse("similar set: bot offline", desks) == Command("similar", "set", "bot offline")
    assert parse("similar INFRA-3", desks) == Command("similar", None, "INFRA-3")
