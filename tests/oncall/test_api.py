"""Rotations through the API on a real database: both reference desks across DST and month
ends, overrides, swaps, take, time off, membership, roles, gaps, fairness and history.

The clock starts Monday 2026-11-23 09:00 in Los Angeles: bo holds infra until the 10:00
handoff, then chen; SET is in its 16 Nov - 16 Dec rotation (eva, gus, ivan, kai; gus leads).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, create_user, user_by_name
from dutydesk.oncall.loading import loaded_in
from dutydesk.oncall.overrides import create_override
from dutydesk.oncall.schemas import OverrideIn
from dutydesk.policy import Policy
from dutydesk.policy.rotations import PRIMARY
from dutydesk.state import AppState, sync_policy
from tests.conftest import Api, ManualClock

INFRA = "/api/v1/rotations/infra-oncall"
SET = "/api/v1/rotations/set"


def spans(api: Api, path: str, frm: str, to: str, **params: Any) -> list[tuple[str, str, str]]:
    r = api.req("rita", "GET", f"{path}/shifts", params={"from": frm, "to": to, **params})
    assert r.status_code == 200, r.text
    return [(x["start"], x["end"], x["person"]) for x in r.json()]


def who(api: Api, desk: str, at: str | None = None) -> dict[str, str]:
    r = api.req(
        "rita", "GET", "/api/v1/oncall", params={"desk": desk, **({"at": at} if at else {})}
    )
    assert r.status_code == 200, r.text
    return {x["layer"]: x["person"] for x in r.json()["layers"]}


def problem(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return str(r.json()["detail"])


# ----------------------------------------------------------------------------- reference desks


def test_who_is_on_call_per_layer_now_and_at_any_instant(api: Api, clock: ManualClock) -> None:
    assert who(api, "infra") == {"primary": "bo"}
    assert who(api, "infra", "2026-11-23T10:00:00-08:00") == {"primary": "chen"}
    assert who(api, "infra", "2026-11-23T09:59") == {"primary": "bo"}  # local wall time
    clock.advance(hours=1)
    assert who(api, "infra") == {"primary": "chen"}
    assert who(api, "set") == {
        "lead": "gus",
        "channels": "eva",
        "playbooks": "gus",
        "mobile": "ivan",
        "platform": "kai",
    }
    body = api.req("rita", "GET", "/api/v1/oncall?desk=set").json()
    lead = body["layers"][0]
    assert lead["layer"] == "lead" and lead["team"] == "playbooks"
    assert lead["start"] == "2026-11-16T09:00:00-05:00"
    assert lead["end"] == "2026-12-16T09:00:00-05:00"
    every = api.req("rita", "GET", "/api/v1/oncall").json()
    assert [d["desk"] for d in every["desks"]] == ["infra", "set"]
    assert problem(api.req("rita", "GET", "/api/v1/oncall?desk=nope"), 404).startswith("no desk")
    assert "offset" not in problem(api.req("rita", "GET", "/api/v1/oncall?desk=infra&at=soon"), 422)


def test_infra_weekly_across_the_2026_and_2027_dst_changes(api: Api) -> None:
    got = spans(api, INFRA, "2026-10-20", "2026-11-10")
    assert got == [
        ("2026-10-19T10:00:00-07:00", "2026-10-26T10:00:00-07:00", "bo"),
        ("2026-10-26T10:00:00-07:00", "2026-11-02T10:00:00-08:00", "chen"),  # 169 h
        ("2026-11-02T10:00:00-08:00", "2026-11-09T10:00:00-08:00", "dee"),
        ("2026-11-09T10:00:00-08:00", "2026-11-16T10:00:00-08:00", "ana"),
    ]
    got = spans(api, INFRA, "2027-03-08T10:00-08:00", "2027-03-22T10:00-07:00")
    assert got == [
        ("2027-03-08T10:00:00-08:00", "2027-03-15T10:00:00-07:00", "bo"),  # 167 h
        ("2027-03-15T10:00:00-07:00", "2027-03-22T10:00:00-07:00", "chen"),
    ]


def test_set_monthly_on_the_16th_with_four_teams_and_a_lead(api: Api) -> None:
    r = api.req("rita", "GET", f"{SET}/shifts", params={"from": "2026-12-20", "to": "2027-04-01"})
    leads = [(x["start"], x["person"], x["team"]) for x in r.json() if x["layer"] == "lead"]
    assert leads == [
        ("2026-12-16T09:00:00-05:00", "hana", "playbooks"),
        ("2027-01-16T09:00:00-05:00", "ivan", "mobile"),
        ("2027-02-16T09:00:00-05:00", "jo", "mobile"),
        ("2027-03-16T09:00:00-04:00", "kai", "platform"),  # after spring-forward on the 14th
    ]
    # Each team gives one engineer per rotation, cycling independently; the lead is that
    # team's engineer, and a team's turn to lead lasts two shifts so both its engineers lead.
    feb = [x for x in r.json() if x["start"] == "2027-02-16T09:00:00-05:00"]
    assert {x["layer"]: x["person"] for x in feb} == {
        "lead": "jo",
        "channels": "finn",
        "playbooks": "hana",
        "mobile": "jo",
        "platform": "lee",
    }
    assert all(x["end"] == "2027-03-16T09:00:00-04:00" for x in feb)
    info = api.req("rita", "GET", SET).json()
    assert [x["name"] for x in info["layers"]] == [
        "lead",
        *(["channels", "playbooks", "mobile", "platform"]),
    ]
    assert info["layers"][0]["lead_of"] == ["channels", "playbooks", "mobile", "platform"]


@pytest.fixture
def berlin(state: AppState, policy: Policy) -> Iterator[Api]:
    """The example policy plus two Europe/Berlin rotations with awkward handoffs."""
    raw = policy.model_dump(by_alias=True)
    raw["rotations"]["berlin-weekly"] = {
        "timezone": "Europe/Berlin",
        "every": "week",
        "handoff": "sun 02:30",  # ambiguous in October, missing in March
        "members": ["ana", "bo"],
        "start": "2026-10-04",
    }
    raw["rotations"]["berlin-monthly"] = {
        "timezone": "Europe/Berlin",
        "every": "month",
        "handoff": "31 09:00",
        "members": ["chen", "dee", "ana"],
        "start": "2026-10-01",
    }
    other = AppState(db=state.db, policy=Policy.model_validate(raw), clock=state.clock)
    sync_policy(other.db, other.policy, other.now())
    with other.db.write() as s:
        token = create_token(s, user_by_name(s, "rita"), other.now())
    with TestClient(create_app(other)) as client:
        yield Api(client, {"rita": token})


def test_berlin_handoffs_in_a_dst_gap_and_fold_and_on_month_ends(berlin: Api) -> None:
    weekly = spans(berlin, "/api/v1/rotations/berlin-weekly", "2026-10-20", "2026-11-02")
    assert weekly == [
        ("2026-10-18T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "ana"),  # the first 02:30
        ("2026-10-25T02:30:00+02:00", "2026-11-01T02:30:00+01:00", "bo"),  # 169 h
        ("2026-11-01T02:30:00+01:00", "2026-11-08T02:30:00+01:00", "ana"),
    ]
    spring = spans(berlin, "/api/v1/rotations/berlin-weekly", "2027-03-27", "2027-03-29")
    assert spring == [
        ("2027-03-21T02:30:00+01:00", "2027-03-28T03:00:00+02:00", "ana"),  # 02:30 does not exist
        ("2027-03-28T03:00:00+02:00", "2027-04-04T02:30:00+02:00", "bo"),
    ]
    monthly = spans(berlin, "/api/v1/rotations/berlin-monthly", "2026-10-01", "2027-04-15")
    assert [s for s, _, _ in monthly] == [
        "2026-10-31T09:00:00+01:00",
        "2026-11-30T09:00:00+01:00",  # no 31 November: the last day
        "2026-12-31T09:00:00+01:00",
        "2027-01-31T09:00:00+01:00",  # across the year boundary
        "2027-02-28T09:00:00+01:00",
        "2027-03-31T09:00:00+02:00",
    ]
    assert [p for _, _, p in monthly] == ["chen", "dee", "ana", "chen", "dee", "ana"]
    leap = spans(berlin, "/api/v1/rotations/berlin-monthly", "2028-02-20", "2028-03-05")
    assert leap[-1][0] == "2028-02-29T09:00:00+01:00"


# ----------------------------------------------------------------------------- overrides


def test_override_for_someone_wins_and_can_be_undone(api: Api) -> None:
    body = {
        "person": "ana",
        "start": "2026-11-25T09:00-08:00",
        "end": "2026-11-26T09:00-08:00",
        "replaces": "chen",
        "note": "chen at the dentist",
    }
    r = api.post("dee", f"{INFRA}/overrides", body)
    assert r.status_code == 201, r.text
    ov = r.json()
    assert (ov["person"], ov["start"], ov["kind"], ov["created_by"]) == (
        "ana",
        "2026-11-25T09:00:00-08:00",
        "manual",
        "dee",
    )
    assert who(api, "infra", "2026-11-25T12:00-08:00") == {"primary": "ana"}
    assert spans(api, INFRA, "2026-11-24", "2026-11-27") == [
        ("2026-11-23T10:00:00-08:00", "2026-11-25T09:00:00-08:00", "chen"),
        ("2026-11-25T09:00:00-08:00", "2026-11-26T09:00:00-08:00", "ana"),
        ("2026-11-26T09:00:00-08:00", "2026-11-30T10:00:00-08:00", "chen"),
    ]
    clash = api.post(
        "chen", f"{INFRA}/overrides", {**body, "person": "bo", "start": "2026-11-25T18:00"}
    )
    assert "overlaps override(s) on primary: #1 ana" in problem(clash, 409)
    assert clash.json()["conflicts"] == [1]
    assert api.req("dee", "DELETE", f"{INFRA}/overrides/{ov['id']}").status_code == 200
    assert who(api, "infra", "2026-11-25T12:00-08:00") == {"primary": "chen"}
    again = api.req("dee", "DELETE", f"{INFRA}/overrides/{ov['id']}")
    assert "already undone" in problem(again, 409)
    listed = api.req("rita", "GET", f"{INFRA}/overrides?all=true").json()
    assert listed[0]["cancelled_by"] == "dee"


def test_replace_cuts_overlapping_overrides(api: Api) -> None:
    first = api.post(
        "dee", f"{INFRA}/overrides", {"person": "ana", "start": "2026-11-25", "end": "2026-11-27"}
    )
    assert first.status_code == 201, first.text
    r = api.post(
        "dee",
        f"{INFRA}/overrides",
        {"person": "bo", "start": "2026-11-26T00:00", "end": "2026-11-26T12:00", "replace": True},
    )
    assert r.status_code == 201, r.text
    assert spans(api, INFRA, "2026-11-25", "2026-11-29") == [
        ("2026-11-25T00:00:00-08:00", "2026-11-26T00:00:00-08:00", "ana"),
        ("2026-11-26T00:00:00-08:00", "2026-11-26T12:00:00-08:00", "bo"),
        ("2026-11-26T12:00:00-08:00", "2026-11-28T00:00:00-08:00", "ana"),  # the tail piece
        ("2026-11-28T00:00:00-08:00", "2026-11-30T10:00:00-08:00", "chen"),
    ]
    pieces = api.req("rita", "GET", f"{INFRA}/overrides").json()
    assert [(o["person"], o["start"][:10]) for o in pieces] == [
        ("ana", "2026-11-25"),
        ("bo", "2026-11-26"),
        ("ana", "2026-11-26"),
    ]


def test_override_rejections_name_the_field_and_the_reason(api: Api, clock: ManualClock) -> None:
    url = f"{INFRA}/overrides"
    past = api.post("ana", url, {"person": "ana", "start": "2026-11-20", "end": "2026-11-30"})
    assert "in the past; past shifts are facts" in problem(past, 422)
    assert past.json()["errors"][0]["field"] == "start"
    empty = api.post(
        "ana", url, {"person": "ana", "start": "2026-12-01T10:00", "end": "2026-12-01T09:00"}
    )
    assert "is not after the start" in problem(empty, 422)
    nobody = api.post("dee", url, {"person": "zed", "end": "2026-12-01"})
    assert "no user named 'zed'" in problem(nobody, 422)
    reporter = api.post("dee", url, {"person": "rita", "end": "2026-12-01"})
    assert "rita cannot be on call for infra-oncall" in problem(reporter, 422)
    layer = api.post("dee", url, {"person": "ana", "end": "2026-12-01", "layer": "backup"})
    assert "has no layer 'backup'" in problem(layer, 422)
    covers = api.post("dee", url, {"person": "ana", "end": "2026-11-25", "replaces": "dee"})
    assert "dee is not on call on primary" in problem(covers, 422)
    typo = api.post("dee", url, {"person": "ana", "end": "2026-12-01", "repalce": True})
    assert typo.status_code == 422
    when = api.post("dee", url, {"person": "ana", "end": "next tuesday"})
    assert "is not a time" in problem(when, 422)
    set_layer = api.post("eva", f"{SET}/overrides", {"person": "eva", "end": "2026-12-01"})
    assert set_layer.status_code == 201, set_layer.text
    assert set_layer.json()["layer"] == "channels"  # eva's own team


def test_roles_people_for_themselves_leads_for_anyone(api: Api) -> None:
    url = f"{INFRA}/overrides"
    mine = api.post("ana", url, {"person": "ana", "start": "2026-11-27", "end": "2026-11-27T12:00"})
    assert mine.status_code == 201
    other = api.post("ana", url, {"person": "bo", "start": "2026-11-28", "end": "2026-11-29"})
    assert "only bo, or a lead of desk infra" in problem(other, 403)
    reporter = api.post("rita", url, {"person": "ana", "start": "2026-11-28", "end": "2026-11-29"})
    assert problem(reporter, 403)
    other_desk = api.post("eva", url, {"person": "ana", "start": "2026-11-28", "end": "2026-11-29"})
    assert problem(other_desk, 403)  # eva leads SET, not infra
    lead = api.post("dee", url, {"person": "bo", "start": "2026-11-28", "end": "2026-11-29"})
    assert lead.status_code == 201
    undo = api.req("chen", "DELETE", f"{url}/{mine.json()['id']}")
    assert problem(undo, 403)
    assert api.req("ana", "DELETE", f"{url}/{mine.json()['id']}").status_code == 200
    swap = api.post(
        "chen", f"{INFRA}/swaps", {"person_a": "ana", "shift_a": "2026-12-07", "person_b": "bo"}
    )
    assert problem(swap, 403)
    off = api.post(
        "chen", "/api/v1/time-off", {"person": "ana", "start": "2026-12-08", "end": "2026-12-09"}
    )
    assert "only ana or a lead of desk infra" in problem(off, 403)
    join = api.post(
        "ana", f"{INFRA}/members", {"person": "bo", "action": "leave", "effective": "2027-01-01"}
    )
    assert problem(join, 403)
    anon = api.client.get(f"{INFRA}/shifts")
    assert anon.status_code == 401


def test_undo_of_an_override_under_way_keeps_its_past(api: Api, clock: ManualClock) -> None:
    r = api.post(
        "dee", f"{INFRA}/overrides", {"person": "dee", "start": "2026-11-24", "end": "2026-11-26"}
    )
    ov = r.json()
    clock.now = datetime(2026, 11, 24, 20, tzinfo=UTC)  # Tuesday 12:00 LA
    cut = api.req("dee", "DELETE", f"{INFRA}/overrides/{ov['id']}")
    assert cut.status_code == 200, cut.text
    assert cut.json()["end"] == "2026-11-24T12:00:00-08:00" and cut.json()["cancelled_at"] is None
    assert spans(api, INFRA, "2026-11-23T12:00", "2026-11-25") == [
        ("2026-11-23T10:00:00-08:00", "2026-11-24T00:00:00-08:00", "chen"),
        ("2026-11-24T00:00:00-08:00", "2026-11-24T12:00:00-08:00", "dee"),
        ("2026-11-24T12:00:00-08:00", "2026-11-30T10:00:00-08:00", "chen"),
    ]
    clock.now = datetime(2026, 11, 25, 20, tzinfo=UTC)
    gone = api.req("dee", "DELETE", f"{INFRA}/overrides/{ov['id']}")
    assert "past shifts are facts" in problem(gone, 409)


def test_change_an_override(api: Api, clock: ManualClock) -> None:
    url = f"{INFRA}/overrides"
    ov = api.post("dee", url, {"person": "ana", "start": "2026-11-25", "end": "2026-11-26"}).json()
    longer = api.req("dee", "PATCH", f"{url}/{ov['id']}", json={"end": "2026-11-26T12:00"})
    assert longer.status_code == 200, longer.text
    assert longer.json()["end"] == "2026-11-26T12:00:00-08:00"
    clock.now = datetime(2026, 11, 25, 20, tzinfo=UTC)  # under way now
    moved = api.req(
        "dee", "PATCH", f"{url}/{longer.json()['id']}", json={"start": "2026-11-25T06:00"}
    )
    assert "its start is a fact" in problem(moved, 409)
    handed = api.req("dee", "PATCH", f"{url}/{longer.json()['id']}", json={"person": "bo"})
    assert handed.status_code == 200, handed.text
    assert (handed.json()["person"], handed.json()["start"]) == ("bo", "2026-11-25T12:00:00-08:00")
    assert spans(api, INFRA, "2026-11-25", "2026-11-27")[:3] == [
        ("2026-11-25T00:00:00-08:00", "2026-11-25T12:00:00-08:00", "ana"),
        ("2026-11-25T12:00:00-08:00", "2026-11-26T12:00:00-08:00", "bo"),
        ("2026-11-26T12:00:00-08:00", "2026-11-30T10:00:00-08:00", "chen"),
    ]


def test_take_the_current_shift(api: Api, clock: ManualClock) -> None:
    clock.now = datetime(2026, 11, 24, 20, tzinfo=UTC)  # Tuesday noon; chen holds infra
    r = api.post("ana", f"{INFRA}/take", {})
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["replaces"], r.json()["end"]) == (
        "take",
        "chen",
        "2026-11-30T10:00:00-08:00",
    )
    assert who(api, "infra") == {"primary": "ana"}
    assert who(api, "infra", "2026-11-24T11:00") == {"primary": "chen"}  # the past stays
    assert "already holds primary" in problem(api.post("ana", f"{INFRA}/take", {}), 409)
    back = api.post("dee", f"{INFRA}/take", {"person": "chen"})
    assert back.status_code == 201, back.text
    assert who(api, "infra") == {"primary": "chen"}
    assert problem(api.post("bo", f"{INFRA}/take", {"person": "chen"}), 403)
    taken_set = api.post("jo", f"{SET}/take", {})
    assert taken_set.status_code == 201, taken_set.text
    assert who(api, "set")["mobile"] == "jo"
    assert who(api, "set")["lead"] == "gus"  # overrides cover hours; who leads does not change


# ----------------------------------------------------------------------------- swaps


def test_swap_two_shifts_and_undo(api: Api) -> None:
    r = api.post(
        "ana", f"{INFRA}/swaps", {"person_a": "ana", "shift_a": "2026-12-07", "person_b": "bo"}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["shift_a"], r.json()["shift_b"]) == (
        "2026-12-07T10:00:00-08:00",
        "2026-12-14T10:00:00-08:00",
    )
    assert [p for _, _, p in spans(api, INFRA, "2026-12-07T10:00", "2026-12-21T10:00")] == [
        "bo",
        "ana",
    ]
    wrong = api.post(
        "dee",
        f"{INFRA}/swaps",
        {
            "person_a": "ana",
            "shift_a": "2026-12-21T10:00-08:00",
            "person_b": "dee",
            "shift_b": "2026-12-28T10:00-08:00",
        },
    )
    assert "belongs to chen, not ana" in problem(wrong, 422)
    started = api.post(
        "bo", f"{INFRA}/swaps", {"person_a": "bo", "shift_a": "2026-11-16", "person_b": "chen"}
    )
    assert "has already started" in problem(started, 409)
    not_a_shift = api.post(
        "dee",
        f"{INFRA}/swaps",
        {
            "person_a": "chen",
            "shift_a": "2026-12-21T11:00-08:00",
            "person_b": "dee",
        },
    )
    assert "no primary shift starts at" in problem(not_a_shift, 422)
    undo = api.req("bo", "DELETE", f"{INFRA}/swaps/{r.json()['id']}")
    assert undo.status_code == 200, undo.text
    assert [p for _, _, p in spans(api, INFRA, "2026-12-07T10:00", "2026-12-21T10:00")] == [
        "ana",
        "bo",
    ]
    assert len(api.req("rita", "GET", f"{INFRA}/swaps?all=true").json()) == 1


# ----------------------------------------------------------------------------- time off


def test_time_off_skips_the_person_and_they_take_a_later_shift(api: Api) -> None:
    r = api.post(
        "ana", "/api/v1/time-off", {"start": "2026-12-07", "end": "2026-12-13", "reason": "PTO"}
    )
    assert r.status_code == 201, r.text
    off = r.json()
    assert (off["person"], off["start"], off["end"]) == (
        "ana",
        "2026-12-07T00:00:00-08:00",
        "2026-12-14T00:00:00-08:00",  # the last day is included
    )
    assert [(x["person"], x["start"]) for x in off["covered"]] == [
        ("bo", "2026-12-07T10:00:00-08:00")
    ]
    assert [p for _, _, p in spans(api, INFRA, "2026-12-07T10:00", "2026-12-21T10:00")] == [
        "bo",
        "ana",
    ]
    listed = api.req("rita", "GET", "/api/v1/time-off?rotation=infra-oncall").json()
    assert [(x["id"], x["reason"]) for x in listed] == [(off["id"], "")]  # not rita's business
    assert api.req("dee", "GET", "/api/v1/time-off?person=ana").json()[0]["reason"] == "PTO"
    assert api.req("ana", "DELETE", f"/api/v1/time-off/{off['id']}").status_code == 200
    assert [p for _, _, p in spans(api, INFRA, "2026-12-07T10:00", "2026-12-21T10:00")] == [
        "ana",
        "bo",
    ]


def test_time_off_nobody_can_cover_is_a_warning(api: Api) -> None:
    for person in ("ana", "bo", "chen", "dee"):
        r = api.post(
            "dee",
            "/api/v1/time-off",
            {"person": person, "start": "2026-12-24", "end": "2026-12-26"},
        )
        assert r.status_code == 201, r.text
    assert any("on call during their time off" in w for w in r.json()["warnings"])
    shift = api.req("rita", "GET", f"{INFRA}/shifts?from=2026-12-25&to=2026-12-26").json()[0]
    assert shift["person"] == "chen"
    assert any("no other member" in w for w in shift["warnings"])


def test_time_off_entered_mid_shift_changes_only_the_future(api: Api, clock: ManualClock) -> None:
    clock.now = datetime(2026, 11, 24, 20, tzinfo=UTC)  # Tuesday noon; chen since Monday 10:00
    r = api.post(
        "chen", "/api/v1/time-off", {"start": "2026-11-24", "end": "2026-11-27", "reason": "flu"}
    )
    assert r.status_code == 201, r.text
    assert spans(api, INFRA, "2026-11-23T10:00", "2026-12-07T10:00") == [
        ("2026-11-23T10:00:00-08:00", "2026-11-24T12:00:00-08:00", "chen"),  # served: a fact
        ("2026-11-24T12:00:00-08:00", "2026-11-30T10:00:00-08:00", "dee"),
        ("2026-11-30T10:00:00-08:00", "2026-12-07T10:00:00-08:00", "chen"),  # the trade
    ]
    change = api.req("rita", "GET", f"{INFRA}/history").json()["items"][0]
    assert change["action"] == "time_off.add" and change["actor"] == "chen"
    assert change["data"]["pins"][0]["person"] == "chen"
    assert [x["person"] for x in change["before"]] == ["chen", "dee"]
    pins = [
        o
        for o in api.req("rita", "GET", f"{INFRA}/overrides?all=true").json()
        if o["kind"] == "pin"
    ]
    assert len(pins) == 1
    assert "past cannot be undone" in problem(
        api.req("dee", "DELETE", f"{INFRA}/overrides/{pins[0]['id']}"), 409
    )
    over = api.post("chen", "/api/v1/time-off", {"start": "2026-11-01", "end": "2026-11-20"})
    assert "already over" in problem(over, 422)


# ----------------------------------------------------------------------------- membership


def test_join_and_leave_from_a_date_never_move_earlier_shifts(api: Api, state: AppState) -> None:
    with state.db.write() as s:
        create_user(s, "fay", roles=["responder"], desks=["infra"], now=state.now())
    earlier = spans(api, INFRA, "2026-06-01", "2026-12-07T10:00")
    r = api.post(
        "dee", f"{INFRA}/members", {"person": "fay", "action": "join", "effective": "2026-12-01"}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["layer"], r.json()["first_shift"]) == ("primary", "2026-12-07T10:00:00-08:00")
    assert spans(api, INFRA, "2026-06-01", "2026-12-07T10:00") == earlier
    assert [p for _, _, p in spans(api, INFRA, "2026-12-07T10:00", "2027-01-11T10:00")] == [
        "fay",
        "ana",
        "bo",
        "chen",
        "dee",
    ]
    leave = api.post(
        "dee", f"{INFRA}/members", {"person": "bo", "action": "leave", "effective": "2027-01-01"}
    )
    assert leave.status_code == 201, leave.text
    assert [p for _, _, p in spans(api, INFRA, "2026-12-28T10:00", "2027-02-01T10:00")] == [
        "chen",
        "dee",
        "fay",
        "ana",
        "chen",
    ]
    dup = api.post(
        "dee", f"{INFRA}/members", {"person": "fay", "action": "join", "effective": "2027-02-01"}
    )
    assert "already in primary" in problem(dup, 409)
    gone = api.post(
        "dee", f"{INFRA}/members", {"person": "bo", "action": "leave", "effective": "2027-02-01"}
    )
    assert "is not in primary" in problem(gone, 409)
    started = api.post(
        "dee", f"{INFRA}/members", {"person": "bo", "action": "leave", "effective": "2026-11-16"}
    )
    assert "has already started" in problem(started, 409)
    lead = api.post(
        "eva",
        f"{SET}/members",
        {"person": "finn", "action": "leave", "effective": "2027-01-01", "layer": "lead"},
    )
    assert "derived from the teams" in problem(lead, 422)
    assert [m["person"] for m in api.req("rita", "GET", f"{INFRA}/members").json()] == ["fay", "bo"]
    info = api.req("rita", "GET", INFRA, params={"at": "2027-01-20"}).json()
    assert info["layers"][0]["members"] == ["ana", "chen", "dee", "fay"]


def test_membership_changes_apply_only_to_shifts_not_started(api: Api, clock: ManualClock) -> None:
    clock.advance(hours=2)  # Monday 11:00: the shift of the 23rd has started
    r = api.post(
        "dee", f"{INFRA}/members", {"person": "bo", "action": "leave", "effective": "2026-11-23"}
    )
    assert "use 2026-11-30 (the next handoff) or later" in problem(r, 409)
    ok = api.post(
        "dee", f"{INFRA}/members", {"person": "bo", "action": "leave", "effective": "2026-11-30"}
    )
    assert ok.status_code == 201, ok.text
    cancel = api.req("dee", "DELETE", f"{INFRA}/members/{ok.json()['id']}")
    assert cancel.status_code == 200, cancel.text


def test_gaps_when_a_team_has_nobody(api: Api) -> None:
    assert api.req("rita", "GET", "/api/v1/oncall/gaps?days=90").json()["gaps"] == []
    for person in ("ivan", "jo"):
        r = api.post(
            "eva",
            f"{SET}/members",
            {"person": person, "action": "leave", "effective": "2027-01-01"},
        )
        assert r.status_code == 201, r.text
    assert any("nobody is on call on mobile" in w for w in r.json()["warnings"])
    found = api.req("rita", "GET", "/api/v1/oncall/gaps?days=180").json()["gaps"]
    assert {(g["rotation"], g["layer"], g["start"]) for g in found} == {
        ("set", "mobile", "2027-01-16T09:00:00-05:00"),
        ("set", "lead", "2027-01-16T09:00:00-05:00"),  # mobile's turn to lead, nobody to do it
    }
    assert problem(api.req("rita", "GET", "/api/v1/oncall/gaps?days=0"), 422)


# ----------------------------------------------------------------------------- reports


def test_fairness_over_a_year_of_the_infra_rotation(api: Api) -> None:
    r = api.req(
        "rita",
        "GET",
        f"{INFRA}/fairness",
        params={"from": "2026-01-05T10:00", "to": "2027-01-04T10:00"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["holidays"] == "pacific"
    rows = {x["person"]: x for x in body["rows"]}
    assert sorted(rows) == ["ana", "bo", "chen", "dee"]
    for row in rows.values():
        assert row["shifts"] == 13
        assert abs(row["hours"] - 13 * 168) <= 1
        assert abs(row["weekend_hours"] - 13 * 48) <= 1  # a DST weekend has 47 or 49 h
    # Thanksgiving (26 Nov), Christmas Eve (declared) and Christmas fall in chen's weeks.
    assert rows["chen"]["holiday_hours"] >= 72


def test_history_keeps_who_when_and_before_after(api: Api, clock: ManualClock) -> None:
    api.post(
        "dee",
        f"{INFRA}/overrides",
        {"person": "ana", "start": "2026-11-25", "end": "2026-11-26", "replaces": "chen"},
    )
    clock.advance(minutes=5)
    api.post(
        "ana", f"{INFRA}/swaps", {"person_a": "ana", "shift_a": "2026-12-07", "person_b": "bo"}
    )
    items = api.req("rita", "GET", f"{INFRA}/history").json()["items"]
    assert [(i["action"], i["actor"]) for i in items] == [
        ("swap.create", "ana"),
        ("override.create", "dee"),
    ]
    swap, override = items
    assert swap["at"] == "2026-11-23T17:05:00Z"
    assert [(x["person"], x["start"]) for x in swap["before"]] == [
        ("ana", "2026-12-07T10:00:00-08:00"),
        ("bo", "2026-12-14T10:00:00-08:00"),
    ]
    assert [x["person"] for x in swap["after"]] == ["bo", "ana"]
    assert "ana covers primary for chen" in override["summary"]
    page = api.req("rita", "GET", f"{INFRA}/history?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = api.req(
        "rita", "GET", f"{INFRA}/history", params={"limit": 1, "cursor": page["next_cursor"]}
    )
    assert rest.json()["items"][0]["action"] == "override.create"


def test_idempotent_override_post(api: Api) -> None:
    body = {"person": "ana", "start": "2026-11-25", "end": "2026-11-26"}
    first = api.post("ana", f"{INFRA}/overrides", body, headers={"Idempotency-Key": "k1"})
    again = api.post("ana", f"{INFRA}/overrides", body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(api.req("rita", "GET", f"{INFRA}/overrides").json()) == 1


def test_every_replica_sees_a_change_at_once(api: Api, state: AppState, policy: Policy) -> None:
    """A second app on the same database (another replica) caches its own schedules."""
    from dutydesk.db import Database

    replica = AppState(db=Database(state.db.url), policy=policy, clock=state.clock)
    with replica.db.write() as s:
        token = create_token(s, user_by_name(s, "rita"), replica.now())
    try:
        with TestClient(create_app(replica)) as client:
            other = Api(client, {"rita": token})
            at = "2026-11-25T12:00-08:00"
            assert who(other, "infra", at) == {"primary": "chen"}  # cached now
            api.post(
                "dee",
                f"{INFRA}/overrides",
                {"person": "bo", "start": "2026-11-25", "end": "2026-11-26"},
            )
            assert who(other, "infra", at) == {"primary": "bo"}
    finally:
        replica.db.dispose()


def test_next_shifts_and_a_persons_shifts(api: Api) -> None:
    nxt = api.req("rita", "GET", f"{INFRA}/next?n=2").json()
    assert [(x["person"], x["start"]) for x in nxt] == [
        ("chen", "2026-11-23T10:00:00-08:00"),
        ("dee", "2026-11-30T10:00:00-08:00"),
    ]
    mine = api.req("rita", "GET", f"{INFRA}/next", params={"n": 2, "person": "ana"}).json()
    assert [x["start"] for x in mine] == ["2026-12-07T10:00:00-08:00", "2027-01-04T10:00:00-08:00"]
    across = api.req(
        "rita",
        "GET",
        "/api/v1/people/eva/shifts",
        params={"from": "2026-09-01", "to": "2027-02-01"},
    ).json()
    assert {(x["rotation"], x["layer"]) for x in across} == {("set", "channels"), ("set", "lead")}


def test_unknown_rotation(api: Api) -> None:
    r = api.req("rita", "GET", "/api/v1/rotations/nope/shifts")
    assert problem(r, 404) == "no rotation named 'nope'; rotations are infra-oncall, set"
    assert [r["name"] for r in api.req("rita", "GET", "/api/v1/rotations").json()] == [
        "infra-oncall",
        "set",
    ]


def test_concurrent_overlapping_overrides_one_wins(api: Api) -> None:
    """Writers lock the rotation's version row: two overlapping overrides never both pass."""
    from concurrent.futures import ThreadPoolExecutor

    def cover(i: int) -> int:
        person = ("ana", "bo", "chen", "dee")[i % 4]
        body = {"person": person, "start": "2026-12-01T00:00", "end": "2026-12-02T00:00"}
        return int(api.post("dee", f"{INFRA}/overrides", body).status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(pool.map(cover, range(8)))
    assert codes == [201] + [409] * 7
    assert len(api.req("rita", "GET", f"{INFRA}/overrides").json()) == 1
    history = api.req("rita", "GET", f"{INFRA}/history").json()["items"]
    assert len(history) == 1


def test_other_domains_read_the_schedule_inside_their_transaction(
    api: Api, state: AppState
) -> None:
    """Notifications ask who is on call inside a ticket's transaction (``loaded_in``)."""
    at = datetime(2026, 11, 25, 20, tzinfo=UTC)
    with state.db.read() as s:
        first = loaded_in(s, state.policy, "infra-oncall")
    with state.db.read() as s:
        assert loaded_in(s, state.policy, "infra-oncall") is first  # one shared cache
    api.post(
        "dee", f"{INFRA}/overrides", {"person": "bo", "start": "2026-11-25", "end": "2026-11-26"}
    )
    with state.db.write() as s:
        seen = loaded_in(s, state.policy, "infra-oncall")
    assert seen.version == first.version + 1
    assert seen.schedule.on_call(at)[PRIMARY].person == "bo"

    class Abandon(Exception):
        pass

    with state.db.read() as s:
        dee = user_by_name(s, "dee")
    with pytest.raises(Abandon), state.write(dee) as ctx:
        body = OverrideIn(person="ana", start=at, end=at + timedelta(hours=1), replace=True)
        create_override(ctx, "infra-oncall", body)
        inside = loaded_in(ctx.session, ctx.policy, "infra-oncall")
        assert inside.schedule.on_call(at)[PRIMARY].person == "ana"
        raise Abandon
    with state.db.read() as s:
        after = loaded_in(s, state.policy, "infra-oncall")
    assert after.version == seen.version
    assert after.schedule.on_call(at)[PRIMARY].person == "bo"  # the rollback left no trace


# ----------------------------------------------------------------------------- the rotating lead


def test_the_rotations_current_lead_has_the_desks_lead_powers(api: Api, clock: ManualClock) -> None:
    """gus (responder, no lead role) leads SET's 16 Nov - 16 Dec shift: he adds the status note
    and changes other people's on-call, recorded as his; finn (plain member) may not; at the
    handoff to hana the powers end."""
    assert who(api, "set")["lead"] == "gus"
    note = api.post("gus", "/api/v1/desks/set/status-notes", {"text": "release slipped a week"})
    assert note.status_code == 201, note.text
    assert note.json()["author"] == "gus"
    refused = api.post("finn", "/api/v1/desks/set/status-notes", {"text": "hi"})
    assert "current lead shift (gus leads set's rotation now)" in problem(refused, 403)
    cover = api.post(
        "gus",
        f"{SET}/overrides",
        {"person": "jo", "replaces": "ivan", "start": "2026-11-30", "end": "2026-12-01"},
    )
    assert cover.status_code == 201, cover.text
    off = api.post(
        "gus", "/api/v1/time-off", {"person": "kai", "start": "2026-12-02", "end": "2026-12-03"}
    )
    assert off.status_code == 201, off.text
    plain = api.post(
        "finn", "/api/v1/time-off", {"person": "kai", "start": "2026-12-04", "end": "2026-12-05"}
    )
    assert "only kai or a lead of desk set" in problem(plain, 403)
    other_desk = api.post(
        "gus", f"{INFRA}/overrides", {"person": "bo", "start": "2026-11-28", "end": "2026-11-29"}
    )
    assert problem(other_desk, 403)  # leading SET gives no power over infra's rotation
    items = api.req("rita", "GET", f"{SET}/history").json()["items"]
    assert ("override.create", "gus") in [(i["action"], i["actor"]) for i in items]
    clock.now = datetime(2026, 12, 16, 15, tzinfo=UTC)  # 10:00 Toronto: hana leads now
    assert who(api, "set")["lead"] == "hana"
    later = api.post("gus", "/api/v1/desks/set/status-notes", {"text": "still me?"})
    assert "hana leads set's rotation now" in problem(later, 403)
    again = api.post(
        "gus",
        f"{SET}/overrides",
        {"person": "jo", "replaces": "ivan", "start": "2027-01-04", "end": "2027-01-05"},
    )
    assert "only ivan or jo, or a lead of desk set" in problem(again, 403)
    assert api.post("hana", "/api/v1/desks/set/status-notes", {"text": "x"}).status_code == 201


# ----------------------------------------------------------------------------- double booking


def test_double_booking_is_warned_and_listed_with_the_gaps(api: Api) -> None:
    assert api.req("rita", "GET", "/api/v1/oncall/gaps?days=30").json()["conflicts"] == []
    both = api.post(
        "eva",
        f"{SET}/overrides",
        {"person": "eva", "layer": "playbooks", "start": "2026-11-30", "end": "2026-12-01"},
    )
    assert both.status_code == 201, both.text
    assert any(
        "eva is on call on set/channels and set/playbooks at once" in w
        for w in both.json()["warnings"]
    )
    off = api.post(
        "dee", "/api/v1/time-off", {"person": "bo", "start": "2026-11-28", "end": "2026-11-29"}
    )
    assert off.status_code == 201, off.text
    cover = api.post(
        "dee",
        f"{INFRA}/overrides",
        {"person": "bo", "start": "2026-11-28T06:00", "end": "2026-11-28T18:00"},
    )
    assert cover.status_code == 201, cover.text
    assert any("on call during their time off" in w for w in cover.json()["warnings"])
    r = api.req("rita", "GET", "/api/v1/oncall/gaps?days=30")
    found = [
        (c["kind"], c["person"], c["where"], c["start"], c["end"]) for c in r.json()["conflicts"]
    ]
    assert found == [
        (
            "time-off",
            "bo",
            ["infra-oncall/primary"],
            "2026-11-28T06:00:00-08:00",
            "2026-11-28T18:00:00-08:00",
        ),
        (
            "double-booked",
            "eva",
            ["set/channels", "set/playbooks"],
            "2026-11-30T00:00:00-05:00",
            "2026-12-02T00:00:00-05:00",  # an end date counts its whole day
        ),
    ]
    only_set = api.req("rita", "GET", "/api/v1/oncall/gaps?days=30&rotation=set").json()
    assert [c["person"] for c in only_set["conflicts"]] == ["eva"]


# ----------------------------------------------------------------------------- who is free


def test_free_means_on_call_with_no_open_ticket(api: Api, clock: ManualClock) -> None:
    r = api.req("rita", "GET", "/api/v1/oncall/free", params={"desk": "set"})
    assert r.status_code == 200, r.text
    assert r.json()["free"] == ["gus", "eva", "ivan", "kai"]  # gus leads and serves playbooks
    lead = r.json()["members"][0]
    assert (lead["person"], lead["layers"], lead["free"]) == ("gus", ["lead", "playbooks"], True)
    key = api.file(desk="set", title="Crash when opening a channel", kind="bug")["key"]
    assert api.post("eva", f"/api/v1/tickets/{key}/assign", {"assignee": "eva"}).status_code == 200
    moved = api.post("eva", f"/api/v1/tickets/{key}/move", {"to": "In progress"})
    assert moved.status_code == 200, moved.text
    body = api.req("rita", "GET", "/api/v1/oncall/free", params={"desk": "set"}).json()
    assert body["free"] == ["gus", "ivan", "kai"]  # eva has a ticket in progress: never free
    eva = next(m for m in body["members"] if m["person"] == "eva")
    assert (eva["open_tickets"], eva["free"]) == (1, False)
    done = api.post("eva", f"/api/v1/tickets/{key}/move", {"to": "Done", "resolution": "fixed"})
    assert done.status_code == 200, done.text
    assert "eva" in api.req("rita", "GET", "/api/v1/oncall/free?desk=set").json()["free"]
    missing = api.req("rita", "GET", "/api/v1/oncall/free", params={"desk": "nope"})
    assert problem(missing, 404).startswith("no desk")


def test_two_sick_days_cost_two_days_and_totals_cross_layers(api: Api) -> None:
    """eva is off two days in her monthly shift: finn covers just those days, the year stays
    fair, and the per-person totals count leading while serving a team once."""
    year = {"from": "2026-01-16T09:00", "to": "2027-01-16T09:00"}

    def channels() -> dict[str, float]:
        rows = api.req("rita", "GET", f"{SET}/fairness", params=year).json()["rows"]
        return {x["person"]: x["hours"] for x in rows if x["layer"] == "channels"}

    before = channels()
    off = api.post(
        "gus", "/api/v1/time-off", {"person": "eva", "start": "2026-12-01", "end": "2026-12-02"}
    )
    assert off.status_code == 201, off.text
    assert [(x["person"], x["source"]) for x in off.json()["covered"]] == [("finn", "cover")]
    assert who(api, "set", "2026-12-01T12:00")["channels"] == "finn"
    assert who(api, "set", "2026-12-03T12:00")["channels"] == "eva"  # eva keeps the rest
    after = channels()
    assert after["finn"] - before["finn"] == 48 and before["eva"] - after["eva"] == 48
    assert abs(after["finn"] - after["eva"]) < 31 * 24  # within one shift
    body = api.req("rita", "GET", f"{SET}/fairness", params=year).json()
    totals = {t["person"]: t for t in body["totals"]}
    assert set(totals) == {"eva", "finn", "gus", "hana", "ivan", "jo", "kai", "lee"}
    gus = totals["gus"]
    assert gus["layers"] == ["lead", "playbooks"] and gus["lead_hours"] > 0
    playbooks = {x["person"]: x["hours"] for x in body["rows"] if x["layer"] == "playbooks"}
    assert gus["hours"] == playbooks["gus"]  # leading while serving playbooks counts once
