"""The toil report against a history built move by move, every figure counted by hand.

The infra desk keeps the Pacific calendar (09:00–17:00 Mon–Fri, US holidays: Thanksgiving is
Thursday 26 November 2026). All instants below are Los Angeles wall-clock times (PST, UTC−8).

    A "Add a LUCI builder for mac arm"  config-request/request
      Mon 23 09:00 filed · 10:00 triaged · 11:00 In progress · Tue 24 11:00 Done
      filed→done 8 h (Mon 9–17) + 2 h = 10 h; in progress 6 h + 2 h = 8 h
    B "Add LUCI builder for linux arm"  config-request/request
      Mon 23 12:00 filed · 12:30 triaged · 13:00 In progress · 14:00 back to Triaged (bounce)
      · Tue 24 10:00 In progress · 12:00 Done
      filed→done 5 h + 3 h = 8 h; in progress 1 h + 2 h = 3 h
    C "Add a LUCI builder for windows"  config-request/request
      Tue 24 09:00 filed · 09:30 triaged · 13:00 Done · Wed 25 09:00 re-opened (New) · 10:00 Done
      filed→done (last resolution) 8 h + 1 h = 9 h; in progress 0
    D "Quota almost out for mac builders"  quota/incident, Wed 25 09:00 filed, stays open
    F "Grant access to the infra repo"  access/request
      Wed 25 16:00 filed · 16:30 triaged · Mon 30 10:00 Done
      filed→done 1 h (Wed) + 0 (Thanksgiving) + 8 h (Fri) + 1 h (Mon) = 10 h
    E "Add LUCI builder for fuchsia"  config-request/request, Mon 30 09:00 filed, open
    G "Add LUCI builder for ios" filed Mon 7 Dec: after the period, counted nowhere

Period 2026-11-23 … 2026-12-06 (weeks of 23 Nov and 30 Nov).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Api, ManualClock

PERIOD = {"from": "2026-11-23", "to": "2026-12-06"}
TOIL = "/api/v1/desks/infra/reports/toil"
LA = ZoneInfo("America/Los_Angeles")


def la(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LA).astimezone(UTC)


class History:
    def __init__(self, api: Api, clock: ManualClock) -> None:
        self.api, self.clock = api, clock

    def at(self, month: int, day: int, hour: int, minute: int = 0) -> History:
        self.clock.now = la(month, day, hour, minute)
        return self

    def file(self, title: str, category: str, kind: str = "request") -> str:
        key = self.api.file("rita", title=title, kind=kind, category=None)["key"]
        r = self.api.req("ana", "PATCH", f"/api/v1/tickets/{key}", json={"category": category})
        assert r.status_code == 200, r.text
        return str(key)

    def triage(self, key: str) -> None:
        body = {"priority": "P1", "assignee": "ana"}
        r = self.api.post("ana", f"/api/v1/tickets/{key}/triage", body)
        assert r.status_code == 200, r.text

    def move(self, key: str, to: str) -> None:
        body: dict[str, Any] = {"to": to}
        if to == "Done":
            body["resolution"] = "fixed"
        r = self.api.post("ana", f"/api/v1/tickets/{key}/move", body)
        assert r.status_code == 200, r.text


@pytest.fixture
def built(api: Api, clock: ManualClock) -> dict[str, str]:
    h = History(api, clock)
    k: dict[str, str] = {}
    k["A"] = h.at(11, 23, 9).file("Add a LUCI builder for mac arm", "config-request")
    h.at(11, 23, 10).triage(k["A"])
    h.at(11, 23, 11).move(k["A"], "In progress")
    k["B"] = h.at(11, 23, 12).file("Add LUCI builder for linux arm", "config-request")
    h.at(11, 23, 12, 30).triage(k["B"])
    h.at(11, 23, 13).move(k["B"], "In progress")
    h.at(11, 23, 14).move(k["B"], "Triaged")
    k["C"] = h.at(11, 24, 9).file("Add a LUCI builder for windows", "config-request")
    h.at(11, 24, 9, 30).triage(k["C"])
    h.at(11, 24, 10).move(k["B"], "In progress")
    h.at(11, 24, 11).move(k["A"], "Done")
    h.at(11, 24, 12).move(k["B"], "Done")
    h.at(11, 24, 13).move(k["C"], "Done")
    h.at(11, 25, 9).move(k["C"], "New")
    k["D"] = h.file("Quota almost out for mac builders", "quota", kind="incident")
    h.at(11, 25, 10).move(k["C"], "Done")
    k["F"] = h.at(11, 25, 16).file("Grant access to the infra repo", "access")
    h.at(11, 25, 16, 30).triage(k["F"])
    k["E"] = h.at(11, 30, 9).file("Add LUCI builder for fuchsia", "config-request")
    h.at(11, 30, 10).move(k["F"], "Done")
    k["G"] = h.at(12, 7, 9).file("Add LUCI builder for ios", "config-request")
    h.at(12, 8, 9)
    return k


def test_every_figure_matches_the_hand_count(api: Api, built: dict[str, str]) -> None:
    r = api.req("bo", "GET", TOIL, params=PERIOD)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["period"] == {
        "from": "2026-11-23",
        "to": "2026-12-06",
        "zone": "America/Los_Angeles",
        "weeks": ["2026-11-23", "2026-11-30"],
    }
    assert d["business_hours"] is True
    assert d["summary"] == {
        "filed": 6,
        "done": 4,
        "median_to_done_hours": 9.5,  # 8, 9, 10, 10
        "total_to_done_hours": 37.0,
        "median_in_progress_hours": 5.5,  # 3 and 8 (C and F never were in progress)
        "total_in_progress_hours": 11.0,
        "reopened": 1,
        "reopen_moves": 1,
        "bounced": 1,
        "bounce_moves": 1,
    }
    cats = {c["category"]: c for c in d["categories"]}
    assert cats["config-request"] == {
        "category": "config-request",
        "filed": 4,
        "done": 3,
        "median_to_done_hours": 9.0,
        "total_to_done_hours": 27.0,
        "median_in_progress_hours": 5.5,
        "total_in_progress_hours": 11.0,
    }
    assert (cats["access"]["filed"], cats["access"]["done"]) == (1, 1)
    assert cats["access"]["total_to_done_hours"] == 10.0  # Thanksgiving counts nothing
    assert (cats["quota"]["filed"], cats["quota"]["done"]) == (1, 0)
    assert cats["quota"]["median_to_done_hours"] is None
    assert (cats["outage"]["filed"], cats["help"]["filed"]) == (0, 0)  # the desk's categories
    assert [c["category"] for c in d["categories"]][:3] == ["config-request", "outage", "help"]
    kinds = {k["kind"]: (k["filed"], k["done"]) for k in d["kinds"]}
    assert kinds == {"request": (5, 4), "incident": (1, 0)}
    cells = {(c["category"], c["kind"]): c["filed"] for c in d["category_kinds"]}
    assert cells == {
        ("config-request", "request"): 4,
        ("quota", "incident"): 1,
        ("access", "request"): 1,
    }
    weeks = [(w["week"], w["filed"], w["done"], w["reopened"], w["bounced"]) for w in d["weeks"]]
    assert weeks == [("2026-11-23", 5, 3, 1, 1), ("2026-11-30", 1, 1, 0, 0)]
    assert d["weeks"][0]["filed_by_category"] == {"config-request": 3, "quota": 1, "access": 1}
    assert d["weeks"][1]["filed_by_category"] == {"config-request": 1}


def test_recurring_requests_cluster_the_builder_requests(api: Api, built: dict[str, str]) -> None:
    rec = api.req("bo", "GET", TOIL, params=PERIOD).json()["recurring"]
    assert rec["tickets"] == 6
    assert len(rec["clusters"]) == 1
    c = rec["clusters"][0]
    assert c["count"] == 4 and rec["clustered"] == 4
    assert {m["key"] for m in c["members"]} == {built[x] for x in "ABCE"}
    assert c["members"][0]["key"] == built["E"]  # newest first
    assert set(c["words"][:3]) == {"add", "luci", "builder"} == set(c["core"])
    # Effort: A 8 h and B 3 h in progress: median 5.5 h. C went to Done without being in
    # progress (its 9 h filed → done is waiting, not effort) and E is open: not measured.
    assert c["effort_hours"] == 5.5 and c["score"] == 22.0 and c["effort_measured"] == 2
    assert c["categories"] == {"config-request": 4}
    assert c["name"] is None


def test_a_followed_cluster_is_counted_week_by_week(api: Api, built: dict[str, str]) -> None:
    body = {"name": "Builder requests", "words": ["LUCI", "builders"]}
    assert api.post("rita", f"{TOIL}/followed", body).status_code == 403  # a reporter
    r = api.post("ana", f"{TOIL}/followed", body)
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert r.json()["stems"] == ["builder", "luci"]
    again = api.post("ana", f"{TOIL}/followed", body)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "name"
    empty = api.post("ana", f"{TOIL}/followed", {"name": "x", "words": ["the", "42"]})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "words"
    rec = api.req("bo", "GET", TOIL, params=PERIOD).json()["recurring"]
    (f,) = rec["followed"]
    assert (f["name"], f["count"], f["created_by"]) == ("Builder requests", 4, "ana")
    assert [(w["week"], w["count"]) for w in f["weeks"]] == [("2026-11-23", 3), ("2026-11-30", 1)]
    assert rec["clusters"][0]["name"] == "Builder requests"
    later = api.req("bo", "GET", TOIL, params={"from": "2026-11-30", "to": "2026-12-13"}).json()
    assert [w["count"] for w in later["recurring"]["followed"][0]["weeks"]] == [1, 1]
    gone = api.req("ana", "DELETE", f"{TOIL}/followed/{fid}")
    assert gone.status_code == 204, gone.text
    assert api.req("ana", "DELETE", f"{TOIL}/followed/{fid}").status_code == 404
    assert api.req("bo", "GET", TOIL, params=PERIOD).json()["recurring"]["followed"] == []


def test_csv_tables_parse_and_agree_with_the_json(api: Api, built: dict[str, str]) -> None:
    d = api.req("bo", "GET", TOIL, params=PERIOD).json()
    for table in ("categories", "kinds", "category_kinds", "weeks", "clusters", "summary"):
        r = api.req("bo", "GET", TOIL, params={**PERIOD, "format": "csv", "table": table})
        assert r.status_code == 200, (table, r.text)
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        if table == "categories":
            by = {row["category"]: row for row in rows}
            assert by["config-request"]["filed"] == "4"
            assert by["config-request"]["total_filed_to_done_hours"] == "27.0"
            assert by["quota"]["median_filed_to_done_hours"] == ""
        if table == "weeks":
            assert [(x["week"], x["filed"], x["done"]) for x in rows] == [
                ("2026-11-23", "5", "3"),
                ("2026-11-30", "1", "1"),
            ]
            assert rows[0]["filed:config-request"] == "3"
        if table == "clusters":
            assert rows[0]["count"] == "4" and rows[0]["score"] == "22.0"
            assert set(rows[0]["members"].split()) == {built[x] for x in "ABCE"}
        if table == "summary":
            summary = {x["measure"]: x["value"] for x in rows}
            assert summary["filed"] == str(d["summary"]["filed"])
            assert summary["reopened"] == "1"
    bad = api.req("bo", "GET", TOIL, params={**PERIOD, "format": "csv", "table": "nope"})
    assert bad.status_code == 422


def test_a_cluster_name_that_reads_as_a_formula_stays_text_in_the_csv(
    api: Api, built: dict[str, str]
) -> None:
    name = '=HYPERLINK("http://example.com","x")'
    r = api.post("ana", f"{TOIL}/followed", {"name": name, "words": ["LUCI", "builder"]})
    assert r.status_code == 201, r.text
    csv_text = api.req(
        "bo", "GET", TOIL, params={**PERIOD, "format": "csv", "table": "clusters"}
    ).text
    (row,) = list(csv.DictReader(io.StringIO(csv_text)))
    assert row["name"] == "'" + name  # a spreadsheet shows it, never runs it
    assert row["score"] == "22.0"  # numbers stay numbers


def test_periods_are_checked_and_default_to_twelve_weeks(api: Api, built: dict[str, str]) -> None:
    r = api.req("bo", "GET", TOIL, params={"from": "2026-12-06", "to": "2026-11-23"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"
    r = api.req("bo", "GET", TOIL, params={"from": "2020-01-01", "to": "2026-11-23"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to"
    assert api.req("bo", "GET", "/api/v1/desks/nope/reports/toil").status_code == 404
    d = api.req("bo", "GET", TOIL, params={"clusters": "false"}).json()
    assert d["period"]["to"] == "2026-12-08" and d["period"]["from"] == "2026-09-16"
    assert d["summary"]["filed"] == 7 and d["recurring"] is None


def test_a_bounce_between_teams_counts(api: Api, clock: ManualClock) -> None:
    h = History(api, clock)
    h.at(11, 23, 9)
    key = api.file("rita", desk="set", title="Crash when opening a channel", kind="bug")["key"]
    for team in ("channels", "mobile"):
        h.at(11, 23, 10 if team == "channels" else 11)
        r = api.req("eva", "PATCH", f"/api/v1/tickets/{key}", json={"team": team})
        assert r.status_code == 200, r.text
    d = api.req("eva", "GET", "/api/v1/desks/set/reports/toil", params=PERIOD).json()
    assert (d["summary"]["bounced"], d["summary"]["bounce_moves"]) == (
        1,
        1,
    )  # the first routing is not a bounce
    assert d["weeks"][0]["bounced"] == 1


def test_the_counts_agree_with_a_count_of_the_events_table(
    api: Api, built: dict[str, str], state: Any
) -> None:
    """Filed, done, re-opened and bounced, counted straight from the append-only events
    (no report code involved), against the report's figures."""
    from sqlalchemy import select

    from dutydesk.tickets.models import Event, Ticket

    columns = ["New", "Triaged", "In progress", "Done"]
    since, until = la(11, 23, 0), la(12, 7, 0)
    with state.db.read() as s:
        rows = s.execute(
            select(Ticket.id, Ticket.created_at, Event.at, Event.field, Event.before, Event.after)
            .join(Event, Event.ticket_id == Ticket.id)
            .where(Ticket.desk == "infra")
            .order_by(Event.at, Event.id)
        ).all()
    filed = {t for t, created, *_ in rows if since <= created < until}
    moves = [(t, b, a) for t, _, at, f, b, a in rows if f == "status" and since <= at < until and b]
    reopen = [(t, b, a) for t, b, a in moves if b == "Done" and a != "Done"]
    back = [
        (t, b, a)
        for t, b, a in moves
        if b != "Done" and a in columns and b in columns and columns.index(a) < columns.index(b)
    ]
    teams = [t for t, _, at, f, b, a in rows if f == "team" and b and since <= at < until]
    last: dict[int, str] = {}
    for t, _, at, f, _b, a in rows:
        if f == "status" and at < until:
            last[t] = a
    done = {t for t, b, a in moves if a == "Done"} & {t for t, a in last.items() if a == "Done"}
    s_ = api.req("bo", "GET", TOIL, params=PERIOD).json()["summary"]
    assert s_["filed"] == len(filed) == 6
    assert s_["done"] == len(done) == 4
    assert (s_["reopened"], s_["reopen_moves"]) == (len({t for t, *_ in reopen}), len(reopen))
    assert s_["bounce_moves"] == len(back) + len(teams) == 1
    assert s_["bounced"] == len({t for t, *_ in back} | set(teams))
