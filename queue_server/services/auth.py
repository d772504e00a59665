"""Passwords (argon2), bearer tokens (JWT), device tokens, and who may do what."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import Forbidden, Unauthorized
from ..timeutil import utcnow

STAFF_ROLES = frozenset({"admin", "clerk", "approver", "auditor"})
DEVICE_ROLES = frozenset({"kiosk", "display"})
TOKEN_TTL = timedelta(hours=12)
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


class TokenService:
    """Issues and checks staff bearer tokens and configured device tokens."""

    def __init__(self, secret: str, devices: dict[str, Principal]) -> None:
        # Sign tokens with a key derived for this purpose only, never the raw secret.
        self._key = hmac.new(secret.encode(), b"hall/jwt/v1", hashlib.sha256).digest()
        self._devices = devices  # token digest -> device principal
        # token digest -> (principal, expiry): a staff token is checked once, not on every request
        # (decoding and verifying a JWT costs as much as a simple request's own work).
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue(self, user: Principal) -> str:
        """A signed bearer token for a staff user."""
        now = utcnow()
        claims: dict[str, Any] = {
            "sub": user.name,
            "role": user.role,
            "hall": user.hall,
            "win": sorted(user.windows),
            "iat": int(now.timestamp()),
            "exp": int((now + TOKEN_TTL).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def principal(self, token: str | None) -> Principal:
        """Who the bearer token belongs to; 401 when missing, unknown, forged or expired."""
        if not token:
            raise Unauthorized("需要登录 / Not authenticated")
        digest = token_digest(token)
        device = self._devices.get(digest)
        if device is not None:
            return device
        known = self._verified.get(digest)
        if known is not None and known[1] > time.time():
            return known[0]
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        except jwt.PyJWTError:
            self._verified.pop(digest, None)
            raise Unauthorized("登录已失效，请重新登录 / Invalid or expired token") from None
        role = str(claims.get("role", ""))
        if role not in STAFF_ROLES:
            raise Unauthorized("无效令牌 / Invalid token")
        who = Principal("user", str(claims["sub"]), role, claims.get("hall"), frozenset(claims.get("win") or ()))
        if len(self._verified) >= 10_000:
            self._verified.clear()
        self._verified[digest] = (who, float(claims["exp"]))
        return who

    def forget(self) -> None:
        """Check every staff token again on its next use."""
        self._verified.clear()
