"""A short-lived cache of verified bearer tokens.

Every API call authenticates; remembering a verified token for a moment saves a database
round trip per request. The price is that a revoked token, a deactivated user or a role
change made on another replica takes effect within ``ttl`` seconds (half a second: the
promise is "within a second"); the replica that made the change clears its own cache at once.
A token's own expiry is honoured exactly.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from dutydesk.auth.models import User


class TokenCache:
    def __init__(self, ttl: float = 0.5, maxsize: int = 1024) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._items: dict[str, tuple[User, float, datetime | None]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str, now: datetime) -> User | None:
        with self._lock:
            item = self._items.get(token_hash)
            if item is None:
                return None
            user, deadline, expires_at = item
            if deadline < time.monotonic() or (expires_at is not None and expires_at <= now):
                del self._items[token_hash]
                return None
            return user

    def put(self, token_hash: str, user: User, expires_at: datetime | None = None) -> None:
        with self._lock:
            if len(self._items) >= self.maxsize:
                self._items.clear()  # rare: a burst of distinct tokens; start afresh
            self._items[token_hash] = (user, time.monotonic() + self.ttl, expires_at)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
