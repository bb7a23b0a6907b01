"""The ways in beside the filing they end in: CPU per ticket filed from a mail (parse, sender
lookup, file, Message-ID and attachment rows) and from a GitHub ``issues`` opened delivery
(payload reading, link and delivery rows), beside the same ticket filed by the use case alone.

    .venv/bin/python bench/bench_ways_in.py [--tickets 500] [--rounds 3]

One ticket to a transaction, in process (no HTTP, no subprocess), on a fresh SQLite database
from ``dutydesk init``. CPU is this process's time (``time.process_time``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAIL = """From: Rita Reporter <rita@example.com>
To: infra@dutydesk.example.com
Subject: Devicelab bot {n} offline since Monday
Message-ID: <bench.{n}@mail.example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset="UTF-8"

Bot {n} has not picked up a job since Monday morning. Where: devicelab, rack 3.

--b1
Content-Type: text/html; charset="UTF-8"

<div>Bot {n} has not picked up a job since <b>Monday</b> morning.</div>

--b1--
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tickets", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'dutydesk.db'}"
        os.environ.update(DUTYDESK_DATABASE_URL=url, DUTYDESK_POLICY=str(folder / "dutydesk.toml"))
        here = str(Path(__file__).resolve().parents[1] / "src")
        subprocess.run(
            [sys.executable, "-m", "dutydesk", "init"],
            cwd=folder,
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": here},
        )
        rows = [measure(folder, url, args.tickets, r) for r in range(args.rounds)]
    print(f"\n{args.tickets} tickets per way in per round, one to a transaction (CPU ms each)\n")
    print("| round | filing use case alone | by mail (mailgate) | by GitHub webhook |")
    print("| ---: | ---: | ---: | ---: |")
    for i, (alone, mail, github) in enumerate(rows):
        print(
            f"| {i + 1} | {alone:.3f} | {mail:.3f} ({mail / alone:.2f}x) | "
            f"{github:.3f} ({github / alone:.2f}x) |"
        )


def measure(folder: Path, url: str, n: int, round_: int) -> tuple[float, float, float]:
    from sqlalchemy import select
    from tests.github import payloads as gh

    from dutydesk.auth.models import User
    from dutydesk.db import Database
    from dutydesk.github import service as bridge
    from dutydesk.mailgate.service import take
    from dutydesk.policy import load_policy
    from dutydesk.state import AppState
    from dutydesk.tickets import filing
    from dutydesk.tickets.schemas import FileTicket

    policy = load_policy(folder / "dutydesk.toml")
    state = AppState(db=Database(url), policy=policy)
    with state.db.read() as s:
        rita = s.scalar(select(User).where(User.name == "rita"))
        assert rita is not None
        s.expunge(rita)
    rules = policy.desks["infra"].github
    assert rules is not None
    base = round_ * n * 10

    t0 = time.process_time()
    for i in range(n):
        with state.write(rita) as ctx:
            body = f"Bot {i} has not picked up a job since Monday morning."
            filing.file(
                ctx, "infra", FileTicket(title=f"Devicelab bot {i} offline", description=body)
            )
    alone = time.process_time() - t0

    mails = [MAIL.format(n=base + i).replace("\n", "\r\n").encode() for i in range(n)]
    t0 = time.process_time()
    for raw in mails:
        assert take(state, "infra", raw).action == "filed"
    mail = time.process_time() - t0

    events = [
        json.loads(json.dumps(gh.issues_event("opened", number=base + i, repo="example-org/infra")))
        for i in range(n)
    ]
    t0 = time.process_time()
    for i, payload in enumerate(events):
        delivery = bridge.Delivery(f"bench-{base + i}", "issues", payload)
        with state.write(bridge.GATEWAY) as ctx:
            assert bridge.handle(ctx, "infra", rules, delivery).status == "handled"
    github = time.process_time() - t0
    state.db.dispose()
    return alone * 1000 / n, mail * 1000 / n, github * 1000 / n


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
