"""Claimed but idle: the pure rule over many cases, and every view agreeing on real tickets."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dutydesk.imports.service import import_jsonl
from dutydesk.notify.rows import Job, OnCallNotice
from dutydesk.oncall import jobs as oncall_jobs
from dutydesk.policy import Policy
from dutydesk.reports import agenda as agendas
from dutydesk.slo.policy import calendar
from dutydesk.state import AppState
from dutydesk.tickets import idle
from dutydesk.tickets.idle import IdleRule, claim_activity, is_idle
from dutydesk.tickets.models import Ticket
from tests.conftest import Api, ManualClock


def la(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 wall time in Los Angeles (UTC-8), as a UTC instant."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=8)


WALL = IdleRule(timedelta(days=3))
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("is_open", "assigned", "last_activity", "now", "idle"),
    [
        (True, True, T0, T0 + timedelta(days=3), True),  # exactly the span: idle
        (True, True, T0, T0 + timedelta(days=3, seconds=-1), False),
        (True, True, T0, T0 + timedelta(days=30), True),
        (True, True, T0, T0, False),
        (True, True, T0 + timedelta(hours=1), T0, False),  # activity after now (clock skew)
        (False, True, T0, T0 + timedelta(days=30), False),  # closed: nobody holds it
        (True, False, T0, T0 + timedelta(days=30), False),  # unassigned: not a claim
        (False, False, T0, T0 + timedelta(days=30), False),
    ],
)
def test_wall_clock_idle_rule(
    is_open: bool, assigned: bool, last_activity: datetime, now: datetime, idle: bool
) -> None:
    got = is_idle(WALL, is_open=is_open, assigned=assigned, last_activity=last_activity, now=now)
    assert got is idle


@pytest.mark.parametrize(
    ("last_activity", "now", "idle"),
    [
        # 3 business days = 24 business hours of 09:00-17:00 Pacific.
        (la(23, 9), la(25, 16, 59), False),
        (la(23, 9), la(25, 17), True),
        (la(20, 17), la(25, 16, 59), False),  # Friday's close counts from Monday's opening
        (la(20, 17), la(25, 17), True),
        (la(21, 12), la(25, 17), True),  # on a Saturday: counts from Monday 09:00
        (la(21, 12), la(25, 16), False),
        (la(25, 16), la(27, 10), False),  # Thanksgiving (Thu 26) is no business day
        (la(25, 16), la(30, 16), False),  # Wed 1 h + Fri 8 h + Mon 7 h = 16 h
        (la(25, 16), la(30, 17), False),  # 17 h
        (la(25, 16), datetime(2026, 12, 1, 23, 59, tzinfo=UTC), False),  # Tue 15:59
        (la(25, 16), datetime(2026, 12, 2, 0, 0, tzinfo=UTC), True),  # Tue 16:00: 17 + 7 h
        (la(23, 20), la(26, 17), False),  # after hours Monday: from Tuesday 09:00, not idle Thu
    ],
)
def test_business_time_idle_rule(
    policy: Policy, last_activity: datetime, now: datetime, idle: bool
) -> None:
    rule = IdleRule(timedelta(hours=24), calendar(policy, "pacific"))
    got = is_idle(rule, is_open=True, assigned=True, last_activity=last_activity, now=now)
    assert got is idle


def test_every_view_agrees_when_only_the_reporter_spoke(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    """The reporter's "any news?" does not make a dropped claim less dropped: the triage view,
    the handoff report, the handoff agenda and the on-call's idle notice all list it (the
    agenda and the notice used to count the reporter's comment as activity)."""
    clock.now = la(23, 9)  # Monday 09:00
    dropped = api.file(title="Rotate the signing key for release builds")["key"]
    worked = api.file(title="Raise the artifact bucket quota")["key"]
    for key in (dropped, worked):
        r = api.post("bo", f"/api/v1/tickets/{key}/triage", {"priority": "P1", "assignee": "ana"})
        assert r.status_code == 200, r.text
        r = api.post("ana", f"/api/v1/tickets/{key}/move", {"to": "In progress"})
        assert r.status_code == 200, r.text
    clock.now = la(25, 16)  # Wednesday 16:00, an hour before both claims go idle
    r = api.post("rita", f"/api/v1/tickets/{dropped}/comments", {"body": "Any news?"})
    assert r.status_code == 201, r.text
    r = api.post("ana", f"/api/v1/tickets/{worked}/comments", {"body": "Asked for 2 TB more."})
    assert r.status_code == 201, r.text
    clock.now = la(27, 10)  # Friday 10:00 (Thursday is Thanksgiving)

    triage = api.req("chen", "GET", "/api/v1/desks/infra/triage").json()
    handoff = api.req("chen", "GET", "/api/v1/desks/infra/handoff").json()
    assert [t["key"] for t in triage["idle"]] == [dropped]
    assert [t["key"] for t in handoff["idle"]] == [dropped]
    assert triage["idle"][0]["idle_for"] == "4d 1h"  # since ana's move, Monday 09:00

    with state.db.read() as s:
        rows = oncall_jobs.run_idle(
            s,
            state.policy,
            Job(
                "job:idle:infra:2026-11-27", {"job": "idle", "desk": "infra", "date": "2026-11-27"}
            ),
            clock.now,
        )
    [notice] = rows
    assert isinstance(notice, OnCallNotice)
    assert notice.lines == (f"{dropped} claimed by ana, idle 4d 1h: {triage['idle'][0]['title']}",)

    # A desk without a rotation writes its own handoff agenda, with the same rule.
    raw = state.policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["rotation"] = None
    no_rotation = Policy.model_validate(raw)
    with state.db.read() as s:
        occ = agendas.next_occurrence(
            no_rotation, "infra", date(2026, 11, 30), "handoff", clock.now
        )
        agenda = agendas.build(s, no_rotation, occ, clock.now)
    [idle] = [sec for sec in agenda.sections if sec.title.startswith("Claimed but idle")]
    assert idle.title == "Claimed but idle (1)"
    [item] = idle.items
    assert item.startswith(f"[{dropped}](") and item.endswith("— ana (idle 4d 1h)")


