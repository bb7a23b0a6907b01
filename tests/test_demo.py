"""The demo history a newcomer sees after `make run`: realistic, rule-abiding, both desks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from dutydesk.demo import build_history
from dutydesk.state import AppState
from dutydesk.tickets.models import Event, Ticket


def test_demo_history_covers_eight_weeks_of_both_desks(state: AppState) -> None:
    end = state.now()
    filed = build_history(state.db, state.policy, end=end, progress=False)
    assert filed >= 200
    with state.db.read() as s:
        per_desk = dict(s.execute(select(Ticket.desk, func.count()).group_by(Ticket.desk)).all())
        first = s.scalar(select(func.min(Ticket.created_at)))
        types = dict(s.execute(select(Event.type, func.count()).group_by(Event.type)).all())
        reassigned = s.scalar(
            select(func.count()).select_from(
                select(Event.ticket_id)
                .where(Event.field == "assignee")
                .group_by(Event.ticket_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        waiting = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "New"))
        duplicates = s.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.resolution == "duplicate")
        )
    assert set(per_desk) == {"infra", "set"} and min(per_desk.values()) >= 100
    assert first is not None and end - first >= timedelta(weeks=7)
    for kind in ("filed", "triaged", "commented", "blocked", "unblocked", "admission"):
        assert types.get(kind, 0) > 0, kind
    assert reassigned and reassigned > 0
    assert duplicates and duplicates > 0
    assert waiting and waiting >= 3  # fresh requests waiting for the on-call's triage


def test_bulk_tickets_are_searchable_and_numbered_after_existing_ones(state: AppState) -> None:
    from dutydesk.demo import bulk_tickets
    from dutydesk.tickets import queries
    from dutydesk.tickets.schemas import TicketFilter

    assert bulk_tickets(state.db, state.policy, "set", 120, progress=False) == 120
    with state.db.read() as s:
        numbers = s.scalars(select(Ticket.number).where(Ticket.desk == "set")).all()
        found, _ = queries.list_tickets(
            s, TicketFilter(desk="set", q="escalation"), state.now(), 200, None
        )
    assert sorted(numbers) == list(range(1, 121))
    assert found and all("escalation" in t.title.lower() for t in found)


def test_bulk_load_leaves_postgresql_with_statistics_for_the_rows_it_added(
    state: AppState,
) -> None:
    from dutydesk.demo import bulk_tickets

    if state.db.sqlite:
        pytest.skip("SQLite plans without statistics unless asked; nothing to refresh")
    bulk_tickets(state.db, state.policy, "infra", 300, progress=False)
    with state.db.read() as s:
        planned = s.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'tickets'"))
    assert planned is not None and planned >= 300
