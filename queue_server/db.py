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
    """A second server process would serve an SQLite file (one process per file)."""


SQLITE_ONE_PROCESS = (
    "SQLite 数据库只能由一个服务进程使用；多个进程请使用 PostgreSQL / An SQLite database is served by one server "
    "process; to run several processes, use PostgreSQL (HALL_DATABASE_URL=postgresql://…)."
)


class Database:
    """Owns the engines; `write()` opens a write transaction, `read()` a consistent read snapshot.

    SQLite is served by one process per file (`claim_serving`) and allows one writer: a write transaction
    starts with BEGIN IMMEDIATE so it holds the write lock from its first statement (no lock upgrade, so
    no SQLITE_BUSY deadlock between readers that want to write), and the process's writers queue on a
    threading lock instead of SQLite's sleeping busy handler, which would wreck latency. Reads use WAL
    snapshots and never block.
    On PostgreSQL, writes run at READ COMMITTED and serialise per hall on the hall row (see
    services.tx); reads that need one consistent picture use REPEATABLE READ.
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.url = normalize_url(url)
        self.origin = secrets.token_hex(6)  # names this process's commits in PostgreSQL notifications
        self.is_sqlite = self.url.startswith("sqlite")
        self._write_lock = threading.Lock() if self.is_sqlite else None
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
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if lock is not None:
                lock.release()

    def claim_serving(self) -> None:
        """Register this server process on the SQLite file, or refuse to serve beside another one.

        One server process per SQLite file: its writer is the file's only writer (it keeps the halls' memos
        and hears of every event from its own commits). It holds an exclusive `flock` on `<file>.serve`,
        which the kernel releases when the process dies. No-op on PostgreSQL.
        """
        if not self.is_sqlite or self._serving is not None:
            return
        path = (make_url(self.url).database or "") + ".serve"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AnotherServer(
                f"另一个服务进程正在使用此 SQLite 数据库 / Another server process is serving this SQLite "
                f"database ({make_url(self.url).database}). {SQLITE_ONE_PROCESS}"
            ) from None
        self._serving = fd

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


def plain_engine(url: str) -> Engine:
    """An engine without our transaction hooks, for migrations and admin work."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool)
    return create_engine(url, poolclass=NullPool)
