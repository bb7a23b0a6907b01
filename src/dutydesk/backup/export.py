"""``dutydesk export --jsonl``: every ticket with its events and comments, one JSON object per
line, streamed from one snapshot.

The order is stable (desk, then number) and every value is spelled the same way whichever
database it comes from (people by login name, instants in ISO 8601 UTC, keys as ``INFRA-42``),
so two exports of the same data are byte for byte equal and ``diff`` shows what changed.
Internal comments are included, marked ``"public": false``: this is the operator's full copy,
read from the database directly, not a view any API user gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, select

from dutydesk.auth.models import User
from dutydesk.backup.copy import snapshot
from dutydesk.tickets.models import Comment, Event, Ticket, ticket_key

# Columns exported under another name or not at all (ids become names or keys; html is
# derived from the markdown, which is exported).
_USER_COLUMNS = {
    "assignee_id": "assignee",
    "reporter_id": "reporter",
    "triaged_by_id": "triaged_by",
    "blocked_by_id": "blocked_by",
}
_LEFT_OUT = {"id", "description_html", "duplicate_of_id"}


def _value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def ticket_lines(conn: Connection, chunk: int = 500) -> Iterator[dict[str, Any]]:
    users = {uid: name for uid, name in conn.execute(select(User.id, User.name))}
    keys: dict[int, str] = {}
    desks = conn.execute(select(Ticket.desk).distinct().order_by(Ticket.desk)).scalars().all()
    t = Ticket.__table__
    for desk in desks:
        last = 0
        while True:
            batch = (
                conn.execute(
                    select(t)
                    .where(t.c.desk == desk, t.c.number > last)
                    .order_by(t.c.number)
                    .limit(chunk)
                )
                .mappings()
                .all()
            )
            if not batch:
                break
            last = batch[-1]["number"]
            ids = [row["id"] for row in batch]
            events: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
            for e in conn.execute(
                select(Event.__table__)
                .where(Event.ticket_id.in_(ids))
                .order_by(Event.ticket_id, Event.seq)
            ).mappings():
                events[e["ticket_id"]].append(
                    {
                        "seq": e["seq"],
                        "at": _value(e["at"]),
                        "actor": users.get(e["actor_id"]),
                        "type": e["type"],
                        "field": e["field"],
                        "before": e["before"],
                        "after": e["after"],
                        "data": e["data"],
                    }
                )
            comments: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
            for c in conn.execute(
                select(Comment.__table__)
                .where(Comment.ticket_id.in_(ids))
                .order_by(Comment.ticket_id, Comment.id)
            ).mappings():
                comments[c["ticket_id"]].append(
                    {
                        "at": _value(c["created_at"]),
                        "author": users.get(c["author_id"]),
                        "public": c["public"],
                        "body": c["body"],
                    }
                )
            for row in batch:
                keys[row["id"]] = ticket_key(row["desk"], row["number"])
                line: dict[str, Any] = {"key": keys[row["id"]]}
                for name, value in row.items():
                    if name in _USER_COLUMNS:
                        line[_USER_COLUMNS[name]] = users.get(value)
                    elif name not in _LEFT_OUT:
                        line[name] = _value(value)
                line["duplicate_of"] = _duplicate_key(conn, keys, row["duplicate_of_id"])
                line["events"] = events[row["id"]]
                line["comments"] = comments[row["id"]]
                yield line


def _duplicate_key(conn: Connection, keys: dict[int, str], ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    if ticket_id not in keys:
        row = conn.execute(select(Ticket.desk, Ticket.number).where(Ticket.id == ticket_id)).one()
        keys[ticket_id] = ticket_key(row.desk, row.number)
    return keys[ticket_id]


def export_jsonl(engine: Engine, out: TextIO) -> int:
    """Write every ticket as one line to ``out``; returns how many."""
    n = 0
    with snapshot(engine) as conn:
        for line in ticket_lines(conn):
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n
