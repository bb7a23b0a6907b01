"""The record a ticket change queues for notifications, named field by field.

A change writes it in its own transaction (``tickets.changes``) and the notify worker reads
it back (``notify.service.expand``); both go through this module, so the stored JSON has one
shape with named keys and the worker gets typed facts, never values picked out by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dutydesk.notify.rules import Change


@dataclass(frozen=True, slots=True)
class QueuedTicket:
    """The ticket's fields as the change left them."""

    id: int
    key: str
    desk: str
    title: str
    priority: str | None
    status: str
    reporter_id: int
    assignee_id: int | None


@dataclass(frozen=True, slots=True)
class QueuedComment:
    body: str
    public: bool


@dataclass(frozen=True, slots=True)
class QueuedChange:
    ticket: QueuedTicket
    seq: int  # the change's last event: dedupe keys name it
    actor_id: int
    actor_name: str
    at: datetime
    changes: tuple[Change, ...]
    comments: dict[int, QueuedComment]
    watchers: frozenset[int]

    def to_json(self) -> dict[str, Any]:
        t = self.ticket
        return {
            "ticket": {
                "id": t.id,
                "key": t.key,
                "desk": t.desk,
                "title": t.title,
                "priority": t.priority,
                "status": t.status,
                "reporter_id": t.reporter_id,
                "assignee_id": t.assignee_id,
            },
            "seq": self.seq,
            "actor": {"id": self.actor_id, "name": self.actor_name},
            "at": self.at.isoformat(),
            "changes": [
                {
                    "type": c.type,
                    "field": c.field,
                    "before": c.before,
                    "after": c.after,
                    "data": dict(c.data),
                }
                for c in self.changes
            ],
            "comments": {
                str(cid): {"body": c.body, "public": c.public} for cid, c in self.comments.items()
            },
            "watchers": sorted(self.watchers),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> QueuedChange:
        actor = raw["actor"]
        if isinstance(actor, list):  # queued by a version that stored these by position
            actor = {"id": actor[0], "name": actor[1]}
        return cls(
            ticket=QueuedTicket(**raw["ticket"]),
            seq=int(raw["seq"]),
            actor_id=int(actor["id"]),
            actor_name=str(actor["name"]),
            at=datetime.fromisoformat(raw["at"]),
            changes=tuple(
                Change(*c) if isinstance(c, list) else Change(**c) for c in raw["changes"]
            ),
            comments={
                int(cid): QueuedComment(*c) if isinstance(c, list) else QueuedComment(**c)
                for cid, c in raw["comments"].items()
            },
            watchers=frozenset(raw["watchers"]),
        )
