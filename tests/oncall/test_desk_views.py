"""The on-call's desk views on a small realistic week: the handoff report and the triage list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Api, ManualClock


def la(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 wall time in Los Angeles (UTC-8), as a UTC instant."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=8)


def triage(api: Api, user: str, key: str, **body: object) -> None:
    r = api.post(user, f"/api/v1/tickets/{key}/triage", body)
    assert r.status_code == 200, r.text


def comment(api: Api, user: str, key: str, text: str) -> None:
    r = api.post(user, f"/api/v1/tickets/{key}/comments", {"body": text})
    assert r.status_code == 201, r.text


def test_handoff_report_for_the_monday_meeting(api: Api, clock: ManualClock) -> None:
    # bo's week (Mon 16 Nov 10:00 - Mon 23 Nov 10:00).
    clock.now = la(17, 10)
    slow = api.file(title="Builders slow to start", criteria=["Degraded service"])["key"]
    quota = api.file(
        title="Almost out of quota in us-east",
        criteria=["Imminent incident (e.g. almost out of quota)"],
    )["key"]
    access = api.file(title="Need access to the devicelab")["key"]
    clock.now = la(17, 10, 30)
    triage(api, "bo", slow, priority="P1", assignee="bo")
    triage(api, "bo", quota, priority="P0", assignee="ana")
    comment(api, "ana", access, "Which lab?")  # ana is not on call: not hers to report
    clock.now = la(20, 11)
    comment(api, "bo", slow, "Restarted the pool; watching it")
    clock.now = la(23, 9, 30)  # Monday, half an hour before the handoff
    late = api.file(title="Flaky test on mac bots")["key"]

    r = api.req("dee", "GET", "/api/v1/desks/infra/handoff")
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["handoff_at"] == "2026-11-23T10:00:00-08:00"
    assert rep["shift"] == {
        "start": "2026-11-16T10:00:00-08:00",
        "end": "2026-11-23T10:00:00-08:00",
    }
    assert rep["outgoing"] == [{"layer": "primary", "person": "bo", "hours": 168.0}]
    assert [(x["person"], x["layer"]) for x in rep["incoming"]] == [("chen", "primary")]
    touched = {t["key"]: t for t in rep["touched"]}
    assert sorted(touched) == sorted([slow, quota])
    assert touched[slow]["by"] == ["bo"] and touched[slow]["events"] >= 3
    assert [(t["key"], t["priority"]) for t in rep["open_urgent"]] == [(quota, "P0"), (slow, "P1")]
    assert rep["open_urgent"][1]["since_update"] == "2d 22h"
    assert [t["key"] for t in rep["awaiting_triage"]] == [access, late]
    idle = {t["key"]: t for t in rep["idle"]}
    assert list(idle) == [quota]  # assigned to ana Tuesday, nothing from her since
    assert idle[quota]["reassign"] == {
        "method": "POST",
        "href": f"/api/v1/tickets/{quota}/assign",
        "body": {"assignee": "bo"},
    }
    breaches = {(b["key"], b["clock"]) for b in rep["slo_breaches"]}
    assert (access, "triage") in breaches  # filed Tuesday 10:00, never triaged
    assert {key for key, _ in breaches} <= {access, quota}

    md = api.req("dee", "GET", "/api/v1/desks/infra/handoff?format=markdown")
    assert md.headers["content-type"].startswith("text/markdown")
    text = md.text
    assert text.startswith("## Handoff: Infra ticket queue — Mon 2026-11-23 10:00 PST\n")
    assert "**Outgoing:** bo (primary, 168.0 h)" in text
    assert "**Incoming:** chen (primary, until Mon 2026-11-30 10:00 PST)" in text
    assert f"### Tickets touched during the shift (2)\n* {slow} Builders slow to start" in text
    assert "### Awaiting triage (2)" in text and f"* {late} Flaky test on mac bots" in text
    assert "### Claimed but idle (1)" in text
    # After the meeting the report still covers the handoff just past.
    clock.now = la(23, 11)
    after = api.req("dee", "GET", "/api/v1/desks/infra/handoff").json()
    assert after["handoff_at"] == rep["handoff_at"] and after["outgoing"] == rep["outgoing"]
    assert api.req("rita", "GET", "/api/v1/desks/nope/handoff").status_code == 404


def test_triage_view_finds_claimed_but_idle_tickets(api: Api, clock: ManualClock) -> None:
    clock.now = la(23, 9)  # Monday 09:00
    key = api.file(title="Add a LUCI builder for linux web engine")["key"]
    view = api.req("bo", "GET", "/api/v1/desks/infra/triage").json()
    assert [t["key"] for t in view["new"]] == [key]
    assert view["triager"] == "bo" and view["idle_after"] == "3 business days"
    # A new ticket is triaged (priority and owner at once), never merely assigned.
    step = view["new"][0]["suggested"]
    assert step["action"] == "triage" and step["href"] == f"/api/v1/tickets/{key}/triage"
    assert step["command"] == f"dutydesk triage {key} --priority … --assignee bo"
    triage(api, "bo", key, priority="P1")
    view = api.req("bo", "GET", "/api/v1/desks/infra/triage").json()
    assert view["new"] == [] and [t["key"] for t in view["awaiting_owner"]] == [key]
    r = api.post("bo", f"/api/v1/tickets/{key}/assign", {"assignee": "ana"})
    assert r.status_code == 200

    def idle_at(when: datetime) -> list[str]:
        clock.now = when
        return [
            t["key"] for t in api.req("chen", "GET", "/api/v1/desks/infra/triage").json()["idle"]
        ]

    assert idle_at(la(25, 16, 59)) == []  # 3 business days = 24 business hours: Wed 17:00
    assert idle_at(la(25, 17)) == [key]
    comment(api, "rita", key, "Any news?")  # the reporter asking does not make it less dropped
    assert idle_at(la(27, 10)) == [key]
    view = api.req("chen", "GET", "/api/v1/desks/infra/triage").json()
    item = view["idle"][0]
    assert item["assignee"] == "ana" and item["idle_for"] == "4d 1h"
    assert item["reassign"]["body"] == {"assignee": "chen"}  # the on-call this week
    assert item["suggested"]["command"] == f"dutydesk assign {key} chen"
    done = api.post("chen", item["reassign"]["href"], item["reassign"]["body"])  # one click
    assert done.status_code == 200 and done.json()["assignee"] == "chen"
    assert idle_at(la(27, 11)) == []
    # chen claimed it Friday 10:00: 7 h Friday, 8 h Monday and Tuesday, 1 h Wednesday.
    assert idle_at(datetime(2026, 12, 2, 17, 59, tzinfo=UTC)) == []
    assert idle_at(datetime(2026, 12, 2, 18, 0, tzinfo=UTC)) == [key]


def test_set_engineers_are_free_when_to_do_is_empty(api: Api, clock: ManualClock) -> None:
    view = api.req("finn", "GET", "/api/v1/desks/set/triage").json()
    assert view["free_for_feature_work"] is True
    assert view["notes"] == [
        "free to take work from their feature teams (on call, no open ticket): gus, eva, ivan, kai",
        "To do is empty: nothing new to triage",
    ]
    key = api.file(desk="set", title="Crash when opening a channel", kind="bug")["key"]
    view = api.req("finn", "GET", "/api/v1/desks/set/triage").json()
    assert view["free_for_feature_work"] is False and view["counts"]["To do"] == 1
    assert [t["key"] for t in view["new"]] == [key]
    infra = api.req("ana", "GET", "/api/v1/desks/infra/triage").json()
    assert infra["free_for_feature_work"] is False
    assert infra["notes"] == ["New is empty: nothing new to triage"]


def test_a_ticket_routed_to_a_feature_team_is_not_waiting_in_set_to_do(api: Api) -> None:
    """Routed to the channels team it is that team's work: To do counts as empty again in the
    triage view, and the status meeting's agenda says so."""
    key = api.file(desk="set", title="Crash when opening a channel", kind="bug")["key"]
    r = api.post("eva", f"/api/v1/tickets/{key}/triage", {"priority": "P2", "team": "channels"})
    assert r.status_code == 200, r.text
    view = api.req("finn", "GET", "/api/v1/desks/set/triage").json()
    assert view["counts"]["To do"] == 0
    assert "To do is empty: nothing new to triage" in view["notes"]
    agenda = api.req("finn", "GET", "/api/v1/desks/set/agenda", params={"meeting": "status"})
    agenda = agenda.json()
    assert "Nothing in To do" in [s["title"] for s in agenda["sections"]], agenda


