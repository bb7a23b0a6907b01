"""The rows the toil report and the SET figures read instead of the history — ``ticket_moves``
(re-opens, bounces, fixes submitted), ``ticket_stays`` (time per column) and the desk,
category and kind kept on ``ticket_times`` — checked against the events table itself.

A varied history goes through the real services (filing, triage, moves back and forth, team
changes, re-opens, a category changed after the fix). Then every row and every figure of both
reports is counted again here from the events, by the definitions in the reports' docstrings.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dutydesk.reports.models import TicketMove, TicketStay, TicketTimes
from dutydesk.slo.policy import desk_calendar
from dutydesk.state import AppState
from dutydesk.tickets import moves
from dutydesk.tickets.models import Event, Ticket
from dutydesk.tickets.times import Clock
from tests.conftest import Api, ManualClock

LA = ZoneInfo("America/Los_Angeles")
TORONTO = ZoneInfo("America/Toronto")
PERIOD = {"from": "2026-11-02", "to": "2026-11-29"}  # four whole weeks, Monday to Sunday
WEEKS = [datetime(2026, 11, d) for d in (2, 9, 16, 23)]


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def build(api: Api, clock: ManualClock, seed: int = 3) -> None:
    """Both desks, ticket by ticket, from 26 Oct (before the period) to 30 Nov (after it)."""
    rnd = random.Random(seed)
    infra_cats = ["config-request", "access", "quota", "outage"]
    set_teams = ["channels", "playbooks", "mobile"]
    plans: list[tuple[datetime, str, str, list[str]]] = []
    for i in range(28):
        filed = datetime(2026, 10, 26, 9, tzinfo=LA) + timedelta(hours=rnd.randint(0, 24 * 35))
        route = rnd.choice(
            [
                ["Triaged", "In progress", "Done"],
                ["Triaged", "In progress", "Triaged", "In progress", "Done"],  # bounced
                ["Triaged", "Done", "New", "Done"],  # re-opened
                ["Triaged", "In progress", "Done", "New", "Triaged", "In progress", "Done"],
                ["Triaged", "In progress"],  # still open
                ["team", "Triaged", "In progress", "Done"],
            ]
        )
        plans.append((filed, "infra", infra_cats[i % 4], route))
    for i in range(24):
        filed = datetime(2026, 10, 26, 9, tzinfo=TORONTO) + timedelta(hours=rnd.randint(0, 840))
        route = rnd.choice(
            [
                ["In progress", "Submitted", "Done"],
                ["In progress", "Submitted", "In progress", "Submitted", "Done"],
                ["In progress", "Done"],
                ["In progress", "Submitted", "Done", "To do", "In progress", "Done"],
                ["team", "In progress", "Submitted"],
            ]
        )
        plans.append((filed, "set", set_teams[i % 3], route))
    steps: list[tuple[datetime, int, str, Any]] = []
    for n, (filed, desk, what, route) in enumerate(plans):
        steps.append((filed, n, "file", (desk, what, n)))
        at = filed
        for to in route:
            at += timedelta(hours=rnd.randint(1, 60))
            steps.append((at, n, "move", to))
        if desk == "infra" and n % 7 == 0:  # re-categorised after the work was done
            steps.append((at + timedelta(hours=2), n, "category", "access"))
    keys: dict[int, str] = {}
    for at, n, action, arg in sorted(steps, key=lambda s: (s[0], s[1])):
        clock.now = at.astimezone(UTC)
        if action == "file":
            desk, what, i = arg
            if desk == "infra":
                kind = ["request", "incident", "bug"][i % 3]
                keys[n] = str(api.file("rita", title=f"Request {i}", kind=kind)["key"])
                ok(api.req("ana", "PATCH", f"/api/v1/tickets/{keys[n]}", json={"category": what}))
            else:
                body: dict[str, Any] = {
                    "title": f"Defect {i}",
                    "kind": ["bug", "bug", "escalation"][i % 3],
                    "team": what,
                    "customer_reported": i % 2 == 0,
                    "assignee": "eva",
                }
                keys[n] = str(ok(api.post("eva", "/api/v1/desks/set/tickets", body))["key"])
        elif action == "category":
            ok(api.req("ana", "PATCH", f"/api/v1/tickets/{keys[n]}", json={"category": arg}))
        elif arg == "team":
            desk_team = "set" if keys[n].startswith("SET") else None
            if desk_team is None:
                continue  # infra has one team: nothing to hand over
            ok(api.req("eva", "PATCH", f"/api/v1/tickets/{keys[n]}", json={"team": "platform"}))
        elif arg == "Triaged":
            current = ok(api.req("ana", "GET", f"/api/v1/tickets/{keys[n]}"))
            if current["status"] == "New":  # new, or re-opened (which drops the assignee)
                ok(
                    api.post(
                        "ana",
                        f"/api/v1/tickets/{keys[n]}/triage",
                        {"priority": "P1", "assignee": "ana"},
                    )
                )
            else:
                ok(api.post("ana", f"/api/v1/tickets/{keys[n]}/move", {"to": "Triaged"}))
        else:
            user = "eva" if keys[n].startswith("SET") else "ana"
            body = {"to": arg}
            if arg == "Done":
                body["resolution"] = "fixed"
            if arg == "Submitted":
                body["pr_link"] = f"https://github.com/acme/app/pull/{n}"
            ok(api.post(user, f"/api/v1/tickets/{keys[n]}/move", body))
    clock.now = datetime(2026, 12, 2, 12, tzinfo=UTC)


def history(state: AppState) -> tuple[dict[int, Ticket], dict[int, list[Event]]]:
    with state.db.read() as s:
        tickets = {t.id: t for t in s.scalars(select(Ticket))}
        events: dict[int, list[Event]] = defaultdict(list)
        for e in s.scalars(select(Event).order_by(Event.ticket_id, Event.seq)):
            events[e.ticket_id].append(e)
        s.expunge_all()
    return tickets, events


def week_of(at: datetime, zone: ZoneInfo) -> int | None:
    """The period's week (0..3) of an instant, by the desk's local Mondays; None outside."""
    local = at.astimezone(zone).replace(tzinfo=None)
    return next((i for i, m in enumerate(WEEKS) if m <= local < m + timedelta(days=7)), None)


def expected_moves(state: AppState) -> set[tuple[int, str, datetime, int, int, int]]:
    """Every status or team change classified by hand: out of Done (re-open); to an earlier
    column, or from one team to another (bounce); into Submitted (fix submitted)."""
    tickets, events = history(state)
    out = set()
    for tid, evs in events.items():
        desk = tickets[tid].desk
        cols = state.policy.desks[desk].columns
        for e in evs:
            if e.type != "changed" or e.field not in ("status", "team"):
                continue
            reopen = bounce = submitted = 0
            if e.field == "team":
                bounce = int(e.before is not None and e.after is not None)
            elif e.before == "Done":
                reopen = int(e.after != "Done")
            else:
                bounce = int(cols.index(e.before) > cols.index(e.after))
            if e.field == "status" and e.after == "Submitted":
                submitted = 1
            if reopen or bounce or submitted:
                out.add((tid, desk, e.at, reopen, bounce, submitted))
    return out


def stored_moves(state: AppState) -> set[tuple[int, str, datetime, int, int, int]]:
    with state.db.read() as s:
        M = TicketMove
        rows = s.execute(select(M.ticket_id, M.desk, M.at, M.reopen, M.bounce, M.submitted))
        return {tuple(r) for r in rows}  # type: ignore[misc]


def expected_stays(state: AppState) -> dict[tuple[int, str], float]:
    """Per done ticket and column: the seconds from each move into the column (the first one
    from filing) to the move out of it."""
    tickets, events = history(state)
    out: dict[tuple[int, str], float] = defaultdict(float)
    for tid, t in tickets.items():
        if t.is_open:
            continue
        since, column = t.created_at, state.policy.desks[t.desk].columns[0]
        for e in events[tid]:
            if e.type == "changed" and e.field == "status":
                out[(tid, column)] += (e.at - since).total_seconds()
                since, column = e.at, e.after
        out[(tid, "Done")] += 0.0
    return {k: v for k, v in out.items() if k[1] != "Done"}


def stored_stays(state: AppState) -> dict[tuple[int, str], float]:
    with state.db.read() as s:
        rows = s.execute(select(TicketStay.ticket_id, TicketStay.column, TicketStay.seconds))
        return {(tid, c): v for tid, c, v in rows if c != "Done"}


def test_rows_kept_by_the_changes_match_the_events(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    moves.sync(state.db, state.policy, clock())  # as `dutydesk serve` does on start-up
    build(api, clock)
    want = expected_moves(state)
    assert {m[3:] for m in want} >= {(1, 0, 0), (0, 1, 0), (0, 0, 1)}  # each kind happened
    assert stored_moves(state) == want
    stays = stored_stays(state)
    assert stays.keys() == expected_stays(state).keys()
    for key, seconds in expected_stays(state).items():
        assert abs(stays[key] - seconds) < 1e-6, key
    tickets, _ = history(state)
    with state.db.read() as s:
        kept = {r.ticket_id: (r.desk, r.category, r.kind) for r in s.scalars(select(TicketTimes))}
    done = {i: (t.desk, t.category, t.kind) for i, t in tickets.items() if not t.is_open}
    assert kept == done  # the category changed after the fix follows
    # Derived again from the whole history (``report rebuild``): the same rows.
    with state.db.write() as s:
        moves.rebuild(s, state.policy, clock())
    assert stored_moves(state) == want


def test_both_reports_match_a_count_from_the_events(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    moves.sync(state.db, state.policy, clock())
    build(api, clock)
    tickets, events = history(state)

    # The toil report of infra.
    d = ok(api.req("bo", "GET", "/api/v1/desks/infra/reports/toil", params=PERIOD))
    infra = {i: t for i, t in tickets.items() if t.desk == "infra"}
    cal = Clock(desk_calendar(state.policy, "infra"))
    filed = [week_of(t.created_at, LA) for t in infra.values()]
    done_week: dict[int, int] = defaultdict(int)
    to_done: dict[str, list[float]] = defaultdict(list)
    progress: dict[str, list[float]] = defaultdict(list)
    for tid, t in infra.items():
        if t.is_open:
            continue
        last_done = max(e.at for e in events[tid] if e.field == "status" and e.after == "Done")
        w = week_of(last_done, LA)
        if w is None:
            continue
        done_week[w] += 1
        secs = cal.seconds(t.created_at, last_done)
        status = [e for e in events[tid] if e.type == "changed" and e.field == "status"]
        stint = sum(
            cal.seconds(a.at, b.at) for a, b in pairwise(status) if a.after == "In progress"
        )
        for key in ("all", f"c:{t.category}", f"k:{t.kind}"):
            to_done[key].append(secs)
            if stint > 0:
                progress[key].append(stint)
    reopen: dict[int, set[int]] = defaultdict(set)
    bounce: dict[int, set[int]] = defaultdict(set)
    reopen_moves = bounce_moves = 0
    cols = state.policy.desks["infra"].columns
    for tid in infra:
        for e in events[tid]:
            if e.type != "changed" or e.field != "status" or (w := week_of(e.at, LA)) is None:
                continue
            if e.before == "Done" and e.after != "Done":
                reopen[w].add(tid)
                reopen_moves += 1
            elif cols.index(e.before) > cols.index(e.after):
                bounce[w].add(tid)
                bounce_moves += 1

    def hours(xs: list[float]) -> float | None:
        return round(statistics.median(xs) / 3600, 2) if xs else None

    assert [(w["filed"], w["done"], w["reopened"], w["bounced"]) for w in d["weeks"]] == [
        (filed.count(i), done_week[i], len(reopen[i]), len(bounce[i])) for i in range(4)
    ]
    s = d["summary"]
    assert (s["reopen_moves"], s["bounce_moves"]) == (reopen_moves, bounce_moves)
    assert s["reopened"] == len(set().union(*reopen.values()))
    assert (s["done"], s["median_to_done_hours"]) == (len(to_done["all"]), hours(to_done["all"]))
    assert s["total_to_done_hours"] == round(sum(to_done["all"]) / 3600, 2)
    assert s["median_in_progress_hours"] == hours(progress["all"])
    for c in d["categories"]:
        key = f"c:{c['category']}"
        assert (c["done"], c["median_to_done_hours"]) == (len(to_done[key]), hours(to_done[key]))
        assert c["median_in_progress_hours"] == hours(progress[key])
    for k in d["kinds"]:
        key = f"k:{k['kind']}"
        assert (k["done"], k["median_to_done_hours"]) == (len(to_done[key]), hours(to_done[key]))
        assert k["median_in_progress_hours"] == hours(progress[key])

    # The SET figures of set (read after the toil report of set stored its times).
    ok(api.req("bo", "GET", "/api/v1/desks/set/reports/toil", params=PERIOD))
    r = ok(api.req("bo", "GET", "/api/v1/desks/set/reports/set", params=PERIOD))
    sett = {i: t for i, t in tickets.items() if t.desk == "set"}
    resolved: dict[int, list[Ticket]] = defaultdict(list)
    submitted: dict[int, set[int]] = defaultdict(set)
    for tid, t in sett.items():
        if not t.is_open and t.resolved_at is not None:
            w = week_of(t.resolved_at, TORONTO)
            if w is not None:
                resolved[w].append(t)
        for e in events[tid]:
            is_bug = t.kind in ("bug", "escalation")  # the status post's bug_kinds
            submits = e.field == "status" and e.after == "Submitted" and is_bug
            if submits and (w := week_of(e.at, TORONTO)) is not None:
                submitted[w].add(tid)
    stays = expected_stays(state)
    for i, week in enumerate(r["weeks"]):
        bugs = [
            t for t in resolved[i] if t.kind in ("bug", "escalation") and t.resolution == "fixed"
        ]
        esc = [t for t in resolved[i] if t.kind == "escalation" and t.resolution == "fixed"]
        assert week["bugs_resolved"] == len(bugs)
        assert week["customer_resolved"] == sum(t.customer_reported for t in bugs)
        assert week["fixes_submitted"] == len(submitted[i])
        assert week["customer_submitted"] == sum(sett[x].customer_reported for x in submitted[i])
        assert week["resolved_tickets"] == len(resolved[i])
        assert week["escalations_fixed"] == len(esc)
        days = [
            ((t.resolved_at or t.created_at) - t.created_at).total_seconds() / 86400 for t in esc
        ]
        assert week["escalation_median_days"] == (
            round(statistics.median(days), 2) if days else None
        )
        for column in ("To do", "In progress", "Submitted"):
            total = sum(stays.get((t.id, column), 0.0) for t in resolved[i])
            n = len(resolved[i])
            assert week["days_in_column"][column] == (round(total / n / 86400, 2) if n else None)
    assert sum(len(v) for v in resolved.values()) > 3 and sum(map(len, submitted.values())) > 3
