"""Queue health, on-call load and SET figures, each figure checked against a hand count of a
history built here through the API at known instants (real SQLite / PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dutydesk.auth.models import User
from dutydesk.notify.models import NOTICE, OutboxMessage
from dutydesk.notify.rows import recipient_of
from dutydesk.reports.queue_health import idle as queue_idle
from dutydesk.state import AppState
from dutydesk.tickets.idle import idle_claims, idle_rule
from tests.conftest import URGENT, Api, ManualClock

LA = ZoneInfo("America/Los_Angeles")
TORONTO = ZoneInfo("America/Toronto")


def at(
    clock: ManualClock, zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0
) -> None:
    clock.now = datetime(2026, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def file(api: Api, user: str, desk: str, title: str, **body: Any) -> str:
    r = api.post(user, f"/api/v1/desks/{desk}/tickets", {"title": title, **body})
    return str(ok(r)["key"])


def move(api: Api, user: str, key: str, to: str, resolution: str | None = None) -> None:
    body = {"to": to, **({"resolution": resolution} if resolution else {})}
    if to == "Submitted":  # the SET desk takes a fix into Submitted with its pull request
        body["pr_link"] = f"https://github.com/acme/app/pull/{key.split('-')[-1]}"
    ok(api.post(user, f"/api/v1/tickets/{key}/move", body))


def triage(api: Api, user: str, key: str, **body: Any) -> None:
    ok(api.post(user, f"/api/v1/tickets/{key}/triage", body))


def infra_history(api: Api, clock: ManualClock) -> dict[str, str]:
    """The infra desk over two weeks (Los Angeles time). On call: bo until Mon 23 Nov 10:00,
    chen until Mon 30 Nov 10:00, dee after. Thu 26 Nov is Thanksgiving (a holiday).
    P2/P3 only, so no update cadence adds clocks beside the triage ones."""
    k: dict[str, str] = {}
    urgent = {"criteria": [URGENT]}
    at(clock, LA, 11, 23, 9)
    k["A"] = file(api, "rita", "infra", "Builder for linux arm64 bots", **urgent)
    at(clock, LA, 11, 23, 11)
    k["B"] = file(api, "rita", "infra", "Quota for the perf pool is nearly gone", **urgent)
    at(clock, LA, 11, 23, 12)
    triage(api, "chen", k["B"], priority="P3")  # 1 business hour: met
    at(clock, LA, 11, 23, 12, 30)
    triage(api, "chen", k["A"], priority="P2", assignee="chen")  # 3.5 h: after the at-risk 3 h
    at(clock, LA, 11, 23, 13)
    k["G"] = file(api, "rita", "infra", "Access to the release dashboard", **urgent)
    at(clock, LA, 11, 23, 14)
    triage(api, "chen", k["G"], priority="P2", assignee="ana")  # 1 h: met; ana then idles
    at(clock, LA, 11, 24, 9)
    k["C"] = file(api, "rita", "infra", "Flaky test in the storage suite", **urgent)
    at(clock, LA, 11, 24, 10)
    move(api, "chen", k["A"], "In progress")
    at(clock, LA, 11, 24, 20)
    ok(api.post("chen", f"/api/v1/tickets/{k['A']}/comments", {"body": "Builder config is up."}))
    at(clock, LA, 11, 30, 9, 30)
    move(api, "chen", k["A"], "Done", "fixed")
    at(clock, LA, 12, 1, 9)
    k["E"] = file(api, "rita", "infra", "Mirror the toolchain bucket", **urgent)
    at(clock, LA, 12, 1, 11)
    ok(api.post("dee", f"/api/v1/tickets/{k['B']}/assign", {"assignee": "bo"}))
    at(clock, LA, 12, 1, 11, 30)
    move(api, "bo", k["B"], "In progress")  # bo is not on call: counted in no shift
    at(clock, LA, 12, 2, 10)
    k["D"] = file(api, "rita", "infra", "Raise the artifact retention", **urgent)
    at(clock, LA, 12, 2, 10, 30)
    triage(api, "dee", k["C"], priority="P3")  # 8 days late: breached on Tue 24 Nov 13:00
    at(clock, LA, 12, 2, 11)
    ok(api.post("dee", f"/api/v1/tickets/{k['B']}/comments", {"body": "Bo has it."}))
    at(clock, LA, 12, 3, 9)  # now
    return k


def get(api: Api, path: str, **params: str) -> dict[str, Any]:
    return ok(api.req("admin", "GET", path, params=params))


def test_queue_health_hand_count(api: Api, clock: ManualClock, state: AppState) -> None:
    k = infra_history(api, clock)
    rep = get(
        api, "/api/v1/desks/infra/reports/queue", **{"from": "2026-11-16", "to": "2026-12-06"}
    )
    assert rep["columns"] == ["New", "Triaged", "In progress"]
    w47, w48, w49 = rep["flow"]
    assert (w47["week"], w48["week"], w49["week"]) == ("2026-W47", "2026-W48", "2026-W49")
    assert w47["columns"] == {"New": 0, "Triaged": 0, "In progress": 0}
    # End of W48 (Mon 30 Nov 00:00): A in progress; B and G triaged; C new.
    assert w48["at"] == "2026-11-30T08:00:00Z"
    assert w48["columns"] == {"New": 1, "Triaged": 2, "In progress": 1}
    assert w48["priorities"] == {"P2": 2, "P3": 2}  # A, G / B, C (current priorities)
    assert (w48["filed"], w48["closed"]) == (4, 0)
    # Now (Thu 3 Dec 09:00): A done; B in progress; C and G triaged; D and E new.
    assert w49["at"] == "2026-12-03T17:00:00Z"
    assert w49["columns"] == {"New": 2, "Triaged": 2, "In progress": 1}
    assert w49["priorities"] == {"P2": 1, "P3": 2, "none": 2}
    assert (w49["filed"], w49["closed"]) == (2, 1)

    ages = {a["band"]: a for a in rep["ages"]}
    assert ages["under 1 day"]["columns"] == {"New": 1, "Triaged": 0, "In progress": 0}  # D
    assert ages["1-3 days"]["columns"] == {"New": 1, "Triaged": 0, "In progress": 0}  # E
    assert ages["1-4 weeks"]["columns"] == {"New": 0, "Triaged": 2, "In progress": 1}
    assert ages["3-7 days"]["total"] == ages["over 4 weeks"]["total"] == 0
    assert rep["open_total"] == 5

    assert rep["unowned"] == {"New": 2, "Triaged": 1, "In progress": 0}
    assert [t["ticket"] for t in rep["unowned_oldest"]] == [k["C"], k["E"], k["D"]]
    assert [(t["ticket"], t["assignee"]) for t in rep["idle_claims"]] == [(k["G"], "ana")]
    assert rep["idle_total"] == 1
    assert rep["idle_claims"][0]["last_activity"] == "2026-11-23T22:00:00Z"  # the assignment
    # The same claims as the triage view's rule, a microsecond before and at the instant G
    # turns idle (3 business days after its assignment, Thanksgiving closed).
    turns = idle_rule(state.policy, "infra").idle_since(datetime(2026, 11, 23, 22, tzinfo=UTC))
    assert turns.astimezone(LA) == datetime(2026, 11, 27, 14, tzinfo=LA)  # Tue, Wed, Fri
    for when, idle_now in ((turns - timedelta(microseconds=1), []), (turns, [k["G"]])):
        with state.db.read() as s:
            reference = idle_claims(s, state.policy, "infra", when)
            ours = queue_idle(s, state.policy, "infra", when)[1]
        assert [c.ticket.key for c in reference] == idle_now
        assert [t.ticket for t in ours] == idle_now

    triage_rows = {(r["week"], r["priority"]): r for r in rep["slo"] if r["clock"] == "triage"}
    p2 = triage_rows[("2026-W48", "P2")]  # G met, A met after the at-risk warning
    assert (p2["met"], p2["at_risk"], p2["breached"]) == (1, 1, 0)
    assert p2["median_hours"] == 2.25  # (1 + 3.5) / 2
    p3 = triage_rows[("2026-W48", "P3")]  # B met in 1 h, C breached (due Tue 24 Nov 13:00)
    assert (p3["met"], p3["at_risk"], p3["breached"]) == (1, 0, 1)
    late = triage_rows[("2026-W49", "none")]  # E and D: still untriaged past due
    assert (late["met"], late["at_risk"], late["breached"]) == (0, 0, 2)
    assert late["median_hours"] is None
    everything = triage_rows[(None, "P2")]
    assert (everything["met"], everything["at_risk"], everything["attainment"]) == (1, 1, 1.0)
    assert {r["clock"] for r in rep["slo"]} == {"triage"}


def _notices(state: AppState, rows: list[tuple[str, str, datetime]]) -> None:
    with state.db.write() as s:
        ids = dict(s.execute(select(User.name, User.id)).all())
        for i, (who, desk, when) in enumerate(rows):
            s.add(
                OutboxMessage(
                    kind=NOTICE,
                    payload={"reason": "test"},
                    dedupe_key=f"test-notice:{i}",
                    due_at=when,
                    created_at=when,
                    recipient=recipient_of(ids[who]),
                    desk=desk,
                )
            )


def test_oncall_load_hand_count(api: Api, clock: ManualClock, state: AppState) -> None:
    infra_history(api, clock)

    def la(month: int, day: int, hour: int) -> datetime:
        return datetime(2026, month, day, hour, tzinfo=LA).astimezone(UTC)

    _notices(
        state,
        [
            ("chen", "infra", la(11, 24, 20)),  # evening: outside hours
            ("chen", "infra", la(11, 25, 10)),  # office hours
            ("chen", "infra", la(11, 26, 10)),  # Thanksgiving: outside hours
            ("chen", "set", la(11, 25, 22)),  # another desk: not this report's
            ("ana", "infra", la(11, 24, 22)),  # not on call
            ("dee", "infra", la(12, 1, 12)),  # office hours
            ("dee", "infra", la(11, 25, 12)),  # before dee's shift
        ],
    )
    rep = get(
        api, "/api/v1/desks/infra/reports/oncall", **{"from": "2026-11-23", "to": "2026-12-06"}
    )
    assert rep["rotation"] == "infra-oncall"
    shifts = [(s["person"], s["start"], s["end"]) for s in rep["shifts"]]
    assert shifts == [
        ("bo", "2026-11-23T00:00:00-08:00", "2026-11-23T10:00:00-08:00"),
        ("chen", "2026-11-23T10:00:00-08:00", "2026-11-30T10:00:00-08:00"),
        ("dee", "2026-11-30T10:00:00-08:00", "2026-12-03T09:00:00-08:00"),  # up to now
    ]
    bo, chen, dee = rep["shifts"]
    figures = ("triaged", "served", "comments", "notifications", "outside_hours", "slo_breaches")
    assert {f: bo[f] for f in figures} == dict.fromkeys(figures, 0)
    # chen: triaged B, A, G; served: assigned A and G, moved A to In progress and to Done;
    # breaches: C's triage clock fell due on Tue 24 Nov 13:00.
    assert [chen[f] for f in figures] == [3, 4, 1, 3, 2, 1]
    assert chen["hours"] == 168.0
    # dee: triaged C; served: assigned B (bo's own move is in no shift); breaches: E, D.
    assert [dee[f] for f in figures] == [1, 1, 1, 1, 0, 2]
    assert dee["hours"] == 71.0
    people = {p["person"]: p for p in rep["people"]}
    assert set(people) == {"bo", "chen", "dee"}
    assert (people["chen"]["hours"], people["chen"]["weekend_hours"]) == (168.0, 48.0)
    assert people["chen"]["holiday_hours"] == 24.0  # Thanksgiving
    assert (people["chen"]["triaged"], people["chen"]["slo_breaches"]) == (3, 1)
    assert (people["bo"]["hours"], people["bo"]["shifts"]) == (10.0, 1)
    assert people["dee"]["outside_hours"] == 0


def set_history(api: Api, clock: ManualClock) -> dict[str, str]:
    """The SET desk over two weeks (Toronto time); t0 is Mon 23 Nov 12:00."""
    k: dict[str, str] = {}

    def t(days: int, hours: int = 0) -> None:
        clock.now = datetime(2026, 11, 23, 12, tzinfo=TORONTO).astimezone(UTC)
        clock.advance(days=days, hours=hours)

    t(0)
    k["S1"] = file(
        api,
        "eva",
        "set",
        "Crash on login",
        kind="bug",
        team="channels",
        customer_reported=True,
        assignee="eva",
    )
    t(0, 2)
    k["S2"] = file(
        api, "eva", "set", "Typo in settings", kind="bug", team="playbooks", assignee="eva"
    )
    t(0, 3)
    k["S3"] = file(
        api,
        "eva",
        "set",
        "Customer data export stuck",
        kind="escalation",
        team="channels",
        assignee="eva",
    )
    t(0, 4)
    k["S4"] = file(
        api, "eva", "set", "Customer cannot invite users", kind="escalation", assignee="eva"
    )
    t(0, 5)
    k["S5"] = file(
        api,
        "eva",
        "set",
        "Push notifications late",
        kind="bug",
        team="mobile",
        customer_reported=True,
        assignee="eva",
    )
    t(0, 6)
    k["S6"] = file(api, "eva", "set", "Old theme renders badly", kind="bug", assignee="eva")
    t(1)
    move(api, "eva", k["S1"], "In progress")
    t(1, 4)
    move(api, "eva", k["S4"], "In progress")
    t(2)
    move(api, "eva", k["S1"], "Submitted")
    t(2, 2)
    move(api, "eva", k["S2"], "In progress")
    t(3)
    move(api, "eva", k["S1"], "Done", "fixed")
    t(4, 3)
    move(api, "eva", k["S3"], "Done", "fixed")
    t(7, 2)
    move(api, "eva", k["S2"], "Done", "fixed")
    t(8)
    move(api, "eva", k["S5"], "In progress")
    t(8, 4)
    move(api, "eva", k["S4"], "Done", "fixed")
    t(8, 6)
    move(api, "eva", k["S6"], "Done", "wont-fix")
    t(9)
    move(api, "eva", k["S5"], "Submitted")
    t(10)
    return k


def test_set_figures_hand_count(api: Api, clock: ManualClock) -> None:
    k = set_history(api, clock)
    rep = get(api, "/api/v1/desks/set/reports/set", **{"from": "2026-11-23", "to": "2026-12-06"})
    assert rep["columns"] == ["To do", "In progress", "Submitted"]
    w48, w49 = rep["weeks"]
    total = rep["total"]

    def fig(w: dict[str, Any]) -> tuple[Any, ...]:
        return (
            w["bugs_resolved"],
            w["customer_resolved"],
            w["customer_share"],
            w["fixes_submitted"],
            w["customer_submitted"],
            w["resolved_tickets"],
            w["escalations_fixed"],
            w["escalation_median_days"],
        )

    # bugs are the status post's bug_kinds (bug and escalation in the example policy)
    assert fig(w48) == (2, 1, 0.5, 1, 1, 2, 1, 4.0)  # S1, S3; S1 submitted; S1, S3; S3 4 days
    assert fig(w49) == (2, 0, 0.0, 1, 1, 3, 1, 8.0)  # S2, S4; S5 submitted; S2, S4, S6; S4
    assert fig(total) == (4, 1, 0.25, 2, 2, 5, 2, 6.0)
    # Days in each column per resolved ticket: S1 1/1/1, S3 4/0/0 | S2 2/5/0, S4 1/7/0, S6 8/0/0.
    assert w48["days_in_column"] == {"To do": 2.5, "In progress": 0.5, "Submitted": 0.5}
    assert w49["days_in_column"] == {"To do": 3.67, "In progress": 4.0, "Submitted": 0.0}
    assert total["days_in_column"] == {"To do": 3.2, "In progress": 2.6, "Submitted": 0.2}
    assert [(e["ticket"], e["days"]) for e in rep["escalations"]] == [
        (k["S4"], 8.0),
        (k["S3"], 4.0),
    ]
    # Bugs filed, by owning team: S1 and S3 channels, S2 playbooks, S5 mobile, S4 and S6 none.
    assert rep["areas"] == ["channels", "none", "mobile", "playbooks"]
    assert rep["bugs_by_area"][0]["counts"] == {
        "channels": 2,
        "mobile": 1,
        "none": 2,
        "playbooks": 1,
    }
    assert rep["bugs_by_area"][1]["counts"] == {}
    by_label = get(
        api,
        "/api/v1/desks/set/reports/set",
        **{"from": "2026-11-23", "to": "2026-12-06", "area": "category"},
    )
    assert by_label["areas"] == ["none"] and by_label["bugs_by_area"][0]["counts"] == {"none": 6}


def test_csv_parses_as_a_spreadsheet_reads_it(api: Api, clock: ManualClock) -> None:
    set_history(api, clock)
    r = api.req(
        "admin",
        "GET",
        "/api/v1/desks/set/reports/set",
        params={"from": "2026-11-23", "to": "2026-12-06", "format": "csv", "table": "columns"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "set-set-2026-11-23-2026-12-06-columns.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["week", "tickets resolved", "To do", "In progress", "Submitted"]
    assert rows[1:] == [
        ["2026-W48", "2", "2.5", "0.5", "0.5"],
        ["2026-W49", "3", "3.67", "4", "0"],
        ["all", "5", "3.2", "2.6", "0.2"],
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-12-06", "to": "2026-11-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-12-06"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"format": "csv", "table": "nope"}, "table"),
        ({"table": "weekly"}, "table"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_periods_name_the_field(api: Api, params: dict[str, str], field: str) -> None:
    r = api.req("admin", "GET", "/api/v1/desks/set/reports/set", params=params)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_unknown_desk_and_no_rotation(api: Api) -> None:
    for kind in ("queue", "oncall", "set"):
        r = api.req("admin", "GET", f"/api/v1/desks/nope/reports/{kind}")
        assert r.status_code == 404, r.text
        assert "no desk named" in r.json()["detail"]


def test_set_weekly_figures_agree_with_a_count_of_the_events_table(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    """Bugs resolved (and the customer's), fixes submitted and escalations fixed per week,
    counted straight from the append-only events (no report code), against the report."""
    from sqlalchemy import select

    from dutydesk.tickets.models import Event, Ticket

    set_history(api, clock)
    bounds = [datetime(2026, 11, d, tzinfo=TORONTO).astimezone(UTC) for d in (23, 30)] + [
        datetime(2026, 12, 7, tzinfo=TORONTO).astimezone(UTC)
    ]
    with state.db.read() as s:
        rows = s.execute(
            select(
                Ticket.id, Ticket.kind, Ticket.customer_reported, Event.at, Event.field, Event.after
            )
            .join(Event, Event.ticket_id == Ticket.id)
            .where(Ticket.desk == "set")
            .order_by(Event.at, Event.id)
        ).all()
    resolution = {t: a for t, _, _, _, f, a in rows if f == "resolution" and a}
    kind = {t: k for t, k, *_ in rows}
    customer = {t: c for t, _, c, *_ in rows}
    done_at = {t: at for t, _, _, at, f, a in rows if f == "status" and a == "Done"}
    submitted_at: dict[int, datetime] = {}
    for t, _, _, at, f, a in rows:
        if f == "status" and a == "Submitted":
            submitted_at.setdefault(t, at)

    def week_of(at: datetime) -> int | None:
        for i in range(2):
            if bounds[i] <= at < bounds[i + 1]:
                return i
        return None

    expected = [[0, 0, 0, 0] for _ in range(2)]  # bugs fixed, customer's, submitted, escalations
    for t, at in done_at.items():
        w = week_of(at)
        if w is None or resolution.get(t) != "fixed":
            continue
        # bugs are the status post's bug_kinds: bug and escalation in the example policy
        if kind[t] in ("bug", "escalation"):
            expected[w][0] += 1
            expected[w][1] += bool(customer[t])
        if kind[t] == "escalation":
            expected[w][3] += 1
    for t, at in submitted_at.items():
        w = week_of(at)
        if w is not None and kind[t] in ("bug", "escalation"):
            expected[w][2] += 1
    rep = get(api, "/api/v1/desks/set/reports/set", **{"from": "2026-11-23", "to": "2026-12-06"})
    got = [
        [w["bugs_resolved"], w["customer_resolved"], w["fixes_submitted"], w["escalations_fixed"]]
        for w in rep["weeks"]
    ]
    assert got == expected
    assert sum(map(sum, expected)) > 0


def test_fixes_submitted_follow_a_reclassified_ticket(api: Api, clock: ManualClock) -> None:
    """The moves keep their ticket's kind and customer flag: a later change of either moves
    the fix it submitted out of the customer count, then out of the bugs'."""
    k = set_history(api, clock)
    period = {"from": "2026-11-23", "to": "2026-12-06"}

    def week49() -> tuple[int, int]:
        w = get(api, "/api/v1/desks/set/reports/set", **period)["weeks"][1]
        return w["fixes_submitted"], w["customer_submitted"]

    assert week49() == (1, 1)  # S5, reported by a customer
    for change, expected in (
        ({"customer_reported": False}, (1, 0)),
        ({"kind": "question"}, (0, 0)),
    ):
        r = api.req("eva", "PATCH", f"/api/v1/tickets/{k['S5']}", json=change)
        assert r.status_code == 200, r.text
        assert week49() == expected, change


@pytest.mark.parametrize("report", ["queue", "oncall", "set", "toil"])
def test_a_report_plans_without_jit_and_sorts_in_memory_on_postgresql(
    state: AppState, report: str
) -> None:
    """Its transaction runs without JIT on PostgreSQL (a year's bucket trees cost more to
    compile than to run) and with 64 MB to sort in; the settings end with the transaction."""
    from dutydesk.reports.oncall_load import oncall_load
    from dutydesk.reports.period import resolve
    from dutydesk.reports.queue_health import queue_health
    from dutydesk.reports.set_figures import set_figures
    from dutydesk.reports.toil import toil_report
    from dutydesk.tickets import moves

    now = datetime(2026, 11, 30, 18, tzinfo=UTC)
    desk = "set" if report == "set" else "infra"
    period = resolve(None, None, now, LA)
    run = {
        "queue": lambda s: queue_health(s, state.policy, desk, period, now),
        "oncall": lambda s: oncall_load(s, state.policy, desk, period, now),
        "set": lambda s: set_figures(s, state.policy, desk, period, now, "team"),
        "toil": lambda s: toil_report(s, state.policy, desk, period),
    }[report]
    if state.db.sqlite:
        pytest.skip("SQLite has neither setting")
    with state.db.write() as s:  # what the toil report reads, derived as its API does
        moves.rebuild_desk(s, state.policy, desk, now)
    with state.db.engine.connect() as conn:
        conn.execute(text("SET jit = on"))  # this connection's setting, outside any report
        conn.commit()
        work_mem = conn.execute(text("SHOW work_mem")).scalar()
        with Session(bind=conn) as s:
            run(s)
            assert s.execute(text("SHOW jit")).scalar() == "off"
            assert s.execute(text("SHOW work_mem")).scalar() == "64MB"
            s.rollback()
        assert conn.execute(text("SHOW jit")).scalar() == "on"
        assert conn.execute(text("SHOW work_mem")).scalar() == work_mem
