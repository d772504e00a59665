"""Passwords (argon2), bearer tokens (JWT), device tokens, and who may do what."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import Forbidden, Unauthorized
from ..timeutil import utcnow

if TYPE_CHECKING:
    from .users import UserState

STAFF_ROLES = frozenset({"admin", "clerk", "approver", "auditor"})
DEVICE_ROLES = frozenset({"kiosk", "display", "desk"})
TOKEN_TTL = timedelta(hours=12)
# How long a process trusts what it read of a user's row without hearing of a change. Every write of a user
# row through services/users.py reaches every server process at once (the writing one drops its copy itself,
# the others hear a NOTIFY on PostgreSQL); this bound covers what no notification reaches: a CLI writing the
# SQLite file, a notification lost while a listener's connection was silently dead, a hand edit of the table.
# One read per user per two seconds is nothing on the call path (docs/deployment.md, "Staff and sessions").
USER_FRESH_S = 2.0
_hasher = PasswordHasher()  # stateless and thread-safe: parameters only


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """Whether the password matches the argon2 hash."""
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Principal:
    """Whoever is calling: a staff user or a configured device."""

    kind: str  # "user" | "device"
    name: str
    role: str
    hall: str | None  # None only for admin users: every hall
    windows: frozenset[int] = field(default_factory=frozenset)  # clerk bound to these windows; empty = any
    window: int | None = None  # a window display's own window

    def in_hall(self, hall: str) -> bool:
        """Whether this principal belongs to the hall (admins belong to all)."""
        return self.role == "admin" or self.hall == hall

    def require(self, hall: str, *roles: str) -> None:
        """403 unless one of `roles` (admin always passes) and of this hall."""
        if self.role != "admin" and self.role not in roles:
            raise Forbidden(f"角色 {self.role} 无权进行此操作 / Role '{self.role}' may not do this")
        if not self.in_hall(hall):
            raise Forbidden("不能操作其他大厅 / You belong to another hall")


def token_digest(token: str) -> str:
    """SHA-256 of a device token: the lookup key, so tokens are not kept in memory as given."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Claims:
    """What a verified staff token says: whose it is, its session generation, until when."""

    name: str
    generation: int
    expires: float


class TokenService:
    """Issues and checks staff bearer tokens and configured device tokens.

    A staff token names its user and the user's session generation at login; each use checks them
    against the user's current row (`lookup`, run in a worker thread), remembered per process until a
    change of the row is heard of (`revoked`: this process's own writes, other processes' by NOTIFY) and
    at most `fresh_s` seconds: a removed, demoted, re-passworded or revoked user's tokens stop working at
    once in every process, and the principal always carries the user's current rights. A user's row is
    read once however many of their requests arrive while it is read (one clerk token behind a whole
    hall's consoles would otherwise send every request in those milliseconds to the database)."""

    def __init__(
        self,
        secret: str,
        devices: dict[str, Principal],
        lookup: Callable[[str], UserState | None],
        *,
        fresh_s: float = USER_FRESH_S,
    ) -> None:
        # Sign tokens with a key derived for this purpose only, never the raw secret.
        self._key = hmac.new(secret.encode(), b"hall/jwt/v1", hashlib.sha256).digest()
        self._devices = devices  # token digest -> device principal
        self._lookup = lookup
        self.fresh_s = fresh_s
        # token digest -> claims: a token's signature is checked once, not on every request (decoding and
        # verifying a JWT costs as much as a simple request's own work).
        self._verified: dict[str, _Claims] = {}
        self._users: dict[str, tuple[UserState | None, float]] = {}  # username -> (state, when read began)
        self._reading: dict[str, asyncio.Task[UserState | None]] = {}  # username -> the read under way
        # Raised by every forgetting: a read that began before it may have seen the row as it was, so its
        # result answers the requests that waited for it but is not remembered.
        self._epoch = 0
        self.reads = 0  # users' rows read (tests, bench: how often the cache missed)

    def issue(self, user: Principal, generation: int) -> str:
        """A signed bearer token for a staff user, valid while the user's session generation stays."""
        now = utcnow()
        claims: dict[str, Any] = {
            "sub": user.name,
            "gen": generation,
            "role": user.role,
            "hall": user.hall,
            "win": sorted(user.windows),
            "iat": int(now.timestamp()),
            "exp": int((now + TOKEN_TTL).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    async def principal(self, token: str | None) -> Principal:
        """Who the bearer token belongs to; 401 when missing, unknown, forged, expired or revoked."""
        if not token:
            raise Unauthorized("需要登录 / Not authenticated")
        digest = token_digest(token)
        device = self._devices.get(digest)
        if device is not None:
            return device
        claims = self._verified.get(digest)
        if claims is None or claims.expires <= time.time():
            claims = self._verify(digest, token)
        state = await self._user(claims.name)
        if state is None or not state.active or state.generation != claims.generation:
            raise Unauthorized("登录已失效，请重新登录 / Session ended; log in again")
        return state.principal

    def _verify(self, digest: str, token: str) -> _Claims:
        try:
            raw = jwt.decode(token, self._key, algorithms=["HS256"], options={"require": ["exp", "sub", "gen"]})
            claims = _Claims(str(raw["sub"]), int(raw["gen"]), float(raw["exp"]))
        except (jwt.PyJWTError, TypeError, ValueError):
            self._verified.pop(digest, None)
            raise Unauthorized("登录已失效，请重新登录 / Invalid or expired token") from None
        if len(self._verified) >= 10_000:
            self._verified.clear()
        self._verified[digest] = claims
        return claims

    async def _user(self, name: str) -> UserState | None:
        known = self._users.get(name)
        if known is not None and time.monotonic() - known[1] < self.fresh_s:
            return known[0]
        loop = asyncio.get_running_loop()
        reading = self._reading.get(name)
        if reading is None or reading.get_loop() is not loop:  # (a test's earlier event loop left it)
            reading = self._reading[name] = loop.create_task(self._read(name))
        # shielded: a request that goes away (client disconnected) does not cancel the others' read
        return await asyncio.shield(reading)

    async def _read(self, name: str) -> UserState | None:
        epoch, began = self._epoch, time.monotonic()
        self.reads += 1
        try:
            state = await anyio.to_thread.run_sync(self._lookup, name)
        finally:
            if self._reading.get(name) is asyncio.current_task():
                del self._reading[name]
        if epoch == self._epoch:
            if len(self._users) >= 10_000:
                self._users.clear()
            self._users[name] = (state, began)
        return state

    def revoked(self, name: str) -> None:
        """The user's row changed (or may have): check it again on the next use of any of their tokens.
        Call it after the change committed (a read before the commit would remember the old row)."""
        self._users.pop(name, None)
        self._reading.pop(name, None)
        self._epoch += 1

    def forget_users(self) -> None:
        """Check every user's row again on its next use (a listener that may have missed notifications)."""
        self._users.clear()
        self._reading.clear()
        self._epoch += 1

    def forget(self) -> None:
        """Check every staff token and user again on its next use."""
        self._verified.clear()
        self.forget_users()
