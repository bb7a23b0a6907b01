"""The queue page's filters (pure): URL parameters to a ticket filter and back, and saved
filters as links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

# ----------------------------------------------------------------------------- queue filters

FILTER_KEYS = (
    "status",
    "priority",
    "assignee",
    "team",
    "kind",
    "label",
    "category",
    "blocked",
    "q",
)
VIEWS = ("queue", "backlog", "open", "closed", "all")


@dataclass(frozen=True)
class QueueQuery:
    """The queue page's filters exactly as they appear in its URL, so views can be shared."""

    view: str = "queue"
    status: str = ""
    priority: str = ""
    assignee: str = ""
    team: str = ""
    kind: str = ""
    label: str = ""
    category: str = ""
    blocked: str = ""  # "", "yes", "no"
    q: str = ""
    saved: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueueQuery:
        def get(name: str) -> str:
            return (params.get(name) or "").strip()[:200]

        view = get("view") or "queue"
        blocked = get("blocked")
        return cls(
            view=view if view in VIEWS else "queue",
            blocked=blocked if blocked in ("yes", "no") else "",
            saved=get("saved"),
            **{k: get(k) for k in FILTER_KEYS if k != "blocked"},
        )

    def filters(self) -> dict[str, Any]:
        """The TicketFilter fields these URL parameters ask for (view handled separately)."""
        out: dict[str, Any] = {}
        for key in ("status", "priority", "kind"):
            value = getattr(self, key)
            if value:
                out[key] = [value]
        for key in ("assignee", "team", "label", "category", "q"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.blocked:
            out["blocked"] = self.blocked == "yes"
        return out

    @property
    def active(self) -> bool:
        return bool(self.filters()) or self.view != "queue" or bool(self.saved)

    def url(self, desk: str, **changes: str) -> str:
        values = {**self.__dict__, **changes}
        query = {k: v for k, v in values.items() if v and not (k == "view" and v == "queue")}
        qs = urlencode(query)
        return f"/desks/{desk}/queue" + (f"?{qs}" if qs else "")


def saved_filter_params(query: Mapping[str, Any]) -> dict[str, str]:
    """A saved filter's stored query as queue-page URL parameters (where they map one to one)."""
    out: dict[str, str] = {}
    for key in ("status", "priority", "kind"):
        value = query.get(key)
        if isinstance(value, list) and value:
            out[key] = str(value[0])
        elif isinstance(value, str):
            out[key] = value
    for key in ("assignee", "team", "label", "category", "q"):
        if query.get(key):
            out[key] = str(query[key])
    if query.get("blocked") is not None:
        out["blocked"] = "yes" if query["blocked"] else "no"
    if query.get("open") is False or query.get("resolution") or query.get("resolved_within"):
        out["view"] = "closed"
    elif query.get("in_queue") is False:
        out["view"] = "backlog"
    return out
