"""What a running server shares: config, database, hub, tokens, cipher. Built per app, never global."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .config import AppConfig, HallConfig
from .crypto import PiiCipher
from .db import Database
from .errors import NotFound
from .events import HallEvent, Hub
from .policy import Rules
from .services.auth import Principal, TokenService, token_digest
from .services.tx import read_events


@dataclass
class HallContext:
    """The server's shared parts; one per application instance."""

    config: AppConfig
    db: Database
    secret_key: str
    hub: Hub = field(init=False)
    tokens: TokenService = field(init=False)
    cipher: PiiCipher = field(init=False)
    zones: dict[str, ZoneInfo] = field(init=False)
    fingerprint_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.hub = Hub(self._fetch_range)
        devices = {
            token_digest(d.token.get_secret_value()): Principal("device", d.name, d.role, d.hall, window=d.window)
            for d in self.config.devices
        }
        self.tokens = TokenService(self.secret_key, devices)
        self.cipher = PiiCipher(self.secret_key)
        self.fingerprint_key = hashlib.sha256(b"hall/config-password/v1\0" + self.secret_key.encode()).digest()
        self.zones = {h.code: ZoneInfo(h.timezone) for h in self.config.halls}

    def hall(self, code: str) -> HallConfig:
        """The hall's configuration, or NotFound."""
        for h in self.config.halls:
            if h.code == code:
                return h
        raise NotFound(f"大厅不存在 / No hall '{code}'")

    def rules(self, code: str) -> Rules:
        """The hall's queue-policy rules."""
        return Rules(max_priority_streak=self.hall(code).max_priority_streak)

    def _fetch_range(self, hall: str, after: int, before: int) -> list[HallEvent]:
        with self.db.read() as s:
            return read_events(s, hall, after, before)
