"""Write use cases from the event loop: on SQLite the jobs of one turn of the loop commit
together, on the loop when the write lock is free and on the writer thread when it is not,
and a failing job never takes another request's rows with it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.db import Database, WriteLockBusy
from dutydesk.errors import Conflict
from dutydesk.group_commit import GroupCommit
from dutydesk.state import AppState
from dutydesk.tickets.models import Ticket

from .conftest import PG_URL

sqlite_only = pytest.mark.skipif(
    bool(PG_URL), reason="PostgreSQL writers run side by side in the threadpool, not batched"
)


def _mark(name: str) -> Callable[[Session], str]:
    """A job that writes one saved-filter row named ``name``."""

    def job(session: Session) -> str:
        session.execute(
            text(
                "INSERT INTO saved_filters (name, description, query, shared, created_at) "
                "VALUES (:n, '', '{}', true, CURRENT_TIMESTAMP)"
            ),
            {"n": name},
        )
        return name

    return job


def _failing(name: str) -> Callable[[Session], str]:
    def job(session: Session) -> str:
        _mark(name)(session)  # writes first, then refuses: the row must not survive
        raise Conflict(f"{name} refused")

    return job


def _names(db: Database) -> set[str]:
    with db.read() as s:
        return set(s.scalars(text("SELECT name FROM saved_filters WHERE name LIKE 'job-%'")))


def _on_thread(name: str, ran_on: dict[str, str]) -> Callable[[Session], str]:
    """``_mark(name)`` that also notes which thread ran it."""

    def job(session: Session) -> str:
        ran_on[name] = threading.current_thread().name
        return _mark(name)(session)

    return job


@pytest.fixture
def group(db: Database) -> Iterator[GroupCommit]:
    group = GroupCommit(db)
    yield group
    group.stop()


async def _at_once(group: GroupCommit, jobs: list[Callable[[Session], Any]]) -> list[Any]:
    """Queue every job in the same turn of the loop; each one's result or exception."""
    return list(await asyncio.gather(*(group.run(j) for j in jobs), return_exceptions=True))


class _Ticker:
    """Counts turns of the event loop while it runs: a loop asleep on a lock counts none."""

    def __init__(self) -> None:
        self.turns = 0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            self.turns += 1

    def __enter__(self) -> _Ticker:
        self._task = asyncio.ensure_future(self._tick())
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@sqlite_only
def test_jobs_queued_in_one_turn_share_one_transaction_on_the_loop(
    db: Database, group: GroupCommit
) -> None:
    ran_on: dict[str, str] = {}
    results = asyncio.run(_at_once(group, [_on_thread(f"job-{i}", ran_on) for i in range(5)]))

    assert results == [f"job-{i}" for i in range(5)]
    assert _names(db) == {f"job-{i}" for i in range(5)}
    assert set(ran_on.values()) == {threading.main_thread().name}  # asyncio.run's thread
    assert (group.jobs, group.batches, group.on_loop, group.handed_off) == (5, 1, 1, 0)


@sqlite_only
def test_a_failing_job_loses_only_its_own_rows(db: Database, group: GroupCommit) -> None:
    jobs = [_mark("job-a"), _failing("job-b"), _mark("job-c")]
    results = asyncio.run(_at_once(group, jobs))

    assert results[0] == "job-a" and results[2] == "job-c"
    assert isinstance(results[1], Conflict) and "job-b refused" in str(results[1])
    assert _names(db) == {"job-a", "job-c"}
    assert (group.reruns, group.batches, group.jobs) == (1, 4, 6)  # three, then one by one


@sqlite_only
def test_while_another_thread_writes_the_jobs_wait_on_the_writer_thread(
    db: Database, group: GroupCommit
) -> None:
    """The notification worker (say) holds the write lock: the batch goes to the writer
    thread, and the event loop goes on serving meanwhile."""
    holding, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with db.write() as session:
            session.connection()
            holding.set()
            release.wait(10)

    ran_on: dict[str, str] = {}

    async def scenario() -> tuple[list[Any], int]:
        with _Ticker() as ticker:
            jobs = asyncio.ensure_future(
                _at_once(group, [_on_thread(f"job-{i}", ran_on) for i in range(4)])
            )
            await asyncio.sleep(0.1)
            turns_while_held = ticker.turns
            release.set()
            return await jobs, turns_while_held

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holding.wait(10)
    try:
        results, turns = asyncio.run(scenario())
    finally:
        release.set()
        thread.join()

    assert results == [f"job-{i}" for i in range(4)]
    assert set(ran_on.values()) == {"dutydesk-writer"}
    assert turns >= 5  # the loop was not asleep on the lock for those 0.1 s
    assert (group.handed_off, group.batches, group.on_loop, group.jobs) == (4, 1, 0, 4)
    assert _names(db) == {f"job-{i}" for i in range(4)}


