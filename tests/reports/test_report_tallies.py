"""The hourly tallies queue health and on-call load sum (``report_tallies``), against counts
made from the events table, on a history built through the API (real SQLite / PostgreSQL).

The tallies kept change by change must equal a recount from the events (SQL, ``rebuild``),
and the report's cumulative flow read from them must equal a replay of each ticket's status
changes — including an instant inside an hour (now at 09:20), which is counted from events.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from dutydesk.reports.models import ReportTally
from dutydesk.reports.tallies import hour_of, rebuild, split_hours
from dutydesk.slo.models import TicketClock
from dutydesk.slo.service import follow_priorities
from dutydesk.state import AppState
from dutydesk.tickets.models import Event, Ticket
from tests.conftest import Api, ManualClock
from tests.reports.test_health_reports import LA, at, get, infra_history, move, ok


def stored(state: AppState) -> dict[tuple[Any, ...], int]:
    """Per key, the count summed over its shard rows (zero sums left out)."""
    totals: dict[tuple[Any, ...], int] = {}
    with state.db.read() as s:
        for r in s.execute(select(ReportTally)).scalars():
            key = (r.desk, r.kind, r.hour, r.a, r.b)
            totals[key] = totals.get(key, 0) + r.n
    return {key: n for key, n in totals.items() if n}


def more_history(api: Api, clock: ManualClock, k: dict[str, str]) -> None:
    """After ``infra_history``: a re-prioritised ticket (its rows move to the new priority),
    a re-opened one, and a move at 09:10 with now at 09:20 (an hour split by now)."""
    ok(api.req("chen", "PATCH", f"/api/v1/tickets/{k['B']}", json={"priority": "P2"}))
    at(clock, LA, 12, 3, 9, 5)
    move(api, "dee", k["A"], "New")  # re-opened
    at(clock, LA, 12, 3, 9, 10)
    move(api, "ana", k["G"], "In progress")
    at(clock, LA, 12, 3, 9, 20)


def replayed_flow(
    state: AppState, desk: str, instant: datetime
) -> tuple[Counter[str], Counter[str]]:
    """Open tickets per column and per current priority at ``instant``, by undoing each
    ticket's later status changes (one ticket at a time, in Python)."""
    columns: Counter[str] = Counter()
    priorities: Counter[str] = Counter()
    open_columns = [c for c in state.policy.desks[desk].columns if c != "Done"]
    with state.db.read() as s:
        for t in s.scalars(select(Ticket).where(Ticket.desk == desk)):
            if t.created_at >= instant:
                continue
            status = t.status
            changes = s.scalars(
                select(Event)
                .where(Event.ticket_id == t.id, Event.field == "status", Event.type == "changed")
                .order_by(Event.seq.desc())
            )
            for e in changes:
                if e.at >= instant:
                    status = e.before
            if status in open_columns:
                columns[status] += 1
                priorities[t.priority or "none"] += 1
    return columns, priorities


