"""SQLite's single writer: write use cases from the event loop, several to a transaction.

SQLite lets one transaction write at a time, so a server's writers queue anyway. The jobs
that requests queue during one turn of the event loop form a batch, and a batch shares one
``BEGIN IMMEDIATE … COMMIT``: the pages several filings touch (the table's last leaf, its
indexes, the full-text segments, the counters) are written to the WAL once.

Only the short, frequent use cases come here (``AppState.run(..., batched=True)``: filing,
commenting, moving, assigning, triaging); every other write takes a thread of its own, so a
long one (an import) never holds the event loop.

When the write lock is free the batch runs right there, on the loop. A batched use case
touches only the database and takes well under a millisecond, and running it in place saves
handing it to another thread and back, and the two threads taking the GIL from each other at
every SQLite call (measured: about a third more filings per second than a writer thread). When
the lock is taken (the notification worker's thread, a checkpoint, another process) the
loop must not sleep on it: the batch goes to the writer thread, which waits for the lock.

A batch is all or nothing. If any job raises, or the commit fails, the transaction rolls
back and every job of the batch runs again in a transaction of its own, so each caller gets
exactly the answer it would have had alone and a failing request never takes another one's
rows with it. (A savepoint per job would avoid the rerun, but SQLite then journals every
page a job touches: measured, that cost more than occasional reruns.) Jobs must therefore
touch nothing but the database, which is what a use case does anyway. If the writer thread
cannot get the lock at all (another process holds it past the busy timeout), every job of
its batch gets that error after the one wait.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from dutydesk.db import Database, WriteLockBusy

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


class _BatchFailed(Exception):
    """A job of several, or their commit, failed; the transaction was rolled back."""


class GroupCommit:
    """``await group.run(job)`` runs ``job(session)`` in a transaction that may carry other
    jobs queued in the same turn of the event loop, and returns its result once that
    transaction has committed."""

    def __init__(self, db: Database, max_batch: int = 32) -> None:
        self.db = db
        self.max_batch = max_batch
        self._pending: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        self._queue: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Counters for tests and benchmarks: transactions that carried jobs (those on the
        # event loop counted again in on_loop), jobs run, batches that had to be rerun one
        # job at a time, and jobs the loop gave to the writer thread.
        self.batches = 0
        self.on_loop = 0
        self.jobs = 0
        self.reruns = 0
        self.handed_off = 0

    async def run(self, job: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = self._pending.setdefault(loop, [])
        pending.append(_Job(job, future, loop))
        if len(pending) == 1:  # the first of this turn: the batch runs once the turn is over
            loop.call_soon(self._flush, loop)
        return await future

    # On the event loop.

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop, [])
        for start in range(0, len(batch), self.max_batch):
            self._run_on_loop(batch[start : start + self.max_batch])

    def _run_on_loop(self, batch: list[_Job]) -> None:
        try:
            _settle(self._together(batch, wait=False))
        except WriteLockBusy:
            self._hand_off(batch)
        except _BatchFailed:
            self.reruns += 1
            for job in batch:
                try:
                    _settle(self._together([job], wait=False))
                except WriteLockBusy:
                    self._hand_off([job])

    def _hand_off(self, jobs: list[_Job]) -> None:
        self.handed_off += len(jobs)
        self._ensure_started()
        self._queue.put(jobs)

    # Shared.

    def _together(self, batch: list[_Job], *, wait: bool) -> list[_Outcome]:
        """Run ``batch`` in one transaction on this thread. A lone job's error is its outcome;
        if one of several jobs fails, or their commit, raises ``_BatchFailed`` after the
        rollback. Without ``wait``, raises ``WriteLockBusy`` if the lock is taken."""
        began = False
        try:
            with self.db.write(wait=wait) as session:
                session.connection()  # BEGIN IMMEDIATE: SQLite's write lock
                began = True
                self.batches += 1
                self.on_loop += not wait
                self.jobs += len(batch)
                values = [job.run(session) for job in batch]
        except WriteLockBusy:
            raise
        except Exception as exc:
            if len(batch) == 1:
                return [_Outcome(batch[0], error=exc)]
            if not began:  # the lock never came (another process holds it): alone, each
                return [_Outcome(job, error=exc) for job in batch]  # would wait again
            raise _BatchFailed from exc
        return [_Outcome(job, value) for job, value in zip(batch, values, strict=True)]

    # On the writer thread.

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._serve, name="dutydesk-writer", daemon=True)
                thread.start()
                self._thread = thread

    def stop(self) -> None:
        """Finish the jobs given to the writer thread, then end it."""
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
            batch = list(first)
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.extend(more)
            try:
                outcomes = self._run_batch(batch)
            except BaseException as exc:  # delivered to its callers; the thread goes on
                outcomes = [_Outcome(job, error=exc) for job in batch]
            self._deliver(outcomes)
            if stop:
                return

    def _run_batch(self, batch: list[_Job]) -> list[_Outcome]:
        try:
            return self._together(batch, wait=True)
        except _BatchFailed:
            self.reruns += 1
            return [self._together([job], wait=True)[0] for job in batch]

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
