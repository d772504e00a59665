"""The board reports its own health (`POST /api/v1/devices/health` with its display token), as kiosks do, so the
supervisor view shows it as a device that is fine (or has lost the event stream) instead of one that never spoke.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import httpx

log = logging.getLogger(__name__)


class Health:
    """Reports every `every` seconds and whenever `poke()` is called (the stream came back), on the asyncio loop
    that runs `run()`. Without a token there is nothing to report as."""

    def __init__(
        self, server: str, token: str | None, window: int | None, *, every: float, stale: Callable[[], bool]
    ) -> None:
        self.server, self.token, self.every, self.stale = server.rstrip("/"), token, every, stale
        self.what = f"window {window} display" if window is not None else "lobby board"
        self.reports = 0  # answered with 200
        self._poke: asyncio.Event | None = None

    def poke(self) -> None:
        """Report now (call on the loop that runs `run()`)."""
        if self._poke is not None:
            self._poke.set()

    async def run(self) -> None:
        """Report until cancelled: first when the stream is up, then every `every` seconds."""
        if not self.token:
            return
        self._poke = asyncio.Event()
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.server, headers=headers, timeout=5) as http:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), self.every)
                self._poke.clear()
                await self.report(http)

    async def report(self, http: httpx.AsyncClient) -> None:
        """One report: ok, or offline when the event stream is lost (the HTTP side may still answer)."""
        lost = self.stale()
        detail = f"kivy {self.what}" + (", event stream lost" if lost else "")
        body = {"status": "offline" if lost else "ok", "detail": detail}
        try:
            r = await http.post("/api/v1/devices/health", json=body)
        except httpx.HTTPError as e:
            log.warning("health report failed: %s", e)
            return
        if r.status_code == 200:
            self.reports += 1
            log.info("health reported: %s", body["status"])
        else:
            log.warning("health report refused: %s", r.status_code)
