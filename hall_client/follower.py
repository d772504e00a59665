"""The one event-stream follower in Python (the Kivy board, the kiosk, the evaluator bridge); the web pages' twin
is queue_server/web/shared/stream.js.

`Follower.run()` connects with `websockets.asyncio.client.connect` (reconnecting by itself, with backoff), starts
from the server's snapshot and hands on every event in `seq` order; after a drop or a server restart it
reconnects with `?since=<seq>` so the server replays exactly the events it missed. A gap (an event or a heartbeat
ahead of `seq`), or a handler raising `Resync`, asks the server for a fresh snapshot on the same connection
(`{"type": "snapshot"}`) and ignores events until it comes; a `resync` message or a 4008 close reconnects with
`since`. Every message is checked against the shared envelope (`queue_server.schemas.Envelope`). `stale` is true
while there is no connection and after `heartbeat_timeout` seconds without any message, so a client can show
"connection lost"; a connection that stays silent that long (a dead network closes nothing) is dropped and a new
one resumes with `since`. With `heartbeat=S` the server is asked for a heartbeat after S seconds of quiet
(`?heartbeat=`) instead of its 15 s: a board uses 1.5 s and a timeout of 4 s to show "连接中断" within 5 s.

Threading: `run()` and every handler (`on_snapshot`, `on_event`, `on_stale`) run on the asyncio event loop that
runs `run()`; a handler may be a coroutine function (it is awaited, so events stay in order). Handlers must not
block; a Kivy app hops to its main thread from them (`Clock.schedule_once`). `stop()` must be called from that
loop too (from another thread: `loop.call_soon_threadsafe(follower.stop)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import backoff
from websockets.exceptions import ConnectionClosed
from websockets.uri import parse_uri

from queue_server.schemas import Envelope

log = logging.getLogger(__name__)

FATAL_CLOSE_CODES = frozenset({4401, 4403, 4404})  # bad token, token of another hall, unknown hall
Handler = Callable[[dict[str, Any]], Awaitable[None] | None]


class SubscriptionRefused(Exception):
    """The server refused the stream for good (bad token, token of another hall, unknown hall)."""


class Resync(Exception):
    """Raised by an event handler that cannot apply the event exactly: the follower fetches a fresh snapshot."""


def ws_base(server: str) -> str:
    """The websocket base of an HTTP(S) server URL (`http://h:8000` → `ws://h:8000`)."""
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if server.startswith(http):
            return ws + server[len(http) :]
    return server


class Follower:
    """Follows one hall's event stream: `on_snapshot(msg)` for each snapshot, `on_event(msg)` for each event.

    `url_base` is the server's websocket (or HTTP) base, e.g. `ws://127.0.0.1:8000`; `token` a device or staff
    token (optional: the stream is public). `on_stale(stale)` is called when `stale` flips. `max_backoff` caps
    the reconnect delay. With `resume=False` a reconnection starts from a fresh snapshot instead of replaying
    what was missed (for a client that reacts to what happens now, like the evaluator bridge). `heartbeat`:
    ask the server for heartbeats this often (seconds) on a quiet stream; keep `heartbeat_timeout` a few of them.
    """

    def __init__(
        self,
        url_base: str,
        hall: str,
        *,
        token: str | None = None,
        on_snapshot: Handler | None = None,
        on_event: Handler | None = None,
        on_stale: Callable[[bool], None] | None = None,
        heartbeat_timeout: float = 30.0,
        max_backoff: float = 10.0,
        open_timeout: float = 5.0,
        resume: bool = True,
        heartbeat: float | None = None,
    ) -> None:
        self.resume = resume  # False: every connection starts from a snapshot (for live reactions, not state)
        self.url_base = ws_base(url_base.rstrip("/"))
        self.hall = hall
        self.token = token
        self.on_snapshot = on_snapshot
        self.on_event = on_event
        self.on_stale = on_stale
        self.heartbeat_timeout = heartbeat_timeout
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout
        self.heartbeat = heartbeat
        self.seq: int | None = None  # the last event handed on (or the snapshot's)
        self.connections = 0  # successful connections so far (1 + reconnects)
        self.connection: ClientConnection | None = None  # the current one, if any
        self._last_traffic: float | None = None
        self._stale_reported = True
        self._stopping = False
        self._awaiting_snapshot = False
        self._runner: asyncio.Task[Any] | None = None

    @property
    def stale(self) -> bool:
        """True before the first message, without a connection, and after `heartbeat_timeout` s without a message."""
        return self.connection is None or self._silent()

    def _silent(self) -> bool:
        return self._last_traffic is None or time.monotonic() - self._last_traffic > self.heartbeat_timeout

    def url(self) -> str:
        """The stream URL for the next connection: with `since` once something was received (if resuming)."""
        params: dict[str, str] = {}
        if self.seq is not None and self.resume:
            params["since"] = str(self.seq)
        if self.token:
            params["token"] = self.token
        if self.heartbeat is not None:
            params["heartbeat"] = f"{self.heartbeat:g}"
        query = urllib.parse.urlencode(params)
        return f"{self.url_base}/ws/halls/{urllib.parse.quote(self.hall)}/events" + (f"?{query}" if query else "")

    def stop(self) -> None:
        """Ask `run()` to return: closes the current connection and stops reconnecting."""
        self._stopping = True
        if self.connection is not None:
            asyncio.get_running_loop().create_task(self.connection.close())
        elif self._runner is not None:
            self._runner.cancel()  # connecting or waiting to reconnect

    async def run(self) -> None:
        """Follow the stream until `stop()`; raises `SubscriptionRefused` on a 4401/4403/4404 close."""
        self._stopping = False
        self._runner = asyncio.current_task()
        watchdog = asyncio.create_task(self._watch())
        connector = connect(self.url(), open_timeout=self.open_timeout, max_size=None, reconnect_delays=self._delays)
        try:
            async for ws in connector:
                self.connection = ws
                self.connections += 1
                self._last_traffic = time.monotonic()  # a new connection gets a whole timeout to speak
                try:
                    await self._follow(ws)
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd is not None else None
                    if code in FATAL_CLOSE_CODES:
                        raise SubscriptionRefused(f"stream refused: close code {code}") from exc
                    log.info("stream closed (%s); resuming", code)
                finally:
                    self.connection = None
                    self._report_stale()
                if self._stopping:
                    break
                # The next connection resumes after the last event handed on.
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
            try:
                msg: dict[str, Any] = Envelope.model_validate(json.loads(raw)).model_dump()
            except (ValueError, ValidationError):
                log.warning("not a stream message; ignored")
                continue
            kind, seq = msg["type"], int(msg["seq"])
            if kind == "heartbeat":  # carries the last seq the server sent: behind it, something was lost
                if self.seq is not None and seq > self.seq:
                    await self._request_snapshot(ws, f"heartbeat at {seq}, stream at {self.seq}")
                continue
            if kind == "snapshot":
                self._awaiting_snapshot = False
                self.seq = seq
                await self._hand(self.on_snapshot, msg, ws)
                continue
            if kind == "resync":  # the server closes with 4008 next; reconnect with since
                log.info("server asked for a resync: %s", msg.get("data"))
                continue
            if self.seq is None or self._awaiting_snapshot or seq <= self.seq:
                continue
            if seq > self.seq + 1:
                await self._request_snapshot(ws, f"event seq {seq} does not follow {self.seq}")
                continue
            self.seq = seq
            await self._hand(self.on_event, msg, ws)

    async def _hand(self, handler: Handler | None, msg: dict[str, Any], ws: ClientConnection) -> None:
        """Call a handler (awaiting a coroutine); its `Resync` asks for a fresh snapshot."""
        if handler is None:
            return
        try:
            result = handler(msg)
            if inspect.isawaitable(result):
                await result
        except Resync as exc:
            await self._request_snapshot(ws, str(exc) or "the client asked for a resync")

    async def _request_snapshot(self, ws: ClientConnection, why: str) -> None:
        """Ask for a fresh snapshot on this connection; events are ignored until it comes."""
        if self._awaiting_snapshot:
            return
        log.warning("%s; asking for a snapshot", why)
        self._awaiting_snapshot = True
        await ws.send(json.dumps({"type": "snapshot"}))

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
        """Report `stale` flips while no message comes; drop a connection that stays silent (reconnects)."""
        while True:
            await asyncio.sleep(min(0.25, self.heartbeat_timeout / 4))
            self._report_stale()
            ws = self.connection
            if ws is not None and self._silent() and not self._stopping:
                log.warning("no message for %.1f s: dropping the connection", self.heartbeat_timeout)
                self._last_traffic = time.monotonic()  # one timeout per attempt
                ws.transport.abort()  # a dead network never completes a closing handshake
