"""The worker under load: how often it ticks, parking without claims, batched result writes."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dutydesk.db import Database
from dutydesk.notify import outbox
from dutydesk.notify.models import MESSAGE, OutboxMessage
from dutydesk.notify.rows import OutboxRow
from dutydesk.notify.worker import MAX_BATCHES_PER_TICK, Worker
from dutydesk.state import AppState
from tests.conftest import Api, ManualClock
from tests.notify.conftest import tuned
from tests.notify.receivers import Receiver
from tests.notify.test_reliability import running_from, wait_until

NOT_SET = "not configured: set INFRA_SLACK_WEBHOOK_URL"


def messages(db: Database, **where: Any) -> list[OutboxMessage]:
    with db.read() as s:
        stmt = select(OutboxMessage).filter_by(kind=MESSAGE, **where).order_by(OutboxMessage.id)
        return list(s.scalars(stmt))


def pending(db: Database) -> int:
    with db.read() as s:  # a cheap look, not to slow the worker down while it works
        return outbox.counts(s)["pending"]


def post_rows(
    first: datetime, n: int, *, every: timedelta = timedelta(0), channel: str = "infra-chat"
) -> list[OutboxRow]:
    """Desk posts falling due from ``first``, one every ``every``."""
    return [
        OutboxRow(
            MESSAGE,
            f"test:{channel}:{first.isoformat()}:{i}",
            first + i * every,
            {"kind": "desk.new", "subject": f"post {i}", "markdown": "x"},
            first,
            channel=channel,
            recipient=f"#{channel}",
            desk="infra",
        )
        for i in range(n)
    ]


def add(db: Database, rows: list[OutboxRow]) -> None:
    with db.write() as s:
        outbox.insert_ignore(s, rows)


def test_while_messages_keep_falling_due_ticks_start_a_poll_apart_and_each_is_sent_once(
    state: AppState,
    clock: ManualClock,
    env: dict[str, str],
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    poll = 0.3
    policy = tuned(state.policy, poll=f"{int(poll * 1000)} ms", claim_timeout="10 seconds")
    partial = {k: v for k, v in env.items() if k != "INFRA_SLACK_WEBHOOK_URL"}
    w = Worker(state.db, policy, running_from(clock.now), env=partial)
    w.run_once()  # the periodic jobs of this instant, out of the way
    # For a second a message falls due every millisecond, most to a channel that is not
    # configured here (parked), one in twenty to a receiver: a busy desk. Each tick finds work,
    # yet must not start the next one at once (it used to, picking up a few rows per pass).
    first = w.clock() + timedelta(milliseconds=100)
    ms = timedelta(milliseconds=1)
    add(state.db, post_rows(first, 950, every=ms * 1000 / 950))
    add(state.db, post_rows(first, 50, every=ms * 20, channel="events"))
    stop = threading.Event()
    thread = threading.Thread(target=w.run, args=(stop,), daemon=True)
    caplog.set_level(logging.INFO, logger="dutydesk.notify")
    started = time.monotonic()
    thread.start()
    try:
        assert wait_until(lambda: pending(state.db) == 0, 15)
    finally:
        stop.set()
        thread.join(10)
        w.close()
    elapsed = time.monotonic() - started
    ticks = [r for r in caplog.records if r.getMessage().startswith("worker tick:")]
    assert 1 <= len(ticks) <= elapsed / poll + 2  # ticks start a poll apart (it was ~30 here)
    rows = messages(state.db, channel="events")
    assert {m.state for m in rows} == {"delivered"} and len(rows) >= 50
    counts = Counter(receiver.ids("/events"))
    assert set(counts) == {m.delivery_id for m in rows} and set(counts.values()) == {1}
    parked = messages(state.db, channel="infra-chat")
    assert {m.state for m in parked} == {"parked"} and len(parked) >= 950


def test_a_tick_that_stops_at_its_batch_limit_is_followed_at_once_not_a_poll_later(
    state: AppState, clock: ManualClock, env: dict[str, str], receiver: Receiver
) -> None:
    policy = tuned(state.policy, poll="1 minute")
    w = Worker(state.db, policy, running_from(clock.now), env=env)
    per_tick = MAX_BATCHES_PER_TICK * w.batch
    add(state.db, post_rows(clock.now, per_tick + 20, channel="events"))
    stop = threading.Event()
    thread = threading.Thread(target=w.run, args=(stop,), daemon=True)
    thread.start()
    try:  # well within the minute the next poll would have waited
        assert wait_until(lambda: pending(state.db) == 0, 20)
    finally:
        stop.set()
        thread.join(10)
        w.close()
    assert len(receiver.ids("/events")) >= per_tick + 20


def test_a_backlog_for_an_unconfigured_channel_is_parked_without_holding_up_deliveries(
    api: Api, state: AppState, clock: ManualClock, env: dict[str, str], receiver: Receiver
) -> None:
    add(state.db, post_rows(clock.now - timedelta(minutes=5), 1000))  # first in due order
    key = api.file("rita", title="Signing bucket is full")["key"]
    partial = {k: v for k, v in env.items() if k != "INFRA_SLACK_WEBHOOK_URL"}
    w = Worker(state.db, state.policy, state.clock, env=partial)
    try:
        stats = w.tick()  # one tick: parking takes no delivery slots
    finally:
        w.close()
    [event] = [r.json for r in receiver.requests if r.path == "/events" and r.json["data"]]
    assert event["data"]["ticket"] == key
    parked = messages(state.db, channel="infra-chat")  # with the filing's post, and any job's
    assert {m.state for m in parked} == {"parked"} and stats.parked == len(parked) >= 1001
    assert {(m.attempts, m.claimed_until, m.last_error) for m in parked} == {(0, None, NOT_SET)}


def test_a_message_too_old_to_send_expires_rather_than_parks(
    state: AppState, clock: ManualClock, env: dict[str, str]
) -> None:
    [old] = post_rows(clock.now - timedelta(days=2), 1)
    old.payload["expires_at"] = (clock.now - timedelta(minutes=1)).isoformat()
    add(state.db, [old, *post_rows(clock.now, 1)])
    partial = {k: v for k, v in env.items() if k != "INFRA_SLACK_WEBHOOK_URL"}
    w = Worker(state.db, state.policy, state.clock, env=partial)
    try:
        stats = w.tick()
    finally:
        w.close()
    assert stats.expired == 1
    old, new = [m for m in messages(state.db) if m.dedupe_key.startswith("test:")]
    assert (old.state, old.attempts, old.last_error) == ("expired", 0, outbox.TOO_OLD)
    assert (new.state, new.attempts, new.last_error) == ("parked", 0, NOT_SET)


def test_one_batch_of_mixed_results_is_written_while_the_lease_is_held(
    state: AppState, clock: ManualClock
) -> None:
    add(state.db, post_rows(clock.now, 5))
    lease = timedelta(seconds=10)
    claims = outbox.claim_messages(state.db, clock.now, lease, 10)
    assert len(claims) == 5 and {c.attempts for c in claims} == {1}
    late = claims[4]
    with state.db.write() as s:  # as if our lease ran out and another worker claimed it
        row = s.get(OutboxMessage, late.id)
        assert row is not None
        row.claimed_until = row.due_at = clock.now + 2 * lease
    at = clock.now + timedelta(seconds=1)
    retry_at = at + timedelta(seconds=30)
    outbox.record(
        state.db,
        [
            outbox.Outcome(claims[0], outbox.DELIVERED, at),
            outbox.Outcome(claims[1], outbox.PENDING, at, "HTTP 503: busy", retry_at=retry_at),
            outbox.Outcome(claims[2], outbox.DEAD, at, "HTTP 404: gone"),
            outbox.Outcome(claims[3], outbox.PARKED, at, NOT_SET),
            outbox.Outcome(late, outbox.PENDING, at, "HTTP 503: busy", retry_at=retry_at),
        ],
    )
    got = [
        (m.state, m.attempts, m.due_at, m.claimed_until, m.last_error) for m in messages(state.db)
    ]
    token = clock.now + lease
    assert got == [
        ("delivered", 1, token, None, None),
        ("pending", 1, retry_at, None, "HTTP 503: busy"),
        ("dead", 1, token, None, "HTTP 404: gone"),
        ("parked", 0, token, None, NOT_SET),  # parking gives the attempt back
        ("pending", 1, clock.now + 2 * lease, clock.now + 2 * lease, None),  # not ours any more
    ]
    [dead] = messages(state.db, state="dead")
    assert dead.dead_at == at
    [done] = messages(state.db, state="delivered")
    assert done.delivered_at == at
