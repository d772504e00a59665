"""Prometheus metrics at `/metrics` (prometheus-client): requests, tickets, the writer, websockets, and the
hall's state read from the database when scraped.

What is counted where:
- `hall_http_request_duration_seconds{method,route,status}`: every HTTP request, observed by
  `Metrics.observe_request` (called by the server's one ASGI middleware, api/middleware.py: one dict
  look-up and one histogram observe per request; `route` is the route's template, never the path a
  caller typed, so tokens stay out and the label set stays small);
- `hall_tickets_issued_total` / `hall_tickets_called_total{hall,queue}`, `hall_writer_batch_size` and
  `hall_writer_batch_seconds`: after each commit of the batch writer (`Metrics.on_batch`), from the
  batch's events — counted by the process that committed them, so several processes never count twice;
- `hall_writer_ahead_batches_total` and `hall_writer_ahead_rolled_back_total`: the writer's batches begun
  ahead of the hall lock's answer and those of them rolled back and run again (writer.py `BatchWriter.ahead`),
  brought up to the writer's own counts at each commit (`Metrics.on_batch`), in the process whose writer ran them;
- `hall_websocket_subscribers{hall}`: the hub's mailboxes (boards, consoles, tracking pages);
- at scrape time, from the database (any process sees the same): `hall_tickets_waiting{hall,queue}`,
  `hall_notifications{hall,status}` (`pending` is the outbox depth, `dead` the dead letters) and
  `hall_device_up{hall,device,role}` (1 when its last report was `ok`) with `hall_device_status`;
  with a reports' replica (`HALL_DATABASE_READ_URL`) `hall_replica_up`, `hall_replica_lag_seconds` and
  `hall_replica_lag_bytes` (db.py, `Replica.status`).

Several server processes (`hall serve --workers N`): each writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (set by `hall serve` before the workers start, see `multiprocess_dir`), and
whichever process answers a scrape adds them up (prometheus-client's multiprocess mode).

Who may read it (`[server] metrics_token`): in demo mode anyone, unless a token is set; outside demo mode
only with `Authorization: Bearer <metrics_token>`, and without a token the route does not exist (404).
"""

from __future__ import annotations

import asyncio
import hmac
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

if TYPE_CHECKING:
    from .context import HallContext
    from .events import HallEvent

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
WRITER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
UNMATCHED = "(unmatched)"  # a 404 on no route: one label value, whatever the path


def multiprocess() -> bool:
    """True when this process shares its metrics with others through files (prometheus-client reads the
    variable once, at import; set it before a worker starts)."""
    return bool(os.environ.get(MULTIPROC_ENV))


def multiprocess_dir() -> tuple[Path, bool]:
    """The directory for several workers' metric files, emptied, and whether we made it (remove it after).

    An operator's own `PROMETHEUS_MULTIPROC_DIR` is used as it is (emptied of old `*.db` files, as
    prometheus-client asks); otherwise a new temporary directory.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):
            old.unlink()
        return path, False
    return Path(tempfile.mkdtemp(prefix="hall-metrics-")), True


def remove_multiprocess_dir(path: Path) -> None:
    """Remove a metrics directory `multiprocess_dir` made."""
    shutil.rmtree(path, ignore_errors=True)


def worker_died(pid: int) -> None:
    """Drop a dead worker's live gauges (its websocket subscribers are gone with it)."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid, path)


