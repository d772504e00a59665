"""The load drivers: a lean raw-HTTP/1.1 keep-alive client (asyncio streams), wrk with bench/issue.lua, the
windows' call-next loops, and the websocket boards of `subscribers` (run in `subscribers-client` processes)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import resource
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import CLERK, HALL, KIOSK_TOKEN, LUA, latency_summary, raise_fd_limit

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class Conn:
    """One keep-alive connection to the server."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Conn:
        """Connect (TCP_NODELAY is asyncio's default)."""
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    def close(self) -> None:
        """Close the socket."""
        if self.writer is not None:
            self.writer.close()

    def prepare(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        """The bytes of one request, built once and sent many times."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send a prepared request; return (status, body)."""
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        m = _CONTENT_LENGTH.search(head)
        if m is None:
            if status in (204, 304) or 100 <= status < 200:
                return status, b""
            raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
        n = int(m.group(1))
        return status, (await self.reader.readexactly(n)) if n else b""

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        """Build and send one request."""
        return await self.send(self.prepare(method, path, headers, body))


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


def run_async(coro: Any) -> Any:
    """Run a coroutine on a fresh (uv)loop."""
    loop = _new_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


KIOSK_HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KIOSK_TOKEN}"}


async def login(port: int, user: tuple[str, str] = CLERK) -> str:
    """A bearer token of `user` (username, password): the clerk's by default."""
    c = await Conn(port).open()
    try:
        body = f"username={user[0]}&password={user[1]}".encode()
        st, raw = await c.request(
            "POST", "/api/v1/auth/token", {"Content-Type": "application/x-www-form-urlencoded"}, body
        )
        if st != 200:
            raise RuntimeError(f"login failed: {st} {raw[:200]!r}")
        return str(json.loads(raw)["access_token"])
    finally:
        c.close()


async def issue_many(port: int, n: int, queues: list[str], concurrency: int = 16) -> Counter[str]:
    """Issue n tickets over HTTP (round-robin over queues); returns how many per queue."""
    issued: Counter[str] = Counter()
    path = f"/api/v1/halls/{HALL}/tickets"
    counter = iter(range(n))

    async def worker() -> None:
        c = await Conn(port).open()
        reqs = [c.prepare("POST", path, KIOSK_HEADERS, json.dumps({"queue": q}).encode()) for q in queues]
        try:
            for i in counter:
                st, raw = await c.send(reqs[i % len(reqs)])
                if st != 201:
                    raise RuntimeError(f"pre-issue failed: {st} {raw[:200]!r}")
                issued[queues[i % len(queues)]] += 1
        finally:
            c.close()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, max(n, 1)))))
    return issued


def wrk_run(port: int, clients: int, seconds: float, queues: list[str]) -> dict[str, Any]:
    """One closed-loop wrk run; returns its parsed summary plus wrk's own CPU time."""
    url = f"http://127.0.0.1:{port}/api/v1/halls/{HALL}/tickets"
    dur = max(1, round(seconds))
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{dur}s", "--timeout", "30s", "-s", str(LUA), url, "--", ",".join(queues)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ | {"LC_ALL": "C"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    d: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    d["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return d


def wrk_level(d: dict[str, Any]) -> dict[str, Any]:
    """A wrk summary in the shape of the results."""
    secs = d["duration_us"] / 1e6
    statuses = {str(k): int(v) for k, v in d["statuses"].items()}
    ok = statuses.get("201", 0)
    lat = {k: v / 1000.0 for k, v in d["latency_us"].items()}
    socket_errors = sum(v for k, v in d["errors"].items() if k != "status")
    return {
        "duration_s": secs,
        "requests": d["requests"],
        "ok": ok,
        "throughput": ok / secs,
        "latency_ms": lat,
        "statuses": statuses,
        "socket_errors": socket_errors,
        "loadgen_cpu_s": d["cpu_s"],
    }


