"""Two ``serve`` replicas and two ``worker`` processes on one PostgreSQL, under load for a
bounded time: no ticket lost or numbered twice, every new ticket posted to the desk channel
exactly once (a real HTTP receiver counts), each replica's /metrics counting its own share.
The p95 filing latency is printed (speed is not asserted)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from dutydesk.state import AppState
from dutydesk.tickets.models import Ticket
from tests.conftest import PG_URL
from tests.notify.receivers import Receiver
from tests.notify.test_reliability import policy_file
from tests.processes import CLEAN_STOP, Server, env_for, start, tokens

CLIENTS = 4
LOAD_SECONDS = 5.0
DRAIN_SECONDS = 20.0
KEY = re.compile(r"INFRA-\d+")

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="replicas side by side are the PostgreSQL deployment"
)


def test_two_replicas_and_two_workers_lose_nothing_and_post_each_ticket_once(
    state: AppState, tmp_path: Path
) -> None:
    token = tokens(state, "rita")["rita"]
    receiver = Receiver().start()
    policy = policy_file(tmp_path, poll="100 ms")
    env = env_for(
        state.db.url,
        policy,
        DUTYDESK_ACCESS_LOG="0",
        INFRA_SLACK_WEBHOOK_URL=receiver.url + "/infra",
        SET_MATTERMOST_WEBHOOK_URL=receiver.url + "/set",
        DUTYDESK_EVENTS_URL=receiver.url + "/events",
        DUTYDESK_EVENTS_SECRET="s3cret",
    )
    procs: list[Server] = []
    acked: list[str] = []
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    try:
        replicas = [start("serve", env, tmp_path) for _ in range(2)]
        procs += replicas
        procs += [start("worker", env, tmp_path, "--quiet") for _ in range(2)]

        def client(n: int) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            pools = [httpx.Client(base_url=r.url, headers=headers, timeout=30) for r in replicas]
            deadline = time.monotonic() + LOAD_SECONDS
            i = 0
            try:
                while time.monotonic() < deadline:
                    i += 1
                    began = time.perf_counter()
                    r = pools[(n + i) % 2].post(  # alternate between the replicas
                        "/api/v1/desks/infra/tickets", json={"title": f"Replica load {n}-{i}"}
                    )
                    took = time.perf_counter() - began
                    with lock:
                        if r.status_code == 201:
                            acked.append(r.json()["key"])
                            latencies.append(took)
                        else:
                            failures.append(f"{r.status_code} {r.text[:200]}")
            finally:
                for p in pools:
                    p.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(LOAD_SECONDS + 60)

        def posted() -> Counter[str]:
            keys: Counter[str] = Counter()
            for r in list(receiver.requests):
                if r.path == "/infra":
                    keys.update(set(KEY.findall(r.json.get("text", ""))))
            return keys

        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline and not set(acked) <= set(posted()):
            time.sleep(0.1)
        time.sleep(0.5)  # a duplicate would arrive now, if one were coming
        scraped = [httpx.get(f"{r.url}/metrics", timeout=10).text for r in replicas]
        for p in procs:
            assert p.proc.poll() is None, p.logs()
    finally:
        codes = [p.stop() for p in procs]
        receiver.stop()
    assert all(c in CLEAN_STOP for c in codes), [p.logs()[-2000:] for p in procs]
    assert not failures, failures[:5]
    assert len(acked) >= 50

    # No ticket lost, none numbered twice: the numbers are 1..N, one per acknowledged filing.
    with state.db.read() as s:
        numbers = s.scalars(select(Ticket.number).where(Ticket.desk == "infra")).all()
    assert sorted(numbers) == list(range(1, len(acked) + 1))
    assert sorted(int(k.split("-")[1]) for k in acked) == sorted(numbers)

    # Each new ticket reached the desk channel exactly once, and no delivery came twice.
    counts = posted()
    missing = set(acked) - set(counts)
    assert not missing, f"never posted: {sorted(missing)[:5]}"
    assert {k: n for k, n in counts.items() if n > 1} == {}
    ids = Counter(receiver.ids())
    assert {i: n for i, n in ids.items() if n > 1} == {}

    # Each replica counts what it filed; together, every filing.
    filed = [
        sum(float(m) for m in re.findall(r'dutydesk_tickets_filed_total\{desk="infra"\} (\S+)', t))
        for t in scraped
    ]
    assert sum(filed) == len(acked) and all(f > 0 for f in filed)

    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[int(len(latencies) * 0.95)]
    print(
        f"\n2 replicas + 2 workers, {CLIENTS} clients for {LOAD_SECONDS:.0f} s: "
        f"{len(acked)} filings ({len(acked) / LOAD_SECONDS:.0f}/s), p50 {p50 * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms; {sum(counts.values())} desk posts, {len(ids)} deliveries, "
        f"per replica {[int(f) for f in filed]}"
    )
