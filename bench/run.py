"""Benchmarks of the queue server over real HTTP: ticket issuance, call-next, and event fan-out.

Each concurrency level gets its own server process (`hall serve`, exactly as deployed: one process,
uvicorn with its default loop and HTTP parser) on a free loopback port, against a fresh database
(a new SQLite file, or a new PostgreSQL schema), so levels do not see each other's tickets.

    .venv/bin/python bench/run.py issue --db sqlite --clients 1,16,64 --seconds 10
    .venv/bin/python bench/run.py call-next --db postgresql --windows 1,5 --seconds 10
    .venv/bin/python bench/run.py subscribers --subscribers 100,1000 --calls 50
    .venv/bin/python bench/run.py report            # markdown tables of bench/results/*.json
    .venv/bin/python bench/run.py report --readme   # ... written into bench/README.md

Issuance is driven by `wrk` (C, one thread, closed loop: each connection is a kiosk that sends its
next request when the previous answer arrived) with bench/issue.lua; `--driver asyncio` uses the
lean raw-HTTP client below instead. Call-next is driven by that asyncio client: each window is one
connection looping call-next → complete, timed per request. Subscribers: N websocket boards in
separate processes (`subscribers-client`) time each `ticket.called` frame against the moment the
call-next answer reached the driver (CLOCK_MONOTONIC, comparable across processes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = Path(os.environ.get("HALL_BENCH_RESULTS", BENCH / "results"))  # tests write elsewhere
PROFILES = BENCH / "profiles"  # raw py-spy stacks: large, git-ignored; their summaries go to RESULTS
README = BENCH / "README.md"
if str(BENCH) not in sys.path:  # sibling modules (halls.py, city.py) when imported from the tests
    sys.path.insert(0, str(BENCH))
CONFIG = Path(os.environ.get("HALL_BENCH_CONFIG", ROOT / "tests" / "data" / "hall.toml"))
HALL_BIN = ROOT / ".venv" / "bin" / "hall"
LUA = BENCH / "issue.lua"
HALL = "t1"
KIOSK_TOKEN = "kiosk-t1-token-0123456789"
CLERK = ("clerk1", "clerk1-pass")
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123"
PG_BASE = os.environ.get("HALL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WINDOWS = (1, 2, 3, 4, 5)  # hall t1 of tests/data/hall.toml
MARK_START = "<!-- results:start -->"
MARK_END = "<!-- results:end -->"


# ---------------------------------------------------------------------------------------------
# A lean HTTP/1.1 keep-alive client (asyncio streams; no parsing beyond status and Content-Length)
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """min/mean/p50/p90/p99/p99.9/max in milliseconds."""
    v = sorted(seconds)
    if not v:
        return {}
    ms = 1000.0
    return {
        "min": v[0] * ms,
        "mean": sum(v) / len(v) * ms,
        "p50": percentile(v, 50) * ms,
        "p90": percentile(v, 90) * ms,
        "p99": percentile(v, 99) * ms,
        "p999": percentile(v, 99.9) * ms,
        "max": v[-1] * ms,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds spent busy on all cores since boot (from /proc/stat)."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL processes that are alive now (backends are pooled)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")] == "postgres":
            total += _cpu_seconds(int(d.name))
    return total


def _fair(x: float) -> float:
    return 0.0 if math.isnan(x) else x


def wait_quiet(max_wait: float, threshold_pct: float = 25.0) -> float:
    """Wait (up to max_wait s) until the machine is nearly idle; return the last busy % of one core."""
    deadline = time.monotonic() + max_wait
    said = False
    while True:
        b0 = machine_busy_s()
        time.sleep(1.0)
        busy = 100.0 * (machine_busy_s() - b0)
        if busy < threshold_pct or time.monotonic() >= deadline:
            if said:
                print(f"  machine now {busy:.0f}% busy; going on", file=sys.stderr)
            return busy
        if not said:
            print(f"  machine busy ({busy:.0f}% of a core by others); waiting up to {max_wait:.0f}s", file=sys.stderr)
            said = True


# ---------------------------------------------------------------------------------------------
# Databases and the server process
# ---------------------------------------------------------------------------------------------


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class FreshDb:
    """A new empty database: a SQLite file in a temp dir, or a PostgreSQL schema."""

    kind: str
    workdir: Path
    schema: str | None = None

    @property
    def url(self) -> str:
        """The HALL_DATABASE_URL of this database."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / 'hall.db'}"
        sep = "&" if "?" in PG_BASE else "?"
        return f"{PG_BASE}{sep}options=-csearch_path%3D{self.schema}"

    @classmethod
    def create(cls, kind: str, tag: str) -> FreshDb:
        """Make the database (the server migrates it at start)."""
        workdir = Path(tempfile.mkdtemp(prefix=f"hall-bench-{tag}-"))
        if kind == "sqlite":
            return cls(kind, workdir)
        import psycopg

        schema = f"bench_{tag}_{os.getpid()}".replace("-", "_")
        with psycopg.connect(_psycopg_url(PG_BASE), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
        return cls(kind, workdir, schema)

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        """A DB-API cursor on the database (read-only use)."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.workdir / "hall.db")
            try:
                yield conn.cursor()
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(_psycopg_url(PG_BASE), autocommit=True) as pconn:
                cur = pconn.cursor()
                cur.execute(f"SET search_path TO {self.schema}")
                yield cur

    def drop(self, keep: bool) -> None:
        """Remove the database unless asked to keep it."""
        if keep:
            print(f"  kept database: {self.url}", file=sys.stderr)
            return
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(_psycopg_url(PG_BASE), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        shutil.rmtree(self.workdir, ignore_errors=True)


def free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`hall serve` as a subprocess."""

    db: FreshDb
    extra_env: dict[str, str] = field(default_factory=dict)
    config: Path = CONFIG
    workers: int = 1  # `hall serve --workers N` (PostgreSQL only): N processes behind one port
    command: list[str] | None = None  # another server than `hall serve` (reference.py), given --config, --port
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Server:
        """Start and wait until /healthz answers."""
        self.port = free_port()
        env = os.environ | {
            "HALL_DATABASE_URL": self.db.url,
            "HALL_VAR_DIR": str(self.db.workdir),
            "HALL_SECRET_KEY": SECRET,
            "HALL_LOG_LEVEL": "warning",
        }
        env |= self.extra_env
        log = (self.db.workdir / "server.log").open("wb")
        cmd = [*(self.command or [str(HALL_BIN), "serve"]), "--config", str(self.config)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.db.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}); see {self.db.workdir / 'server.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200") and len(self.pids()) > self.workers - (self.workers == 1):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not answer /healthz in time")

    def pids(self) -> list[int]:
        """The server process and, with several workers, its worker processes."""
        assert self.proc is not None
        return [self.proc.pid, *child_pids(self.proc.pid)]

    def cpu(self) -> float:
        """CPU seconds the server (all its processes) has used so far."""
        return sum(_cpu_seconds(p) for p in self.pids())

    def rss_kib(self) -> int:
        """Resident memory of the server, summed over its processes (VmRSS)."""
        total = 0
        for p in self.pids():
            with contextlib.suppress(OSError, RuntimeError):
                total += rss_kib(p)
        return total

    def stop(self) -> None:
        """SIGINT (graceful), then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, n: int = 20) -> str:
        """The end of the server's log."""
        try:
            return "\n".join((self.db.workdir / "server.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (uvicorn's worker processes), from /proc."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d.name))
    return out


@contextlib.contextmanager
def server_on_fresh_db(
    kind: str,
    tag: str,
    extra_env: dict[str, str],
    keep: bool,
    config: Path = CONFIG,
    workers: int = 1,
    command: list[str] | None = None,
) -> Iterator[Server]:
    """A started server (`hall serve`, or `command`) on a new database; both gone afterwards."""
    db = FreshDb.create(kind, tag)
    srv = Server(db, extra_env, config, workers, command)
    try:
        srv.start()
        yield srv
    except BaseException:
        tail = srv.log_tail()
        if tail:
            print(f"--- server log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        srv.stop()
        db.drop(keep)


# ---------------------------------------------------------------------------------------------
# Helpers over HTTP
# ---------------------------------------------------------------------------------------------

KIOSK_HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KIOSK_TOKEN}"}


async def login(port: int) -> str:
    """A clerk bearer token."""
    c = await Conn(port).open()
    try:
        body = f"username={CLERK[0]}&password={CLERK[1]}".encode()
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


# ---------------------------------------------------------------------------------------------
# Issuance
# ---------------------------------------------------------------------------------------------


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


def check_issuance(db: FreshDb) -> dict[str, Any]:
    """Numbers per (day, queue) are 1..n without gaps or repeats, match `number`, and the counter."""
    with db.cursor() as cur:
        cur.execute(f"SELECT service_day, issue_queue, seq, number FROM ticket WHERE hall_code = {_ph(db)}", (HALL,))
        rows = cur.fetchall()
        cur.execute(f"SELECT service_day, queue_code, last FROM ticket_counter WHERE hall_code = {_ph(db)}", (HALL,))
        counters = {(str(d), q): int(last) for d, q, last in cur.fetchall()}
    groups: dict[tuple[str, str], list[int]] = {}
    bad_numbers = 0
    for day, q, seq, number in rows:
        groups.setdefault((str(day), q), []).append(int(seq))
        if number != f"{q}{int(seq):03d}":
            bad_numbers += 1
    problems: list[str] = []
    per_queue = {}
    for (day, q), seqs in sorted(groups.items()):
        n, distinct = len(seqs), len(set(seqs))
        per_queue[f"{day}/{q}"] = n
        if distinct != n:
            problems.append(f"{day}/{q}: {n - distinct} duplicate numbers")
        if distinct and (min(seqs) != 1 or max(seqs) != distinct):
            problems.append(f"{day}/{q}: gaps (have {distinct}, max {max(seqs)})")
        if counters.get((day, q)) != max(seqs):
            problems.append(f"{day}/{q}: counter {counters.get((day, q))} != max number {max(seqs)}")
    if bad_numbers:
        problems.append(f"{bad_numbers} tickets whose number does not match their seq")
    return {"tickets": len(rows), "per_queue": per_queue, "problems": problems}


def _ph(db: FreshDb) -> str:
    return "?" if db.kind == "sqlite" else "%s"


def bench_issue(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """Issuance at each concurrency level, each on its own fresh server and database."""
    queues = args.queues.split(",")
    levels = []
    for clients in args.clients:
        print(f"[issue/{kind}] {clients} clients: fresh database, server starting", file=sys.stderr)
        tag = f"issue{clients}w{args.workers}"
        res, check = _issue_level(args, kind, clients, queues, tag, None)
        level = {"clients": clients, **res, "check": check}
        if args.reference and kind == "sqlite":  # the same level against reference.py, in the same run
            print(f"[issue/{kind}] {clients} clients: the reference endpoint", file=sys.stderr)
            ref, ref_check = _issue_level(args, kind, clients, queues, tag + "ref", REFERENCE_CMD)
            level["reference"] = {
                "throughput": ref["throughput"],
                "latency_ms": ref["latency_ms"],
                "server_cpu_pct": ref["server_cpu_pct"],
                "server_cpu_ms_per_ticket": ref["server_cpu_ms_per_ticket"],
                "other_cpu_pct": ref["other_cpu_pct"],
                "check": ref_check,
            }
            level["ratio"] = res["throughput"] / ref["throughput"] if ref["throughput"] else None
            if not ref_check["ok"]:
                check["problems"].append("reference: " + "; ".join(ref_check["problems"]))
                check["ok"] = False
        levels.append(level)
        _print_level("issue", kind, level)
    params = {
        "queues": queues,
        "driver": args.driver,
        "warmup_s": args.warmup,
        "backlog": args.backlog,
        "workers": args.workers,
        "reference": bool(args.reference and kind == "sqlite"),
    }
    return {"levels": levels, "params": params}


REFERENCE_CMD = [sys.executable, str(BENCH / "reference.py")]


def _issue_level(
    args: argparse.Namespace, kind: str, clients: int, queues: list[str], tag: str, command: list[str] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One measured issuance level on a fresh server (`hall serve`, or `command`) and database."""
    idle_before = wait_quiet(args.wait_quiet)
    workers = args.workers if command is None else 1
    with server_on_fresh_db(kind, tag, args.server_env, args.keep, workers=workers, command=command) as srv:
        ok_total = 0
        time.sleep(0.5)
        rss_idle = srv.rss_kib()
        if args.backlog:  # a busy day already under way: tickets waiting before the measured run
            ok_total += run_async(issue_many(srv.port, args.backlog, _mix(queues, args.backlog))).total()
        if args.warmup > 0:
            w = _issue_run(args, srv.port, clients, args.warmup, queues)
            ok_total += w["ok"]
        cpu0, m0, pg0, t0 = srv.cpu(), machine_busy_s(), postgres_cpu_s(), time.perf_counter()
        with RssSampler(srv) as rss:
            res = _issue_run(args, srv.port, clients, args.seconds, queues)
        wall = time.perf_counter() - t0
        res["rss_kib"] = {"idle": rss_idle, "load_max": rss.peak, "after": srv.rss_kib()}
        res["workers"] = workers
        res["server_cpu_pct"] = 100.0 * (srv.cpu() - cpu0) / wall
        res["loadgen_cpu_pct"] = 100.0 * res.pop("loadgen_cpu_s") / wall
        res["postgres_cpu_pct"] = 100.0 * _fair(postgres_cpu_s() - pg0) / wall if kind == "postgresql" else 0.0
        res["machine_cpu_pct"] = 100.0 * (machine_busy_s() - m0) / wall
        res["other_cpu_pct"] = (
            res["machine_cpu_pct"] - res["server_cpu_pct"] - res["loadgen_cpu_pct"] - res["postgres_cpu_pct"]
        )
        res["busy_before_pct"] = idle_before
        # CPU per ticket barely moves when something else shares the machine: compare changes with it.
        res["server_cpu_ms_per_ticket"] = 10.0 * res["server_cpu_pct"] * wall / res["ok"] if res["ok"] else None
        ok_total += res["ok"]
        srv.stop()  # settle everything in flight before reading the database
        check = check_issuance(srv.db)
    # wrk abandons the requests in flight when its time is up; the server still completes them.
    slack = check["tickets"] - ok_total
    limit = 2 * clients if args.driver == "wrk" else 0
    if not 0 <= slack <= limit:
        check["problems"].append(f"{ok_total} answered 201 but {check['tickets']} tickets in the database")
    errors = sum(v for k, v in res["statuses"].items() if k != "201") + res["socket_errors"]
    if errors:
        check["problems"].append(f"{errors} failed requests: {res['statuses']}")
    check["answered_201"] = ok_total
    check["unanswered_in_flight"] = slack
    check["ok"] = not check["problems"]
    return res, check


class RssSampler:
    """The server's peak RSS while a block runs, sampled every 0.2 s in a thread."""

    def __init__(self, srv: Server, every: float = 0.2) -> None:
        import threading

        self.srv, self.every, self.peak = srv, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.srv.rss_kib())
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.srv.rss_kib())


def _issue_run(args: argparse.Namespace, port: int, clients: int, seconds: float, queues: list[str]) -> dict[str, Any]:
    if args.driver == "wrk":
        return wrk_level(wrk_run(port, clients, seconds, queues))
    return dict(run_async(asyncio_issue(port, clients, seconds, queues)))


# ---------------------------------------------------------------------------------------------
# Call-next
# ---------------------------------------------------------------------------------------------


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


def check_calls(db: FreshDb, stats: list[WindowStats]) -> dict[str, Any]:
    """No ticket called twice (by the clients' view and by the event log); each call landed at its window."""
    problems: list[str] = []
    seen: Counter[int] = Counter(t for s in stats for t in s.called)
    dup_client = [t for t, n in seen.items() if n > 1]
    if dup_client:
        problems.append(f"{len(dup_client)} tickets returned by call-next more than once: {dup_client[:10]}")
    with db.cursor() as cur:
        cur.execute(f"SELECT data FROM hall_event WHERE hall_code = {_ph(db)} AND type = 'ticket.called'", (HALL,))
        called_events: Counter[int] = Counter(int(json.loads(r[0])["id"]) for r in cur.fetchall())
        cur.execute(
            f'SELECT id, "window", status FROM ticket WHERE hall_code = {_ph(db)} AND called_at IS NOT NULL', (HALL,)
        )
        tickets = {int(i): (w, s) for i, w, s in cur.fetchall()}
        cur.execute(f"SELECT COUNT(*) FROM ticket WHERE hall_code = {_ph(db)} AND status = 'waiting'", (HALL,))
        waiting_left = int(cur.fetchone()[0])
    dup_events = [t for t, n in called_events.items() if n > 1]
    if dup_events:
        problems.append(f"{len(dup_events)} tickets with more than one ticket.called event: {dup_events[:10]}")
    if set(called_events) != set(seen):
        problems.append(f"called per event log {len(called_events)} != called per clients {len(seen)}")
    where = {t: s.number for s in stats for t in s.called}
    wrong = [t for t, n in where.items() if tickets.get(t, (None, None))[0] != n]
    if wrong:
        problems.append(f"{len(wrong)} tickets recorded at another window than the one that called them")
    not_done = [t for t in where if tickets.get(t, (None, None))[1] != "done"]
    if not_done:
        problems.append(f"{len(not_done)} called tickets not done")
    return {
        "called": len(seen),
        "called_events": sum(called_events.values()),
        "duplicates": len(dup_client) + len(dup_events),
        "waiting_left": waiting_left,
        "problems": problems,
        "ok": not problems,
    }


def _mix(queues: list[str], n: int) -> list[str]:
    return [queues[i % len(queues)] for i in range(n)]


def bench_call_next(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """call-next → complete loops at 1 and several windows, each level on a fresh server and database."""
    mix = args.mix.split(",")
    levels = []
    for n_windows in args.windows:
        windows = list(range(1, n_windows + 1))
        config = CONFIG
        if n_windows > len(WINDOWS):  # hall t1 with more windows (1-5 as in the test hall, then the same pattern)
            from halls import windows_config, write

            config = write(windows_config(n_windows), Path(tempfile.mkdtemp(prefix="hall-bench-cfg-")) / "hall.toml")
        print(f"[call-next/{kind}] {n_windows} windows: fresh database, server starting", file=sys.stderr)
        idle_before = wait_quiet(args.wait_quiet)
        with server_on_fresh_db(kind, f"call{n_windows}", args.server_env, args.keep, config=config) as srv:
            port = srv.port
            token = run_async(login(port))
            backlog = args.backlog or 100 + 60 * n_windows
            t0 = time.perf_counter()
            run_async(issue_many(port, backlog, _mix(mix, backlog)))
            issued = backlog
            warm = run_async(run_windows(port, token, windows, args.warmup)) if args.warmup > 0 else []
            warm_calls = sum(len(s.called) for s in warm)
            if not args.backlog:  # top up to what the measured run will use, judged from the warm-up
                rate = warm_calls / max(args.warmup, 1e-9) if warm else 100.0
                need = math.ceil(rate * args.seconds * 1.5) + 50 * n_windows
                extra = max(0, need - (issued - warm_calls))
                if extra:
                    run_async(issue_many(port, extra, _mix(mix, extra)))
                    issued += extra
            prep_s = time.perf_counter() - t0
            waiting_at_start = issued - warm_calls
            cpu0, m0, p0, pg0 = srv.cpu(), machine_busy_s(), time.process_time(), postgres_cpu_s()
            t1 = time.perf_counter()
            stats = run_async(run_windows(port, token, windows, args.seconds))
            wall = max(s.finished_at for s in stats) - t1
            elapsed = time.perf_counter() - t1
            server_cpu = 100.0 * (srv.cpu() - cpu0) / elapsed
            loadgen_cpu = 100.0 * (time.process_time() - p0) / elapsed
            pg_cpu = 100.0 * _fair(postgres_cpu_s() - pg0) / elapsed if kind == "postgresql" else 0.0
            machine_cpu = 100.0 * (machine_busy_s() - m0) / elapsed
            srv.stop()
            check = check_calls(srv.db, warm + stats)
        calls = sum(len(s.called) for s in stats)
        completes = sum(len(s.complete_lat) for s in stats)
        empty = [s.number for s in stats if s.empty]
        if empty:
            check["problems"].append(f"windows {empty} ran out of tickets (204) before the end: raise --backlog")
        level = {
            "windows": n_windows,
            "clients": n_windows,
            "duration_s": wall,
            "calls": calls,
            "throughput": calls / wall,
            "requests_per_s": (sum(len(s.call_lat) for s in stats) + completes) / wall,
            "latency_ms": latency_summary([x for s in stats for x in s.call_lat]),
            "complete_latency_ms": latency_summary([x for s in stats for x in s.complete_lat]),
            "statuses": dict(sum((s.statuses for s in stats), Counter())),
            "per_window_calls": {str(s.number): len(s.called) for s in stats},
            "waiting_at_start": waiting_at_start,
            "prep_s": prep_s,
            "server_cpu_pct": server_cpu,
            "loadgen_cpu_pct": loadgen_cpu,
            "machine_cpu_pct": machine_cpu,
            "postgres_cpu_pct": pg_cpu,
            "other_cpu_pct": machine_cpu - server_cpu - loadgen_cpu - pg_cpu,
            "busy_before_pct": idle_before,
            "server_cpu_ms_per_call": 10.0 * server_cpu * elapsed / calls if calls else None,
            "check": check,
        }
        levels.append(level)
        _print_level("call-next", kind, level)
    return {"levels": levels, "params": {"mix": mix, "warmup_s": args.warmup, "backlog": args.backlog or "auto"}}


# ---------------------------------------------------------------------------------------------
# Subscribers: call-next → `ticket.called` on N websocket boards
# ---------------------------------------------------------------------------------------------

CALLED_MARK = '"type":"ticket.called"'  # orjson writes no spaces: a cheap test on the raw frame


def raise_fd_limit(want: int) -> int:
    """Raise this process's open-file limit (children inherit it); returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


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


def check_subscribers(subs: list[dict[str, Any]], calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Every subscriber got every call exactly once, in call (= seq) order, with no gap in seq."""
    want = [c["id"] for c in calls]
    problems: list[str] = []
    errors = Counter(str(s["error"])[:120] for s in subs if s["error"])
    if errors:
        problems.append(f"{sum(errors.values())} subscribers failed: {dict(errors.most_common(3))}")
    wrong = sum(1 for s in subs if [i for i, _ in s["called"]] != want)
    if wrong:
        problems.append(f"{wrong} subscribers did not get exactly the {len(want)} calls once each in order")
    gaps = 0
    for s in subs:
        if s["snapshot_seq"] is None:
            continue
        expected = list(range(s["snapshot_seq"] + 1, s["snapshot_seq"] + 1 + len(s["seqs"])))
        gaps += s["seqs"] != expected
    if gaps:
        problems.append(f"{gaps} subscribers saw seqs out of order or with gaps")
    return {"subscribers": len(subs), "calls": len(want), "problems": problems, "ok": not problems}


def bench_subscribers(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """For each N: one server, N boards in client processes, spaced calls timed to every board."""
    fd_limit = raise_fd_limit(max(args.subscribers) * 2 + 1024)  # the server subprocess inherits it
    levels = []
    for n in args.subscribers:
        print(f"[subscribers/{kind}] {n} subscribers: fresh database, server starting", file=sys.stderr)
        idle_before = wait_quiet(args.wait_quiet)
        procs: list[subprocess.Popen[str]] = []
        with server_on_fresh_db(kind, f"subs{n}", args.server_env, args.keep) as srv:
            assert srv.proc is not None
            pid = srv.proc.pid
            token = run_async(login(srv.port))
            run_async(issue_many(srv.port, args.calls + 10, _mix(["A", "B"], args.calls + 10)))
            time.sleep(1.0)
            rss_before = rss_kib(pid)
            n_procs = max(1, min(args.client_procs, n))
            shares = [n // n_procs + (i < n % n_procs) for i in range(n_procs)]
            outs = [srv.db.workdir / f"subscribers-{i}.json" for i in range(n_procs)]
            t_conn = time.monotonic()
            for share, out in zip(shares, outs, strict=True):
                cmd = [sys.executable, str(Path(__file__).resolve()), "subscribers-client", "--port", str(srv.port)]
                cmd += ["--n", str(share), "--expect", str(args.calls), "--out", str(out)]
                cmd += ["--timeout", str(args.timeout)] + (["--deflate"] if args.deflate else [])
                procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
            try:
                connected = failed = 0
                for p in procs:
                    line = (p.stdout.readline() if p.stdout else "").split()
                    if not line or line[0] != "READY":
                        raise RuntimeError(f"subscriber client said {line!r}")
                    connected, failed = connected + int(line[1]), failed + int(line[2])
                connect_s = time.monotonic() - t_conn
                print(f"  {connected} connected ({failed} failed) in {connect_s:.1f}s", file=sys.stderr)
                time.sleep(args.settle)
                rss_connected = rss_kib(pid)
                cpu_s0, cpu_c0, m0, t0 = (
                    srv.cpu(),
                    sum(_cpu_seconds(p.pid) for p in procs),
                    machine_busy_s(),
                    time.monotonic(),
                )
                calls = run_async(_timed_calls(srv.port, token, args.window, args.calls, args.interval))
                for p in procs:
                    p.wait(timeout=args.timeout)
                wall = time.monotonic() - t0
                server_cpu = 100.0 * (srv.cpu() - cpu_s0) / wall
                machine_cpu = 100.0 * (machine_busy_s() - m0) / wall
                rss_after = rss_kib(pid)
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
            results = [json.loads(out.read_text()) for out in outs]
            client_cpu = 100.0 * (sum(r["cpu_s"] for r in results) - cpu_c0) / wall
        subs = [s for r in results for s in r["subscribers"]]
        resp = {c["id"]: c["resp"] for c in calls}
        sent = {c["id"]: c["sent"] for c in calls}
        after_resp = [t - resp[i] for s in subs for i, t in s["called"] if i in resp]
        after_sent = [t - sent[i] for s in subs for i, t in s["called"] if i in sent]
        last: dict[int, float] = {}
        for s in subs:
            for i, t in s["called"]:
                last[i] = max(last.get(i, t), t)
        all_delivered = [last[i] - resp[i] for i in last if i in resp]
        check = check_subscribers(subs, calls)
        if connected != n:
            check["problems"].append(f"{n - connected} of {n} subscribers could not connect")
            check["ok"] = False
        level = {
            "subscribers": n,
            "clients": n,
            "client_procs": n_procs,
            "calls": len(calls),
            "interval_s": args.interval,
            "samples": len(after_resp),
            "frames_per_call": sum(len(x["seqs"]) for x in subs) / max(1, len(subs) * len(calls)),
            "latency_ms": latency_summary(after_resp),
            "negative_share": sum(1 for x in after_resp if x < 0) / len(after_resp) if after_resp else None,
            "since_sent_latency_ms": latency_summary(after_sent),
            "all_delivered_ms": latency_summary(all_delivered),
            "call_next_ms": latency_summary([c["resp"] - c["sent"] for c in calls]),
            "rss_kib": {"before": rss_before, "connected": rss_connected, "after_calls": rss_after},
            "rss_kib_per_subscriber": (rss_connected - rss_before) / n,
            "connect_s": connect_s,
            "server_cpu_pct": server_cpu,
            "client_cpu_pct": client_cpu,
            "machine_cpu_pct": machine_cpu,
            "other_cpu_pct": machine_cpu - server_cpu - client_cpu,
            "busy_before_pct": idle_before,
            "fd_limit": fd_limit,
            "check": check,
        }
        levels.append(level)
        lat = level["latency_ms"]
        print(
            f"[subscribers/{kind}] n={n} p50={lat.get('p50', 0):.1f}ms p99={lat.get('p99', 0):.1f}ms "
            f"max={lat.get('max', 0):.1f}ms rss +{level['rss_kib_per_subscriber']:.1f} KiB/sub "
            f"server-cpu={server_cpu:.0f}% client-cpu={client_cpu:.0f}% check: {_verdict(level)}",
            file=sys.stderr,
        )
    params = {"calls": args.calls, "interval_s": args.interval, "window": args.window, "deflate": args.deflate}
    return {"levels": levels, "params": params}


# ---------------------------------------------------------------------------------------------
# Profiling (py-spy attached to the server during an issuance run)
# ---------------------------------------------------------------------------------------------

# Where a sample's innermost Python frame lives decides its bucket (first match wins). A frame that
# calls into C (sqlite3, psycopg, orjson, httptools) holds the samples of that C code too.
BUCKETS: list[tuple[str, str]] = [
    ("DefaultDialect.do_", "DB driver calls (execute/commit in C)"),
    ("Connection._commit_impl", "DB driver calls (execute/commit in C)"),
    ("Cursor.", "DB driver calls (execute/commit in C)"),
    ("psycopg/", "psycopg (Python side)"),
    ("sqlmodel/", "SQLModel"),
    ("sqlalchemy/", "SQLAlchemy (ORM/Core/pool, Python side)"),
    ("pydantic", "pydantic (validation/serialisation)"),
    ("fastapi/", "FastAPI/Starlette"),
    ("starlette/", "FastAPI/Starlette"),
    ("uvicorn/", "uvicorn/httptools"),
    ("anyio/", "thread hand-off (anyio, futures, locks)"),
    ("concurrent/futures", "thread hand-off (anyio, futures, locks)"),
    ("threading.py", "thread hand-off (anyio, futures, locks)"),
    ("queue.py", "thread hand-off (anyio, futures, locks)"),
    ("asyncio/", "event loop (asyncio/uvloop)"),
    ("uvloop", "event loop (asyncio/uvloop)"),
    ("queue_server/", "queue_server (app code itself)"),
    ("json", "JSON"),
]


def _bucket(frame: str) -> str:
    for needle, name in BUCKETS:
        if needle in frame:
            return name
    return "other (stdlib, typing, ...)"


def _thread_kind(frames: list[str]) -> str:
    if not frames[0].startswith("Thread._bootstrap"):
        return "event-loop thread (HTTP, routing, dependencies, responses)"
    if any("BatchWriter." in f for f in frames[:5]):
        return "SQLite writer thread (the database work)"
    if any("WorkerThread.run" in f or "concurrent/futures" in f for f in frames[:5]):
        return "thread-pool workers (sync dependencies and reads, PostgreSQL writes)"
    return "other threads"


def summarise_profile(raw: Path, top: int = 25) -> str:
    """Text summary of a py-spy raw (collapsed) profile: buckets, self time, app functions inclusive."""
    total = 0
    buckets: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    app: Counter[str] = Counter()
    app_line: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n_s = line.rpartition(" ")
        if not stack or not n_s.isdigit():  # a torn sample (--nonblocking) can split a line
            continue
        n = int(n_s)
        total += n
        frames = stack.split(";")
        leaf[frames[-1]] += n
        buckets[_bucket(frames[-1])] += n
        threads[_thread_kind(frames)] += n
        inner = next(
            (f for f in reversed(frames) if "queue_server/" in f and "queue_server/cli.py" not in f),
            "(no app frame: HTTP server, framework, thread hand-off)",
        )
        app_line[inner] += n
        seen = set()
        for f in frames:
            if "queue_server/" in f or "fastapi/routing.py" in f:
                key = re.sub(r":\d+\)$", ")", f)
                if key not in seen:
                    seen.add(key)
                    app[key] += n
    if not total:
        return f"{raw.name}: no samples"

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    out = [f"{raw.name}: {total} samples"]
    out += ["", "by thread:"] + [f"  {pct(n)}  {k}" for k, n in threads.most_common()]
    out += ["", "self time by layer:"] + [f"  {pct(n)}  {k}" for k, n in buckets.most_common()]
    out += ["", f"self time, top {top} lines:"] + [f"  {pct(n)}  {k}" for k, n in leaf.most_common(top)]
    out += ["", f"by innermost app line (with the library work it calls), top {top}:"]
    out += [f"  {pct(n)}  {k}" for k, n in app_line.most_common(top)]
    out += ["", f"inclusive time of app and routing functions, top {top}:"]
    out += [f"  {pct(n)}  {k}" for k, n in app.most_common(top)]
    return "\n".join(out)


def bench_profile(args: argparse.Namespace, kind: str) -> None:
    """Issuance under wrk with py-spy recording the server: one run per mode (cpu, gil, wall)."""
    spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    queues = args.queues.split(",")
    flags = {"cpu": [], "gil": ["--gil"], "wall": ["--idle"]}
    with server_on_fresh_db(kind, f"profile{args.clients}", args.server_env, args.keep) as srv:
        assert srv.proc is not None
        wrk_level(wrk_run(srv.port, args.clients, args.warmup or 1, queues))
        plain = wrk_level(wrk_run(srv.port, args.clients, args.seconds, queues))
        print(f"[profile/{kind}] unprofiled: {plain['throughput']:.0f}/s", file=sys.stderr)
        for mode in args.modes.split(","):
            name = f"profile-{kind}-c{args.clients}-{mode}{'-' + args.tag if args.tag else ''}"
            out = PROFILES / f"{name}.txt"
            cmd = [spy, "record", "--pid", str(srv.proc.pid), "--rate", str(args.rate), "--format", "raw"]
            cmd += ["--duration", str(round(args.seconds)), "-o", str(out), *flags[mode]]
            if not args.blocking:  # sampling without pausing the server: far less overhead, rare torn stacks
                cmd.append("--nonblocking")
            rec = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)  # py-spy attaching
            res = wrk_level(wrk_run(srv.port, args.clients, args.seconds, queues))
            _, err = rec.communicate(timeout=60)
            if rec.returncode != 0:
                raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")
            print(
                f"[profile/{kind}] {mode}: {res['throughput']:.0f}/s while sampled; wrote {out.name}", file=sys.stderr
            )
            summary = summarise_profile(out)
            (RESULTS / f"{name}.summary.txt").write_text(summary + "\n")
            print(summary + "\n")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def _print_level(name: str, kind: str, lv: dict[str, Any]) -> None:
    lat = lv["latency_ms"]
    ok = "ok" if lv["check"]["ok"] else "FAIL " + "; ".join(lv["check"]["problems"])
    print(
        f"[{name}/{kind}] clients={lv['clients']} {lv['throughput']:.0f}/s p50={lat.get('p50', 0):.1f}ms "
        f"p99={lat.get('p99', 0):.1f}ms server-cpu={lv['server_cpu_pct']:.0f}% check: {ok}",
        file=sys.stderr,
    )
    if lv.get("reference"):
        ref = lv["reference"]
        print(
            f"[{name}/{kind}] reference {ref['throughput']:.0f}/s p99={ref['latency_ms']['p99']:.1f}ms "
            f"server-cpu={ref['server_cpu_pct']:.0f}%: the product does {lv['ratio']:.2f} of it",
            file=sys.stderr,
        )


def _run_cmd(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT).stdout.strip()
    except OSError:
        return ""


def python_speed_ms() -> float:
    """Milliseconds this machine's CPython needs for a fixed loop of ten million additions (best of three).

    Machines of the same description differ: the city's day ran at 335 tickets/s on one and 122/s on the
    next at nearly the same commit. Results from different machines compare only with this figure
    beside them (lower is a faster core)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000)


def machine_info(kinds: list[str]) -> dict[str, Any]:
    """Where and on what the numbers were taken."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "?")
    mem_kb = int(
        next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    )
    dirty = _run_cmd(["git", "status", "--porcelain", "--", "queue_server", "pyproject.toml"])
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": _run_cmd(["git", "rev-parse", "--short", "HEAD"]),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "server_code_dirty": bool(dirty),
        "wrk": _run_cmd(["wrk", "--version"]).splitlines()[0] if shutil.which("wrk") else None,
        "python_loop_ms": python_speed_ms(),
    }
    if "postgresql" in kinds:
        import psycopg

        with psycopg.connect(_psycopg_url(PG_BASE)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else "?"
    return info


def table(name: str, kind: str, data: dict[str, Any]) -> str:
    """One markdown table of a result file."""
    levels = data["levels"]
    if name == "issue":
        head = (
            "| clients | tickets/s | p50 ms | p90 ms | p99 ms | max ms | server CPU | server CPU ms/ticket "
            "| load-gen CPU | PostgreSQL CPU | other CPU | RSS idle MiB | RSS load MiB | tickets "
            "| reference tickets/s | reference p99 ms | ratio | check |"
        )
        sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        rows = [
            f"| {lv['clients']} | {lv['throughput']:,.0f} | {lv['latency_ms']['p50']:.1f} | "
            f"{lv['latency_ms']['p90']:.1f} | {lv['latency_ms']['p99']:.1f} | {lv['latency_ms']['max']:.0f} | "
            f"{lv['server_cpu_pct']:.0f}% | {_num(_per(lv, 'server_cpu_ms_per_ticket'))} | "
            f"{lv['loadgen_cpu_pct']:.0f}% | {_pg(kind, lv)} | {_other(lv)} | {_rss(lv, 'idle')} | "
            f"{_rss(lv, 'load_max')} | {lv['check']['tickets']:,} | {_reference(lv)} | "
            f"{_verdict(lv)} |"
            for lv in levels
        ]
    elif name == "subscribers":
        head = (
            "| subscribers | samples | p50 ms | p99 ms | max ms | min ms | negative | all delivered p50 ms | max ms "
            "| call-next p50 ms | RSS before MiB | RSS connected MiB | KiB/subscriber | server CPU | client CPU "
            "| other CPU | check |"
        )
        sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        rows = [
            f"| {lv['subscribers']:,} | {lv['samples']:,} | {lv['latency_ms']['p50']:.1f} | "
            f"{lv['latency_ms']['p99']:.1f} | {lv['latency_ms']['max']:.1f} | {lv['latency_ms']['min']:.1f} | "
            f"{100 * lv['negative_share']:.0f}% | {lv['all_delivered_ms']['p50']:.1f} | "
            f"{lv['all_delivered_ms']['max']:.1f} | {lv['call_next_ms']['p50']:.1f} | "
            f"{lv['rss_kib']['before'] / 1024:.1f} | {lv['rss_kib']['connected'] / 1024:.1f} | "
            f"{lv['rss_kib_per_subscriber']:.1f} | {lv['server_cpu_pct']:.0f}% | {lv['client_cpu_pct']:.0f}% | "
            f"{_other(lv)} | {_verdict(lv)} |"
            for lv in levels
        ]
    else:
        head = (
            "| windows | calls/s | call-next p50 ms | p99 ms | max ms | complete p50 ms | p99 ms | "
            "requests/s | waiting at start | server CPU | server CPU ms/call | load-gen CPU | PostgreSQL CPU "
            "| other CPU | called twice | check |"
        )
        sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        rows = [
            f"| {lv['windows']} | {lv['throughput']:,.0f} | {lv['latency_ms']['p50']:.1f} | "
            f"{lv['latency_ms']['p99']:.1f} | {lv['latency_ms']['max']:.0f} | "
            f"{lv['complete_latency_ms']['p50']:.1f} | {lv['complete_latency_ms']['p99']:.1f} | "
            f"{lv['requests_per_s']:,.0f} | {lv['waiting_at_start']:,} | {lv['server_cpu_pct']:.0f}% | "
            f"{_num(_per(lv, 'server_cpu_ms_per_call'))} | "
            f"{lv.get('loadgen_cpu_pct', 0):.0f}% | {_pg(kind, lv)} | {_other(lv)} | "
            f"{lv['check']['duplicates']} | {_verdict(lv)} |"
            for lv in levels
        ]
    m = data["machine"]
    dirty = " (+ uncommitted server changes)" if m["server_code_dirty"] else ""
    workers = data.get("params", {}).get("workers", 1)
    procs = f" · {workers} server processes" if workers > 1 else ""
    load = f"; load average at start {m['loadavg']}" if m.get("loadavg") else ""
    load += f"; nice {m['nice']}" if m.get("nice") else ""
    load += "; driver, server and wrk under SCHED_RR (`--realtime`)" if m.get("realtime") else ""
    load += f"; Python loop {m['python_loop_ms']} ms" if m.get("python_loop_ms") else ""
    title = f"**{name} · {kind}{procs}** — commit `{m['commit']}`{dirty}, {m['date']}{load}"
    return "\n".join([title, "", head, sep, *rows, ""])


def _reference(lv: dict[str, Any]) -> str:
    """The reference endpoint's tickets/s and p99 and the product's ratio to it (three cells), or dashes."""
    ref = lv.get("reference")
    if not ref:
        return "— | — | —"
    return f"{ref['throughput']:,.0f} | {ref['latency_ms']['p99']:.1f} | {lv['ratio']:.2f}"


def _rss(lv: dict[str, Any], key: str) -> str:
    v = lv.get("rss_kib", {}).get(key)
    return "–" if v is None else f"{v / 1024:.0f}"


def _per(lv: dict[str, Any], key: str) -> float | None:
    """CPU ms per ticket or call; derived from the CPU share for results recorded before the field existed."""
    if key in lv:
        return float(lv[key]) if lv[key] is not None else None
    return 10.0 * lv["server_cpu_pct"] / lv["throughput"] if lv.get("throughput") else None


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _pg(kind: str, lv: dict[str, Any]) -> str:
    return f"{lv['postgres_cpu_pct']:.0f}%" if kind == "postgresql" and "postgres_cpu_pct" in lv else "–"


def _other(lv: dict[str, Any]) -> str:
    other = lv.get("other_cpu_pct")
    return "?" if other is None else f"{max(other, 0):.0f}%"


def _verdict(lv: dict[str, Any]) -> str:
    return "ok" if lv["check"]["ok"] else "FAIL: " + "; ".join(lv["check"]["problems"])


# The result files shown in the README, in this order: (benchmark, database, tag).
RECORDED = [
    ("issue", "sqlite", ""),
    ("issue", "postgresql", ""),
    ("issue", "postgresql", "w2"),
    ("call-next", "sqlite", ""),
    ("call-next", "postgresql", ""),
    ("subscribers", "sqlite", ""),
    ("city", "sqlite", ""),
    ("city", "postgresql", ""),
    ("city", "postgresql", "w2"),
]


def report(readme: bool) -> str:
    """Markdown of every result file (issue before call-next, SQLite before PostgreSQL)."""
    parts = []
    machine = None
    from city import city_table

    for name, kind, tag in RECORDED:
        path = RESULTS / f"{name}-{kind}{'-' + tag if tag else ''}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        machine = machine or dict(data["machine"])
        if data["machine"].get("postgresql"):  # the SQLite runs do not ask PostgreSQL's version
            machine["postgresql"] = data["machine"]["postgresql"]
        parts.append(city_table(kind, data) if name == "city" else table(name, kind, data))
    if machine is not None:
        m = machine
        pg = f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else ""
        parts.insert(
            0,
            f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; "
            f"Python {m['python']}, SQLite {m['sqlite']}{pg}; {str(m['wrk']).split(' [')[0]}.\n",
        )
    text = "\n".join(parts)
    if readme:
        doc = README.read_text()
        start, end = doc.index(MARK_START) + len(MARK_START), doc.index(MARK_END)
        README.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])
    return text


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x.strip()]


