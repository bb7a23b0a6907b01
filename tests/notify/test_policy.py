"""The notification part of dutydesk.toml: located errors, secrets only from the environment."""

from __future__ import annotations

import pytest

from dutydesk.policy import PolicyError, parse_policy

BASE = """
[desks.ops]
columns = ["New", "Done"]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(BASE + text, "p.toml")
    return [f"{p.location}: {p.message}" for p in info.value.problems]


def test_channels_and_meetings_parse() -> None:
    policy = parse_policy(
        BASE
        + """
[desks.ops.notify]
channels = ["chat"]

[[desks.ops.meetings]]
name = "triage"
agenda = "triage"
days = ["tue"]
at = "10:00"
timezone = "Europe/Berlin"

[notify.channels.chat]
type = "mattermost"
url_env = "OPS_MM_URL"
"""
    )
    assert policy.notify.channels["chat"].url_env == "OPS_MM_URL"
    assert policy.desks["ops"].meetings[0].at.hour == 10


def test_a_secret_in_the_file_is_refused() -> None:
    [msg] = problems(
        '[notify.channels.chat]\ntype = "slack"\nurl_env = "https://hooks.slack.com/services/T/B/X"\n'
    )
    assert msg.startswith("notify.channels.chat.url_env:") and "environment" in msg


def test_unknown_channel_meeting_and_reason_are_located_errors() -> None:
    found = problems(
        """
[desks.ops.notify]
channels = ["nowhere"]

[desks.ops.status_post]
after = "status"

[people.ana.notify]
mute = ["gossip"]
"""
    )
    text = "\n".join(found)
    assert "people.ana.notify.mute" in text and "gossip" in text
    found = problems(
        '[desks.ops.notify]\nchannels = ["nowhere"]\n[desks.ops.status_post]\nafter = "status"\n'
    )
    text = "\n".join(found)
    assert "desks.ops.notify.channels: unknown channel 'nowhere'" in text
    assert "desks.ops.status_post.after: unknown meeting 'status'" in text


def test_lease_must_outlast_one_attempt() -> None:
    [msg] = problems('[notify]\nclaim_timeout = "5 seconds"\ntimeout = "10 seconds"\n')
    assert "claim_timeout must be longer than timeout" in msg
