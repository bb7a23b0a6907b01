"""SLO clocks as a new user meets them: through the HTTP API, on a real database, with a
manual clock moving time (never sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from dutydesk.app import create_app
from dutydesk.demo import bulk_tickets
from dutydesk.policy import Policy
from dutydesk.slo import service
from dutydesk.slo.models import SloDeskState, TicketClock
from dutydesk.slo.policy import desk_slo as desk_slo_of
from dutydesk.state import AppState
from dutydesk.tickets.models import Ticket
from tests.conftest import Api, ManualClock
from tests.slo._helpers import local

LA = "America/Los_Angeles"


def at(clock: ManualClock, *parts: int) -> datetime:
    """Move the manual clock to a wall time in Los Angeles."""
    clock.now = local(LA, *parts).astimezone(UTC)
    return clock.now


def when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def ticket(api: Api, key: str = "INFRA-1", user: str = "ana") -> dict[str, Any]:
    r = api.req(user, "GET", f"/api/v1/tickets/{key}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def clock_of(t: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [c for c in t["clocks"] if c["name"] == name]
    return found


def triage(api: Api, priority: str, key: str = "INFRA-1", **extra: Any) -> dict[str, Any]:
    r = api.post("ana", f"/api/v1/tickets/{key}/triage", {"priority": priority, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


def desk_slo(api: Api, user: str = "ana", **params: Any) -> dict[str, Any]:
    r = api.req(user, "GET", "/api/v1/desks/infra/slo", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


# ----------------------------------------------------------------------------- triage clock


def test_filed_at_1630_the_day_before_thanksgiving(api: Api, clock: ManualClock) -> None:
    at(clock, 2026, 11, 25, 16, 30)
    c = clock_of(api.file(), "triage")
    assert when(c["due_at"]) == local(LA, 2026, 11, 27, 12, 30)  # Thursday is a holiday
    assert when(c["at_risk_at"]) == local(LA, 2026, 11, 27, 11, 30)
    assert (c["state"], c["remaining_seconds"], c["remaining"]) == ("running", 14400, "4h 0m")
    assert (c["target"], c["rule"], c["business"]) == ("4 business hours", "triage", True)


def test_filed_friday_1630_before_a_monday_holiday(api: Api, clock: ManualClock) -> None:
    at(clock, 2027, 1, 15, 16, 30)  # Monday 2027-01-18 is Martin Luther King Jr. Day
    c = clock_of(api.file(), "triage")
    assert when(c["due_at"]) == local(LA, 2027, 1, 19, 12, 30)


def test_filed_outside_hours_is_due_at_the_end_of_the_next_business_day(
    api: Api, clock: ManualClock
) -> None:
    at(clock, 2027, 1, 15, 18, 5)  # Friday evening before the holiday weekend
    c = clock_of(api.file(), "triage")
    assert when(c["due_at"]) == local(LA, 2027, 1, 19, 17, 0)
    assert c["remaining"] == "8h 0m"
    at(clock, 2026, 12, 23, 20, 0)  # Wednesday night; the policy closes Dec 24 and 25
    c = clock_of(api.file(), "triage")
    assert when(c["due_at"]) == local(LA, 2026, 12, 28, 17, 0)


def test_at_risk_at_the_policy_fraction_then_breached(api: Api, clock: ManualClock) -> None:
    api.file()  # Monday 09:00
    clock.advance(hours=2, minutes=59)
    assert clock_of(ticket(api), "triage")["state"] == "running"
    clock.advance(minutes=1)  # 3 of 4 hours: 0.75
    assert clock_of(ticket(api), "triage")["state"] == "at_risk"
    assert desk_slo(api)["counts"] == {"breached": 0, "at_risk": 1, "running": 0, "paused": 0}
    clock.advance(hours=1)  # exactly at the due instant: still in time
    assert clock_of(ticket(api), "triage")["state"] == "at_risk"
    clock.advance(seconds=1)
    c = clock_of(ticket(api), "triage")
    assert c["state"] == "breached" and c["remaining_seconds"] == -1
    assert desk_slo(api)["counts"]["breached"] == 1
    triage(api, "P2")
    c = clock_of(ticket(api), "triage")
    assert (c["state"], c["outcome"], c["stopped_by"]) == ("breached", "breached", "triaged")


def test_met_when_triaged_and_frozen_after(api: Api, clock: ManualClock) -> None:
    api.file()
    clock.advance(hours=1, minutes=30)
    triage(api, "P2")
    first = clock_of(ticket(api), "triage")
    assert (first["state"], first["remaining"], first["stopped_by"]) == ("met", "2h 30m", "triaged")
    clock.advance(days=9)
    assert clock_of(ticket(api), "triage") == first
    assert desk_slo(api)["clocks"] == []


# ----------------------------------------------------------------------------- update cadences


def test_p0_without_an_update_for_a_day_is_breached(api: Api, clock: ManualClock) -> None:
    api.file()
    at(clock, 2026, 11, 23, 10, 0)
    triage(api, "P0")
    u = clock_of(ticket(api), "update")
    assert (u["rule"], u["target"], u["cycle"]) == ("update[priority=P0]", "1 business day", 1)
    assert when(u["due_at"]) == local(LA, 2026, 11, 24, 10, 0)
    at(clock, 2026, 11, 24, 10, 0, 1)
    assert clock_of(ticket(api), "update")["state"] == "breached"
    view = desk_slo(api)
    assert view["counts"]["breached"] == 1
    assert [(c["ticket"], c["name"], c["state"]) for c in view["clocks"]] == [
        ("INFRA-1", "update", "breached")
    ]
    at(clock, 2026, 11, 24, 11, 0)
    api.post("bo", "/api/v1/tickets/INFRA-1/comments", {"body": "Rolled back; watching."})
    u = clock_of(ticket(api), "update")
    assert (u["cycle"], u["state"]) == (2, "running")
    assert when(u["due_at"]) == local(LA, 2026, 11, 25, 11, 0)
    rows = api.req("dee", "GET", "/api/v1/desks/infra/slo/attainment").json()["rows"]
    assert {(r["clock"], r["priority"], r["met"], r["breached"]) for r in rows} == {
        ("triage", "P0", 1, 0),
        ("update", "P0", 0, 1),
    }


def test_p1_weekly_cadence_restarts_only_on_responder_updates(api: Api, clock: ManualClock) -> None:
    api.file()
    at(clock, 2026, 11, 23, 10, 0)
    triage(api, "P1", assignee="bo")
    u = clock_of(ticket(api), "update")
    # 5 business days of 8h; Thanksgiving does not count.
    assert when(u["due_at"]) == local(LA, 2026, 12, 1, 10, 0)
    at(clock, 2026, 11, 24, 9, 0)
    api.post("rita", "/api/v1/tickets/INFRA-1/comments", {"body": "Any news?"})
    api.post("ana", "/api/v1/tickets/INFRA-1/comments", {"body": "internal", "public": False})
    api.req("ana", "PATCH", "/api/v1/tickets/INFRA-1", json={"labels": ["quota"]})
    assert clock_of(ticket(api), "update")["cycle"] == 1  # none of these is an update
    at(clock, 2026, 11, 25, 11, 0)
    api.post("ana", "/api/v1/tickets/INFRA-1/comments", {"body": "Quota request filed."})
    u = clock_of(ticket(api), "update")
    assert u["cycle"] == 2 and when(u["started_at"]) == clock.now
    at(clock, 2026, 11, 27, 10, 0)
    api.post("bo", "/api/v1/tickets/INFRA-1/move", {"to": "In progress"})  # status change
    u = clock_of(ticket(api), "update")
    assert u["cycle"] == 3 and when(u["due_at"]) == local(LA, 2026, 12, 4, 10, 0)
    cycles = _rows(api, "update")
    assert [(c.cycle, c.outcome) for c in cycles] == [(1, "met"), (2, "met"), (3, None)]


def test_priority_change_switches_cadence(api: Api, clock: ManualClock) -> None:
    api.file()
    triage(api, "P1")
    clock.advance(hours=2)
    r = api.req("ana", "PATCH", "/api/v1/tickets/INFRA-1", json={"priority": "P0"})
    assert r.status_code == 200
    u = clock_of(r.json(), "update")
    assert (u["rule"], u["cycle"]) == ("update[priority=P0]", 2)
    assert when(u["due_at"]) == local(LA, 2026, 11, 24, 11, 0)
    assert [c.outcome for c in _rows(api, "update")] == ["cancelled", None]


def _rows(api: Api, name: str) -> list[TicketClock]:
    state: AppState = api.client.app.state.dutydesk  # type: ignore[attr-defined]
    with state.db.read() as s:
        return list(
            s.scalars(select(TicketClock).where(TicketClock.name == name).order_by(TicketClock.id))
        )


# ----------------------------------------------------------------------------- pauses


def test_blocked_over_a_weekend_moves_due_by_the_paused_business_time(
    api: Api, clock: ManualClock
) -> None:
    at(clock, 2026, 11, 27, 14, 0)  # the Friday after Thanksgiving is a working day
    api.file()
    at(clock, 2026, 11, 27, 15, 0)
    triage(api, "P0")
    assert when(clock_of(ticket(api), "update")["due_at"]) == local(LA, 2026, 11, 30, 15, 0)
    at(clock, 2026, 11, 27, 16, 0)
    r = api.post("ana", "/api/v1/tickets/INFRA-1/block", {"reason": "waiting on the vendor"})
    assert r.status_code == 200
    at(clock, 2026, 11, 28, 12, 0)
    t = ticket(api)
    u = clock_of(t, "update")
    assert (u["state"], u["due_at"], u["remaining"]) == ("paused", None, "7h 0m")
    assert clock_of(t, "triage")["state"] == "met"
    assert desk_slo(api)["counts"]["paused"] == 1
    at(clock, 2026, 11, 30, 10, 0)
    api.post("ana", "/api/v1/tickets/INFRA-1/unblock")
    u = clock_of(ticket(api), "update")
    assert u["state"] == "running" and u["paused_seconds"] == 7200
    assert when(u["due_at"]) == local(LA, 2026, 11, 30, 17, 0)  # 15:00 + 2 business hours
    [spell] = u["pauses"]
    assert when(spell["started_at"]) == local(LA, 2026, 11, 27, 16, 0)
    assert when(spell["ended_at"]) == local(LA, 2026, 11, 30, 10, 0)
    assert spell["business_seconds"] == 7200


# ----------------------------------------------------------------------------- closing


def test_closed_tickets_keep_frozen_clocks(api: Api, clock: ManualClock) -> None:
    api.file()
    clock.advance(hours=1)
    triage(api, "P0")
    clock.advance(hours=2)
    r = api.post("ana", "/api/v1/tickets/INFRA-1/move", {"to": "Done", "resolution": "fixed"})
    assert r.status_code == 200
    closed = r.json()["clocks"]
    assert [(c["name"], c["state"]) for c in closed] == [("triage", "met"), ("update", "met")]
    clock.advance(days=30)
    assert ticket(api)["clocks"] == closed
    assert desk_slo(api)["counts"] == {"breached": 0, "at_risk": 0, "running": 0, "paused": 0}


# ----------------------------------------------------------------------------- policy changes


def _edited(policy: Policy, hours: str, p1_every: str) -> Policy:
    raw = policy.model_dump(by_alias=True)
    raw["calendars"]["pacific"]["hours"] = {d: hours for d in ("mon", "tue", "wed", "thu", "fri")}
    raw["desks"]["infra"]["slo"][2]["every"] = p1_every
    return Policy.model_validate(raw)


def test_policy_change_recomputes_open_clocks_only(
    api: Api, state: AppState, clock: ManualClock, policy: Policy
) -> None:
    api.file()  # INFRA-1 stays open
    api.file()  # INFRA-2 will be closed
    at(clock, 2026, 11, 23, 10, 0)
    triage(api, "P1")
    triage(api, "P1", key="INFRA-2")
    at(clock, 2026, 11, 23, 11, 0)
    api.post("ana", "/api/v1/tickets/INFRA-2/move", {"to": "Done", "resolution": "fixed"})
    closed_before = ticket(api, "INFRA-2")["clocks"]
    assert service.sync(state.db, policy, clock.now) == []  # the server synced at start-up
    edited = _edited(policy, "08:00-17:00", "3 business days")
    with TestClient(create_app(AppState(db=state.db, policy=edited, clock=clock))):
        pass  # a restart with the edited dutydesk.toml
    with state.db.read() as s:
        row = s.get(SloDeskState, "infra")
        assert row is not None and row.fingerprint == desk_slo_of(edited, "infra").fingerprint
    assert service.sync(state.db, edited, clock.now) == []
    # 3 business days of 9 hours from Monday 10:00: 7 + 9 + 9, Thanksgiving closed, then 2.
    u = clock_of(ticket(api), "update")
    assert (u["target"], when(u["started_at"])) == ("3 business days", local(LA, 2026, 11, 23, 10))
    assert when(u["due_at"]) == local(LA, 2026, 11, 27, 10, 0)
    assert ticket(api, "INFRA-2")["clocks"] == closed_before


def test_recompute_endpoint_is_for_leads_and_backfills_bulk_tickets(
    api: Api, state: AppState, policy: Policy
) -> None:
    bulk_tickets(state.db, policy, "infra", 60, progress=False)
    with state.db.read() as s:
        open_rows = s.execute(
            select(Ticket.priority, Ticket.triaged_at).where(Ticket.desk == "infra", Ticket.is_open)
        ).all()
        assert s.scalar(select(TicketClock.id).limit(1)) is None  # bulk path runs no hooks
    expected = sum(p is None for p, _ in open_rows) + sum(p in ("P0", "P1") for p, _ in open_rows)
    r = api.post("ana", "/api/v1/desks/infra/slo/recompute")
    assert r.status_code == 403 and "lead" in r.json()["detail"]
    r = api.post("dee", "/api/v1/desks/infra/slo/recompute")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["open_tickets"], body["started"], body["active_clocks"]) == (
        len(open_rows),
        expected,
        expected,
    )
    again = api.post("dee", "/api/v1/desks/infra/slo/recompute").json()
    assert (again["started"], again["updated"], again["stopped"]) == (0, 0, 0)
    assert sum(desk_slo(api, limit=500)["counts"].values()) == expected


# ----------------------------------------------------------------------------- reports


def test_attainment_per_week_priority_with_median_time_to_triage(
    api: Api, clock: ManualClock
) -> None:
    for key, filed, triaged, priority in [
        ("INFRA-1", (2026, 11, 23, 9, 0), (2026, 11, 23, 10, 0), "P1"),  # met, 1h
        ("INFRA-2", (2026, 11, 23, 9, 0), (2026, 11, 23, 15, 0), "P1"),  # late, 6h
        ("INFRA-3", (2026, 11, 30, 9, 0), (2026, 11, 30, 11, 0), "P0"),  # met, 2h
    ]:
        at(clock, *filed)
        api.file()
        at(clock, *triaged)
        triage(api, priority, key=key)
    at(clock, 2026, 11, 30, 9, 0)
    api.file()  # INFRA-4: never triaged
    at(clock, 2026, 12, 2, 9, 0)
    r = api.req("ana", "GET", "/api/v1/desks/infra/slo/attainment", params={"weeks": 2})
    assert r.status_code == 200
    body = r.json()
    assert [w["week"] for w in body["weeks"]] == ["2026-W48", "2026-W49"]
    triage_rows = {
        (x["week"], x["priority"]): (
            x["met"],
            x["breached"],
            x["still_open_breached"],
            x["median_business_hours"],
        )
        for x in body["rows"]
        if x["clock"] == "triage"
    }
    assert triage_rows == {
        ("2026-W48", "P1"): (1, 1, 0, 3.5),
        ("2026-W49", "P0"): (1, 0, 0, 2.0),
        ("2026-W49", "none"): (0, 1, 1, None),
    }
    p1 = [x for x in body["totals"] if x["clock"] == "triage" and x["priority"] == "P1"]
    assert p1[0]["attainment"] == 0.5
    assert api.req("ana", "GET", "/api/v1/desks/infra/slo/attainment?weeks=0").status_code == 422


# ----------------------------------------------------------------------------- API conventions


def test_desk_view_orders_by_nearest_due_and_validates(api: Api, clock: ManualClock) -> None:
    api.file()  # due 13:00
    clock.advance(hours=1)
    api.file()  # due 14:00
    at(clock, 2026, 11, 23, 8, 0)
    api.file()  # filed before opening: due 17:00
    clock.now = local(LA, 2026, 11, 23, 13, 30).astimezone(UTC)
    view = desk_slo(api)
    assert [c["ticket"] for c in view["clocks"]] == ["INFRA-1", "INFRA-2", "INFRA-3"]
    assert [c["state"] for c in view["clocks"]] == ["breached", "at_risk", "running"]
    assert view["counts"] == {"breached": 1, "at_risk": 1, "running": 1, "paused": 0}
    assert (view["calendar"], view["timezone"]) == ("pacific", LA)
    assert view["clocks"][0]["remaining"] == "-30m" and view["clocks"][0]["title"]
    assert [c["ticket"] for c in desk_slo(api, limit=1)["clocks"]] == ["INFRA-1"]
    r = api.req("ana", "GET", "/api/v1/desks/infra/slo", params={"limit": 0})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert api.req("ana", "GET", "/api/v1/desks/nope/slo").status_code == 404
    assert api.client.get("/api/v1/desks/infra/slo").status_code == 401


def test_a_page_of_tickets_loads_clocks_in_one_query(api: Api, state: AppState) -> None:
    for _ in range(5):
        api.file()
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "ticket_clocks" in statement:
            seen.append(statement)

    event.listen(state.db.engine, "before_cursor_execute", count)
    try:
        page = api.req("ana", "GET", "/api/v1/tickets", params={"desk": "infra"}).json()
    finally:
        event.remove(state.db.engine, "before_cursor_execute", count)
    assert len(page["items"]) == 5 and all(t["clocks"] for t in page["items"])
    assert len(seen) == 1


def test_explain_endpoint(api: Api) -> None:
    r = api.req(
        "rita",
        "GET",
        "/api/v1/calendars/pacific/explain",
        params={"from": "2026-11-25T16:30-08:00", "add": "4h"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert when(body["due"]) == local(LA, 2026, 11, 27, 12, 30)
    assert [(i["start_local"], i["end_local"], i["seconds"]) for i in body["intervals"]] == [
        ("Wed 2026-11-25 16:30 PST", "Wed 2026-11-25 17:00 PST", 1800.0),
        ("Fri 2026-11-27 09:00 PST", "Fri 2026-11-27 12:30 PST", 12600.0),
    ]
    assert body["closed_days"] == [{"date": "2026-11-26", "weekday": "thu", "reason": "holiday"}]
    for params, field in [
        ({"from": "2026-11-25T16:30", "add": "4h"}, "from"),
        ({"from": "yesterday", "add": "4h"}, "from"),
        ({"from": "2026-11-25T16:30Z", "add": "four hours"}, "add"),
    ]:
        r = api.req("rita", "GET", "/api/v1/calendars/pacific/explain", params=params)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert api.req("rita", "GET", "/api/v1/calendars/mars/explain").status_code == 404


def test_clock_times_span_a_dst_change(api: Api, clock: ManualClock) -> None:
    at(clock, 2026, 10, 30, 15, 0)  # Friday; clocks fall back on Sunday 2026-11-01
    api.file()
    c = clock_of(ticket(api), "triage")
    assert when(c["due_at"]) == local(LA, 2026, 11, 2, 11, 0)  # 09:00 PST opening, not PDT
    assert when(c["due_at"]) - clock.now == timedelta(days=2, hours=21)  # type: ignore[operator]


def test_a_new_slo_rule_starts_clocks_on_open_tickets_only(
    api: Api, state: AppState, clock: ManualClock, policy: Policy
) -> None:
    api.file()
    api.file()
    triage(api, "P2")
    triage(api, "P2", key="INFRA-2")
    api.post("ana", "/api/v1/tickets/INFRA-2/move", {"to": "Done", "resolution": "fixed"})
    clock.advance(hours=1)
    raw = policy.model_dump(by_alias=True)
    raw["desks"]["infra"]["slo"].append(
        {
            "name": "resolve",
            "starts": "triaged",
            "stops": "resolved",
            "within": "3 business days",
            "applies_to": {"priority": ["P2"]},
        }
    )
    [result] = service.sync(state.db, Policy.model_validate(raw), clock.now)
    assert (result.mode, result.open_tickets, result.started) == ("full", 1, 1)
    c = clock_of(ticket(api), "resolve")
    assert when(c["started_at"]) == local(LA, 2026, 11, 23, 9, 0)  # anchored at the triage
    assert when(c["due_at"]) == local(LA, 2026, 11, 25, 17, 0)  # 3 x 8h: Wednesday's close
    assert [x["name"] for x in ticket(api, "INFRA-2")["clocks"]] == ["triage"]


def test_a_new_holiday_moves_running_and_paused_clocks(
    api: Api, state: AppState, clock: ManualClock, policy: Policy
) -> None:
    at(clock, 2026, 11, 23, 13, 0)
    for key in ("INFRA-1", "INFRA-2", "INFRA-3"):
        api.file()
        triage(api, "P0", key=key)  # Monday 13:00: updates due Tuesday 13:00
    at(clock, 2026, 11, 23, 14, 0)
    api.post("ana", "/api/v1/tickets/INFRA-2/block", {"reason": "vendor"})
    api.post("ana", "/api/v1/tickets/INFRA-3/block", {"reason": "vendor"})
    at(clock, 2026, 11, 23, 16, 0)
    api.post("ana", "/api/v1/tickets/INFRA-2/unblock")  # a closed 2h spell
    raw = policy.model_dump(by_alias=True)
    raw["calendars"]["pacific"]["holidays"]["extra"].append("2026-11-24")
    [result] = service.sync(state.db, Policy.model_validate(raw), clock.now)
    # The paused clock has no due time yet, so nothing of it is stored differently.
    assert (result.mode, result.active_clocks, result.updated) == ("reschedule", 3, 2)
    running, resumed, paused = (
        clock_of(ticket(api, k), "update") for k in ("INFRA-1", "INFRA-2", "INFRA-3")
    )
    assert when(running["due_at"]) == local(LA, 2026, 11, 25, 13, 0)  # Tuesday is closed now
    assert when(running["at_risk_at"]) == local(LA, 2026, 11, 25, 11, 0)
    assert when(resumed["due_at"]) == local(LA, 2026, 11, 25, 15, 0)
    assert resumed["paused_seconds"] == 7200 and resumed["pauses"][0]["business_seconds"] == 7200
    assert paused["state"] == "paused" and paused["due_at"] is None
    at(clock, 2026, 11, 25, 9, 0)
    api.post("ana", "/api/v1/tickets/INFRA-3/unblock")
    # 1h ran before the block; 7h remain from Wednesday 09:00.
    due = clock_of(ticket(api, "INFRA-3"), "update")["due_at"]
    assert when(due) == local(LA, 2026, 11, 25, 16, 0)