def _env(s: str) -> tuple[str, str]:
    k, sep, v = s.partition("=")
    if not sep or not k:
        raise argparse.ArgumentTypeError("expected NAME=value")
    return k, v


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--db", default="sqlite", help="sqlite, postgresql, or both: sqlite,postgresql")
        sp.add_argument("--seconds", type=float, default=10.0, help="measured seconds per level")
        sp.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each level")
        sp.add_argument(
            "--server-env",
            type=_env,
            action="append",
            default=[],
            metavar="NAME=V",
            help="extra server environment (HALL_*, PYTHONPATH=/a/patched/copy, ...)",
        )
        sp.add_argument("--tag", default="", help="suffix of the result file name (e.g. an experiment)")
        sp.add_argument("--keep", action="store_true", help="keep the databases and server logs")
        sp.add_argument(
            "--wait-quiet", type=float, default=60.0, help="wait up to this long for an idle machine before a level"
        )
        sp.add_argument(
            "--nice", type=int, default=0, help="scheduling priority of the driver and server (negative: root only)"
        )
        sp.add_argument(
            "--realtime",
            action="store_true",
            help="run the driver, server and load generator under SCHED_RR (root only): on a busy machine, the "
            "closest to a quiet one (PostgreSQL's own processes keep their priority)",
        )

    si = sub.add_parser("issue", help="POST /halls/t1/tickets at each concurrency")
    common(si)
    si.add_argument("--clients", type=_ints, default=[1, 16, 64], help="concurrent kiosks, e.g. 1,16,64")
    si.add_argument("--driver", choices=("wrk", "asyncio"), default="wrk")
    si.add_argument("--queues", default="A,B,C", help="queues the kiosks issue into, round-robin")
    si.add_argument("--backlog", type=int, default=0, help="tickets to issue (unmeasured) before the warm-up")
    si.add_argument("--workers", type=int, default=1, help="server processes (`hall serve --workers`, PostgreSQL)")
    si.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="SQLite: run each level against bench/reference.py too and record the product's ratio to it",
    )

    sc = sub.add_parser("call-next", help="windows looping call-next → complete")
    common(sc)
    sc.add_argument(
        "--windows",
        "--clients",
        type=_ints,
        default=[1, 5, 20],
        help="concurrent windows (more than 5: generated hall)",
    )
    sc.add_argument("--mix", default="A,B,A,B,C", help="queues of the pre-issued tickets, round-robin")
    sc.add_argument("--backlog", type=int, default=0, help="tickets to pre-issue (default: sized from the warm-up)")

    ss = sub.add_parser("subscribers", help="call-next → ticket.called latency at N websocket subscribers")
    common(ss)
    ss.add_argument("--subscribers", "--clients", type=_ints, default=[100, 1000], help="boards, e.g. 100,1000")
    ss.add_argument("--calls", type=int, default=50, help="call-next → complete rounds (one window)")
    ss.add_argument("--interval", type=float, default=0.1, help="seconds between the starts of two call-nexts")
    ss.add_argument("--window", type=int, default=1, help="the calling window")
    ss.add_argument("--client-procs", type=int, default=2, help="processes the boards are spread over")
    ss.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate (browsers do)")
    ss.add_argument("--settle", type=float, default=2.0, help="seconds after connecting before RSS is read")
    ss.add_argument("--timeout", type=float, default=180.0, help="give up on a board after this long")

    sk = sub.add_parser("subscribers-client", help="(internal) the board side of `subscribers`")
    sk.add_argument("--port", type=int, required=True)
    sk.add_argument("--n", type=int, required=True)
    sk.add_argument("--expect", type=int, required=True)
    sk.add_argument("--out", required=True)
    sk.add_argument("--timeout", type=float, default=180.0)
    sk.add_argument("--deflate", action="store_true")
    sk.add_argument("--connect-concurrency", type=int, default=64)

    sp = sub.add_parser("profile", help="issuance under wrk with py-spy recording the server")
    common(sp)
    sp.add_argument("--clients", type=int, default=16)
    sp.add_argument("--queues", default="A,B,C")
    sp.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    sp.add_argument("--blocking", action="store_true", help="pause the server for each sample (exact, slower)")
    sp.add_argument("--modes", default="cpu,gil,wall", help="cpu (on-CPU), gil (holding the GIL), wall (--idle)")

    from city import add_parser as city_parser

    city_parser(sub, common)

    sr = sub.add_parser("report", help="markdown tables of bench/results/*.json")
    sr.add_argument("--readme", action="store_true", help="write them into bench/README.md")

    args = p.parse_args(argv)
    if args.cmd == "report":
        print(report(args.readme))
        return 0
    if args.cmd == "subscribers-client":
        return subscribers_client_main(args)
    args.server_env = dict(args.server_env)
    if args.nice:  # on a shared machine: the server and the load generator inherit it (PostgreSQL does not)
        # (With the kernel's autogroup scheduling, nice only ranks processes within one session.)
        os.nice(args.nice)
    if args.realtime:  # inherited by the server and wrk; the kernel keeps 5 % of each second for the rest
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    return _bench_main(args, p)


