"""Readiness (`GET /readyz`): whether a write would succeed now, not only whether the database answers.

`/healthz` stays the cheap liveness check (the process serves, the database answers a SELECT). Readiness
also writes: the database takes an UPDATE in a transaction that is rolled back (refused on a read-only
database, a standby, or when the write lock cannot be had within `TIMEOUT_S`), and the var directory takes
a small file that is written, flushed to disk and removed (refused when the disk is full or the directory
is not writable — where uploads and an SQLite file live). A rolled-back transaction writes nothing to
disk, so a full disk under PostgreSQL's own data directory shows only once a commit fails; the database's
own monitoring covers that. With a reports' replica (`HALL_DATABASE_READ_URL`) the answer names its state
too (`replica`), without making the server unready: reports then read the primary.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .db import Database

log = logging.getLogger(__name__)

TIMEOUT_S = 2.0  # how long the probe waits for the database's write lock
PROBE_BYTES = 4096


def _reason(exc: BaseException) -> str:
    """A short cause without paths or statement text: the error class and its code."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlstate", None) or errno.errorcode.get(getattr(orig, "errno", None) or -1)
    if isinstance(orig, sqlite3.Error):
        code = str(orig)[:80]
    return f"{type(orig).__name__}: {code}" if code else type(orig).__name__


def _sqlite_write(db: Database, timeout_s: float) -> None:
    conn = sqlite3.connect(make_url(db.url).database or "", timeout=timeout_s, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE hall SET last_seq = last_seq WHERE 0")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _postgresql_write(db: Database, timeout_s: float) -> None:
    ms = max(1, int(timeout_s * 1000))
    with db.engine.connect() as conn:
        conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))
        conn.execute(text(f"SET LOCAL statement_timeout = {ms}"))
        conn.execute(text("UPDATE hall SET last_seq = last_seq WHERE false"))
        conn.rollback()


def database_write(db: Database, timeout_s: float = TIMEOUT_S) -> str:
    """'' when the database takes a write now (rolled back), else why not."""
    try:
        (_sqlite_write if db.is_sqlite else _postgresql_write)(db, timeout_s)
    except (sqlite3.Error, SQLAlchemyError, OSError) as exc:
        return _reason(exc)
    return ""


def files_write(var_dir: Path) -> str:
    """'' when the var directory takes a small file (written, flushed, removed), else why not."""
    folder = var_dir / "data"
    probe = folder / f".ready-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as exc:
        return _reason(exc)
    return ""


def replica_line(status: dict[str, Any]) -> str:
    """The reports' replica in one line of /readyz: `ok`, or what is wrong and where reports read."""
    if status["state"] == "unreachable":
        return f"unreachable ({status['detail']}): reports read the primary"
    if status["state"] == "not_standby":
        return "answers, but is not a streaming standby: lag unknown"
    return "ok"


class Readiness:
    """One probe at a time per process; callers that arrive meanwhile share its answer."""

    def __init__(self, db: Database, var_dir: Path) -> None:
        self.db, self.var_dir = db, var_dir
        self._running: asyncio.Future[dict[str, Any]] | None = None
        self._last_ready = True

    def probe(self) -> dict[str, Any]:
        """Run both checks (blocking): {"status", "ready", "database", "files"}."""
        db, files = database_write(self.db), files_write(self.var_dir)
        ready = not db and not files
        if ready != self._last_ready:
            if ready:
                log.info("ready again: writes succeed")
            else:
                log.warning("not ready: database %s; files %s", db or "ok", files or "ok")
            self._last_ready = ready
        report = {
            "status": "ready" if ready else "not_ready",
            "ready": ready,
            "database": db or "ok",
            "files": files or "ok",
        }
        if self.db.replica is not None:  # the reports' replica: never makes the server unready
            report["replica"] = replica_line(self.db.replica.status())
        return report

    async def check(self) -> dict[str, Any]:
        """The probe's answer, run off the event loop (shared with concurrent callers)."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(asyncio.to_thread(self.probe))
        return await asyncio.shield(self._running)