@sqlite_only
def test_stopping_finishes_the_jobs_given_to_the_writer_thread(db: Database) -> None:
    group = GroupCommit(db)

    async def scenario() -> list[Any]:
        with db.write() as session:  # the lock is taken: the jobs go to the writer thread
            session.connection()
            futures = [asyncio.ensure_future(group.run(_mark(f"job-{i}"))) for i in range(3)]
            await asyncio.sleep(0.01)
            assert group.handed_off == 3
        return list(await asyncio.gather(*futures))

    assert asyncio.run(scenario()) == ["job-0", "job-1", "job-2"]
    group.stop()
    assert _names(Database(db.url)) == {"job-0", "job-1", "job-2"}


@sqlite_only
def test_a_write_that_may_not_wait_refuses_at_once_and_leaves_the_timeout(db: Database) -> None:
    """``write(wait=False)`` with the lock taken, by this process or by another one: a
    ``WriteLockBusy`` without sleeping, nothing written, the connection's busy timeout as it
    was for the writes that do wait."""
    one = Database(db.url, pool_size=1, max_overflow=0)
    other = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        with one.write() as session, ThreadPoolExecutor(1) as elsewhere:
            session.connection()
            with pytest.raises(WriteLockBusy, match="thread"):
                elsewhere.submit(_try_at_once, one).result()
        other.execute("BEGIN IMMEDIATE")
        started = time.perf_counter()
        with pytest.raises(WriteLockBusy, match="process"):
            _try_at_once(one)
        assert time.perf_counter() - started < 0.5  # the busy timeout is 10 s
        other.execute("ROLLBACK")
        with one.read() as session:
            assert session.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert _names(one) == set()
        _try_at_once(one)  # free again: it writes
        assert _names(one) == {"job-at-once"}
    finally:
        other.close()
        one.dispose()


def _try_at_once(db: Database) -> None:
    with db.write(wait=False) as session:
        session.connection()
        _mark("job-at-once")(session)


def test_concurrent_filings_each_get_their_own_ticket(state: AppState) -> None:
    """Sixteen clients at once through the ASGI app: sixteen tickets, numbered without gaps
    or repeats, one 'filed' event each; on SQLite they shared transactions."""
    with state.db.write() as s:
        token = create_token(s, user_by_name(s, "rita"), state.now(), "tests")
    app = create_app(state)

    async def file_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            "/api/v1/desks/infra/tickets",
                            json={"title": f"Builder {i} is slow"},
                            headers=headers,
                        )
                        for i in range(16)
                    )
                )
            )

    responses = asyncio.run(file_all())

    assert [r.status_code for r in responses] == [201] * 16
    numbers = sorted(int(r.json()["key"].split("-")[1]) for r in responses)
    assert numbers == list(range(numbers[0], numbers[0] + 16))
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 16
        events = s.scalar(text("SELECT count(*) FROM events WHERE type = 'filed'"))
        assert events == 16
    group = state.group_commit
    if not PG_URL:
        assert group is not None and group.jobs == 16


def test_an_idempotent_retry_in_the_same_batch_replays_the_first_answer(
    state: AppState,
) -> None:
    with state.db.write() as s:
        token = create_token(s, user_by_name(s, "rita"), state.now(), "tests")
    app = create_app(state)

    async def twice() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "same-request"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            "/api/v1/desks/infra/tickets",
                            json={"title": "Builder is slow"},
                            headers=headers,
                        )
                        for _ in range(4)
                    )
                )
            )

    responses = asyncio.run(twice())

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["key"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 3
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1


@sqlite_only
def test_a_lock_held_by_another_process_fails_the_batch_once_without_stalling_the_loop(
    db: Database, group: GroupCommit
) -> None:
    """Another process holds SQLite's write lock past the busy timeout: the loop hands the
    batch on at once, and every job gets the error after the writer thread's one wait."""
    event.listen(
        db.engine, "connect", lambda conn, _record: conn.execute("PRAGMA busy_timeout=200")
    )
    db.engine.dispose()
    other = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def scenario() -> tuple[list[Any], int]:
        with _Ticker() as ticker:
            results = await _at_once(group, [_mark(f"job-{i}") for i in range(4)])
            return results, ticker.turns

    try:
        started = time.perf_counter()
        results, turns = asyncio.run(scenario())
        waited = time.perf_counter() - started
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert all(isinstance(r, OperationalError) and "locked" in str(r) for r in results)
    assert 0.2 <= waited < 2  # one busy timeout, not one per job
    assert turns >= 10  # the loop turned while the writer thread waited
    assert (group.handed_off, group.jobs, group.batches, group.reruns) == (4, 0, 0, 0)
    assert _names(db) == set()
