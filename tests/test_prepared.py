"""Prepared statements write exactly what Core's execute would, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, NoResultFound

from dutydesk.db import Database, Prepared
from dutydesk.notify.models import OutboxMessage
from dutydesk.tickets.models import DeskCounter

OUTBOX = OutboxMessage.__table__
COLUMNS = ("kind", "dedupe_key", "due_at", "payload", "attempts", "created_at", "state")
AT = datetime(2026, 11, 23, 17, 30, 5, 123456, tzinfo=UTC)


def _row(key: str) -> dict[str, object]:
    return {
        "kind": "notice",
        "dedupe_key": key,
        "due_at": AT,
        "payload": {"lines": ["ä", 1, None], "urgent": True},
        "attempts": 0,
        "created_at": AT,
        "state": "pending",
    }


def test_prepared_rows_read_back_like_core_rows(db: Database) -> None:
    prepared = Prepared(insert(OUTBOX), COLUMNS)
    with db.write() as s:
        conn = s.connection()
        prepared.executemany(conn, [_row("prepared-1"), _row("prepared-2")])
        conn.execute(insert(OUTBOX), _row("core"))
    with db.read() as s:
        rows = {
            m.dedupe_key: (m.due_at, m.payload, m.created_at, m.state)
            for m in s.scalars(select(OutboxMessage))
        }
    assert rows["prepared-1"] == rows["prepared-2"] == rows["core"]
    assert rows["core"][0] == AT  # aware UTC in, aware UTC out, microseconds kept


def _take_number() -> Prepared:
    """The desk counter's ``UPDATE … RETURNING``, as filing takes a ticket number."""
    counters = DeskCounter.__table__
    return Prepared(
        update(counters)
        .where(counters.c.desk == bindparam("for_desk"))
        .values(next_number=counters.c.next_number + 1)
        .returning(counters.c.next_number)
    )


def test_values_the_statement_carries_itself_are_bound(db: Database) -> None:
    with db.write() as s:
        s.add(DeskCounter(desk="ops", next_number=7))
    take = _take_number()
    with db.write() as s:
        assert take.execute(s.connection(), {"for_desk": "ops"}).scalar() == 8
        assert take.execute(s.connection(), {"for_desk": "ops"}).scalar() == 9


def test_a_missing_parameter_is_named(db: Database) -> None:
    prepared = Prepared(insert(OUTBOX), COLUMNS)
    row = _row("incomplete")
    del row["state"]
    with db.write() as s, pytest.raises(KeyError, match="state"):
        prepared.execute(s.connection(), row)


def test_constraint_errors_arrive_as_sqlalchemy_errors(db: Database) -> None:
    prepared = Prepared(insert(OUTBOX), COLUMNS)
    with db.write() as s:
        prepared.execute(s.connection(), _row("twice"))
    with pytest.raises(IntegrityError), db.write() as s:
        prepared.execute(s.connection(), _row("twice"))
    with db.read() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1


def test_a_prepared_write_joins_the_transaction_and_rolls_back_with_it(db: Database) -> None:
    prepared = Prepared(insert(OUTBOX), COLUMNS)
    with pytest.raises(RuntimeError), db.write() as s:
        prepared.execute(s.connection(), _row("rolled-back"))
        s.add(DeskCounter(desk="x", next_number=1))
        raise RuntimeError("the use case fails after its writes")
    with db.read() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        assert s.get(DeskCounter, "x") is None


def test_a_returning_statement_that_matches_nothing_says_so(db: Database) -> None:
    take = _take_number()
    with db.write() as s:
        ran = take.execute(s.connection(), {"for_desk": "no-such-desk"})
        assert (ran.scalar(), ran.rowcount) == (None, 0)
        with pytest.raises(NoResultFound):
            ran.scalar_one()
