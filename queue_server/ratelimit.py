"""Rate limits of the public routes (proofs, codes, ID numbers, bookings), on the `limits` library.

Where the counts live (`[server] rate_limit_url`, or `HALL_RATE_LIMIT_URL`):
- `memory://` — in the process (the default on SQLite, which one server process serves);
- `redis://host:6379/0` — shared by every process (and every server) that names the same Redis;
- `database` — the `rate_limit` table of the hall database (the default on PostgreSQL, where several
  processes may serve the halls), so every process counts the same hits.
Windows are fixed (one hour, or what the caller asks). Keys carry a prefix derived from the database URL,
so two halls' servers (or two test servers) sharing one Redis never count each other's hits.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

import anyio.to_thread
from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, SQLModel, col

from .db import Database
from .errors import TooManyRequests, Unavailable

log = logging.getLogger(__name__)
DATABASE = "database"


class RateLimitCount(SQLModel, table=True):
    """One key's hits in its current window (the `database` storage)."""

    __tablename__ = "rate_limit"

    key: str = Field(primary_key=True, max_length=200)
    hits: int = 0
    expires_at: float = 0.0  # epoch seconds: the window's end


_T = RateLimitCount.__table__  # type: ignore[attr-defined]


class DatabaseStorage(Storage):
    """Fixed-window counts in the hall database: one upsert per hit, shared by every process."""

    STORAGE_SCHEME = None

    def __init__(self, db: Database) -> None:
        super().__init__(wrap_exceptions=True)
        self.db = db
        self._hits_since_sweep = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        """What the database raises."""
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` hits of `key`; a window past its end starts again."""
        now = time.time()
        dialect = sqlite if self.db.is_sqlite else postgresql
        stmt = dialect.insert(_T).values(key=key, hits=amount, expires_at=now + expiry)
        lapsed = _T.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[_T.c.key],
            set_={
                "hits": case((lapsed, amount), else_=_T.c.hits + amount),
                "expires_at": case((lapsed, now + expiry), else_=_T.c.expires_at),
            },
        ).returning(_T.c.hits)
        with self.db.write() as s:
            hits = int(s.execute(stmt).scalar_one())
            self._hits_since_sweep += 1
            if self._hits_since_sweep >= 1000:  # keep the table small: forget lapsed windows now and then
                self._hits_since_sweep = 0
                s.execute(delete(_T).where(_T.c.expires_at <= now))
        return hits

    def _row(self, key: str) -> tuple[int, float] | None:
        with self.db.read() as s:
            row = s.execute(
                select(col(RateLimitCount.hits), col(RateLimitCount.expires_at)).where(col(RateLimitCount.key) == key)
            ).first()
        if row is None or row[1] <= time.time():
            return None
        return int(row[0]), float(row[1])

    def get(self, key: str) -> int:
        """Hits of `key` in its current window."""
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        """When the current window of `key` ends (epoch seconds)."""
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            self.db.ping()
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count."""
        with self.db.write() as s:
            s.execute(delete(_T))
        return None

    def clear(self, key: str) -> None:
        """Forget one key's count."""
        with self.db.write() as s:
            s.execute(delete(_T).where(_T.c.key == key))


def make_storage(url: str | None, db: Database) -> Storage:
    """The storage `url` names; None: memory on SQLite (one process per file), the database on PostgreSQL
    (where other server processes may share the hall)."""
    url = (url or "").strip() or ("memory://" if db.is_sqlite else DATABASE)
    if url == DATABASE:
        return DatabaseStorage(db)
    if url.startswith("memory"):
        return MemoryStorage()
    prefix = "hall-rl-" + hashlib.sha256(db.url.encode()).hexdigest()[:12]
    storage = storage_from_string(url, key_prefix=prefix, wrap_exceptions=True)
    assert isinstance(storage, Storage)  # a redis:// URL names the synchronous storage
    return storage


class RateLimiter:
    """Counts calls per key in fixed windows; `check` answers 429 with Retry-After once a key is spent."""

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage if storage is not None else MemoryStorage()
        self._limiter = FixedWindowRateLimiter(self.storage)
        self._blocking = not isinstance(self.storage, MemoryStorage)  # I/O: off the event loop

    @property
    def kind(self) -> str:
        """Where the counts live: memory, redis or database."""
        if isinstance(self.storage, DatabaseStorage):
            return DATABASE
        return "memory" if isinstance(self.storage, MemoryStorage) else "redis"

    def clear(self) -> None:
        """Forget every count (tests; an operator lifting a block)."""
        self.storage.reset()

    def hit(self, key: str, *, per_hour: int = 0, per_minute: int = 0, count: bool = True) -> None:
        """Record a call for `key` (blocking); TooManyRequests when the window's calls are spent.
        `count=False`: only refuse a spent key, without recording a call."""
        item: Any = RateLimitItemPerMinute(per_minute) if per_minute else RateLimitItemPerHour(per_hour)
        try:
            if self._limiter.hit(item, key) if count else self._limiter.test(item, key):
                return
            reset_at = self._limiter.get_window_stats(item, key).reset_time
        except StorageError as exc:
            log.error("rate limiter storage unavailable: %s", type(exc.storage_error).__name__)
            raise Unavailable("服务繁忙，请稍后再试 / The service is busy; try again shortly") from None
        wait_s = max(1, math.ceil(reset_at - time.time()))
        wait_min = math.ceil(wait_s / 60)
        raise TooManyRequests(
            f"操作过于频繁，请{wait_min}分钟后再试 / Too many requests; try again in {wait_min} min",
            retry_after_s=wait_s,
        )

    async def check(self, key: str, *, per_hour: int = 0, per_minute: int = 0, count: bool = True) -> None:
        """Record a call for `key`; 429 (with Retry-After) when it already made its calls in the window.
        `count=False`: the 429 of a spent key only (a caller's misses are counted, its hits are not)."""
        if self._blocking:
            await anyio.to_thread.run_sync(lambda: self.hit(key, per_hour=per_hour, per_minute=per_minute, count=count))
        else:
            self.hit(key, per_hour=per_hour, per_minute=per_minute, count=count)


# Budgets of the routes that take a proof, code or ID number from a caller without a token. A proof's
# target (a case number, a complaint code) has its own budget shared by every route and address, so
# spreading guesses over many addresses does not help: the last four digits of an ID number (10,000
# values) would take 500 hours at PER_TARGET_HOUR.
PER_ADDRESS_HOUR = 60  # one address's look-ups of one kind (a hall's public Wi-Fi shares an address)
PER_TARGET_HOUR = 20  # guesses at one case's or one complaint's proof, from anywhere


def client_of(request: Any) -> str:
    """The caller's address as the server sees it ('?' when unknown)."""
    return request.client.host if request.client else "?"


async def guard_proof(limiter: RateLimiter, request: Any, kind: str, target: str) -> None:
    """Count one anonymous guess at `target`'s proof: per address and kind, and per target (429 when spent)."""
    await limiter.check(f"{kind}-ip:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)
    await limiter.check(f"{kind}-of:{target}", per_hour=PER_TARGET_HOUR)
