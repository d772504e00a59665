"""Estimated waiting time: a pure function of the queue's recent service times and open windows."""

from __future__ import annotations

import math
from collections.abc import Iterable

# Moving average weight of the newest service time, and the bounds a single observation is clamped to
# (a ticket completed by mistake in 2 s or left open over lunch must not swing the estimate).
EWMA_ALPHA = 0.2
MIN_SERVICE_S = 20.0
MAX_SERVICE_S = 3600.0


def capacity(queue: str, windows: Iterable[tuple[tuple[str, ...], bool]]) -> float:
    """Windows' worth of capacity for a queue: each open window serving k queues gives 1/k."""
    total = 0.0
    for queues, is_open in windows:
        if is_open and queue in queues:
            total += 1.0 / len(queues)
    return total


def estimated_wait_s(ahead: int, avg_service_s: float, capacity: float, configured: int) -> int:
    """Seconds until a ticket with `ahead` people before it is called.

    With no window open for the queue right now, assume one window's worth will open (the hall is
    open; a clerk is about to sit down) rather than reporting an infinite wait. `configured` (how
    many windows could serve the queue at all) is kept for callers that want to show "no window".
    """
    if ahead <= 0:
        return 0
    cap = capacity if capacity > 0 else 1.0
    # A window serves at most ~100 queues; below that share the figure means nothing.
    return math.ceil(ahead * avg_service_s / max(cap, 0.01))


def updated_average(avg: float, observed_s: float) -> float:
    """Fold one observed service time into the queue's moving average."""
    x = min(max(observed_s, MIN_SERVICE_S), MAX_SERVICE_S)
    return (1 - EWMA_ALPHA) * avg + EWMA_ALPHA * x
