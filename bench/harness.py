"""The benchmarks' harness: paths and credentials, fresh databases, the server process (`hall serve`) on a
free loopback port, CPU and memory accounting from /proc, and the latency statistics."""

from __future__ import annotations

import contextlib
import math
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = Path(os.environ.get("HALL_BENCH_RESULTS", BENCH / "results"))  # tests write elsewhere
PROFILES = BENCH / "profiles"  # raw py-spy stacks: large, git-ignored; their summaries go to RESULTS
README = BENCH / "README.md"
CONFIG = Path(os.environ.get("HALL_BENCH_CONFIG", ROOT / "tests" / "data" / "hall.toml"))
HALL_BIN = ROOT / ".venv" / "bin" / "hall"
LUA = BENCH / "issue.lua"
HALL = "t1"
KIOSK_TOKEN = "kiosk-t1-token-0123456789"
CLERK = ("clerk1", "clerk1-pass")
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123"
PG_BASE = os.environ.get("HALL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WINDOWS = (1, 2, 3, 4, 5)  # hall t1 of tests/data/hall.toml


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


def _proc_stats() -> Iterator[tuple[int, str]]:
    """(pid, /proc/<pid>/stat) of every process alive now; one that ends while read is left out."""
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                yield int(d.name), (d / "stat").read_text()
            except OSError:
                continue


def postgres_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL processes that are alive now (backends are pooled)."""
    total = 0.0
    for pid, stat in _proc_stats():
        if stat[stat.index("(") + 1 : stat.rindex(")")] == "postgres":
            total += _cpu_seconds(pid)
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
    for child, stat in _proc_stats():
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(child)
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


class _HasRss(Protocol):
    def rss_kib(self) -> int: ...


class RssSampler:
    """The server's peak RSS while a block runs, sampled every 0.2 s in a thread."""

    def __init__(self, srv: _HasRss, every: float = 0.2) -> None:
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