def _bench_main(args: argparse.Namespace, p: argparse.ArgumentParser) -> int:
    """Run the benchmark the arguments name, write its results."""
    kinds = [k.strip() for k in args.db.split(",")]
    for k in kinds:
        if k not in ("sqlite", "postgresql"):
            p.error(f"unknown --db {k}")
    if "sqlite" in kinds and getattr(args, "workers", 1) > 1:
        p.error("--workers N: SQLite is served by one process per file; several processes are for PostgreSQL")
    if args.cmd == "issue" and args.driver == "wrk" and not shutil.which("wrk"):
        p.error("wrk is not installed; use --driver asyncio")
    RESULTS.mkdir(exist_ok=True)
    if args.cmd == "profile":
        PROFILES.mkdir(exist_ok=True)
        for kind in kinds:
            bench_profile(args, kind)
        return 0
    machine = machine_info(kinds)
    machine["nice"] = args.nice
    machine["realtime"] = bool(getattr(args, "realtime", False))
    if args.server_env.get("PYTHONPATH"):  # the server ran from a copy of queue_server/, not the working tree
        machine["server_code_dirty"] = False
        machine["server_from"] = args.server_env["PYTHONPATH"]
    failed = False
    for kind in kinds:
        from city import bench_city

        bench = {
            "issue": bench_issue,
            "call-next": bench_call_next,
            "subscribers": bench_subscribers,
            "city": bench_city,
        }[args.cmd]
        body = bench(args, kind)
        data = {
            "benchmark": args.cmd,
            "db": kind,
            "machine": machine,
            "seconds": args.seconds,
            "server_env": args.server_env,
            **body,
        }
        tag = args.tag or (f"w{args.workers}" if getattr(args, "workers", 1) > 1 else "")
        name = f"{args.cmd}-{kind}{'-' + tag if tag else ''}"
        out = RESULTS / f"{name}.json"
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        if args.cmd == "city":
            from city import city_table

            print(city_table(kind, data))
        else:
            print(table(args.cmd, kind, data))
        print(f"wrote {out}", file=sys.stderr)
        failed |= not all(lv["check"]["ok"] for lv in body["levels"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
