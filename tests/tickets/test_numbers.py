"""Ticket numbers per desk: counter rows on SQLite, a sequence per desk on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from dutydesk.db import Database
from dutydesk.tickets import numbers
from dutydesk.tickets.models import DeskCounter


def _take(db: Database, desk: str) -> int:
    with db.write() as s:
        return numbers.take_number(s.connection(), desk)


def test_numbers_start_at_one_and_follow_each_other(db: Database) -> None:
    with db.write() as s:
        numbers.sync_counters(s.connection(), ["ops"])
    assert [_take(db, "ops") for _ in range(3)] == [1, 2, 3]


def test_a_desk_numbers_on_its_own(db: Database) -> None:
    with db.write() as s:
        numbers.sync_counters(s.connection(), ["ops", "web"])
    assert (_take(db, "ops"), _take(db, "ops"), _take(db, "web")) == (1, 2, 1)


def test_sync_moves_numbering_past_numbers_already_in_use(db: Database) -> None:
    """A copy or restore brings counters (or tickets) the numbering has not handed out."""
    with db.write() as s:
        numbers.sync_counters(s.connection(), ["ops"])
    assert _take(db, "ops") == 1
    with db.write() as s:
        s.merge(DeskCounter(desk="ops", next_number=41))
        s.flush()
        numbers.sync_counters(s.connection(), ["ops"])
    assert _take(db, "ops") == 41


def test_sync_never_moves_numbering_back(db: Database) -> None:
    with db.write() as s:
        numbers.sync_counters(s.connection(), ["ops"])
    for _ in range(5):
        _take(db, "ops")
    with db.write() as s:
        numbers.sync_counters(s.connection(), ["ops"])
    assert _take(db, "ops") == 6


def test_a_bulk_reservation_hands_out_distinct_numbers_and_numbering_goes_on_after_it(
    db: Database,
) -> None:
    with db.write() as s:
        numbers.sync_counters(s.connection(), ["ops"])
        got = numbers.take_numbers(s.connection(), "ops", 4)
    assert got == [1, 2, 3, 4]
    assert _take(db, "ops") == 5


def test_concurrent_takers_never_share_a_number(db: Database) -> None:
    with db.write() as s:
        numbers.sync_counters(s.connection(), ["ops"])
    with ThreadPoolExecutor(4) as pool:
        taken = list(pool.map(lambda _: _take(db, "ops"), range(40)))
    assert sorted(taken) == list(range(1, 41))


def test_replicas_starting_together_sync_numbering_without_tripping_on_each_other(
    db: Database,
) -> None:
    def start(_: int) -> None:
        with db.write() as s:
            numbers.sync_counters(s.connection(), ["ops", "web", "sre"])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(start, range(8)))
    assert [_take(db, d) for d in ("ops", "web", "sre", "ops")] == [1, 1, 1, 2]
