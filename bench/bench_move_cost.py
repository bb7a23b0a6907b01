"""What keeping the reports' rows costs a change: server CPU per move through the services.

    python bench/bench_move_cost.py [--tickets 300]

A fresh SQLite database with the example policy; ``--tickets`` infra tickets filed and triaged
(P1, assigned), then each moved In progress, Done (the resolution writes the ticket's stored
times and stays), re-opened to New (which removes them and keeps a re-open row), and a team
change on the SET desk (a bounce row). Printed: the median CPU milliseconds of each kind of
change, beside a reference measured in the same run: a comment (a change that writes no
report row). Run it on two checkouts to compare (``PYTHONPATH=<checkout>/src``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dutydesk.auth.models import User
from dutydesk.db import Database
from dutydesk.migrate import upgrade
from dutydesk.policy import load_policy
from dutydesk.state import AppState, sync_policy
from dutydesk.tickets import filing, service
from dutydesk.tickets.schemas import FileTicket, TicketPatch

EXAMPLE = Path(__file__).parents[1] / "examples" / "dutydesk.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=300)
    args = ap.parse_args()
    policy = load_policy(EXAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'moves.db'}"
        upgrade(url)
        db = Database(url)
        sync_policy(db, policy, datetime.now(UTC))
        state = AppState(db=db, policy=policy)
        with db.read() as s:
            ana = s.scalar(select(User).where(User.name == "ana"))
            eva = s.scalar(select(User).where(User.name == "eva"))
            s.expunge_all()
        assert ana is not None and eva is not None
        cpu: dict[str, list[float]] = {}

        def timed(name: str, actor: User, use: Callable[[Any], object]) -> None:
            t0 = time.process_time()
            with state.write(actor) as ctx:
                use(ctx)
            cpu.setdefault(name, []).append((time.process_time() - t0) * 1000)

        infra, sets = [], []
        for i in range(args.tickets):
            data = FileTicket(title=f"Add a builder {i}", priority="P1", assignee="ana")
            with state.write(ana) as ctx:
                infra.append(filing.file(ctx, "infra", data).ticket.key)
            data = FileTicket(title=f"Crash {i}", kind="bug", team="channels", assignee="eva")
            with state.write(eva) as ctx:
                sets.append(filing.file(ctx, "set", data).ticket.key)
        for key in infra:
            timed(
                "comment (reference)", ana, lambda c, k=key: service.add_comment(c, k, "ok", True)
            )
            timed(
                "move to In progress",
                ana,
                lambda c, k=key: service.move(c, k, "In progress", None, None, None),
            )
            timed(
                "move to Done (resolve)",
                ana,
                lambda c, k=key: service.move(c, k, "Done", "fixed", None, None),
            )
            timed(
                "move Done → New (re-open)",
                ana,
                lambda c, k=key: service.move(c, k, "New", None, None, None),
            )
        for key in sets:
            timed(
                "team change (bounce)",
                eva,
                lambda c, k=key: service.patch_ticket(c, k, TicketPatch(team="mobile"), None),
            )
        db.dispose()
    print(f"\n| change ({args.tickets} each, SQLite) | median CPU ms | p90 CPU ms |")
    print("| --- | ---: | ---: |")
    for name, ms in cpu.items():
        ms.sort()
        print(f"| {name} | {statistics.median(ms):.2f} | {ms[int(len(ms) * 0.9)]:.2f} |")


if __name__ == "__main__":
    main()
