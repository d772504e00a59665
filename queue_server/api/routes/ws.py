"""The hall event stream over a websocket: snapshot or replay from `since`, then live events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from ...context import HallContext
from ...errors import Unauthorized
from ...events import HallEvent, Subscriber
from ...schemas.events import envelope
from ...services.halls import board_state
from ...services.tx import read_events
from ...store import halls as hall_store
from ...timeutil import utcnow

router = APIRouter()
log = logging.getLogger(__name__)
REPLAY_CHUNK = 1000
MIN_HEARTBEAT_S = 1.0  # the most often a client may ask for a heartbeat
WIRE_KEY = "queue_server.ws_protocol"  # the scope's key for the websocket server protocol (`RawSocket`)


def _frame(ctx: HallContext, hall: str, seq: int, type: str, data: object) -> str:
    at = utcnow().astimezone(ctx.zones[hall]).isoformat()
    return orjson.dumps(envelope(seq, type, at, hall, data)).decode()


class Wire:
    """Direct writes to a websocket's socket, for the live events of a caught-up stream.

    Hand-written because the ASGI send costs a task wake-up and a trip through Starlette, uvicorn and the
    websockets protocol per frame and subscriber, which at thousands of boards is most of the server's CPU
    (bench/README.md, FANOUT). This writes the event's prebuilt frame (`HallEvent.frame`) to the transport —
    or, when the client negotiated compression, has the connection's own websockets protocol frame it — and
    only while uvicorn's sans-I/O protocol would write at once itself: open, handshake done, not paused for
    a full buffer. Anything else (another websocket implementation, a closing or slow connection) goes the
    ASGI way as before.
    """

    def __init__(self, proto: WebSocketsSansIOProtocol) -> None:
        self.proto = proto
        self.conn = proto.conn
        self.transport = proto.transport
        self.plain = not self.conn.extensions

    @classmethod
    def of(cls, ws: WebSocket) -> Wire | None:
        """The wire under this websocket, when the server is uvicorn's websockets-sansio (see `RawSocket`)."""
        proto = ws.scope.get(WIRE_KEY)
        return cls(proto) if isinstance(proto, WebSocketsSansIOProtocol) else None

    def write(self, ev: HallEvent) -> bool:
        """Write the event's frame now; False (nothing written) when the ASGI path must send it."""
        p = self.proto
        if p.close_sent or p.disconnected or not p.writable.is_set() or self.transport.is_closing():
            return False
        if self.conn.state is not State.OPEN:
            return False
        if self.plain and ev.frame:
            self.transport.write(ev.frame)
        else:
            self.conn.send_text(ev.text.encode())
            self.transport.write(b"".join(self.conn.data_to_send()))
        return True


class RawSocket:
    """ASGI middleware: keeps the websocket server protocol (uvicorn's `send` is its bound method) in the
    scope for `Wire`; passes everything through unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[WIRE_KEY] = getattr(send, "__self__", None)
        await self.app(scope, receive, send)


class Stream:
    """One subscriber's session: what it has been sent so far, and how to catch it up."""

    def __init__(self, ws: WebSocket, ctx: HallContext, hall: str, sub: Subscriber) -> None:
        self.ws, self.ctx, self.hall, self.sub = ws, ctx, hall, sub
        self.last = 0
        self.want_snapshot = False
        self.wire = Wire.of(ws)
        self.loop = asyncio.get_running_loop()
        self.sent_at = self.loop.time()  # when a frame was last sent (a heartbeat is due after quiet)

    def write_now(self, ev: HallEvent) -> bool:
        """The mailbox's `direct`: send the next event at once; False when it cannot (the task will)."""
        if ev.seq <= self.last:
            return True  # already sent (a snapshot or a replay covered it)
        if ev.seq != self.last + 1 or self.wire is None or not self.wire.write(ev):
            return False  # a gap to replay, or a connection to send to the ASGI way
        self.last = ev.seq
        self.sent_at = self.loop.time()
        return True

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
        """Forward live events; heartbeat when idle; tell an overflowed client to resync.

        While nothing is queued the task parks and live events go straight to the socket (`write_now`);
        whatever that cannot send is queued and wakes the task, which sends it here in order."""
        sub = self.sub
        while True:
            if self.want_snapshot:
                self.want_snapshot = False
                await self.snapshot()
                self.sent_at = self.loop.time()
            ev = sub.pop()
            if ev is None:
                if sub.overflowed:
                    await self.ws.send_text(
                        _frame(self.ctx, self.hall, self.last, "resync", {"reason": "slow consumer"})
                    )
                    await self.ws.close(code=4008, reason="too slow: reconnect with since")
                    return
                if self.wire is not None:
                    sub.direct = self.write_now
                try:
                    await sub.wait(self.sent_at + heartbeat_s - self.loop.time())
                finally:
                    sub.direct = None
                if sub.items or sub.overflowed or self.want_snapshot:
                    continue
                if self.loop.time() >= self.sent_at + heartbeat_s:
                    await self.ws.send_text(_frame(self.ctx, self.hall, self.last, "heartbeat", {}))
                    self.sent_at = self.loop.time()
                continue
            if ev.seq <= self.last:
                continue
            if ev.seq > self.last + 1:
                await self.replay(until=ev.seq)
            await self.ws.send_text(ev.text)
            self.last = ev.seq
            self.sent_at = self.loop.time()

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
                    self.sub.direct = None  # events from now on wait for the snapshot (or are covered by it)
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
        stream.sub.direct = None
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
