"""Engines and transactions: SQLite (WAL, one writer at a time) or PostgreSQL, same code above."""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain PostgreSQL URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class AnotherServer(RuntimeError):
    """A server process would share an SQLite file with one that does not expect it."""


class Database:
    """Owns the engines; `write()` opens a write transaction, `read()` a consistent read snapshot.

    SQLite allows one writer: a write transaction starts with BEGIN IMMEDIATE so it holds the write
    lock from its first statement (no lock upgrade, so no SQLITE_BUSY deadlock between readers that
    want to write), and writers queue on a lock instead of SQLite's sleeping busy handler, which would
    wreck latency: a threading lock within the process, then an exclusive `flock` on `<file>.writer`
    between processes (several server processes on one SQLite file, `hall serve --workers N`). The
    kernel wakes the next waiter as soon as the lock is free. Reads use WAL snapshots and never block.
    On PostgreSQL, writes run at READ COMMITTED and serialise per hall on the hall row (see
    services.tx); reads that need one consistent picture use REPEATABLE READ.
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.url = normalize_url(url)
        self.origin = secrets.token_hex(6)  # names this process's commits in PostgreSQL notifications
        self.is_sqlite = self.url.startswith("sqlite")
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._file_lock: int | None = None  # fd of the SQLite file's cross-process writer lock
        self._serving: int | None = None  # fd of the SQLite file's server lock (see `claim_serving`)
        if self.is_sqlite:
            self.engine = self._sqlite_engine(begin="BEGIN IMMEDIATE", synchronous=sqlite_synchronous)
            self.read_engine = self._sqlite_engine(begin="BEGIN", synchronous=sqlite_synchronous)
        else:
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, future=True)
            self.read_engine = self.engine.execution_options(isolation_level="REPEATABLE READ")

    def _sqlite_engine(self, *, begin: str, synchronous: str) -> Engine:
        memory = ":memory:" in self.url or self.url in ("sqlite://", "sqlite:///")
        if memory:
            raise ValueError("an in-memory SQLite database cannot be shared; use a file")

        engine = create_engine(
            self.url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from pysqlite so that BEGIN is ours (SQLAlchemy's documented recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction; commits on success, rolls back on error."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
            try:
                if self._file_lock is None:  # opened on first use (again after `dispose`)
                    self._file_lock = self._lock_file(".writer")
                fcntl.flock(self._file_lock, fcntl.LOCK_EX)
            except BaseException:
                lock.release()
                raise
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if lock is not None:
                if self._file_lock is not None:
                    fcntl.flock(self._file_lock, fcntl.LOCK_UN)
                lock.release()

    def claim_serving(self, *, shared: bool) -> None:
        """Register this server process on the SQLite file, or refuse to serve beside a process that
        does not know of the others.

        A server that believes it is alone keeps memos of the halls' state and does not look for other
        processes' events; a second server on the same file would make its boards miss events. So a
        lone server holds `<file>.serve` exclusively and servers that share the file (`--workers N`,
        or `HALL_WORKERS`) hold it shared: the kernel refuses any mix, and releases a dead process's
        hold. No-op on PostgreSQL, where every process listens for the others anyway.
        """
        if not self.is_sqlite or self._serving is not None:
            return
        fd = self._lock_file(".serve")
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AnotherServer(
                f"另一个服务进程正在使用此 SQLite 数据库 / Another server process is serving this SQLite "
                f"database ({make_url(self.url).database}). Several processes on one SQLite file must all "
                "know of each other: start them with `hall serve --workers N`, or set HALL_WORKERS=N in the "
                "environment of every independent process (or use PostgreSQL)."
            ) from None
        self._serving = fd

    def _lock_file(self, suffix: str) -> int:
        """Open (creating) the lock file beside the SQLite file, e.g. `<file>.writer`."""
        path = (make_url(self.url).database or "") + suffix
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def release_serving(self) -> None:
        """Unregister this server process (at shutdown)."""
        if self._serving is not None:
            os.close(self._serving)
            self._serving = None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session over one consistent snapshot; never writes."""
        # Closing (not rolling back) ends the transaction and keeps loaded objects readable.
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    def ping(self) -> None:
        """Fail unless the database answers."""
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.release_serving()
        self.engine.dispose()
        self.read_engine.dispose()
        if self._write_lock is not None and self._file_lock is not None:
            with self._write_lock:  # not while a write of this process holds it
                os.close(self._file_lock)
                self._file_lock = None


def plain_engine(url: str) -> Engine:
    """An engine without our transaction hooks, for migrations and admin work."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool)
    return create_engine(url, poolclass=NullPool)
