"""Passwords (argon2), bearer tokens (JWT), device tokens, and who may do what."""

from __future__ import annotations

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
# How long a process trusts what it read of a user's row: a revocation or a config change made by another
# process reaches this one within that time. One read per user per second is nothing on the call path.
USER_FRESH_S = 1.0
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
    against the user's current row (`lookup`, run in a worker thread), remembered for `fresh_s` seconds
    per process: a removed, demoted, re-passworded or revoked user's tokens stop working within that
    time in every process, and the principal always carries the user's current rights."""

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
        self._fresh_s = fresh_s
        # token digest -> claims: a token's signature is checked once, not on every request (decoding and
        # verifying a JWT costs as much as a simple request's own work).
        self._verified: dict[str, _Claims] = {}
        self._users: dict[str, tuple[UserState | None, float]] = {}  # username -> (state, when read)

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
        now = time.monotonic()
        if known is not None and now - known[1] < self._fresh_s:
            return known[0]
        state = await anyio.to_thread.run_sync(self._lookup, name)
        if len(self._users) >= 10_000:
            self._users.clear()
        self._users[name] = (state, now)
        return state

    def revoked(self, name: str) -> None:
        """Check the user's row again on the next use of any of their tokens (after a change here)."""
        self._users.pop(name, None)

    def forget(self) -> None:
        """Check every staff token and user again on its next use."""
        self._verified.clear()
        self._users.clear()
