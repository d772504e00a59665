"""The hall event stream over a websocket: snapshot or replay from `since`, then live events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ...context import HallContext
from ...errors import Unauthorized
from ...events import Subscriber
from ...schemas.events import envelope
from ...services.halls import board_state
from ...services.tx import read_events
from ...store import halls as hall_store
from ...timeutil import utcnow

router = APIRouter()
log = logging.getLogger(__name__)
REPLAY_CHUNK = 1000
MIN_HEARTBEAT_S = 1.0  # the most often a client may ask for a heartbeat


def _frame(ctx: HallContext, hall: str, seq: int, type: str, data: object) -> str:
    at = utcnow().astimezone(ctx.zones[hall]).isoformat()
    return orjson.dumps(envelope(seq, type, at, hall, data)).decode()


class Stream:
    """One subscriber's session: what it has been sent so far, and how to catch it up."""

    def __init__(self, ws: WebSocket, ctx: HallContext, hall: str, sub: Subscriber) -> None:
        self.ws, self.ctx, self.hall, self.sub = ws, ctx, hall, sub
        self.last = 0
        self.want_snapshot = False

    async def snapshot(self) -> None:
        """Send the board state and the `seq` it reflects."""
        seq, state = await self.ctx.read_hall(self.hall, board_state)
        await self.ws.send_text(_frame(self.ctx, self.hall, seq, "snapshot", state))
        self.last = seq

    async def replay(self, until: int | None = None) -> None:
        """Send committed events after `last` (up to `until`, exclusive) from the event table."""
        while True:
            last = self.last

            def read(after: int = last) -> list:
                with self.ctx.db.read() as s:
                    return read_events(s, self.hall, after, until, REPLAY_CHUNK, tz=self.ctx.zones[self.hall])

            events = await asyncio.to_thread(read)
            for ev in events:
                await self.ws.send_text(ev.text)
                self.last = ev.seq
            if len(events) < REPLAY_CHUNK:
                return

    async def start(self, since: int | None) -> None:
        """Begin with a snapshot, or with every event after `since`."""
        if since is None:
            await self.snapshot()
            return
        head = await asyncio.to_thread(self._db_head)
        if since > head:  # the client saw a database that is gone (rebuilt): start over
            await self.snapshot()
            return
        self.last = since
        await self.replay()

    def _db_head(self) -> int:
        with self.ctx.db.read() as s:
            return hall_store.hall_seq(s.connection(), self.hall) or 0

    async def run(self, heartbeat_s: float) -> None:
        """Forward live events; heartbeat when idle; tell an overflowed client to resync."""
        while True:
            if self.want_snapshot:
                self.want_snapshot = False
                await self.snapshot()
            ev = await self.sub.next(heartbeat_s)
            if ev is None:
                if self.sub.overflowed:
                    await self.ws.send_text(
                        _frame(self.ctx, self.hall, self.last, "resync", {"reason": "slow consumer"})
                    )
                    await self.ws.close(code=4008, reason="too slow: reconnect with since")
                    return
                if not self.want_snapshot:
                    await self.ws.send_text(_frame(self.ctx, self.hall, self.last, "heartbeat", {}))
                continue
            if ev.seq <= self.last:
                continue
            if ev.seq > self.last + 1:
                await self.replay(until=ev.seq)
            await self.ws.send_text(ev.text)
            self.last = ev.seq

    async def receive(self) -> None:
        """Read client messages: `{"type": "snapshot"}` asks for a fresh snapshot; anything else is ignored."""
        while True:
            msg = await self.ws.receive()
            if msg["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(msg.get("code", 1000), msg.get("reason"))
            # A binary frame has no "text" (receive_text() would raise KeyError and kill the stream).
            payload = msg.get("text") if msg.get("text") is not None else msg.get("bytes")
            if not payload:
                continue
            with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
                if orjson.loads(payload).get("type") == "snapshot":
                    self.want_snapshot = True
                    self.sub.wake.set()


@router.websocket("/ws/halls/{hall}/events")
async def hall_events(
    ws: WebSocket, hall: str, since: int | None = None, token: str | None = None, heartbeat: float | None = None
) -> None:
    """Websocket: snapshot (or replay after `since`), then live events, heartbeats when idle.

    `heartbeat` (seconds, at least MIN_HEARTBEAT_S): a client that must notice a dead connection quickly (a
    board shows "connection lost" within 5 s) asks for heartbeats this often; never less often than the app's."""
    ctx: HallContext = ws.app.state.ctx
    refusal = await _refusal(ctx, ws, hall, token)
    # Accept before closing: a close sent before the handshake completes reaches the client as a bare
    # HTTP 403, and the client could not tell a wrong hall (4404) from a bad (4401) or foreign (4403) token.
    await ws.accept()
    if refusal is not None:
        await ws.close(code=refusal[0], reason=refusal[1])
        return
    stream = Stream(ws, ctx, hall, ctx.hub.subscribe(hall))
    await serve(stream, stream.start(since), heartbeat_every(ws, heartbeat))


def heartbeat_every(ws: WebSocket, asked: float | None) -> float:
    """Seconds of quiet before a heartbeat: the app's, or what the client asked for (at least MIN_HEARTBEAT_S)."""
    every = ctx_heartbeat(ws)
    if asked is not None and asked == asked:  # not NaN
        every = min(every, max(MIN_HEARTBEAT_S, asked))
    return every


async def serve(stream: Stream, start: Awaitable[None], every: float) -> None:
    """Run a subscribed stream: `start` (its first messages), then live messages (a heartbeat after `every`
    seconds of quiet) while reading the client's; until the client goes. Its mailbox is given back at the end."""
    reader = asyncio.create_task(stream.receive())
    try:
        await start
        runner = asyncio.create_task(stream.run(every))
        done, _ = await asyncio.wait({runner, reader}, return_when=asyncio.FIRST_COMPLETED)
        runner.cancel()
        for t in done:
            exc = t.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                raise exc
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        reader.cancel()
        stream.ctx.hub.unsubscribe(stream.sub)


async def _refusal(ctx: HallContext, ws: WebSocket, hall: str, token: str | None) -> tuple[int, str] | None:
    """Why this connection may not watch the hall (close code and reason), or None when it may."""
    if hall not in ctx.zones:
        return 4404, "no such hall"
    auth = ws.headers.get("authorization", "")
    token = token or (auth[7:] if auth.lower().startswith("bearer ") else None)
    if token:  # boards carry no personal data, so anonymous watching is allowed; a bad token is not
        try:
            who = await ctx.tokens.principal(token)
        except Unauthorized:
            return 4401, "invalid token"
        if not who.in_hall(hall):
            return 4403, "token of another hall"
    return None


def ctx_heartbeat(ws: WebSocket) -> float:
    """Seconds of quiet before a heartbeat (app setting)."""
    return float(getattr(ws.app.state, "heartbeat_s", 15.0))
