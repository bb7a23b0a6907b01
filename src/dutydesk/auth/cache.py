"""A short-lived cache of verified bearer tokens.

Every API call authenticates; remembering a verified token for a few seconds saves a
database round trip per request. The price is that a revoked token or a role change takes
effect within ``ttl`` seconds rather than at once.
"""

from __future__ import annotations

import threading
import time

from dutydesk.auth.models import User


class TokenCache:
    def __init__(self, ttl: float = 5.0, maxsize: int = 1024) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._items: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> User | None:
        with self._lock:
            item = self._items.get(token_hash)
            if item is None:
                return None
            if item[1] < time.monotonic():
                del self._items[token_hash]
                return None
            return item[0]

    def put(self, token_hash: str, user: User) -> None:
        with self._lock:
            if len(self._items) >= self.maxsize:
                self._items.clear()  # rare: a burst of distinct tokens; start afresh
            self._items[token_hash] = (user, time.monotonic() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