@pytest.mark.parametrize(
    ("assignee", "kept", "events", "expected"),
    [
        (None, T0, [(T0 + timedelta(hours=1), 7, "assignee")], None),  # unassigned: no claim
        (7, None, [], T0 - timedelta(days=1)),  # nothing yet: from its filing
        (7, T0, [(T0 + timedelta(hours=1), 8, None)], T0),  # someone else's comment
        (7, T0, [(T0 + timedelta(hours=1), 7, None)], T0 + timedelta(hours=1)),  # the assignee's
        (7, T0, [(T0 + timedelta(hours=1), 8, "assignee")], T0 + timedelta(hours=1)),  # assigned
        (7, T0, [(T0 - timedelta(hours=1), 7, None)], T0),  # an older event never moves it back
        (7, None, [(T0 - timedelta(days=2), 7, None)], T0 - timedelta(days=1)),  # before filing
    ],
)
def test_the_kept_claim_activity(
    assignee: int | None,
    kept: datetime | None,
    events: list[tuple[datetime, int | None, str | None]],
    expected: datetime | None,
) -> None:
    assert claim_activity(assignee, kept, T0 - timedelta(days=1), events) == expected


def _kept_and_from_events(state: AppState) -> list[tuple[str, datetime | None, datetime | None]]:
    """Each ticket's kept ``claim_active_at`` beside the same instant read from its events."""
    with state.db.read() as s:
        rows = s.execute(select(Ticket, idle.activity_from_events()).order_by(Ticket.id)).all()
        return [
            (t.key, t.claim_active_at, counted if t.assignee_id is not None else None)
            for t, counted in rows
        ]


def test_every_change_keeps_the_claim_activity_the_events_give(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    """Filing, triage, assignment, the assignee's and others' comments, moves, unassignment,
    closing and re-opening: after each, the kept instant equals the one counted from the
    events, and a rebuild from the events changes nothing."""
    clock.now = T0
    k = api.file("chen", title="Rotate the signing key", assignee="ana")["key"]
    steps = [
        ("chen", f"/api/v1/tickets/{k}/comments", {"body": "Any news?"}),
        ("ana", f"/api/v1/tickets/{k}/move", {"to": "In progress"}),
        ("bo", f"/api/v1/tickets/{k}/comments", {"body": "I can help."}),
        ("bo", f"/api/v1/tickets/{k}/assign", {"assignee": "bo"}),
        ("ana", f"/api/v1/tickets/{k}/comments", {"body": "Handed to bo."}),
        ("bo", f"/api/v1/tickets/{k}/comments", {"body": "Key rotated in staging."}),
        ("bo", f"/api/v1/tickets/{k}/assign", {"assignee": None}),
        ("chen", f"/api/v1/tickets/{k}/assign", {"assignee": "ana"}),
        ("ana", f"/api/v1/tickets/{k}/move", {"to": "Done", "resolution": "fixed"}),
        ("chen", f"/api/v1/tickets/{k}/move", {"to": "New"}),  # re-opened: unassigned
        ("chen", f"/api/v1/tickets/{k}/assign", {"assignee": "ana"}),
    ]
    seen = []
    for user, path, body in steps:
        clock.advance(hours=5)
        r = api.post(user, path, body)
        assert r.status_code in (200, 201), r.text
        [(_, kept, counted)] = _kept_and_from_events(state)
        assert kept == counted, (user, path, body)
        seen.append(kept)
    assert seen[0] == T0  # another's question is no activity of the claim
    assert seen[3] == T0 + timedelta(hours=20)  # the reassignment to bo
    assert seen[4] == seen[3]  # ana no longer holds it
    assert seen[6] is None  # unassigned
    assert seen[-2] is None and seen[-1] == T0 + timedelta(hours=55)
    before = _kept_and_from_events(state)
    with state.db.write() as s:
        assert idle.rebuild(s) == 1
    assert _kept_and_from_events(state) == before


def test_an_imported_claim_is_active_from_its_assignees_last_comment(state: AppState) -> None:
    record = {
        "external_id": "GH-7",
        "title": "Runner image out of disk",
        "body": "b",
        "created": "2025-03-01T10:00:00Z",
        "assignee": "ana",
        "comments": [
            {"author": "ana", "created": "2025-03-02T08:00:00Z", "body": "Looking."},
            {"author": "rita", "created": "2025-03-04T08:00:00Z", "body": "Still full."},
        ],
    }
    result = import_jsonl(state, [json.dumps(record)], desk="infra", actor="admin")
    assert (result.created, result.rejected) == (1, [])
    [(_, kept, counted)] = _kept_and_from_events(state)
    assert kept == counted == datetime(2025, 3, 2, 8, tzinfo=UTC)
