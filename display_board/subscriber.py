"""The Kivy board's stream client: the shared follower (`hall_client.follower`) feeding the board reducer.

`Subscriber.run()` follows the hall stream (snapshot, events in order, resume with `since`, resync on a gap) and
keeps `state`, a `BoardState`: each snapshot starts it afresh (`from_snapshot`), each event is folded in
(`apply`); when the reducer cannot follow (`Gap`, `SnapshotNeeded`) the follower fetches a fresh snapshot.
`on_state(state)` is called after every snapshot and every event that changed the state, `on_stale(stale)` when
the connection-lost mark flips — both on the loop that runs `run()` (see `hall_client.follower`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hall_client.follower import Follower, Resync, SubscriptionRefused

from .state import BoardState, Gap, apply, from_snapshot

__all__ = ["Subscriber", "SubscriptionRefused"]


class Subscriber:
    """Follows one hall's event stream and keeps its `BoardState` current.

    `url_base` is the server's websocket base, e.g. `ws://127.0.0.1:8000`; `token` a display device token
    (optional: the stream is public). `max_backoff` caps the reconnect delay.
    """

    def __init__(
        self,
        url_base: str,
        hall: str,
        token: str | None = None,
        on_state: Callable[[BoardState], None] | None = None,
        heartbeat_timeout: float = 30.0,
        *,
        on_stale: Callable[[bool], None] | None = None,
        max_backoff: float = 10.0,
        open_timeout: float = 5.0,
        heartbeat: float | None = None,
    ) -> None:
        self.on_state = on_state
        self.state: BoardState | None = None
        self.follower = Follower(
            url_base,
            hall,
            token=token,
            on_snapshot=self._snapshot,
            on_event=self._event,
            on_stale=on_stale,
            heartbeat_timeout=heartbeat_timeout,
            max_backoff=max_backoff,
            open_timeout=open_timeout,
            heartbeat=heartbeat,
        )

    @property
    def stale(self) -> bool:
        """True before the first connection, without one, and after `heartbeat_timeout` s without a message."""
        return self.follower.stale

    @property
    def connections(self) -> int:
        """Successful connections so far (1 + reconnects)."""
        return self.follower.connections

    def url(self) -> str:
        """The stream URL for the next connection."""
        return self.follower.url()

    def stop(self) -> None:
        """Ask `run()` to return (call on the loop that runs it)."""
        self.follower.stop()

    async def run(self) -> None:
        """Follow the stream until `stop()`; raises `SubscriptionRefused` on a 4401/4403/4404 close."""
        await self.follower.run()

    def _snapshot(self, msg: dict[str, Any]) -> None:
        self._set(from_snapshot(int(msg["seq"]), msg["data"]))

    def _event(self, msg: dict[str, Any]) -> None:
        if self.state is None:
            return
        try:
            new = apply(self.state, msg)
        except Gap as gap:  # SnapshotNeeded too
            raise Resync(str(gap)) from None
        if new is not self.state:
            self._set(new)

    def _set(self, state: BoardState) -> None:
        self.state = state
        if self.on_state is not None:
            self.on_state(state)
