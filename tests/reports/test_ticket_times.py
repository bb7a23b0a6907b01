"""The business times stored per done ticket (``ticket_times``), which the toil report sums.

They are written by the change that resolves a ticket, removed when it is re-opened, written
again when it is resolved again, written by the importer for the done tickets it creates, and
recomputed when missing or stale (a row from before the upgrade, a calendar that changed).
The expected hours are the hand counts of ``test_toil``'s history (Pacific calendar).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import String, cast, delete, func, select, update
from sqlalchemy.orm import Session

from dutydesk.db import UTCDateTime
from dutydesk.imports.service import import_jsonl
from dutydesk.policy.models import DeskPolicy
from dutydesk.reports.models import TicketTimes
from dutydesk.slo.policy import desk_calendar
from dutydesk.state import AppState
from dutydesk.tickets.models import Event, Ticket
from dutydesk.tickets.times import Clock, basis, rebuild
from tests.conftest import Api, ManualClock
from tests.reports.test_toil import PERIOD, TOIL, History, built

__all__ = ["built"]  # the history of test_toil, used here as a fixture

HAND = {"A": (10.0, 8.0), "B": (8.0, 3.0), "C": (9.0, 0.0), "F": (10.0, 0.0)}


def stored(state: AppState) -> dict[str, tuple[float, float]]:
    """Key → (hours filed → done, hours in progress) as stored."""
    with state.db.read() as s:
        rows = s.execute(
            select(Ticket.desk, Ticket.number, TicketTimes)
            .join(TicketTimes, TicketTimes.ticket_id == Ticket.id)
            .order_by(Ticket.id)
        ).all()
    return {
        f"{d.upper()}-{n}": (t.to_done_seconds / 3600, t.in_progress_seconds / 3600)
        for d, n, t in rows
    }


def in_progress_for(
    session: Session, desk: str, spec: DeskPolicy, clock: Clock
) -> dict[int, float]:
    """Per done ticket of ``desk``: business seconds in the started column, walked apart from
    the code under test (a window over each ticket's status moves in SQL)."""
    started = spec.started_column
    if started is None:
        return {}
    moves = (
        select(
            Event.ticket_id.label("ticket_id"),
            Event.at.label("at"),
            func.lead(Event.at, type_=UTCDateTime())
            .over(partition_by=Event.ticket_id, order_by=Event.seq)
            .label("next_at"),
            cast(Event.after, String).label("after"),
        )
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(
            Ticket.desk == desk,
            Ticket.resolved_at.is_not(None),
            Event.type == "changed",
            Event.field == "status",
        )
        .subquery()
    )
    rows = session.execute(
        select(moves.c.ticket_id, moves.c.at, moves.c.next_at).where(
            moves.c.after == json.dumps(started), moves.c.next_at.is_not(None)
        )
    )
    out: dict[int, float] = defaultdict(float)
    for tid, at, nxt in rows:
        out[tid] += clock.seconds(at, nxt)
    return out


def computed(state: AppState) -> dict[str, tuple[float, float]]:
    """The same figures walked from the calendar and the events, for every done ticket."""
    out = {}
    with state.db.read() as s:
        for desk in state.policy.desks:
            clock = Clock(desk_calendar(state.policy, desk))
            spec = state.policy.desks[desk]
            done = Ticket.desk == desk, Ticket.resolved_at.is_not(None)
            stints = in_progress_for(s, desk, spec, clock)
            for t in s.scalars(select(Ticket).where(*done)):
                assert t.resolved_at is not None
                out[t.key] = (
                    clock.seconds(t.created_at, t.resolved_at) / 3600,
                    stints.get(t.id, 0.0) / 3600,
                )
    return out


def by_letter(k: dict[str, str], values: dict[str, tuple[float, float]]) -> dict[str, Any]:
    names = {v: n for n, v in k.items()}
    return {names[key]: tuple(round(x, 6) for x in v) for key, v in values.items()}


def test_resolving_stores_the_hand_counted_hours(state: AppState, built: dict[str, str]) -> None:
    assert by_letter(built, stored(state)) == HAND
    assert stored(state) == computed(state)


def test_reopen_removes_the_row_and_resolving_again_rewrites_it(
    api: Api, clock: ManualClock, state: AppState
) -> None:
    h = History(api, clock)
    key = h.at(11, 23, 9).file("Rotate the signing key", "access")
    h.at(11, 23, 10).triage(key)
    h.at(11, 23, 11).move(key, "In progress")
    h.at(11, 23, 15).move(key, "Done")
    assert stored(state) == {key: (6.0, 4.0)}
    h.at(11, 24, 9).move(key, "New")  # re-opened
    assert stored(state) == {}
    h.triage(key)
    h.move(key, "In progress")
    assert stored(state) == {}
    h.at(11, 24, 12).move(key, "Done")
    # 8 h Monday + 3 h Tuesday; in progress 4 h Monday + 3 h Tuesday
    assert stored(state) == {key: (11.0, 7.0)} == computed(state)
    d = api.req("ana", "GET", TOIL, params=PERIOD).json()["summary"]
    assert (d["done"], d["total_to_done_hours"], d["total_in_progress_hours"]) == (1, 11.0, 7.0)


def test_missing_or_stale_rows_are_recomputed_by_the_report(
    api: Api, state: AppState, built: dict[str, str]
) -> None:
    figures = {**PERIOD, "clusters": "false"}
    before = api.req("ana", "GET", TOIL, params=figures).json()
    with state.db.write() as s:
        s.execute(
            delete(TicketTimes).where(
                TicketTimes.ticket_id.in_(select(Ticket.id).where(Ticket.number <= 2))
            )
        )
        s.execute(update(TicketTimes).values(basis="an old calendar"))
    assert stored(state) != computed(state)
    after = api.req("ana", "GET", TOIL, params=figures).json()
    assert after == before
    assert after["summary"]["done"] == 4 and after["summary"]["total_to_done_hours"] == 37.0
    assert by_letter(built, stored(state)) == HAND
    with state.db.read() as s:
        assert set(s.scalars(select(TicketTimes.basis))) == {basis(state.policy, "infra")}


def test_rebuild_fills_every_desk(state: AppState, built: dict[str, str]) -> None:
    with state.db.write() as s:
        s.execute(delete(TicketTimes))
    with state.db.write() as s:
        written = rebuild(s, state.policy)
    assert written["infra"] == 4 and sum(written.values()) == 4
    assert by_letter(built, stored(state)) == HAND
    with state.db.write() as s:
        assert sum(rebuild(s, state.policy).values()) == 0  # nothing stale: nothing rewritten


def test_imported_done_tickets_get_their_times(state: AppState) -> None:
    records = [
        {  # Mon 3 Mar 2025 09:00 → Tue 11:00 Los Angeles: 8 h + 2 h
            "external_id": "GH-1",
            "title": "Add a builder",
            "body": "b",
            "created": "2025-03-03T17:00:00Z",
            "resolved": "2025-03-04T19:00:00Z",
            "resolution": "Fixed",
        },
        {  # open: no row
            "external_id": "GH-2",
            "title": "Add another builder",
            "body": "b",
            "created": "2025-03-03T17:00:00Z",
        },
    ]
    result = import_jsonl(state, [json.dumps(r) for r in records], desk="infra", actor="admin")
    assert (result.created, result.rejected) == (2, [])
    values = stored(state)
    assert list(values.values()) == [(10.0, 0.0)]
    assert values == computed(state)
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(TicketTimes)) == 1