async def asyncio_issue(port: int, clients: int, seconds: float, queues: list[str]) -> dict[str, Any]:
    """Closed-loop issuance with the raw asyncio client; per-request latency."""
    path = f"/api/v1/halls/{HALL}/tickets"
    conns = [await Conn(port).open() for _ in range(clients)]
    lat: list[float] = []
    statuses: Counter[str] = Counter()
    cpu0 = time.process_time()
    t_start = time.perf_counter()
    deadline = t_start + seconds

    async def client(i: int, c: Conn) -> None:
        reqs = [c.prepare("POST", path, KIOSK_HEADERS, json.dumps({"queue": q}).encode()) for q in queues]
        k = i
        pc = time.perf_counter
        while pc() < deadline:
            t0 = pc()
            st, _ = await c.send(reqs[k % len(reqs)])
            lat.append(pc() - t0)
            statuses[str(st)] += 1
            k += 1

    await asyncio.gather(*(client(i, c) for i, c in enumerate(conns)))
    secs = time.perf_counter() - t_start
    for c in conns:
        c.close()
    ok = statuses.get("201", 0)
    return {
        "duration_s": secs,
        "requests": len(lat),
        "ok": ok,
        "throughput": ok / secs,
        "latency_ms": latency_summary(lat),
        "statuses": dict(statuses),
        "socket_errors": 0,
        "loadgen_cpu_s": time.process_time() - cpu0,
    }


@dataclass
class WindowStats:
    """What one window's clerk saw."""

    number: int
    call_lat: list[float] = field(default_factory=list)
    complete_lat: list[float] = field(default_factory=list)
    called: list[int] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    empty: bool = False
    finished_at: float = 0.0


async def window_loop(port: int, token: str, number: int, deadline: float, stats: WindowStats) -> None:
    """call-next → complete until the deadline (or nobody waits for this window: 204)."""
    c = await Conn(port).open()
    auth = {"Authorization": f"Bearer {token}"}
    call = c.prepare("POST", f"/api/v1/halls/{HALL}/windows/{number}/call-next", auth)
    pc = time.perf_counter
    try:
        while pc() < deadline:
            t0 = pc()
            st, raw = await c.send(call)
            stats.call_lat.append(pc() - t0)
            stats.statuses[f"call-next {st}"] += 1
            if st == 200:
                tid = int(json.loads(raw)["id"])
                stats.called.append(tid)
                await _complete(c, auth, tid, stats)
            elif st == 204:
                stats.empty = True
                break
            elif st == 409:  # the window still has a ticket (e.g. a run cut short): finish it
                await _free_window(c, auth, number, stats)
            else:
                raise RuntimeError(f"window {number}: call-next {st} {raw[:200]!r}")
    finally:
        stats.finished_at = pc()
        c.close()


async def _complete(c: Conn, auth: dict[str, str], tid: int, stats: WindowStats) -> None:
    t1 = time.perf_counter()
    st, raw = await c.request("POST", f"/api/v1/tickets/{tid}/complete", auth)
    stats.complete_lat.append(time.perf_counter() - t1)
    stats.statuses[f"complete {st}"] += 1
    if st != 200:
        raise RuntimeError(f"complete {tid}: {st} {raw[:200]!r}")


async def _free_window(c: Conn, auth: dict[str, str], number: int, stats: WindowStats) -> None:
    st, raw = await c.request("GET", f"/api/v1/halls/{HALL}/tickets?status=called&limit=1000", auth)
    for t in json.loads(raw) if st == 200 else []:
        if t.get("window") == number:
            await _complete(c, auth, int(t["id"]), stats)


async def run_windows(port: int, token: str, windows: list[int], seconds: float) -> list[WindowStats]:
    """Every window calling at once for `seconds`."""
    stats = [WindowStats(n) for n in windows]
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(window_loop(port, token, s.number, deadline, s) for s in stats))
    return stats


CALLED_MARK = '"type":"ticket.called"'  # orjson writes no spaces: a cheap test on the raw frame
CALLED_MARK_B = CALLED_MARK.encode()
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's handshake constant


async def _subscriber(url: str, deflate: bool, expect: int, deadline: float, rec: dict[str, Any], ready: Any) -> None:
    """One board with the `websockets` library (`--deflate`: compression as browsers negotiate it): connect,
    take the snapshot, then time every frame until `expect` ticket.called arrived."""
    from websockets.asyncio.client import connect

    frames: list[tuple[float, str]] = []
    rec["frames"] = frames
    mono = time.monotonic
    try:
        async with connect(
            url, compression="deflate" if deflate else None, proxy=None, ping_interval=None, open_timeout=60
        ) as ws:
            rec["snapshot"] = await ws.recv()
            ready()
            called = 0
            while called < expect:
                left = deadline - mono()
                if left <= 0:
                    rec["error"] = f"timed out after {called} of {expect} ticket.called"
                    return
                msg = await asyncio.wait_for(ws.recv(), left)
                frames.append((mono(), msg))  # type: ignore[arg-type]
                if CALLED_MARK in msg:
                    called += 1
    except Exception as e:  # recorded, and reported as a failed check
        rec["error"] = f"{type(e).__name__}: {e}"
        if "snapshot" not in rec:
            ready()


