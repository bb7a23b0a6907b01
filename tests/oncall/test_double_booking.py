"""Double booking from a ``take`` (two layers at once) and from covering a shift during
one's own time off, warned at once and listed with the gaps, through the API.

The clock: Monday 2026-11-23 09:00 in Los Angeles; SET's 16 Nov - 16 Dec shift has eva
(channels), gus (lead, playbooks), ivan (mobile) and kai (platform) on call.
"""

from __future__ import annotations

from tests.conftest import Api
from tests.oncall.test_api import SET


def test_taking_a_second_layer_or_during_time_off_is_warned_and_listed(api: Api) -> None:
    took = api.post("eva", f"{SET}/take", {"layer": "playbooks", "until": "2026-11-24T12:00"})
    assert took.status_code == 201, took.text
    assert any(
        "eva is on call on set/channels and set/playbooks at once" in w
        for w in took.json()["warnings"]
    )
    off = api.post(
        "kai", "/api/v1/time-off", {"person": "kai", "start": "2026-12-01", "end": "2026-12-01"}
    )
    assert off.status_code == 201, off.text
    back = api.post(
        "kai",
        f"{SET}/overrides",
        {
            "person": "kai",
            "layer": "platform",
            "start": "2026-12-01T09:00",
            "end": "2026-12-01T17:00",
        },
    )
    assert back.status_code == 201, back.text
    assert any("on call during their time off" in w for w in back.json()["warnings"])
    found = api.req("rita", "GET", "/api/v1/oncall/gaps?days=30&rotation=set").json()["conflicts"]
    assert [(c["kind"], c["person"]) for c in found] == [
        ("double-booked", "eva"),
        ("time-off", "kai"),
    ]
