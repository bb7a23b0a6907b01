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
    "customer",
    "q",
)
VIEWS = ("queue", "backlog", "open", "closed", "all")
#: Sort orders a column header offers (a leading "-" is descending); "" is the view's default:
#: the desk's order for the queue and backlog, relevance for a text search, else newest first.
SORTS = (
    "order",
    "priority",
    "-priority",
    "created",
    "-created",
    "updated",
    "-updated",
    "resolved",
    "-resolved",
    "relevance",
)
MAX_PAGE_NUMBER = 10_000


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
    customer: str = ""  # "", "yes", "no": reported by a customer
    q: str = ""
    saved: str = ""
    sort: str = ""
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueueQuery:
        def get(name: str) -> str:
            return (params.get(name) or "").strip()[:200]

        view = get("view") or "queue"
        blocked, customer, sort = get("blocked"), get("customer"), get("sort")
        page = get("page")
        return cls(
            view=view if view in VIEWS else "queue",
            blocked=blocked if blocked in ("yes", "no") else "",
            customer=customer if customer in ("yes", "no") else "",
            saved=get("saved"),
            sort=sort if sort in SORTS else "",
            page=min(int(page), MAX_PAGE_NUMBER) if page.isdigit() and int(page) > 0 else 1,
            **{k: get(k) for k in FILTER_KEYS if k not in ("blocked", "customer")},
        )

    @property
    def effective_sort(self) -> str:
        """The sort in force: the one asked for, else the view's own."""
        if self.sort and not (self.sort == "relevance" and not self.q):
            return self.sort
        if self.q:
            return "relevance"
        if self.view in ("queue", "backlog"):
            return "order"
        return "-resolved" if self.view == "closed" else "-created"

    def sort_link(self, desk: str, column: str) -> tuple[str, str]:
        """(URL, aria-sort) for a sortable column header: first click ascending in the column's
        natural sense, a second click reverses it."""
        now = self.effective_sort
        first = {"updated": "-updated", "created": "-created", "resolved": "-resolved"}.get(
            column, column
        )
        if now == first and column != "order":
            flipped = first[1:] if first.startswith("-") else f"-{first}"
            target = flipped
        else:
            target = first
        state = "none"
        if now.lstrip("-") == column:
            # "-created" (newest first) reads as ascending age.
            descending = now.startswith("-")
            if column in ("created", "updated", "resolved"):
                descending = not descending
            state = "descending" if descending else "ascending"
        return self.url(desk, sort=target, page=""), state

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
        if self.customer:
            out["customer_reported"] = self.customer == "yes"
        return out

    def saved_query(self, desk: str) -> dict[str, Any]:
        """These filters as a saved filter's stored query (the form the API reads too)."""
        out: dict[str, Any] = {"desk": desk, **self.filters()}
        if self.view == "queue":
            out["in_queue"] = True
        elif self.view == "backlog":
            out.update(in_queue=False, open=True)
        elif self.view == "open":
            out["open"] = True
        elif self.view == "closed":
            out["open"] = False
        return out

    @property
    def active(self) -> bool:
        return bool(self.filters()) or self.view != "queue" or bool(self.saved)

    def url(self, desk: str, **changes: str | int) -> str:
        values = {**self.__dict__, **changes}
        query = {
            k: v
            for k, v in values.items()
            if v and not (k == "view" and v == "queue") and not (k == "page" and v == 1)
        }
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
    if query.get("customer_reported") is not None:
        out["customer"] = "yes" if query["customer_reported"] else "no"
    if query.get("open") is False or query.get("resolution") or query.get("resolved_within"):
        out["view"] = "closed"
    elif query.get("in_queue") is False:
        out["view"] = "backlog"
    elif query.get("open") is True and query.get("in_queue") is None:
        out["view"] = "open"
    elif query.get("open") is None and query.get("in_queue") is None:
        out["view"] = "all"
    return out
