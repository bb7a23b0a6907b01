"""Faults with real parts: a receiver that goes away, a worker killed with SIGKILL mid-delivery,
two worker processes side by side. Bounded loops and timeouts only; everything on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dutydesk.clock import Clock
from dutydesk.notify.models import MESSAGE, OutboxMessage
from dutydesk.notify.worker import Worker, fan_out
from dutydesk.state import AppState
from tests.conftest import EXAMPLE, START, Api, ManualClock
from tests.notify.conftest import tuned
from tests.notify.receivers import Receiver

ROOT = Path(__file__).parents[2]


def running_from(origin: datetime) -> Clock:
    """Real time, starting at ``origin`` (the demo's 2026 calendar)."""
    t0 = time.monotonic()
    return lambda: origin + timedelta(seconds=time.monotonic() - t0)


def messages(state: AppState) -> list[OutboxMessage]:
    with state.db.read() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == MESSAGE)))


def file_many(api: Api, state: AppState, n: int) -> None:
    """File n tickets and fan their changes out: their messages are in the outbox."""
    for i in range(n):
        api.file("rita", title=f"Reliability ticket number {i:03d}")
    fan_out(state.db, state.policy)


def wait_until(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.05)
    return done()


def policy_file(tmp: Path, **lines: str) -> Path:
    """The example policy with quick retries and without demo passwords, as a file."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('password = "dutydesk"\n', "")
    extra = "".join(f'{k} = "{v}"\n' for k, v in lines.items())
    text = text.replace(
        'retry = { attempts = 8, first = "30 seconds", max = "1 hour" }\n',
        'retry = { attempts = 50, first = "50 ms", max = "200 ms" }\n' + extra,
    )
    path = tmp / "dutydesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def worker_env(state: AppState, policy: Path, receiver: Receiver) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUTYDESK_")}
    env.update(
        DUTYDESK_DATABASE_URL=state.db.url,
        DUTYDESK_POLICY=str(policy),
        INFRA_SLACK_WEBHOOK_URL=receiver.url + "/infra",
        SET_MATTERMOST_WEBHOOK_URL=receiver.url + "/set",
        DUTYDESK_EVENTS_URL=receiver.url + "/events",
        DUTYDESK_EVENTS_SECRET="s3cret",
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


def test_receiver_down_for_a_while_then_every_message_arrives_exactly_once(
    api: Api, state: AppState, env: dict[str, str], receiver: Receiver
) -> None:
    file_many(api, state, 15)
    receiver.stop()  # connection refused from now on
    quick = tuned(
        state.policy, poll="20 ms", retry={"attempts": 100, "first": "50 ms", "max": "200 ms"}
    )
    w = Worker(state.db, quick, running_from(START), env=env)
    stop = threading.Event()
    thread = threading.Thread(target=w.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: min(m.attempts for m in messages(state)) >= 3, 10)
        receiver.start()  # back, on the same port
        assert wait_until(lambda: all(m.state == "delivered" for m in messages(state)), 15)
    finally:
        stop.set()
        thread.join(10)
        w.close()
    sent = {m.delivery_id for m in messages(state)}
    counts = Counter(receiver.ids())
    assert set(counts) == sent
    assert set(counts.values()) == {1}  # nothing reached the receiver while it was down
    # Every message was refused at least twice (the third claim may have met the receiver back).
    assert min(m.attempts for m in messages(state)) >= 3


def test_a_worker_killed_mid_delivery_loses_nothing_and_redelivers_with_the_same_id(
    api: Api, state: AppState, tmp_path: Path
) -> None:
    file_many(api, state, 20)  # 40 desk posts (chat and signed webhook), 20 notices
    # Eight deliveries are answered, then the receiver holds the next ones unanswered: the
    # kill lands while a delivery is in flight and its claim is held, never between batches.
    receiver = Receiver(hold_after=8).start()
    try:
        policy = policy_file(tmp_path, claim_timeout="2 seconds", timeout="1 second", poll="50 ms")
        started = running_from(START)
        proc = subprocess.Popen(
            [sys.executable, "-m", "dutydesk", "worker", "--now", START.isoformat()],
            env=worker_env(state, policy, receiver),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert receiver.holding.wait(30), proc.stderr
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        total = len(messages(state))
        assert len(receiver.requests) < total  # the kill landed mid-delivery
        assert any(m.state == "pending" and m.claimed_until for m in messages(state))  # claims held
        receiver.release()  # the held requests arrive after all: delivered, but never recorded

        w = Worker(
            state.db,
            tuned(state.policy, claim_timeout="2 seconds", timeout="1 second"),
            started,
            env={
                "INFRA_SLACK_WEBHOOK_URL": receiver.url + "/infra",
                "SET_MATTERMOST_WEBHOOK_URL": receiver.url + "/set",
                "DUTYDESK_EVENTS_URL": receiver.url + "/events",
                "DUTYDESK_EVENTS_SECRET": "s3cret",
            },
        )
        try:

            def finished() -> bool:
                w.tick()
                return all(m.state != "pending" for m in messages(state))

            assert wait_until(finished, 20)
        finally:
            w.close()
        rows = messages(state)
        assert {m.state for m in rows} == {"delivered"}
        by_body: dict[bytes, set[str]] = defaultdict(set)
        for r in receiver.requests:
            body = (
                r.body if r.path != "/events" else r.json["text"].encode()
            )  # signed: per-attempt timestamp
            by_body[r.path.encode() + body].add(r.delivery_id)
        assert all(len(ids) == 1 for ids in by_body.values())  # a redelivery carries the same id
        assert set(receiver.ids()) == {m.delivery_id for m in rows}  # and nothing is lost
    finally:
        receiver.stop()


def test_two_worker_processes_never_double_post_or_double_deliver(
    api: Api, state: AppState, clock: ManualClock, tmp_path: Path
) -> None:
    if state.db.sqlite and not os.environ.get("DUTYDESK_TEST_DATABASE_URL"):
        pytest.skip(
            "many workers side by side is the PostgreSQL deployment (FOR UPDATE SKIP LOCKED)"
        )
    when = datetime(2026, 12, 1, 16, 1, tzinfo=UTC)  # Tuesday, after the status meeting
    clock.now = when
    file_many(api, state, 30)
    # Every request is held until both workers have deliveries in flight at once (each has
    # four delivery threads, so eight held means both took a share), however late one starts.
    receiver = Receiver(hold_after=0).start()
    try:
        policy = policy_file(tmp_path, claim_timeout="2 minutes", timeout="30 seconds")
        at = when.isoformat()
        env = worker_env(state, policy, receiver)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "dutydesk", "--json", "worker", "--once", "--now", at],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        both_at_work = receiver.wait_held(8, 30)
        receiver.release()
        outs = [p.communicate(timeout=60) for p in procs]
        assert both_at_work, outs
        assert [p.returncode for p in procs] == [0, 0], outs
        rows = messages(state)
        counts = Counter(receiver.ids())
        assert set(counts) == {m.delivery_id for m in rows if m.state == "delivered"}
        assert len(counts) >= 60 and set(counts.values()) == {1}  # no double delivery
        posts = [
            r
            for r in receiver.requests
            if r.path == "/set" and r.json["text"].startswith("#set-update")
        ]
        assert len(posts) == 1  # the periodic job ran once
        assert all('"delivered": 0' not in out for out, _ in outs)  # both workers took a share
    finally:
        receiver.stop()
