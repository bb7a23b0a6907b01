"""SQLite's single writer, fed by a queue: write use cases from the event loop run on one
thread, several to a transaction.

SQLite lets one transaction write at a time, so a server's writers queue anyway. Queueing
them on one thread instead of on a lock saves the hand-off between threadpool threads for
every request (measured at about a third of a filing's CPU with eight clients), and lets a
burst share one ``BEGIN IMMEDIATE … COMMIT``: the pages several filings touch (the table's
last leaf, its indexes, the full-text segments, the counters) are written to the WAL once.

A batch is all or nothing. Jobs run in order in one session; if any of them raises, or the
commit fails, the transaction rolls back and every job of the batch runs again in a
transaction of its own, so each caller gets exactly the answer it would have had alone and a
failing request never takes another one's rows with it. (A savepoint per job would avoid the
rerun, but SQLite then journals every page a job touches: measured, that cost more than
occasional reruns.) Jobs must therefore touch nothing but the database, which is what a use
case does anyway. If the write lock itself cannot be had (another process holds it past the
busy timeout), every job of the batch gets that error after the one wait.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from dutydesk.db import Database

log = logging.getLogger("dutydesk.db")

T = TypeVar("T")


@dataclass
class _Job:
    run: Callable[[Session], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


@dataclass
class _Outcome:
    job: _Job
    value: Any = None
    error: BaseException | None = None


class GroupCommit:
    """One writer thread; ``await group.run(job)`` runs ``job(session)`` in a transaction
    that may carry other queued jobs, and returns its result once that transaction has
    committed."""

    def __init__(self, db: Database, max_batch: int = 32) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Counters for tests and benchmarks: transactions that carried jobs, jobs run, and
        # batches that had to be rerun one job at a time.
        self.batches = 0
        self.jobs = 0
        self.reruns = 0

    async def run(self, job: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_started()
        self._queue.put(_Job(job, future, loop))
        return await future

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._serve, name="dutydesk-writer", daemon=True)
                thread.start()
                self._thread = thread

    def stop(self) -> None:
        """Finish the queued jobs, then end the thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._deliver(self._run_batch(batch))
            if stop:
                return

    def _run_batch(self, batch: list[_Job]) -> list[_Outcome]:
        self.batches += 1
        self.jobs += len(batch)
        if len(batch) > 1:
            began = False
            try:
                with self.db.write() as session:
                    session.connection()  # BEGIN IMMEDIATE: waits for SQLite's write lock
                    began = True
                    return [_Outcome(job, job.run(session)) for job in batch]
            except BaseException as exc:
                if not began:  # the lock never came (another process holds it): alone, each
                    return [_Outcome(job, error=exc) for job in batch]  # would wait again
                self.reruns += 1  # someone's error, or the commit: each job runs on its own
                self.batches += len(batch)
        return [self._run_alone(job) for job in batch]

    def _run_alone(self, job: _Job) -> _Outcome:
        try:
            return _Outcome(job, self.db.run_job(job.run))
        except BaseException as exc:  # delivered to its caller; the writer thread goes on
            return _Outcome(job, error=exc)

    @staticmethod
    def _deliver(outcomes: list[_Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome.job.loop, []).append(outcome)
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                log.debug("dropped %d results for a closed event loop", len(settled))


def _settle(outcomes: list[_Outcome]) -> None:
    for outcome in outcomes:
        future = outcome.job.future
        if future.done():  # the request was cancelled; its transaction stands
            continue
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.value)
