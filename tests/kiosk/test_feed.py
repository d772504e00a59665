"""The kiosk's live queue loads (kiosk.feed, through the shared follower) against the live server."""

from __future__ import annotations

import threading
import time
from typing import Any

from kiosk.client import KioskClient

from ..harness import KIOSK, Api


def test_tiles_follow_the_queues_live(api: Api) -> None:
    got: list[list[dict[str, Any]]] = []
    changed = threading.Condition()

    def on_queues(queues: list[dict[str, Any]]) -> None:
        with changed:
            got.append(queues)
            changed.notify_all()

    def wait_for(cond: Any, timeout: float = 10.0) -> None:
        with changed:
            assert changed.wait_for(cond, timeout), got[-1:] or "nothing"

    client = KioskClient(api.server.url, "t1", KIOSK)
    feed = client.queue_feed(on_queues)
    feed.start()
    try:
        wait_for(lambda: bool(got))  # the snapshot's loads
        assert [q["code"] for q in got[-1]] == ["A", "B", "C"] and all(q["waiting"] == 0 for q in got[-1])
        start = time.monotonic()
        for queue in "AABA":
            api.take(queue)
        wait_for(lambda: {q["code"]: q["waiting"] for q in got[-1]} == {"A": 3, "B": 1, "C": 0})
        assert got[-1] == client.queues()  # the same loads as GET …/queues
        times = len(got)
        assert times <= 2 + (time.monotonic() - start) / feed.min_interval_s + 1  # coalesced, not one per event
    finally:
        feed.stop()
        client.close()
    assert not feed._thread.is_alive()