def test_sql_medians_and_totals_equal_python_over_many_tickets(
    api: Api, state: AppState, clock: ManualClock
) -> None:
    """Bulk-loaded done tickets (timed by the report's first call), stored times then set to
    whole hours drawn at random (ties, zeros, odd and even groups): every median and total of
    the report equals ``statistics`` over the stored rows."""
    import random
    import statistics
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from dutydesk import demo

    clock.now = datetime.now(UTC)
    demo.bulk_tickets(state.db, state.policy, "infra", 600, progress=False)
    today = clock.now.date()
    period = {"from": str(today - timedelta(days=363)), "to": str(today)}
    api.req("ana", "GET", TOIL, params={**period, "clusters": "false"})  # stores the times
    rnd = random.Random(3)
    with state.db.write() as s:
        for tid in s.scalars(select(TicketTimes.ticket_id)).all():
            s.execute(
                update(TicketTimes)
                .where(TicketTimes.ticket_id == tid)
                .values(
                    to_done_seconds=3600 * rnd.randint(0, 30),
                    in_progress_seconds=3600 * rnd.choice([0, 0, 1, 2, 3, 5, 8]),
                )
            )
    d = api.req("ana", "GET", TOIL, params={**period, "clusters": "false"}).json()
    la = ZoneInfo(d["period"]["zone"])
    since = datetime.combine(today - timedelta(days=363), time(), tzinfo=la)
    until = datetime.combine(today + timedelta(days=1), time(), tzinfo=la)
    with state.db.read() as s:
        rows = s.execute(
            select(Ticket.category, Ticket.kind, TicketTimes)
            .join(TicketTimes, TicketTimes.ticket_id == Ticket.id)
            .where(Ticket.resolved_at >= since, Ticket.resolved_at < until)
        ).all()
    assert len(rows) == d["summary"]["done"] > 100

    def expect(chosen: list[Any]) -> dict[str, Any]:
        done = [t.to_done_seconds / 3600 for *_, t in chosen]
        busy = [t.in_progress_seconds / 3600 for *_, t in chosen]
        return {
            "done": len(chosen),
            "median_to_done_hours": round(statistics.median(done), 2),
            "total_to_done_hours": round(sum(done), 2),
            "median_in_progress_hours": round(statistics.median([x for x in busy if x]), 2),
            "total_in_progress_hours": round(sum(busy), 2),
        }

    def got(row: dict[str, Any]) -> dict[str, Any]:
        return {k: row[k] for k in expect(rows)}

    assert got(d["summary"]) == expect(rows)
    for c in d["categories"]:
        mine = [r for r in rows if r[0] == c["category"]]
        if mine:
            assert got(c) == expect(mine), c["category"]
    for k in d["kinds"]:
        mine = [r for r in rows if r[1] == k["kind"]]
        if mine:
            assert got(k) == expect(mine), k["kind"]
    sizes = [d["summary"]["done"], *(x["done"] for x in d["categories"] + d["kinds"])]
    assert {n % 2 for n in sizes if n} == {0, 1}  # medians of one and of two middle values