class LeanBoard(asyncio.Protocol):
    """One board as a bare asyncio protocol: the RFC 6455 handshake, then the server's frames parsed in
    `data_received`, each stamped with the time its bytes were read from the socket.

    Hand-written for the benchmark only: 5,000 clients of the `websockets` library (a task, a reader and a
    frame queue each) cost the driver about as much CPU per frame as the server spends sending it, on the
    same two cores, and its per-connection tasks add the driver's own backlog to every latency measured.
    The server's frames are small, unmasked, unfragmented text; the reader answers pings and takes closes,
    and anything else it does not expect is recorded as the board's error, never skipped.
    """

    def __init__(self, host: str, port: int, path: str, expect: int, rec: dict[str, Any], done: Any) -> None:
        self.request_key = base64.b64encode(os.urandom(16))
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.request_key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.expect, self.rec, self.done = expect, rec, done
        self.buf = bytearray()
        self.open = False
        self.called = 0
        self.frames: list[tuple[float, bytes]] = []
        rec["frames"] = self.frames
        self.transport: asyncio.Transport | None = None
        self.ready = asyncio.get_running_loop().create_future()  # set at the snapshot (or the failure)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.called < self.expect:
            self.fail(f"connection lost after {self.called} of {self.expect} ticket.called ({exc})")

    def fail(self, why: str) -> None:
        self.rec.setdefault("error", why)
        self.finish()

    def finish(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)
        if self.transport is not None and not self.transport.is_closing():
            self.send(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()
        self.done(self)

    def send(self, opcode: int, payload: bytes) -> None:
        """A client frame (masked, as RFC 6455 requires of clients)."""
        assert self.transport is not None and len(payload) < 126
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            accept = base64.b64encode(hashlib.sha1(self.request_key + WS_GUID).digest()).lower()
            if not head.startswith(b"http/1.1 101") or b"sec-websocket-accept: " + accept not in head:
                return self.fail(f"handshake refused: {bytes(buf[:80])!r}")
            del buf[: end + 4]
            self.open = True
        while len(buf) >= 2:
            b0, n = buf[0], buf[1]
            if n & 0x80 or not b0 & 0x80 or b0 & 0x70:
                return self.fail(f"unexpected frame header {bytes(buf[:2])!r} (masked, fragmented or extended)")
            n &= 0x7F
            at = 2
            if n >= 126:
                at = 4 if n == 126 else 10
                if len(buf) < at:
                    return
                n = int.from_bytes(buf[2:at], "big")
            if len(buf) < at + n:
                return
            payload = bytes(buf[at : at + n])
            del buf[: at + n]
            opcode = b0 & 0x0F
            if opcode == 0x1:
                if "snapshot" not in self.rec:
                    self.rec["snapshot"] = payload
                    self.ready.set_result(None)
                    continue
                self.frames.append((now, payload))
                if CALLED_MARK_B in payload:
                    self.called += 1
                    if self.called >= self.expect:
                        return self.finish()
            elif opcode == 0x9:
                self.send(0xA, payload)  # pong: uvicorn closes a connection that does not answer its pings
            elif opcode == 0x8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                return self.fail(f"closed by the server ({code}) after {self.called} of {self.expect} ticket.called")
            elif opcode != 0xA:
                return self.fail(f"unexpected opcode {opcode}")


async def _loop_lag(stop: asyncio.Event, lags: list[float], every: float = 0.005) -> None:
    """How late this loop runs a timer due every `every` s: the driver's own backlog, reported beside the
    latencies (a frame read late by a busy driver is stamped late)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + every
        await asyncio.sleep(every)
        lags.append(max(0.0, loop.time() - due))


async def _subscribers_client(args: argparse.Namespace) -> dict[str, Any]:
    path = f"/ws/halls/{HALL}/events"
    url = f"ws://127.0.0.1:{args.port}{path}"
    recs: list[dict[str, Any]] = [{} for _ in range(args.n)]
    deadline = time.monotonic() + args.timeout
    loop = asyncio.get_running_loop()
    finished = [0]
    all_done = asyncio.Event()

    def board_done(_board: LeanBoard | None = None) -> None:
        finished[0] += 1
        if finished[0] == args.n:
            all_done.set()

    sem = asyncio.Semaphore(args.connect_concurrency)
    t0 = time.monotonic()

    async def lean(rec: dict[str, Any]) -> None:
        async with sem:  # at most this many handshakes at once, each until its snapshot
            try:
                _, board = await loop.create_connection(
                    lambda: LeanBoard("127.0.0.1", args.port, path, args.expect, rec, _once(board_done)),
                    "127.0.0.1",
                    args.port,
                )
                await asyncio.wait_for(board.ready, max(0.1, deadline - time.monotonic()))
            except Exception as e:  # recorded, and reported as a failed check
                rec.setdefault("error", f"{type(e).__name__}: {e}")
                if "frames" not in rec:
                    board_done()

    async def library(rec: dict[str, Any], ready: asyncio.Event) -> None:
        await sem.acquire()
        released = False

        def ready_and_release() -> None:
            nonlocal released
            if not released:
                released = True
                sem.release()
            ready.set()

        try:
            await _subscriber(url, args.deflate, args.expect, deadline, rec, ready_and_release)
        finally:
            board_done()

    if args.deflate:
        readies = [asyncio.Event() for _ in recs]
        tasks = [asyncio.create_task(library(r, e)) for r, e in zip(recs, readies, strict=True)]
        await asyncio.gather(*(e.wait() for e in readies))
    else:
        tasks = [asyncio.create_task(lean(r)) for r in recs]
        await asyncio.gather(*tasks)
    connect_s = time.monotonic() - t0
    failed = sum(1 for r in recs if "snapshot" not in r)
    print(f"READY {args.n - failed} {failed} {connect_s:.3f}", flush=True)
    stop, lags = asyncio.Event(), []
    lagger = asyncio.create_task(_loop_lag(stop, lags))
    with contextlib.suppress(TimeoutError):  # boards still waiting then are reported as timed out
        await asyncio.wait_for(all_done.wait(), max(0.1, deadline - time.monotonic()))
    stop.set()
    cpu_s = time.process_time()  # before the parsing below, which is not part of receiving
    await lagger
    for t in tasks:
        t.cancel()
    out = []
    for r in recs:
        snap_seq = json.loads(r["snapshot"])["seq"] if "snapshot" in r else None
        seqs, called = [], []
        for t, raw in r.get("frames", []):
            msg = json.loads(raw)
            if msg["type"] == "heartbeat":
                continue
            seqs.append(msg["seq"])
            if msg["type"] == "ticket.called":
                called.append((int(msg["data"]["id"]), t))
            elif msg["type"] == "resync":
                r.setdefault("error", "resync (slow consumer)")
        if "error" not in r and len(called) < args.expect:
            r["error"] = f"timed out after {len(called)} of {args.expect} ticket.called"
        out.append({"snapshot_seq": snap_seq, "seqs": seqs, "called": called, "error": r.get("error")})
    return {"connect_s": connect_s, "cpu_s": cpu_s, "loop_lag_s": lags, "subscribers": out}


def _once(fn: Any) -> Any:
    """`fn` called at most once, however often the wrapper is."""
    called = [False]

    def wrapper(*a: Any) -> None:
        if not called[0]:
            called[0] = True
            fn(*a)

    return wrapper


def subscribers_client_main(args: argparse.Namespace) -> int:
    """The subscriber side, in its own process: N websocket boards; results as JSON to --out."""
    raise_fd_limit(args.n + 256)
    res = run_async(_subscribers_client(args))
    Path(args.out).write_text(json.dumps(res))
    return 0


async def _timed_calls(port: int, token: str, window: int, calls: int, interval: float) -> list[dict[str, Any]]:
    """`calls` × (call-next → complete) at one window, each call-next started `interval` s after the last."""
    c = await Conn(port).open()
    auth = {"Authorization": f"Bearer {token}"}
    call = c.prepare("POST", f"/api/v1/halls/{HALL}/windows/{window}/call-next", auth)
    out = []
    mono = time.monotonic
    start = mono()
    try:
        for i in range(calls):
            await asyncio.sleep(max(0.0, start + i * interval - mono()))
            t_sent = mono()
            st, raw = await c.send(call)
            t_resp = mono()
            if st != 200:
                raise RuntimeError(f"call-next {st} {raw[:200]!r}")
            tid = int(json.loads(raw)["id"])
            st, raw = await c.request("POST", f"/api/v1/tickets/{tid}/complete", auth)
            if st != 200:
                raise RuntimeError(f"complete {tid}: {st} {raw[:200]!r}")
            out.append({"id": tid, "sent": t_sent, "resp": t_resp})
    finally:
        c.close()
    return out
