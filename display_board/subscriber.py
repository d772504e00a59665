"""The board's websocket client: snapshot, then events folded by the reducer, resuming after every drop.

`Subscriber.run()` connects with `websockets.asyncio.client.connect` (reconnecting by itself, with backoff),
starts from the server's snapshot and, after a drop or a server restart, reconnects with `?since=<seq>` so
the server replays exactly the events it missed. On a `Gap` (or `SnapshotNeeded`, or a heartbeat whose `seq`
is ahead of the state) it asks the server for a fresh snapshot on the same connection (`{"type": "snapshot"}`)
and ignores events until it arrives; on a `resync` message or a 4008 close it reconnects with `since`.
`stale` turns true after `heartbeat_timeout` seconds without any message (events or the server's
heartbeats), so a board can show "connection lost" instead of stale certainty.

Threading: `run()` and every callback (`on_state`, `on_stale`) run on the asyncio event loop that runs
`run()`. Callbacks must be quick and must not block; a Kivy app hops to its main thread from them (for
example with `kivy.clock.Clock.schedule_once`). `stop()` must be called from that loop too (from another
thread use `loop.call_soon_threadsafe(sub.stop)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Generator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import backoff
from websockets.exceptions import ConnectionClosed
from websockets.uri import parse_uri

from .state import BoardState, Gap, apply, from_snapshot

log = logging.getLogger(__name__)

FATAL_CLOSE_CODES = frozenset({4401, 4403, 4404})  # bad token, token of another hall, unknown hall


class SubscriptionRefused(Exception):
    """The server refused the stream for good (bad token, token of another hall, unknown hall)."""


class Subscriber:
    """Follows one hall's event stream and keeps its `BoardState` current.

    `url_base` is the server's websocket base, e.g. `ws://127.0.0.1:8000`; `token` a display device token
    (optional: the stream is public). `on_state(state)` is called after every snapshot and every event that
    changed the state; `on_stale(stale)` when `stale` flips. `max_backoff` caps the reconnect delay.
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
    ) -> None:
        self.url_base = url_base.rstrip("/")
        self.hall = hall
        self.token = token
        self.on_state = on_state
        self.on_stale = on_stale
        self.heartbeat_timeout = heartbeat_timeout
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout
        self.state: BoardState | None = None
        self.connections = 0  # successful connections so far (1 + reconnects)
        self._last_traffic: float | None = None
        self._stale_reported = True
        self._stopping = False
        self._ws: ClientConnection | None = None
        self._awaiting_snapshot = False
        self._runner: asyncio.Task[Any] | None = None

    @property
    def stale(self) -> bool:
        """True before the first message and after `heartbeat_timeout` seconds without any."""
        return self._last_traffic is None or time.monotonic() - self._last_traffic > self.heartbeat_timeout

    def url(self) -> str:
        """The stream URL for the next connection: with `since` once a state is held."""
        params: dict[str, str] = {}
        if self.state is not None:
            params["since"] = str(self.state.seq)
        if self.token:
            params["token"] = self.token
        query = urllib.parse.urlencode(params)
        return f"{self.url_base}/ws/halls/{urllib.parse.quote(self.hall)}/events" + (f"?{query}" if query else "")

    def stop(self) -> None:
        """Ask `run()` to return: closes the current connection and stops reconnecting."""
        self._stopping = True
        if self._ws is not None:
            asyncio.get_running_loop().create_task(self._ws.close())
        elif self._runner is not None:
            self._runner.cancel()  # connecting or waiting to reconnect

    async def run(self) -> None:
        """Follow the stream until `stop()`; raises `SubscriptionRefused` on a 4401/4403/4404 close."""
        self._stopping = False
        self._runner = asyncio.current_task()
        watchdog = asyncio.create_task(self._watch())
        connector = connect(
            self.url(),
            open_timeout=self.open_timeout,
            max_size=None,
            reconnect_delays=self._delays,
        )
        try:
            async for ws in connector:
                self._ws = ws
                self.connections += 1
                try:
                    await self._follow(ws)
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd is not None else None
                    if code in FATAL_CLOSE_CODES:
                        raise SubscriptionRefused(f"stream refused: close code {code}") from exc
                    log.info("stream closed (%s); resuming", code)
                finally:
                    self._ws = None
                if self._stopping:
                    break
                # The next connection resumes after the last event applied.
                connector.uri = self.url()
                connector.ws_uri = parse_uri(connector.uri)
                await asyncio.sleep(0.05)  # never spin if a server keeps closing right after accepting
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        finally:
            self._runner = None
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    def _delays(self) -> Generator[float]:
        return backoff(initial_delay=0.2, min_delay=0.2, max_delay=self.max_backoff, factor=1.6)

    async def _follow(self, ws: ClientConnection) -> None:
        """Read one connection until it closes (raises `ConnectionClosed`) or `stop()`."""
        self._awaiting_snapshot = False
        async for raw in ws:
            self._touch()
            msg: dict[str, Any] = json.loads(raw)
            kind = msg.get("type")
            if kind == "heartbeat":  # carries the last seq the server sent: behind it, something was lost
                if self.state is not None and not self._awaiting_snapshot and int(msg["seq"]) > self.state.seq:
                    await self._request_snapshot(ws, f"heartbeat at {msg['seq']}, state at {self.state.seq}")
                continue
            if kind == "snapshot":
                self._awaiting_snapshot = False
                self._set(from_snapshot(int(msg["seq"]), msg["data"]))
                continue
            if kind == "resync":  # the server closes with 4008 next; reconnect with since
                log.info("server asked for a resync: %s", msg.get("data"))
                continue
            if self.state is None or self._awaiting_snapshot:
                continue
            try:
                new = apply(self.state, msg)
            except Gap as gap:
                await self._request_snapshot(ws, str(gap))
                continue
            if new is not self.state:
                self._set(new)

    async def _request_snapshot(self, ws: ClientConnection, why: str) -> None:
        """Ask for a fresh snapshot on this connection; events are ignored until it comes."""
        log.warning("%s; asking for a snapshot", why)
        self._awaiting_snapshot = True
        await ws.send(json.dumps({"type": "snapshot"}))

    def _set(self, state: BoardState) -> None:
        self.state = state
        if self.on_state is not None:
            self.on_state(state)

    def _touch(self) -> None:
        self._last_traffic = time.monotonic()
        self._report_stale()

    def _report_stale(self) -> None:
        stale = self.stale
        if stale != self._stale_reported:
            self._stale_reported = stale
            if self.on_stale is not None:
                self.on_stale(stale)

    async def _watch(self) -> None:
        """Report `stale` flips while no message comes."""
        while True:
            await asyncio.sleep(min(0.25, self.heartbeat_timeout / 4))
            self._report_stale()
