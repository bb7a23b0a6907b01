"""Write use cases from the event loop: SQLite's writer thread commits queued jobs together,
and a failing job never takes another request's rows with it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dutydesk.app import create_app
from dutydesk.auth.service import create_token, user_by_name
from dutydesk.db import Database
from dutydesk.errors import Conflict
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


async def _queued_behind_a_gate(db: Database, jobs: list[Callable[[Session], Any]]) -> list[Any]:
    """Hold the writer thread in a first job until every other job is queued, so they form
    one batch; return each job's result or exception."""
    gate, entered = threading.Event(), threading.Event()

    def held(session: Session) -> str:
        entered.set()
        gate.wait(10)
        return "gate"

    first = asyncio.ensure_future(db.run_write(held))
    while not entered.is_set():
        await asyncio.sleep(0.001)
    rest = [asyncio.ensure_future(db.run_write(job)) for job in jobs]
    await asyncio.sleep(0.01)  # let every job reach the queue
    gate.set()
    assert await first == "gate"
    return list(await asyncio.gather(*rest, return_exceptions=True))


@sqlite_only
def test_queued_jobs_share_one_transaction(db: Database) -> None:
    results = asyncio.run(_queued_behind_a_gate(db, [_mark(f"job-{i}") for i in range(5)]))

    assert results == [f"job-{i}" for i in range(5)]
    assert _names(db) == {f"job-{i}" for i in range(5)}
    group = db.group_commit
    assert group is not None
    assert (group.jobs, group.batches, group.reruns) == (6, 2, 0)  # the gate, then one batch


@sqlite_only
def test_a_failing_job_loses_only_its_own_rows(db: Database) -> None:
    jobs = [_mark("job-a"), _failing("job-b"), _mark("job-c")]
    results = asyncio.run(_queued_behind_a_gate(db, jobs))

    assert results[0] == "job-a" and results[2] == "job-c"
    assert isinstance(results[1], Conflict) and "job-b refused" in str(results[1])
    assert _names(db) == {"job-a", "job-c"}
    group = db.group_commit
    assert group is not None and group.reruns == 1


@sqlite_only
def test_an_answer_arrives_only_once_its_rows_are_committed(db: Database) -> None:
    async def scenario() -> set[str]:
        await db.run_write(_mark("job-seen"))
        return _names(db)  # a separate connection, so only committed rows are visible

    assert asyncio.run(scenario()) == {"job-seen"}


@sqlite_only
def test_stopping_finishes_the_queued_jobs(db: Database) -> None:
    async def scenario() -> list[Any]:
        futures = [asyncio.ensure_future(db.run_write(_mark(f"job-{i}"))) for i in range(3)]
        await asyncio.sleep(0)  # queued
        return list(await asyncio.gather(*futures))

    assert asyncio.run(scenario()) == ["job-0", "job-1", "job-2"]
    db.dispose()
    assert db.group_commit is None
    assert _names(Database(db.url)) == {"job-0", "job-1", "job-2"}


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
    group = state.db.group_commit
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
def test_a_lock_held_elsewhere_fails_the_batch_once_not_job_by_job(db: Database) -> None:
    """Another process holding SQLite's write lock past the busy timeout: every queued job
    gets the error after one wait, instead of one wait each."""
    event.listen(
        db.engine, "connect", lambda conn, _record: conn.execute("PRAGMA busy_timeout=200")
    )
    db.engine.dispose()
    other = sqlite3.connect(
        db.url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
    )

    def take_the_lock() -> None:
        other.execute("BEGIN IMMEDIATE")

    async def scenario() -> list[Any]:
        gate, entered = threading.Event(), threading.Event()

        def held(session: Session) -> str:  # touches no table: its transaction never begins
            entered.set()
            gate.wait(10)
            take_the_lock()
            return "gate"

        first = asyncio.ensure_future(db.run_write(held))
        while not entered.is_set():
            await asyncio.sleep(0.001)
        rest = [asyncio.ensure_future(db.run_write(_mark(f"job-{i}"))) for i in range(4)]
        await asyncio.sleep(0.01)
        gate.set()
        assert await first == "gate"
        return list(await asyncio.gather(*rest, return_exceptions=True))

    try:
        results = asyncio.run(scenario())
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert all(isinstance(r, OperationalError) and "locked" in str(r) for r in results)
    group = db.group_commit
    assert group is not None
    assert (group.jobs, group.batches, group.reruns) == (5, 2, 0)
    assert _names(db) == set()