def test_kept_tallies_equal_a_recount_from_the_events(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    k = infra_history(api, clock)
    more_history(api, clock, k)
    kept = stored(state)
    assert any(key[1] == "flow" and key[4] == "P2" for key in kept)  # B moved from P3 to P2
    with state.db.write() as s:
        written = rebuild(s)
    assert written["infra"] == len([key for key in kept if key[0] == "infra"])
    assert stored(state) == kept
    # B's rows left P3 entirely: only C remains there (filed, triaged, moved).
    p3 = {key: n for key, n in kept.items() if key[1] == "flow" and key[4] == "P3"}
    assert sum(p3.values()) == 1  # C, in one open column


def test_flow_from_tallies_equals_a_replay_of_the_events(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    k = infra_history(api, clock)
    more_history(api, clock, k)
    rep = get(
        api, "/api/v1/desks/infra/reports/queue", **{"from": "2026-11-16", "to": "2026-12-06"}
    )
    assert [p["at"] for p in rep["flow"]][-1] == "2026-12-03T17:20:00Z"  # now, inside an hour
    for point in rep["flow"]:
        instant = datetime.fromisoformat(point["at"].replace("Z", "+00:00"))
        if instant == clock.now:
            instant += timedelta(microseconds=1)  # "at now" includes what happened at now
        columns, priorities = replayed_flow(state, "infra", instant)
        assert point["columns"] == {c: columns.get(c, 0) for c in point["columns"]}, point
        assert point["priorities"] == dict(sorted(priorities.items())), point
    # By hand, now: A re-opened (New); B, G in progress; C triaged; D, E new.
    last = rep["flow"][-1]
    assert last["columns"] == {"New": 3, "Triaged": 1, "In progress": 2}
    assert last["priorities"] == {"P2": 3, "P3": 1, "none": 2}


def test_clocks_follow_their_ticket_priority(api: Api, clock: ManualClock, state: AppState) -> None:
    k = infra_history(api, clock)
    more_history(api, clock, k)

    def priorities() -> dict[int, str | None]:
        with state.db.read() as s:
            return dict(
                s.execute(
                    select(TicketClock.id, Ticket.priority).join(
                        Ticket, Ticket.id == TicketClock.ticket_id
                    )
                ).all()
            )

    with state.db.read() as s:
        kept = dict(s.execute(select(TicketClock.id, TicketClock.priority)).all())
    assert kept == priorities()
    assert "P2" in kept.values() and None in kept.values()
    with state.db.write() as s:
        follow_priorities(s)
    with state.db.read() as s:
        assert dict(s.execute(select(TicketClock.id, TicketClock.priority)).all()) == kept


def test_hours_are_utc_hours() -> None:
    half = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    assert hour_of(half) == datetime(2026, 12, 3, 9, tzinfo=UTC)
    assert split_hours([half, datetime(2026, 12, 4, tzinfo=UTC)]) == [hour_of(half)]


def test_oncall_work_between_any_instants_equals_a_count_of_the_events(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    """Edges inside hours (an override at 12:15, say) split them: those hours are counted
    from the events, the others summed from the tallies; together, the events' own count."""
    from dutydesk.auth.models import User
    from dutydesk.reports.oncall_load import _work

    k = infra_history(api, clock)
    more_history(api, clock, k)
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    edges = [
        start + timedelta(hours=h, minutes=m)
        for h, m in ((0, 0), (12, 15), (28, 0), (29, 30), (73, 5), (170, 0), (245, 21))
    ]
    spec = state.policy.desks["infra"]
    serving = {spec.started_column, spec.done_column}
    with state.db.read() as s:
        ids = dict(s.execute(select(User.name, User.id)).all())
        people = [ids[p] for p in ("ana", "bo", "chen", "dee")]
        got = _work(s, spec, "infra", edges, people)
        names = {v: n for n, v in ids.items()}
        counted: Counter[tuple[int, str, str]] = Counter()
        in_split = 0
        events = s.execute(
            select(Event).join(Ticket, Ticket.id == Event.ticket_id).where(Ticket.desk == "infra")
        ).scalars()
        for e in events:
            if e.actor_id not in people or not edges[0] <= e.at < edges[-1]:
                continue
            what = (
                "triaged"
                if e.type == "triaged"
                else "comments"
                if e.type == "commented"
                else "served"
                if e.type == "changed"
                and (e.field == "assignee" or (e.field == "status" and e.after in serving))
                else None
            )
            if what is not None:
                i = max(j for j in range(len(edges) - 1) if edges[j] <= e.at)
                counted[(i, names[e.actor_id], what)] += 1
                in_split += hour_of(e.at) in split_hours(edges)
    assert got == dict(counted)
    assert sum(counted.values()) >= 8  # the history's triage, moves, assignments, comments
    assert in_split >= 2  # chen's triage at 12:00 and 12:30 (LA), in the hour cut at 12:15
