"""The load drivers: a lean raw-HTTP/1.1 keep-alive client (asyncio streams), wrk with bench/issue.lua, the
windows' call-next loops, and the websocket boards of `subscribers` (run in `subscribers-client` processes)."""

from __future__ import annotations

import argparse
import asyncio
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


async def _subscriber(url: str, deflate: bool, expect: int, deadline: float, rec: dict[str, Any], ready: Any) -> None:
    """One board: connect, take the snapshot, then time every frame until `expect` ticket.called arrived."""
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


async def _subscribers_client(args: argparse.Namespace) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{args.port}/ws/halls/{HALL}/events"
    recs: list[dict[str, Any]] = [{} for _ in range(args.n)]
    deadline = time.monotonic() + args.timeout
    done = asyncio.Event()
    left = [args.n]

    def ready() -> None:
        left[0] -= 1
        if left[0] == 0:
            done.set()

    sem = asyncio.Semaphore(args.connect_concurrency)
    t0 = time.monotonic()

    async def one(rec: dict[str, Any]) -> None:
        await sem.acquire()
        released = False

        def ready_and_release() -> None:
            nonlocal released
            if not released:
                released = True
                sem.release()
            ready()

        await _subscriber(url, args.deflate, args.expect, deadline, rec, ready_and_release)

    tasks = [asyncio.create_task(one(r)) for r in recs]
    await done.wait()
    connect_s = time.monotonic() - t0
    failed = sum(1 for r in recs if "snapshot" not in r)
    print(f"READY {args.n - failed} {failed} {connect_s:.3f}", flush=True)
    await asyncio.gather(*tasks)
    cpu_s = time.process_time()  # before the parsing below, which is not part of receiving
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
        out.append({"snapshot_seq": snap_seq, "seqs": seqs, "called": called, "error": r.get("error")})
    return {"connect_s": connect_s, "cpu_s": cpu_s, "subscribers": out}


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
