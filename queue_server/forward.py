"""Take a number forwarded to the hall's owner process (`hall serve --workers N`, PostgreSQL).

Why: with several processes, each one's writer (writer.py) locks a hall's row `FOR UPDATE` for its batch, so
two processes issuing in one hall take the lock in turn and each batch waits for the other's, across network
waits and Python work. Here each hall has an owner worker (`owner_of`); a worker that receives a take-a-number
for a hall it does not own checks the request as always (auth, body, lane rules: api/routes/tickets.py) and
sends the change's arguments to the owner over a unix socket; the owner submits it to its writer as a local
request and sends back the answer (status, headers, body). All of a hall's take-a-number batches are then one
process's: larger batches and no lock waits between processes for them. Every other change stays where it is
received and takes the hall lock as before, so correctness never depends on this channel.

Failure: a change the owner cannot have received (no connection: the owner is restarting, its socket is gone;
or a connection already closed before the write) runs locally, which is correct anyway (the hall lock). A change
written to a connection that then breaks may have committed: its caller gets 503 like a writer timeout, and a
kiosk's retry with its idempotency key gets the first ticket. An owner that is stopping answers `NOT_TAKEN`
for what it will not run, and that runs locally.

Security: the sockets are in `<var_dir>/forward/` (mode 0700, the sockets 0600): only the server's own user
connects. The messages hold phone and ID numbers: never logged.

Frames: a request is `!II` (length of the rest, request id) and orjson `[hall, public_url, kwargs]`; an answer
is `!IIHqH` (length of the rest, request id, status, ticket id or -1, length of the headers' JSON), the
headers' JSON (errors only: the application's own exception handler's headers) and the body. Many requests
are in flight on one connection (one per pair of workers and direction).

Cost: both ends are asyncio protocols that parse frames as their bytes arrive (no coroutine per read), and each
writes what is ready in one loop iteration with one `write`: the owner a batch's answers (a writer batch settles
its changes in one loop callback, writer.py `_settle_all`), the forwarder the requests of the kiosks whose next
press arrived together.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import struct
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import orjson
from starlette.responses import Response

from .api.schemas import TicketIssued
from .errors import Unavailable
from .schemas.ticket import track_url
from .services import issuing
from .services.ticketing import TicketOut
from .writer import BUSY, TIMEOUT_S

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .context import HallContext

log = logging.getLogger(__name__)

_REQ = struct.Struct("!II")
_ANS = struct.Struct("!IIHqH")
NOT_TAKEN = 0  # the owner did not run the change (it is stopping): run it locally
FAILED = 1  # the owner's change raised what no exception handler answers: a 500, as a local request
RECONNECT_AFTER_S = 1.0  # after a failed connect, run locally this long before trying the owner again
ANSWER_WAIT_S = TIMEOUT_S + 5.0  # the owner's writer answers 503 itself after TIMEOUT_S
MAX_FRAME = 1 << 20
SUN_PATH_MAX = 107  # the longest unix socket path Linux takes (108 bytes with the NUL)


def owner_of(hall: str, workers: int) -> int:
    """The index of the worker that writes `hall`'s tickets: the same function in every process."""
    return zlib.crc32(hall.encode()) % workers


def issued(o: TicketOut, tz: ZoneInfo, public_url: str) -> tuple[int, bytes]:
    """A take-a-number's answer, status and JSON body: the same whichever process wrote it."""
    return 201 if o.created else 200, TicketIssued.issued_json(o, tz, track_url(public_url, o.ticket.track_token))


def socket_path(var_dir: Path, index: int) -> Path:
    """Where worker `index` listens for forwarded changes."""
    return var_dir / "forward" / f"worker-{index}.sock"


