"""The domains' live loads for the kiosk's tiles, from the hall event stream through the shared follower.

A thread runs `hall_client.follower.Follower` on its own asyncio loop (never the Kivy thread). `on_queues(queues)`
gets the board state's `queues` (`[{"code", "name", "name_en", "waiting", "estimated_wait_s"}]`, the shape
`Flow.set_domains` takes) after each snapshot and after events that changed a load, at most every `min_interval_s`
(a busy hall changes its loads many times a second) — on the feed's thread: hop to Kivy's (`Clock.schedule_once`)
before touching the UI. Messages are read through the shared schemas.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from hall_client.follower import Follower, SubscriptionRefused
from queue_server.schemas import BoardState, QueueStats, TicketChange, event_data

log = logging.getLogger(__name__)


class QueueFeed:
    """Follows one hall's stream for its queue loads; `start()` and `stop()` from any thread."""

    def __init__(
        self,
        server: str,
        hall: str,
        token: str | None,
        on_queues: Callable[[list[dict[str, Any]]], None],
        *,
        min_interval_s: float = 1.0,
    ) -> None:
        """A feed of `hall` on `server` (http(s):// or ws(s)://) with the kiosk's device token."""
        self.on_queues = on_queues
        self.min_interval_s = min_interval_s
        self._last = float("-inf")
        self._due: asyncio.TimerHandle | None = None
        self.queues: dict[str, dict[str, Any]] = {}  # by code, in the hall's order
        self.follower = Follower(server, hall, token=token, on_snapshot=self._snapshot, on_event=self._event)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="queue-feed", daemon=True)

    def start(self) -> None:
        """Begin following (returns at once)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop following and wait briefly for the thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.follower.stop)
            self._thread.join(5)

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self.follower.run())
        except SubscriptionRefused as exc:
            log.error("the server refused the kiosk's event stream: %s", exc)
        finally:
            self._loop.close()

    def _snapshot(self, msg: dict[str, Any]) -> None:
        try:
            state = BoardState.model_validate(msg["data"])
        except ValidationError:
            log.warning("a snapshot of an unexpected shape; ignored")
            return
        self.queues = {q.code: q.model_dump() for q in state.queues}
        self._publish()

    def _event(self, msg: dict[str, Any]) -> None:
        try:
            data = event_data(msg)
        except ValidationError:
            log.warning("%s event of an unexpected shape; ignored", msg.get("type"))
            return
        if not isinstance(data, TicketChange | QueueStats):
            return
        changed = [load for load in data.queues if load.code in self.queues]
        for load in changed:
            self.queues[load.code] |= {"waiting": load.waiting, "estimated_wait_s": load.estimated_wait_s}
        if changed:
            self._publish()

    def _publish(self) -> None:
        """Hand the loads on now, or once `min_interval_s` has passed since the last time (on the loop)."""
        if self._due is not None:
            return  # already due: it will carry the newest loads
        wait = self._last + self.min_interval_s - time.monotonic()
        if wait <= 0:
            self._emit()
        else:
            self._due = asyncio.get_running_loop().call_later(wait, self._emit)

    def _emit(self) -> None:
        self._due, self._last = None, time.monotonic()
        self.on_queues([dict(q) for q in self.queues.values()])