class Metrics:
    """One application's metrics; the recording methods are cheap and safe from any thread."""

    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx
        self.multiprocess = multiprocess()
        # Multiprocess mode: the values live in files and a scrape reads them all (no registry holds them).
        self.registry: CollectorRegistry | None = None if self.multiprocess else CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Histogram(
            "hall_http_request_duration_seconds",
            "HTTP requests by method, route template and status, in seconds",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.issued = Counter("hall_tickets_issued", "Tickets issued", ("hall", "queue"), registry=reg)
        self.called = Counter("hall_tickets_called", "Tickets called to a window", ("hall", "queue"), registry=reg)
        self.batch_size = Histogram(
            "hall_writer_batch_size", "Changes per writer commit", buckets=BATCH_BUCKETS, registry=reg
        )
        self.batch_seconds = Histogram(
            "hall_writer_batch_seconds",
            "Time of one writer batch (run, events, commit), in seconds",
            buckets=WRITER_BUCKETS,
            registry=reg,
        )
        self.ahead = Counter(
            "hall_writer_ahead_batches", "Writer batches begun ahead of the hall lock's answer", registry=reg
        )
        self.ahead_rolled_back = Counter(
            "hall_writer_ahead_rolled_back",
            "Writer batches begun ahead of the lock's answer that found the hall changed: rolled back, run again",
            registry=reg,
        )
        # The writer's ahead counts at the last commit: each lane's thread adds what changed since (one at a time).
        self._ahead_seen = (0, 0)
        self._ahead_lock = threading.Lock()
        self.subscribers = Gauge(
            "hall_websocket_subscribers",
            "Websocket subscribers of each hall's events",
            ("hall",),
            registry=reg,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[str, str, int], Any] = {}
        self.state = HallState(ctx)
        if reg is not None:
            reg.register(self.state)

    # -- recording ------------------------------------------------------------------------------------
    def observe_request(self, scope: Scope, status: int, seconds: float) -> None:
        """Record one finished HTTP request (call after the response; `scope` after routing)."""
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED
        key = (scope["method"], template, status)
        child = self._children.get(key)
        if child is None:
            if len(self._children) > 5000:  # never unbounded, whatever a route does
                key = (scope["method"], UNMATCHED, status)
            child = self._children[key] = self.requests.labels(key[0], key[1], str(status))
        child.observe(seconds)

    def on_batch(self, size: int, seconds: float, events: Iterable[HallEvent]) -> None:
        """Record one committed writer batch and the tickets its events issued and called."""
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        with self._ahead_lock:
            begun, rolled_back = self.ctx.writer.ahead
            seen_begun, seen_rolled_back = self._ahead_seen
            self._ahead_seen = (begun, rolled_back)
        self.ahead.inc(begun - seen_begun)
        self.ahead_rolled_back.inc(rolled_back - seen_rolled_back)
        for ev in events:
            if ev.type == "ticket.issued":
                self.issued.labels(ev.hall, str(ev.data.get("queue", ""))).inc()
            elif ev.type == "ticket.called":
                self.called.labels(ev.hall, str(ev.data.get("queue", ""))).inc()

    def on_subscribers(self, hall: str, delta: int) -> None:
        """A websocket subscriber of `hall` came (+1) or went (-1)."""
        self.subscribers.labels(hall).inc(delta)

    # -- exposition -----------------------------------------------------------------------------------
    def exposition(self) -> bytes:
        """The text format of every metric (blocking: reads the database and, with workers, the files)."""
        if self.registry is not None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess as mp

        reg = CollectorRegistry()
        mp.MultiProcessCollector(reg)
        reg.register(self.state)
        return generate_latest(reg)

    def allowed(self, request: Request) -> bool:
        """Whether this request may read the metrics (`[server] metrics_token`)."""
        token = self.ctx.config.server.metrics_token
        if token is None:
            return self.ctx.config.server.demo
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token.get_secret_value())

    def enabled(self) -> bool:
        """Whether `/metrics` is served at all: in demo mode, or with a token."""
        server = self.ctx.config.server
        return server.demo or server.metrics_token is not None

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics."""
        if not self.allowed(request):
            return Response(
                '{"detail":"需要监控令牌 / A metrics token is needed"}',
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await asyncio.to_thread(self.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class HallState(Collector):
    """The hall's state, read from the database at each scrape: waiting tickets, the notification outbox,
    device health (the same in every process, so it is read once, not summed)."""

    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx

    def describe(self) -> Iterable[Metric]:
        """No metrics at registration (the database may not be ready yet)."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Query the database and yield the gauges."""
        waiting = GaugeMetricFamily("hall_tickets_waiting", "Tickets waiting now", labels=("hall", "queue"))
        outbox = GaugeMetricFamily(
            "hall_notifications",
            "Notifications to citizens by status (pending: the outbox; dead: given up after retries)",
            labels=("hall", "status"),
        )
        up = GaugeMetricFamily(
            "hall_device_up", "1 when the device's last health report was ok", labels=("hall", "device", "role")
        )
        status = GaugeMetricFamily(
            "hall_device_status", "The device's last reported status (value 1)", labels=("hall", "device", "status")
        )
        counts: dict[tuple[str, str], int] = {(h.code, q.code): 0 for h in self.ctx.config.halls for q in h.queues}
        notes: dict[tuple[str, str], int] = {(h.code, s): 0 for h in self.ctx.config.halls for s in ("pending", "dead")}
        reported: dict[str, str] = {}
        with self.ctx.db.read() as s:
            conn = s.connection()
            for hall, queue, n in conn.execute(
                text("SELECT hall_code, queue, COUNT(*) FROM ticket WHERE status = 'waiting' GROUP BY hall_code, queue")
            ):
                counts[(hall, queue)] = int(n)
            for hall, st, n in conn.execute(
                text(
                    "SELECT hall_code, status, COUNT(*) FROM notification"
                    " WHERE status IN ('pending', 'dead') GROUP BY hall_code, status"
                )
            ):
                notes[(hall, st)] = int(n)
            for name, st in conn.execute(text("SELECT name, status FROM device_status")):
                reported[name] = st
        for (hall, queue), n in sorted(counts.items()):
            waiting.add_metric([hall, queue], n)
        for (hall, st), n in sorted(notes.items()):
            outbox.add_metric([hall, st], n)
        for d in self.ctx.config.devices:
            st = reported.get(d.name, "unknown")
            up.add_metric([d.hall, d.name, d.role], 1.0 if st == "ok" else 0.0)
            status.add_metric([d.hall, d.name, st], 1.0)
        yield from (waiting, outbox, up, status)
        replica = self.ctx.db.replica
        if replica is not None:
            yield from replica_gauges(replica.status())


def replica_gauges(st: dict[str, Any]) -> Iterator[Metric]:
    """The reports' replica: whether reports read it, and its lag (no sample while the lag is unknown)."""
    up = GaugeMetricFamily("hall_replica_up", "1 when reports read the replica, 0 when they read the primary")
    up.add_metric([], 0.0 if st["state"] == "unreachable" else 1.0)
    yield up
    for key, name, what in (
        ("lag_s", "hall_replica_lag_seconds", "Age of the last commit the replica replayed while it is behind, s"),
        ("lag_bytes", "hall_replica_lag_bytes", "WAL the primary wrote that the replica has not replayed, bytes"),
    ):
        g = GaugeMetricFamily(name, what)
        if st[key] is not None:
            g.add_metric([], float(st[key]))
        yield g
