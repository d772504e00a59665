"""Test harness: the real server on loopback (uvicorn in a thread), on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from queue_server.app import build_context, create_app, heads, prepare
from queue_server.context import HallContext
from queue_server.migrations import upgrade
from queue_server.models import SQLModel
from queue_server.settings import Runtime, Settings, resolve

DATA = Path(__file__).parent / "data"
TEST_CONFIG = DATA / "hall.toml"
SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
PG_BASE = os.environ.get("HALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KIOSK = "kiosk-t1-token-0123456789"
DISPLAY = "display-t1-token-0123456789"
KIOSK_T2 = "kiosk-t2-token-0123456789"
DESK = "desk-t1-token-0123456789"  # the general desk's agent of t1 (role desk)
PASSWORDS = {
    "admin": "admin-pass",
    "clerk1": "clerk1-pass",
    "clerk2": "clerk2-pass",
    "approver1": "approver1-pass",
    "auditor1": "auditor1-pass",
    "clerk-t2": "clerk-t2-pass",
}


@cache
def shots_dir() -> Path:
    """Where the page and kiosk tests put their screenshots: a temporary folder, so the tree stays clean;
    `HALL_SHOTS_DIR=docs/screenshots scripts/test tests/web tests/kiosk` refreshes the published ones."""
    chosen = os.environ.get("HALL_SHOTS_DIR")
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="hall-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_url(schema: str) -> str:
    """A PostgreSQL URL whose tables live in their own schema of the test database."""
    sep = "&" if "?" in PG_BASE else "?"
    return f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"


def pg_available() -> bool:
    """Whether the test PostgreSQL answers."""
    import psycopg

    try:
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def fresh_database(backend: str, tmp: Path, name: str = "hall") -> str:
    """An empty, migrated database of the given backend; returns its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / (name + '.db')}"
    else:
        import psycopg

        schema = f"{name}_{os.getpid()}".replace("-", "_")
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
        url = pg_url(schema)
    upgrade(url)
    return url


def runtime(url: str, var_dir: Path, config: Path = TEST_CONFIG) -> Runtime:
    """Resolved settings for a test server."""
    from pydantic import SecretStr

    settings = Settings(config=config, database_url=url, secret_key=SecretStr(SECRET), var_dir=var_dir)
    return resolve(settings)


class LiveServer:
    """The application served by uvicorn on a loopback port, in a background thread."""

    def __init__(self, rt: Runtime, *, port: int | None = None, heartbeat_s: float = 15.0) -> None:
        self.ctx: HallContext = build_context(rt)
        self.app = create_app(ctx=self.ctx, migrate=False)
        self.app.state.heartbeat_s = heartbeat_s
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.tokens: dict[str, str] = {}  # bearer tokens by username, valid for the server's life
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        """Start and wait until /healthz answers."""
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets-sansio")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        """Shut down gracefully and release the database."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.ctx.db.dispose()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The server's event loop."""
        loop = self.ctx.hub._loop
        assert loop is not None
        return loop

    def reset(self) -> None:
        """Empty every table, re-sync the configuration, and restart the hub from seq 0."""
        db = self.ctx.db
        # Users stay: re-hashing their passwords with argon2 would cost a second per test.
        tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name != "user_account"]
        for attempt in range(5):
            try:
                with db.write() as s:
                    if db.is_sqlite:
                        for name in tables:
                            s.execute(text(f'DELETE FROM "{name}"'))
                    else:
                        truncate = "TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"
                        s.execute(text(truncate))
                break
            except OperationalError as e:
                # The server's day-end housekeeping (every 30 s) may hold row locks that TRUNCATE's table locks
                # meet in the other order; PostgreSQL then aborts one side as a deadlock. Ours just retries.
                if getattr(e.orig, "sqlstate", None) != "40P01" or attempt == 4:
                    raise
                time.sleep(0.1)
        prepare(self.ctx, migrate=False)
        self.ctx.limiter.clear()
        self.ctx.logins.clear()
        self.ctx.forget_caches()
        h = heads(self.ctx)
        fut = asyncio.run_coroutine_threadsafe(_reattach(self.ctx, h), self.loop())
        fut.result(5)


async def _reattach(ctx: HallContext, h: dict[str, int]) -> None:
    ctx.hub.attach(asyncio.get_running_loop(), h)
    ctx.hub._pending.clear()


class Api:
    """An HTTP client of the live server with helpers for tokens."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self._tokens = server.tokens

    def token(self, username: str) -> str:
        """A bearer token for a test user (cached)."""
        if username not in self._tokens:
            r = self.http.post("/api/v1/auth/token", data={"username": username, "password": PASSWORDS[username]})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return self._tokens[username]

    def auth(self, who: str) -> dict[str, str]:
        """Authorization header for a user name, or a raw device token."""
        tok = who if who.endswith("token-0123456789") else self.token(who)
        return {"Authorization": f"Bearer {tok}"}

    def take(self, queue: str = "A", hall: str = "t1", who: str = KIOSK, **body: Any) -> dict[str, Any]:
        """Take a number; asserts 201."""
        r = self.http.post(f"/api/v1/halls/{hall}/tickets", json={"queue": queue, **body}, headers=self.auth(who))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def call_next(self, window: int, hall: str = "t1", who: str = "clerk1") -> httpx.Response:
        """POST call-next for a window."""
        return self.http.post(f"/api/v1/halls/{hall}/windows/{window}/call-next", headers=self.auth(who))

    def act(self, ticket_id: int, action: str, who: str = "clerk1", **body: Any) -> httpx.Response:
        """POST a ticket action."""
        kw: dict[str, Any] = {"json": body} if body else {}
        return self.http.post(f"/api/v1/tickets/{ticket_id}/{action}", headers=self.auth(who), **kw)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


@contextmanager
def serving(rt: Runtime, **kw: Any) -> Iterator[LiveServer]:
    """A started live server, stopped on exit."""
    srv = LiveServer(rt, **kw).start()
    try:
        yield srv
    finally:
        srv.stop()


def events_url(server: LiveServer, hall: str = "t1", *, since: int | None = None, token: str | None = None) -> str:
    """The websocket URL of a hall's event stream on a live server."""
    params = {k: v for k, v in (("since", since), ("token", token)) if v is not None}
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{server.ws_url}/ws/halls/{hall}/events" + (f"?{query}" if query else "")


def clear_of_midnight(tz: tzinfo, margin_s: float = 120.0) -> None:
    """Wait, when the hall's local midnight is less than `margin_s` seconds away, until it has passed: a test of a
    day's (or a morning's) work must not span two service days (numbers restart at midnight, and the day-end
    housekeeping expires the tickets of the day before). Asia/Shanghai's midnight is 16:00 UTC."""
    now = datetime.now(tz)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    left = (midnight - now).total_seconds()
    if left < margin_s:
        time.sleep(left + 1.0)


def noon_zone() -> str:
    """An IANA zone (Etc/GMT±N) where it is about noon now: a hall there is far from its midnight for hours."""
    offset = 12 - datetime.now(UTC).hour  # local = UTC + offset; Etc/GMT's sign is the other way round
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
