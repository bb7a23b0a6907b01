"""Server-side render time of the inbox, settings, administration and handbook pages at scale,
beside ``GET /api/v1/healthz`` measured in the same run (the floor: routing and a response).

* inbox: ``GET /me/inbox`` (first page, 50 items) for a person with ``--inbox`` notifications,
  most unread; the header's unread count on every page is capped (``99+``);
* settings: ``GET /me/settings`` (preferences and sessions) as the same person;
* people: ``GET /admin/users`` with ``--people`` people;
* outbox: ``GET /admin/outbox?state=dead`` (50 rows) with ``--outbox`` rows, a tenth dead;
* handbook: ``GET /desks/infra/handbook`` and its history with ``--versions`` versions.

Requests are ASGI calls into the app (routing, session, queries, Jinja2, the body), as in
``bench_web.py``.

    .venv/bin/python bench/bench_admin_pages.py
    .venv/bin/python bench/bench_admin_pages.py --inbox 2000 --outbox 2000 --n 30   # a quick look
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from dutydesk.app import create_app
from dutydesk.auth.models import User
from dutydesk.auth.service import open_session, user_by_name
from dutydesk.db import Database
from dutydesk.handbook.models import HandbookVersion
from dutydesk.http.deps import SESSION_COOKIE
from dutydesk.migrate import upgrade
from dutydesk.notify.models import DEAD, DELIVERED, InboxItem, OutboxMessage
from dutydesk.policy import load_policy
from dutydesk.state import AppState, sync_policy

try:  # run as a script from the repository root
    from bench.bench_web import Asgi, timed
except ModuleNotFoundError:  # pragma: no cover - run from bench/
    from bench_web import Asgi, timed  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]


def seed(state: AppState, inbox: int, people: int, outbox: int, versions: int) -> None:
    now = state.now()
    with state.db.write() as s:
        bo = user_by_name(s, "bo")
        ana = user_by_name(s, "ana")
        s.execute(
            insert(InboxItem),
            [
                {
                    "user_id": bo.id,
                    "dedupe_key": f"bench:{i}",
                    "at": now - timedelta(minutes=inbox - i),
                    "reason": "watching",
                    "ticket": f"INFRA-{i}",
                    "title": "Builders are slow to start in us-east",
                    "lines": ["status: New → Triaged", "comment by ana: looking into it"],
                    "actor": "ana",
                    "read_at": now if i % 5 == 0 else None,
                }
                for i in range(inbox)
            ],
        )
        s.execute(
            insert(User),
            [
                {
                    "name": f"person{i}",
                    "display_name": f"Person {i}",
                    "roles": ["reporter"],
                    "desks": [],
                    "active": True,
                    "created_at": now,
                    "managed_by_policy": False,
                }
                for i in range(people)
            ],
        )
        s.execute(
            insert(OutboxMessage),
            [
                {
                    "kind": "message",
                    "payload": {"subject": f"Message {i}", "markdown": "x"},
                    "dedupe_key": f"bench:{i}",
                    "due_at": now,
                    "attempts": 8 if i % 10 == 0 else 1,
                    "created_at": now,
                    "state": DEAD if i % 10 == 0 else DELIVERED,
                    "channel": "infra-chat",
                    "recipient": "#infra",
                    "last_error": "HTTP 500" if i % 10 == 0 else None,
                }
                for i in range(outbox)
            ],
        )
        body = "\n".join(f"* step {j}: what on-call does here" for j in range(80))
        s.execute(
            insert(HandbookVersion),
            [
                {
                    "desk": "infra",
                    "version": v + 1,
                    "body": f"# How we work (v{v + 1})\n\n{body}\n",
                    "summary": f"edit {v + 1}",
                    "author_id": ana.id,
                    "at": now,
                }
                for v in range(versions)
            ],
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inbox", type=int, default=20_000)
    ap.add_argument("--people", type=int, default=2_000)
    ap.add_argument("--outbox", type=int, default=100_000)
    ap.add_argument("--versions", type=int, default=200)
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        state = AppState(db=db, policy=load_policy(ROOT / "examples" / "dutydesk.toml"))
        sync_policy(db, state.policy, state.now())
        seed(state, args.inbox, args.people, args.outbox, args.versions)
        cookies = {}
        for who in ("bo", "admin"):
            with db.write() as s:
                cookies[who] = open_session(s, user_by_name(s, who), state.now())[0]
        app = create_app(state)
        as_bo = Asgi(app, {SESSION_COOKIE: cookies["bo"]})
        as_admin = Asgi(app, {SESSION_COOKIE: cookies["admin"]})

        def page(client: Asgi, path: str) -> object:
            code, body = client.get(path)
            assert code == 200, (path, code, body[:300])
            return body

        rows = [
            ("healthz (floor)", lambda: page(as_bo, "/api/v1/healthz")),
            (f"/me/inbox ({args.inbox:,} items)", lambda: page(as_bo, "/me/inbox")),
            ("/me/inbox?unread=true", lambda: page(as_bo, "/me/inbox?unread=true")),
            ("/me/settings", lambda: page(as_bo, "/me/settings")),
            (f"/admin/users ({args.people:,} people)", lambda: page(as_admin, "/admin/users")),
            (f"/admin/outbox ({args.outbox:,} rows)", lambda: page(as_admin, "/admin/outbox")),
            (
                f"/desks/infra/handbook ({args.versions} versions)",
                lambda: page(as_bo, "/desks/infra/handbook"),
            ),
            ("/desks/infra/handbook/history", lambda: page(as_bo, "/desks/infra/handbook/history")),
        ]
        print(f"{'page':48} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
        for name, fn in rows:
            p50, p95, c50, c95 = timed(fn, args.n)
            print(f"{name:48} {p50:8.2f} {p95:8.2f} {c50:8.2f} {c95:8.2f}")
        db.dispose()


if __name__ == "__main__":
    main()
