"""Per-key sliding-window rate limits for public endpoints (booking, remote tickets).

Kept in the process's memory: with several server processes each counts its own share, so a city
behind a load balancer should divide the limits by the number of processes (or keep them as they are:
they only stop abuse, they do not ration service).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from .errors import TooManyRequests

WINDOW_S = 3600.0


class RateLimiter:
    """Counts calls per key over the last hour."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._now = time.monotonic

    def clear(self) -> None:
        """Forget every count (tests; an operator lifting a block)."""
        with self._lock:
            self._hits.clear()

    def check(self, key: str, *, per_hour: int) -> None:
        """Record a call for `key`; 429 when it already made `per_hour` calls within the hour."""
        now = self._now()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - WINDOW_S:
                hits.popleft()
            if len(hits) >= per_hour:
                wait_min = int((hits[0] + WINDOW_S - now) // 60) + 1
                raise TooManyRequests(
                    f"操作过于频繁，请{wait_min}分钟后再试 / Too many requests; try again in {wait_min} min"
                )
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle keys so memory stays bounded
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW_S]:
                    del self._hits[k]