def test_a_past_handoff_shows_its_tickets_as_they_were_then(api: Api, clock: ManualClock) -> None:
    """Filed, triaged to P0 and closed after the handoff: the report of that handoff still
    lists it as open urgent (from the event history); today's report does not."""
    clock.now = la(20, 9)
    fire = api.file(title="Disk full on the release builder")["key"]
    waiting = api.file(title="Access to the staging bucket")["key"]
    clock.now = la(20, 9, 30)
    triage(api, "bo", fire, priority="P0", assignee="bo")
    clock.now = la(23, 12)  # after Monday's 10:00 handoff
    triage(api, "chen", waiting, priority="P1", assignee="chen")
    clock.now = la(24, 12)
    done = api.post("chen", f"/api/v1/tickets/{fire}/move", {"to": "Done", "resolution": "fixed"})
    assert done.status_code == 200, done.text
    clock.now = la(25, 12)

    today = api.req("dee", "GET", "/api/v1/desks/infra/handoff").json()
    assert today["handoff_at"] == "2026-11-23T10:00:00-08:00" and today["as_of"] is None
    assert fire not in [t["key"] for t in today["open_urgent"]]
    assert waiting not in [t["key"] for t in today["awaiting_triage"]]

    r = api.req("dee", "GET", "/api/v1/desks/infra/handoff?at=2026-11-23T11:00:00-08:00")
    assert r.status_code == 200, r.text
    past = r.json()
    assert past["handoff_at"] == "2026-11-23T10:00:00-08:00"
    assert past["as_of"] == "2026-11-23T10:00:00-08:00"
    urgent = {t["key"]: t for t in past["open_urgent"]}
    assert list(urgent) == [fire]
    assert (urgent[fire]["priority"], urgent[fire]["status"]) == ("P0", "Triaged")
    assert urgent[fire]["assignee"] == "bo" and urgent[fire]["since_update"] == "3d 0h"
    assert urgent[fire]["suggested"] is None  # no next step for a moment that has passed
    assert [t["key"] for t in past["awaiting_triage"]] == [waiting]

    md = api.req(
        "dee", "GET", "/api/v1/desks/infra/handoff?at=2026-11-23T11:00:00-08:00&format=markdown"
    )
    assert "*A past handoff: tickets as they were at Mon 2026-11-23 10:00 PST.*" in md.text
    assert f"### Open P0/P1 (1)\n* {fire} Disk full on the release builder (P0, Triaged" in md.text
