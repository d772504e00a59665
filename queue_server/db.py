"""Engines and transactions: SQLite (WAL, one writer at a time) or PostgreSQL, same code above."""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

log = logging.getLogger(__name__)
T = TypeVar("T")


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

    def __init__(
        self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10, read_url: str | None = None
    ) -> None:
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
        # The reports' replica (HALL_DATABASE_READ_URL; settings.py refuses one beside SQLite)
        self.replica = Replica(read_url, self.engine) if read_url and not self.is_sqlite else None

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
            with write_session(self.engine) as session:
                yield session
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

    def report(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` on a consistent read snapshot where statistics, reports and exports read: the replica
        when there is one and it answers, else the primary (blocking). Never for what must see its own
        writes (tickets, calls, consoles, boards): a replica is behind by its lag."""
        replica = self.replica
        if replica is not None and replica.usable():
            try:
                with Session(replica.engine, expire_on_commit=False) as session:
                    result = fn(session)
            except (OperationalError, InterfaceError) as exc:
                replica.failed(exc)  # read this one from the primary below
            else:
                replica.answered()
                return result
        with self.read() as session:
            return fn(session)

    def ping(self) -> None:
        """Fail unless the database answers."""
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.release_serving()
        self.engine.dispose()
        self.read_engine.dispose()
        if self.replica is not None:
            self.replica.engine.dispose()


RETRY_S = 30.0  # a replica found unreachable is tried again after this long (meanwhile: the primary)
STATUS_TTL_S = 1.0  # the lag is measured at most this often (the supervisor view reloads on every event)
CONNECT_TIMEOUT_S = 3  # a replica that does not answer at all (a dropped route) costs a report this much


def _lsn(text_lsn: str) -> int:
    """A PostgreSQL WAL position (`16/B374D848`) as a byte offset."""
    high, _, low = text_lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def _cause(exc: BaseException) -> str:
    """A short cause without host names, paths or statement text: the error class and its SQLSTATE."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlstate", None)
    return f"{type(orig).__name__} {code}" if code else type(orig).__name__


def _unreachable(exc: BaseException) -> bool:
    """Whether an error means the replica cannot be used (no connection, shut down, still starting), as
    opposed to one query it cancelled (a conflict with recovery, SQLSTATE 40001: that one report is read
    from the primary, and the replica stays in use)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code is None or code.startswith(("08", "57P"))


class Replica:
    """The reports' read-only copy (`HALL_DATABASE_READ_URL`): a PostgreSQL streaming standby.

    Statistics, reports and exports read here (`Database.report`). When it does not answer, they read the
    primary: said once in the log (and by `status`, which /readyz, /metrics and the supervisor view show)
    until it answers again; it is tried again every RETRY_S seconds.
    """

    def __init__(self, url: str, primary: Engine) -> None:
        self.url = normalize_url(url)
        self._primary = primary
        engine = create_engine(
            self.url,
            pool_size=5,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
        # A standby allows REPEATABLE READ (not SERIALIZABLE): one consistent picture per report
        self.engine = engine.execution_options(isolation_level="REPEATABLE READ")
        self.retry_s = RETRY_S
        self._lock = threading.Lock()
        self._down_since: float | None = None  # monotonic time it was found unreachable
        self._cause = ""
        self._status: tuple[float, dict[str, Any]] | None = None

    def usable(self) -> bool:
        """False while the replica is known to be unreachable (until RETRY_S after the last failure)."""
        with self._lock:
            return self._down_since is None or time.monotonic() - self._down_since >= self.retry_s

    def failed(self, exc: BaseException) -> None:
        """A read on the replica failed; the first failure of an outage says so in the log."""
        if not _unreachable(exc):
            log.info("report replica cancelled a report (%s); read from the primary", _cause(exc))
            return
        with self._lock:
            first = self._down_since is None
            self._down_since, self._cause, self._status = time.monotonic(), _cause(exc), None
        if first:
            log.warning("report replica unreachable (%s): reports read the primary until it answers again", _cause(exc))

    def answered(self) -> None:
        """A read on the replica succeeded; the first one after an outage says so in the log."""
        with self._lock:
            if self._down_since is None:
                return
            self._down_since, self._status = None, None
        log.info("report replica answers again: reports read from it")

    def status(self) -> dict[str, Any]:
        """{"state", "lag_s", "lag_bytes", "detail"}; state `ok`, `unreachable` (reports read the primary)
        or `not_standby` (it answers but replays no primary's WAL, so its lag is unknown). Blocking; measured
        at most every STATUS_TTL_S seconds.

        lag_bytes: WAL the primary has written and the replica has not replayed yet (the primary's
        `pg_current_wal_lsn()` less the replica's `pg_last_wal_replay_lsn()`). lag_s: 0 when nothing is
        missing, else how old the last commit the replica replayed is (`pg_last_xact_replay_timestamp()`,
        by the replica's clock): how far behind a report is.
        """
        with self._lock:
            cached = self._status
        if cached is not None and time.monotonic() - cached[0] < STATUS_TTL_S:
            return cached[1]
        status = self._measure()
        with self._lock:
            self._status = (time.monotonic(), status)
        return status

    def _measure(self) -> dict[str, Any]:
        unknown: dict[str, Any] = {"lag_s": None, "lag_bytes": None}
        primary_lsn, primary_cause = None, ""
        if not self.usable():
            return {"state": "unreachable", "detail": self._cause} | unknown
        try:
            with self._primary.connect() as conn:
                primary_lsn = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        except DBAPIError as exc:  # the primary's own trouble shows elsewhere (/readyz, every request)
            primary_cause = _cause(exc)
        try:
            with self.engine.connect() as conn:
                standby, replayed, age = conn.execute(
                    text(
                        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                        " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8"
                    )
                ).one()
        except DBAPIError as exc:
            self.failed(exc)
            return {"state": "unreachable", "detail": _cause(exc)} | unknown
        self.answered()
        if not standby or replayed is None:
            return {"state": "not_standby", "detail": "not a streaming standby: lag unknown"} | unknown
        if primary_lsn is None:
            return {"state": "ok", "detail": f"primary: {primary_cause}"} | unknown
        behind = max(0, _lsn(primary_lsn) - _lsn(replayed))
        lag_s = 0.0 if behind == 0 else max(0.0, float(age or 0.0))
        return {"state": "ok", "detail": "", "lag_s": round(lag_s, 3), "lag_bytes": behind}


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session on `engine` in a transaction: committed on success, rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def plain_engine(url: str) -> Engine:
    """An engine without our transaction hooks, for migrations and admin work."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool)
    return create_engine(url, poolclass=NullPool)
