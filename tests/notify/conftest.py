"""Fixtures of the notification tests: a database with halls, a cipher, and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlmodel import col

from queue_server.config import NotifyConfig
from queue_server.crypto import PiiCipher
from queue_server.db import Database
from queue_server.models import Hall
from queue_server.notify import Dispatcher, enqueue
from queue_server.notify.models import Notification
from queue_server.services.tx import hall_tx

from ..harness import SECRET, free_port, fresh_database

PHONE = "13812345678"
HOOK_SECRET = "webhook-test-secret"


@dataclass
class Hit:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        """The body as JSON."""
        return dict(json.loads(self.body))


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output clean."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def listen(port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Serve `handler` on loopback `port` from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


def shut(server: ThreadingHTTPServer | None) -> None:
    """Stop a server of `listen` (its port then refuses connections)."""
    if server is not None:
        server.shutdown()
        server.server_close()


@dataclass
class Receiver:
    """A tiny SMS gateway on loopback: records every POST and answers `status(n)` (n = 1, 2, …)."""

    port: int = field(default_factory=free_port)
    status: Callable[[int], int] = lambda _n: 200
    delay_s: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"http://127.0.0.1:{self.port}/sms"

    def start(self) -> Receiver:
        """Listen (again) on `port`."""
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.hits.append(Hit(dict(self.headers.items()), body))
                    n = len(receiver.hits)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                code = receiver.status(n)
                with contextlib.suppress(OSError):  # the client gave up (timeout test)
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

        self._server = listen(self.port, Handler)
        return self

    def stop(self) -> None:
        """Stop listening (the port then refuses connections)."""
        shut(self._server)
        self._server = None

    def ids(self) -> list[str]:
        """The message ids received, in order."""
        with self._lock:
            return [h.json["id"] for h in self.hits]

    def code_for(self, phone: str, after: int = 0, timeout: float = 10.0) -> str:
        """The newest one-time code sent to `phone` (a `verify_code` message) among the hits from number
        `after` on, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                sent = [
                    h.json for h in self.hits[after:] if h.json["kind"] == "verify_code" and h.json["phone"] == phone
                ]
            if sent:
                return re.findall(r"\d{6}", sent[-1]["text"])[0]
            time.sleep(0.02)
        raise AssertionError(f"no code reached the gateway within {timeout} s")

    def remote_ticket(self, http: httpx.Client, hall: str, queue: str, phone: str) -> httpx.Response:
        """通办取号 as a phone does it: ask for a code, read it from the message here, take the number with it."""
        after = len(self.hits)
        r = http.post(f"/api/v1/halls/{hall}/remote-tickets/verify", json={"queue": queue, "phone": phone})
        if r.status_code != 202:
            return r
        body = {"queue": queue, "phone": phone, "code": self.code_for(phone, after)}
        return http.post(f"/api/v1/halls/{hall}/remote-tickets", json=body)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A started receiver answering 200."""
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def notify_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated database per backend for these tests (like `tmp_db`, but emptied per test: faster)."""
    return fresh_database(backend, tmp_path_factory.mktemp(f"notify-{backend}"), name="notify")


@pytest.fixture
def db(notify_url: str) -> Iterator[Database]:
    """The test database, emptied, with halls t1 and t2."""
    database = Database(notify_url)
    with database.write() as s:
        for table in ("notification", "audit_log", "hall_event", "hall"):
            s.execute(text(f"DELETE FROM {table}"))
        s.add(Hall(code="t1", name="测试政务服务中心", name_en="Test Service Centre"))
        s.add(Hall(code="t2", name="另一个中心"))
    yield database
    database.dispose()


@pytest.fixture
def cipher() -> PiiCipher:
    """The cipher of the test secret."""
    return PiiCipher(SECRET)


def add(
    db: Database, cipher: PiiCipher, *, hall: str = "t1", ticket: str = "A001", kind: str = "called", phone: str = PHONE
) -> None:
    """Enqueue one message in its own committed hall transaction."""
    with hall_tx(db, None, hall) as tx:
        enqueue(
            tx,
            kind=kind,
            ticket=ticket,
            phone_enc=cipher.encrypt(phone, context="phone"),
            text=f"请{ticket}号到3号窗口办理",
        )


def rows(db: Database) -> list[Notification]:
    """Every outbox row, oldest first."""
    with db.read() as s:
        return list(s.execute(select(Notification).order_by(col(Notification.id))).scalars().all())


FAST: dict[str, Any] = {"poll_s": 0.02, "backoff_base_s": 0.01, "backoff_cap_s": 0.05}


def webhook(db: Database, cipher: PiiCipher, url: str, *, max_attempts: int = 5, **kw: Any) -> Dispatcher:
    """A webhook dispatcher with tiny backoff and polling."""
    cfg = NotifyConfig(
        provider="webhook", url=url, secret=HOOK_SECRET, timeout_s=kw.pop("timeout_s", 2.0), max_attempts=max_attempts
    )
    return Dispatcher(db, cipher, cfg, **{**FAST, **kw})


async def outbox(db: Database) -> list[Notification]:
    """The outbox rows, read off the event loop."""
    return await asyncio.to_thread(rows, db)


async def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> None:
    """Poll an async check until it returns true."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def run(d: Dispatcher, until: Callable[[], Any], *, linger: float = 0.1, timeout: float = 5.0) -> None:
    """Run the dispatcher until `until()` holds, a little longer (to catch repeats), then stop it."""
    d.start()
    try:
        await wait_for(until, timeout)
        await asyncio.sleep(linger)
    finally:
        await d.stop()


def all_status(db: Database, status: str, n: int | None = None) -> Callable[[], Any]:
    """An async check: every row (and at least n) has this status."""

    async def check() -> bool:
        rs = await outbox(db)
        return bool(rs) and all(r.status == status for r in rs) and (n is None or len(rs) >= n)

    return check
