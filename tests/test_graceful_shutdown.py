"""SIGTERM to a real ``dutydesk serve`` in the middle of a filing burst: requests already
accepted are answered, every acknowledged filing is in the database, nobody gets a 5xx, and
the process ends by itself."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import select

from dutydesk.state import AppState
from dutydesk.tickets.models import Ticket
from tests.conftest import EXAMPLE
from tests.processes import CLEAN_STOP, env_for, start, tokens

# httpx's ways of saying the server was gone before it had this request.
REFUSED = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def test_sigterm_finishes_requests_in_flight_and_loses_no_acknowledged_filing(
    state: AppState, tmp_path: Path
) -> None:
    token = tokens(state, "rita")["rita"]
    env = env_for(state.db.url, EXAMPLE, DUTYDESK_LOG_JSON="1")
    server = start("serve", env, tmp_path)
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    acked: list[str] = []
    answers: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for i in range(2000):  # bounded; ends at the first refusal
                if stop.is_set():
                    return
                try:
                    r = client.post(
                        "/api/v1/desks/infra/tickets", json={"title": f"Burst ticket {i}"}
                    )
                except REFUSED:
                    return
                with lock:
                    answers.append(r.status_code)
                    if r.status_code == 201:
                        acked.append(r.json()["key"])

    first_chunk_sent = threading.Event()
    slow: dict[str, object] = {}

    def trickle() -> Iterator[bytes]:
        body = json.dumps({"title": "Uploaded slowly", "description": "x" * 200}).encode()
        yield body[:10]
        first_chunk_sent.set()
        for i in range(10, len(body), 40):  # the rest over about a second
            time.sleep(0.15)
            yield body[i : i + 40]

    def slow_upload() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            r = client.post("/api/v1/desks/infra/tickets", content=trickle())
            slow["status"], slow["body"] = r.status_code, r.json()

    threads = [threading.Thread(target=burst) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(acked) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        uploader = threading.Thread(target=slow_upload)
        uploader.start()
        assert first_chunk_sent.wait(10)
        time.sleep(0.3)  # the upload is accepted and being read
        signalled = time.monotonic()
        code = server.stop(timeout=30)
        took = time.monotonic() - signalled
        uploader.join(30)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        server.stop()
    logs = server.logs()
    assert code in CLEAN_STOP, logs
    assert slow.get("status") == 201, (slow, logs)  # accepted before the signal: answered
    assert took >= 0.5, "the server waited for the upload in flight"
    assert answers and all(a == 201 for a in answers), sorted(set(answers))
    with state.db.read() as s:
        stored = set(s.scalars(select(Ticket.number).where(Ticket.desk == "infra")).all())
    keys = {*acked, str(slow["body"]["key"])}  # type: ignore[index]
    assert {int(k.split("-")[1]) for k in keys} <= stored
    print(
        f"\nSIGTERM after {len(acked)} filings; stopped in {took:.2f} s; slow upload: {slow['status']}"
    )
    # Production logs: JSON lines, one access line per answered request, each with its id.
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "dutydesk.access" and e["status"] == 201]
    assert len(access) >= len(acked)
    assert all(e["request_id"] and e["route"] == "/api/v1/desks/{desk}/tickets" for e in access)
