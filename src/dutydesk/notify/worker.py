"""``dutydesk worker``: fans out ticket changes, plans periodic jobs, scans timers, folds notices,
delivers messages.

One tick, each step its own short transaction:

1. fan out the ticket changes queued since the last tick: work out who hears of each and
   write their notices and desk posts, up to 100 changes to a transaction (the
   reads happen before the write lock is taken);
2. plan periodic jobs for ``(cursor, now]`` and scan SLO timers (deduplicated inserts);
3. run due jobs, one locked row per transaction;
4. fold each person's notices once the first one's batching window has passed;
5. park the due messages of channels not configured here, or expire them if too old to be
   worth sending (a SELECT and a few UPDATEs per batch: no claims, no attempts);
6. claim due messages under a lease and deliver them concurrently (a thread pool), each
   batch's results written together: delivered, retry later (exponential backoff, honouring
   ``Retry-After``), dead after the last attempt (or at once on a permanent refusal);
7. mirror bridged tickets' status and priority to GitHub, for desks that write back
   (``github.mirror``).

One tick does everything due at its instant, so :meth:`Worker.run` starts a tick once per
``notify.poll`` (1 s by default), busy or idle: anything that falls due is handled within
``poll`` of its time. It goes round again at once only when a tick stopped at a batch limit
with due work left; a burst of filings then costs a tick per second, not a tick per filing.

Time comes from the injected clock only, so ``--once --now 2026-12-01T09:00-08:00`` runs the
worker at that instant. Nothing here sleeps except the wait between ticks in :meth:`Worker.run`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from dutydesk.clock import Clock
from dutydesk.db import Database
from dutydesk.durations import parse_span
from dutydesk.github import mirror as github_mirror
from dutydesk.notify import inbox, jobs, outbox, rules, service
from dutydesk.notify.channels import (
    ChannelSet,
    DeliveryError,
    NotConfigured,
    Outgoing,
    load_channels,
)
from dutydesk.notify.models import EXPIRED, JOB, NOTICE, PARKED
from dutydesk.policy.models import Policy

log = logging.getLogger("dutydesk.notify")
MAX_BATCHES_PER_TICK = 50
PARK_BATCH, MAX_PARK_BATCHES_PER_TICK = 1000, 10
EXPAND_BATCH, MAX_EXPAND_BATCHES_PER_TICK = 100, 50
OUTCOME_STAT = {
    "delivered": "delivered",
    "pending": "retried",
    "dead": "dead",
    "parked": "parked",
    "expired": "expired",
}


@dataclass
class TickStats:
    expanded: int = 0
    planned: int = 0
    timers: int = 0
    jobs: int = 0
    folded: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    parked: int = 0
    expired: int = 0

    def add(self, other: TickStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def work(self) -> int:
        """Rows that moved this tick (planning alone does not count: it is not progress)."""
        return (
            self.expanded
            + self.jobs
            + self.folded
            + self.delivered
            + self.retried
            + self.dead
            + self.parked
            + self.expired
        )

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Worker:
    def __init__(
        self,
        db: Database,
        policy: Policy,
        clock: Clock,
        env: Mapping[str, str] | None = None,
        channels: ChannelSet | None = None,
    ) -> None:
        self.db, self.policy, self.clock = db, policy, clock
        n = policy.notify
        self.env = os.environ if env is None else env
        self.channels = channels or load_channels(policy, self.env)
        self.lease = parse_span(n.claim_timeout)
        self.first, self.cap = parse_span(n.retry.first), parse_span(n.retry.max)
        self.factor, self.attempts = n.retry.factor, n.retry.attempts
        self.poll = parse_span(n.poll).total_seconds()
        self.concurrency = n.concurrency
        self.timeout = parse_span(n.timeout)
        # A claimed batch must be delivered within its lease even if every attempt times out.
        rounds = max(1, min(4, int(self.lease / self.timeout) - 1))
        self.batch = self.concurrency * rounds
        self.pool = ThreadPoolExecutor(
            max_workers=n.concurrency, thread_name_prefix="dutydesk-deliver"
        )
        self._lock = threading.Lock()
        # Channels we cannot deliver to; their messages are parked without being claimed.
        self.unconfigured = {
            name: ch.reason
            for name, ch in self.channels.channels.items()
            if isinstance(ch, NotConfigured)
        }
        self.behind = False  # the last tick stopped at a limit with due work left

    # ------------------------------------------------------------------ steps

    def expand(self, stats: TickStats) -> None:
        expanded, left = fan_out(self.db, self.policy)
        stats.expanded += expanded
        self.behind |= left

    def plan(self, now: datetime) -> tuple[int, int]:
        with self.db.write() as s:
            planned = jobs.plan_jobs(s, self.policy, now)
        with self.db.write() as s:
            timers = jobs.scan_timers(s, self.policy, now)
        return planned, timers

    def run_jobs(self, now: datetime, stats: TickStats) -> None:
        catch_up = parse_span(self.policy.notify.catch_up)
        for _ in range(1000):
            with self.db.write() as s:
                found = outbox.due(s, JOB, now, 1)
                if not found:
                    return
                job = found[0]
                if now - job.due_at > catch_up:
                    job.state, job.last_error = EXPIRED, "missed by more than notify.catch_up"
                    stats.expired += 1
                    continue
                try:
                    with s.begin_nested():
                        jobs.run(s, self.policy, job, now)
                except Exception as exc:  # a bug in one job must not stop the others
                    log.exception("job %s failed", job.dedupe_key)
                    job.attempts += 1
                    job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    if job.attempts >= self.attempts:
                        job.state, job.dead_at = outbox.DEAD, now
                        stats.dead += 1
                    else:
                        job.due_at = now + rules.retry_delay(
                            job.attempts, self.first, self.cap, self.factor
                        )
                        stats.retried += 1
                    continue
                job.state, job.delivered_at, job.attempts = outbox.DELIVERED, now, job.attempts + 1
                stats.jobs += 1
        self.behind = True

    def fold(self, now: datetime, stats: TickStats) -> None:
        for _ in range(100):
            with self.db.read() as s:
                recipients = outbox.due_recipients(s, NOTICE, now, 200)
            for r in recipients:
                with self.db.write() as s:
                    stats.folded += service.fold(s, self.policy, r, now)
            if len(recipients) < 200:
                return
        self.behind = True

    def park(self, now: datetime, stats: TickStats) -> None:
        if not self.unconfigured:
            return
        for _ in range(MAX_PARK_BATCHES_PER_TICK):
            with self.db.write() as s:
                parked, expired = outbox.park_unconfigured(s, now, self.unconfigured, PARK_BATCH)
            stats.parked += parked
            stats.expired += expired
            if parked + expired < PARK_BATCH:
                return
        self.behind = True

    def deliver(self, now: datetime, stats: TickStats) -> None:
        for _ in range(MAX_BATCHES_PER_TICK):
            # Each batch's lease starts when it is claimed, not when the tick began: a long
            # tick would otherwise hand later batches leases already nearly spent, and their
            # deliveries would be skipped and wait, claimed, for the next poll.
            claimed_at = max(now, self.clock())
            claims = outbox.claim_messages(self.db, claimed_at, self.lease, self.batch)
            if len(claims) < self.batch:
                self._deliver_batch(claims, stats)
                return  # nothing more was due at this instant
            self._deliver_batch(claims, stats)
        self.behind = True

    def _deliver_batch(self, claims: list[outbox.Claim], stats: TickStats) -> None:
        if claims:
            outcomes = [o for o in self.pool.map(self._deliver_one, claims) if o is not None]
            outbox.record(self.db, outcomes)  # one transaction per batch
            for o in outcomes:
                name = OUTCOME_STAT[o.state]
                setattr(stats, name, getattr(stats, name) + 1)

    def _deliver_one(self, c: outbox.Claim) -> outbox.Outcome | None:
        try:
            return self._attempt(c)
        except Exception:  # never lose the pool thread; the lease gives the row back
            log.exception("delivery %s crashed", c.id)
            return None

    def _attempt(self, c: outbox.Claim) -> outbox.Outcome | None:
        if self.clock() + self.timeout >= c.token:
            return None  # too close to the end of our lease: leave it to the next claim
        raw = c.payload.get("expires_at")
        if raw is not None and datetime.fromisoformat(str(raw)) < self.clock():
            return outbox.Outcome(c, EXPIRED, self.clock(), outbox.TOO_OLD)
        channel = self.channels.get(c.channel or "")
        if isinstance(channel, NotConfigured):
            return outbox.Outcome(c, PARKED, self.clock(), channel.reason)
        msg = Outgoing(
            delivery_id=c.delivery_id,
            kind=str(c.payload.get("kind", "message")),
            subject=str(c.payload.get("subject", "dutydesk")),
            markdown=str(c.payload.get("markdown", "")),
            to=c.recipient if c.recipient and not c.recipient.startswith("#") else None,
            desk=c.desk,
            data=dict(c.payload.get("data") or {}),
        )
        try:
            channel.send(msg)
        except DeliveryError as exc:
            now = self.clock()
            dead = exc.permanent or c.attempts >= self.attempts
            delay = rules.retry_delay(c.attempts, self.first, self.cap, self.factor)
            if exc.retry_after is not None:
                delay = max(
                    delay, timedelta(seconds=min(exc.retry_after, self.cap.total_seconds()))
                )
            log.warning(
                "delivery %s to %s failed (attempt %d): %s", c.id, c.channel, c.attempts, exc
            )
            state = outbox.DEAD if dead else outbox.PENDING
            return outbox.Outcome(c, state, now, str(exc), retry_at=now + delay)
        return outbox.Outcome(c, outbox.DELIVERED, self.clock())

    # ------------------------------------------------------------------ loops

    def tick(self) -> TickStats:
        with self._lock:
            stats = TickStats()
            self.behind = False
            now = self.clock()
            self.expand(stats)
            stats.planned, stats.timers = self.plan(now)
            self.run_jobs(now, stats)
            self.fold(now, stats)
            self.park(now, stats)
            self.deliver(now, stats)
            github_mirror.run(self.db, self.policy, now, self.env)  # off unless write_back
            return stats

    def run_once(self, max_ticks: int = 100) -> TickStats:
        """Work until nothing more is due at this instant (bounded)."""
        total = TickStats()
        for _ in range(max_ticks):
            stats = self.tick()
            total.add(stats)
            if stats.work == 0:
                break
        return total

    def run(self, stop: threading.Event) -> None:
        """A tick every ``poll``, busy or idle; the next one at once only while behind.

        A tick handles everything due at its instant, so ticking again as soon as it found
        work would only pick up rows a few at a time as requests write them, each pass a
        handful of transactions on the one writer lock and a plan of the periodic jobs.
        """
        while not stop.is_set():
            started = time.monotonic()
            try:
                stats = self.tick()
            except Exception:
                log.exception("worker tick failed; trying again")
                stop.wait(self.poll)
                continue
            if stats.work:
                log.info("worker tick: %s", stats.as_dict())
            if not self.behind:
                stop.wait(max(0.0, self.poll - (time.monotonic() - started)))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.channels.close()


def fan_out(
    db: Database, policy: Policy, max_batches: int = MAX_EXPAND_BATCHES_PER_TICK
) -> tuple[int, bool]:
    """Write the notices and desk posts of queued ticket changes: (changes done, any left).

    The rows are worked out on a read transaction; the write lock is held only to insert
    them and drop the changes. Two workers expanding the same change write its rows once:
    their dedupe keys are the change's.
    """
    done = 0
    for _ in range(max_batches):
        with db.read() as s:
            queued = service.queued_changes(s, EXPAND_BATCH)
            rows = service.expand(s, policy, [p for _, p in queued])
        if queued:
            with db.write() as s:
                outbox.insert_ignore(s, rows)
                inbox.record(s, rows)
                service.forget_changes(s, [i for i, _ in queued])
            done += len(queued)
        if len(queued) < EXPAND_BATCH:
            return done, False
    return done, True


class EmbeddedWorker:
    """The worker as a daemon thread of ``dutydesk serve`` (SQLite: one process, one writer)."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=worker.run, args=(self.stop_event,), name="dutydesk-worker", daemon=True
        )

    def start(self) -> EmbeddedWorker:
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)
        self.worker.close()


def start_embedded(db: Database, policy: Policy, clock: Clock) -> EmbeddedWorker:
    return EmbeddedWorker(Worker(db, policy, clock)).start()
