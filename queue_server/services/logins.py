"""Staff login: throttles per user and per address, a bound on concurrent password hashing, and the same
cost for unknown users as for known ones (no user enumeration by timing).

Each password check runs argon2 with 64 MiB for about a tenth of a second of CPU. Unbounded, 64
concurrent wrong logins took the whole thread pool, 1 GiB of memory and 12 s of the board's time; now at
most `HASH_SLOTS` hashes run at once per process, a few more wait briefly off the thread pool, and the
rest are told to retry (429 with Retry-After). The throttles live in the process's memory (`limits`):
with several server processes each counts its own share.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import secrets
import time
from collections.abc import Callable

import anyio.to_thread
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from ..config import USERNAME
from ..errors import TooManyRequests
from .auth import hash_password, verify_password
from .users import UserState

PER_ADDRESS = RateLimitItemPerMinute(100, 5)  # login attempts from one address per 5 minutes
PER_USER = RateLimitItemPerMinute(10, 5)  # attempts for one username since its last success, per 5 minutes
HASH_SLOTS = max(1, (os.cpu_count() or 2) // 2)  # argon2 runs at once per process (each 64 MiB, one core)
HASH_WAITING = 16  # attempts that may wait for a slot; more are refused at once
HASH_WAIT_S = 3.0  # how long one may wait for a slot
_USERNAME = re.compile(USERNAME)  # what the configuration accepts as a username


class LoginThrottled(TooManyRequests):
    """Too many login attempts (for this user, from this address, or at once): retry after some seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after_s=retry_after)
        self.retry_after = retry_after


class LoginGuard:
    """Checks staff passwords within the throttles and the hashing bound."""

    def __init__(self, lookup: Callable[[str], UserState | None], *, storage: Storage | None = None) -> None:
        self._lookup = lookup
        self._storage = storage or MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._slots: asyncio.Semaphore | None = None  # made on first use, in the server's event loop
        self._waiting = 0
        self._dummy: str | None = None  # a hash of a random password, checked for unknown users

    def clear(self) -> None:
        """Forget every count (tests; an operator lifting a block)."""
        self._storage.reset()

    async def authenticate(self, username: str, password: str, *, address: str) -> UserState | None:
        """The user's state when the password is right and the user active, else None; LoginThrottled
        when over a throttle or the hashing bound (before any hashing)."""
        self._admit(PER_ADDRESS, "address", address)
        self._admit(PER_USER, "user", username)
        if not _USERNAME.fullmatch(username):  # no account can have it: nothing to hash, nothing revealed
            return None
        state = await anyio.to_thread.run_sync(self._lookup, username)
        ok = await self._verify(None if state is None else state.password_hash, password)
        if not ok or state is None or not state.active:
            return None
        self._limiter.clear(PER_USER, "user", username)
        return state

    def _admit(self, item: RateLimitItem, kind: str, key: str) -> None:
        if self._limiter.hit(item, "login", kind, key):
            return
        wait_s = max(1, math.ceil(self._limiter.get_window_stats(item, "login", kind, key).reset_time - time.time()))
        wait_min = math.ceil(wait_s / 60)
        raise LoginThrottled(
            f"登录尝试过多，请{wait_min}分钟后再试 / Too many login attempts; try again in {wait_min} min", wait_s
        )

    async def _verify(self, hashed: str | None, password: str) -> bool:
        """argon2 in a worker thread, at most HASH_SLOTS at once; waiting happens on the event loop."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(HASH_SLOTS)
        if self._waiting >= HASH_WAITING:
            raise _busy()
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), HASH_WAIT_S)
        except TimeoutError:
            raise _busy() from None
        finally:
            self._waiting -= 1
        try:
            return await anyio.to_thread.run_sync(self._check, hashed, password)
        finally:
            self._slots.release()

    def _check(self, hashed: str | None, password: str) -> bool:
        if hashed is None:  # an unknown user costs the same argon2 run as a known one
            if self._dummy is None:
                self._dummy = hash_password(secrets.token_urlsafe(16))
            verify_password(self._dummy, password)
            return False
        return verify_password(hashed, password)


def _busy() -> LoginThrottled:
    return LoginThrottled("登录繁忙，请稍后再试 / Too many logins at once; try again in a moment", 1)