class Forwarding:
    """One worker's end of the channel: its own listening socket (as the owner) and a connection to each
    other worker (as a forwarder), opened on first use."""

    def __init__(self, ctx: HallContext, app: FastAPI, index: int, workers: int) -> None:
        self.ctx, self.app, self.index, self.workers = ctx, app, index, workers
        self.peers = {i: _Peer(socket_path(ctx.var_dir, i)) for i in range(workers) if i != index}
        self.path = socket_path(ctx.var_dir, index)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ends: set[_OwnerEnd] = set()
        self._stopping = False

    @staticmethod
    def usable(var_dir: Path, workers: int) -> bool:
        """Whether every worker's socket path fits a unix socket address (else the server forwards nothing)."""
        return len(os.fsencode(socket_path(var_dir, workers - 1))) <= SUN_PATH_MAX

    def owns(self, hall: str) -> bool:
        return owner_of(hall, self.workers) == self.index

    async def start(self) -> None:
        folder = self.path.parent
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # an existing folder keeps its old mode through mkdir
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by this worker's predecessor (killed): nobody listens there any more
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _OwnerEnd(self), path=str(self.path))
        self.path.chmod(0o600)

    async def stop(self) -> None:
        """Stop taking changes: those running are answered, later ones are answered `NOT_TAKEN`."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        for end in list(self._ends):
            end.close()
        for peer in self.peers.values():
            peer.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def issue(self, hall: str, public_url: str, kwargs: dict[str, Any]) -> Response | None:
        """The owner's answer to the take-a-number (`issuing.issue_staged`'s keyword arguments), or None:
        the owner cannot have received it, run it here."""
        peer = self.peers[owner_of(hall, self.workers)]
        answer = await peer.send(orjson.dumps([hall, public_url, kwargs]))
        if answer is None:
            return None
        status, ticket, headers, body = answer
        if status == NOT_TAKEN:
            return None
        if status == FAILED:
            raise RuntimeError("the forwarded take-a-number failed in the owner process")
        response = Response(body, status_code=status, media_type="application/json")
        if headers:  # an error: the owner's exception handler's headers (Retry-After ...), as a local answer's
            response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        elif ticket >= 0:
            self.ctx.remember_ticket(ticket, hall)  # its window's next action here skips a read
        return response

    def _take(self, rid: int, payload: bytes, end: _OwnerEnd) -> None:
        """A request read from a peer: run as its own task, answered when its change is."""
        if self._stopping:
            end.answer(_ANS.pack(_ANS.size - 4, rid, NOT_TAKEN, -1, 0))
            return
        task = asyncio.create_task(self._answer(rid, payload, end))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, rid: int, payload: bytes, end: _OwnerEnd) -> None:
        status, ticket, headers, body = await self._run(payload)
        end.answer(
            _ANS.pack(len(headers) + len(body) + _ANS.size - 4, rid, status, ticket, len(headers)) + headers + body
        )

    async def _run(self, payload: bytes) -> tuple[int, int, bytes, bytes]:
        """The change run as a local request's (api/routes/tickets.py `issue_ticket`): status, ticket id,
        headers (errors), body."""
        hall, base, kwargs = orjson.loads(payload)
        ctx = self.ctx
        try:
            o = await ctx.change_staged(hall, lambda tx: issuing.issue_staged(tx, **kwargs))
        except Exception as exc:
            from .api.fast import _handler

            handler = _handler(self.app, exc)
            if handler is None:
                log.exception("forwarded take-a-number in hall %s failed", hall)
                return FAILED, -1, b"", b""
            response = await handler(None, exc)  # the app's handlers read the exception only
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
            return response.status_code, -1, orjson.dumps(headers), bytes(response.body)
        status, body = issued(o, ctx.zones[hall], base)
        return status, o.ticket.id or -1, b"", body


def _frames(buf: bytearray, head: struct.Struct) -> list[tuple[tuple[Any, ...], bytes]]:
    """The whole frames at the start of `buf` (each its head's fields and the rest), removed from it. Raises
    ValueError at a length no frame has (the peer is not this server: the connection is dropped)."""
    frames = []
    at = 0
    while len(buf) - at >= head.size:
        fields = head.unpack_from(buf, at)
        if fields[0] < head.size - 4 or fields[0] > MAX_FRAME:
            raise ValueError("frame length")
        end = at + 4 + fields[0]
        if len(buf) < end:
            break
        frames.append((fields, bytes(buf[at + head.size : end])))
        at = end
    del buf[:at]
    return frames


class _OwnerEnd(asyncio.Protocol):
    """A peer's connection at the owner: requests parsed as they arrive; the answers ready in one loop
    iteration written together (one `write` for a batch's answers)."""

    def __init__(self, forwarding: Forwarding) -> None:
        self.forwarding = forwarding
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio's subclasses
        self.forwarding._ends.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.forwarding._ends.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        try:
            for (_, rid), payload in _frames(self.buf, _REQ):
                self.forwarding._take(rid, payload, self)
        except ValueError:
            self.close()

    def answer(self, frame: bytes) -> None:
        """Queue an answer; the first of a loop iteration schedules the write of them all."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self.out:
            asyncio.get_running_loop().call_soon(self._flush)
        self.out.append(frame)

    def _flush(self) -> None:
        out, self.out = self.out, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))

    def close(self) -> None:
        """Close after writing the answers queued (a stopping owner's last ones)."""
        if self.transport is not None:
            if self.out:
                self._flush()
            self.transport.close()


_Answer = tuple[int, int, list[list[str]], bytes]  # status, ticket id, headers, body


class _Conn(asyncio.Protocol):
    """One connection to a peer and the requests in flight on it: the requests of one loop iteration written
    together, answers parsed as they arrive."""

    def __init__(self, peer: _Peer) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.pending: dict[int, asyncio.Future[_Answer | None]] = {}
        self.out: list[bytes] = []  # requests not written yet, and their answers' futures
        self.unsent: list[asyncio.Future[_Answer | None]] = []
        self.closed = False

    def usable(self) -> bool:
        """Open both ways: the owner's end has not been seen closing (EOF or a broken connection)."""
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def request(self, rid: int, frame: bytes) -> asyncio.Future[_Answer | None]:
        """Queue a request; the first of a loop iteration schedules the write of them all. Its future gets the
        answer, or None when it was not sent."""
        loop = asyncio.get_running_loop()
        future = self.pending[rid] = loop.create_future()
        if not self.out:
            loop.call_soon(self._flush)
        self.out.append(frame)
        self.unsent.append(future)
        return future

    def _flush(self) -> None:
        out, unsent, self.out, self.unsent = self.out, self.unsent, [], []
        transport = self.transport
        if not out or transport is None:
            return
        if self.closed or transport.is_closing():
            _not_sent(unsent)
            return
        idle = transport.get_write_buffer_size() == 0
        transport.write(b"".join(out))
        if idle and transport.is_closing():  # the send itself failed (EPIPE: the owner's end is closed): nothing
            _not_sent(unsent)  # of it went out, as when the connection was found closed before

    def data_received(self, data: bytes) -> None:
        self.buf += data
        try:
            for (_, rid, status, ticket, hlen), rest in _frames(self.buf, _ANS):
                future = self.pending.get(rid)
                if future is not None and not future.done():
                    headers = orjson.loads(rest[:hlen]) if hlen else []
                    future.set_result((status, ticket, headers, rest[hlen:]))
        except ValueError:
            self.close()

    def eof_received(self) -> bool:
        self.closed = True
        return False  # the transport closes itself: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.peer.conn is self:
            self.peer.conn = None
        _not_sent(self.unsent)
        self.out, self.unsent = [], []
        # what was written on this connection may have been received and committed: the callers answer 503
        for future in self.pending.values():
            if not future.done():
                future.set_exception(Unavailable(BUSY))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _not_sent(futures: list[asyncio.Future[_Answer | None]]) -> None:
    """Requests that never went out: their callers run them locally."""
    for future in futures:
        if not future.done():
            future.set_result(None)


def _expire(future: asyncio.Future[_Answer | None]) -> None:
    if not future.done():
        future.set_exception(Unavailable(BUSY))


class _Peer:
    """The connection to one other worker, opened on first use and again after it breaks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: _Conn | None = None
        self.ids = itertools.count(1)
        self.down_until = 0.0
        self._connecting = asyncio.Lock()

    async def send(self, message: bytes) -> _Answer | None:
        """Send a request and wait for its answer; None when it was not sent (no connection)."""
        conn = self.conn
        if conn is None or not conn.usable():
            conn = await self._connected()
            if conn is None:
                return None
        rid = next(self.ids) & 0xFFFFFFFF
        future = conn.request(rid, _REQ.pack(len(message) + 4, rid) + message)
        # the owner's writer answers 503 itself before this
        timer = asyncio.get_running_loop().call_later(ANSWER_WAIT_S, _expire, future)
        try:
            return await future
        finally:
            timer.cancel()
            del conn.pending[rid]

    async def _connected(self) -> _Conn | None:
        async with self._connecting:
            conn = self.conn
            if conn is not None and conn.usable():
                return conn
            self.conn = None
            if time.monotonic() < self.down_until:
                return None
            loop = asyncio.get_running_loop()
            try:
                transport, made = await asyncio.wait_for(
                    loop.create_unix_connection(lambda: _Conn(self), str(self.path)), 1.0
                )
            except (OSError, TimeoutError):  # no socket, nobody listening (restarting), or too slow
                self.down_until = time.monotonic() + RECONNECT_AFTER_S
                return None
            made.transport = transport  # uvloop calls `connection_made` later, in a callback of its own
            self.conn = made
            return made

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
