"""The evaluator bridge: listens to the hall's events for one window and turns key presses into evaluations.

When the window completes a ticket (``ticket.completed`` with its window number) the evaluator asks;
the first key press is posted as that ticket's evaluation (channel ``evaluator``) with the bridge's
device token, and the evaluator thanks the citizen. The question ends unanswered when the window calls
the next ticket, when the ticket was rated elsewhere (``evaluation.created``: the pad or online), or
after `ask_s` seconds. Device calls run in worker threads, never on the event loop. The stream is followed by
the shared follower (`hall_client.follower`) and read through the shared schemas (`queue_server.schemas`); after
a reconnection it starts afresh (no replay: a completion missed meanwhile is not asked about late).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from hall_client.follower import Follower
from queue_server.schemas import EvaluationCreated, TicketChange, event_data

from ..errors import PeripheralError
from .driver import Evaluator
from .protocol import KeyPress

log = logging.getLogger(__name__)


@dataclass
class Question:
    """The ticket the evaluator is asking about."""

    ticket_id: int
    number: str
    until: float


class EvaluatorBridge:
    """Connects one window's evaluator to the server."""

    def __init__(
        self, *, server: str, hall: str, window: int, token: str, evaluator: Evaluator, ask_s: float = 60.0
    ) -> None:
        """Configure; nothing runs until `run()`."""
        self.server = server.rstrip("/")
        self.hall, self.window, self.token = hall, window, token
        self.evaluator = evaluator
        self.ask_s = ask_s
        self.question: Question | None = None
        self.posted: list[dict[str, Any]] = []  # evaluations stored, newest last
        self.connected = asyncio.Event()
        health = evaluator.health()
        self._health: tuple[str, str] = (health.status, f"evaluator: {health.detail}"[:200])
        self._reported: tuple[str, str] | None = None

    async def _device(self, fn: Any, *args: Any) -> None:
        try:
            await asyncio.to_thread(fn, *args)
        except PeripheralError as exc:  # reported to staff, and the next question tries again
            log.error("evaluator of window %s: %s", self.window, exc)
            self._health = ("error", f"evaluator: {exc}"[:200])
        else:
            health = self.evaluator.health()
            self._health = (health.status, f"evaluator: {health.detail}"[:200])

    async def _report_health(self, http: httpx.AsyncClient) -> None:
        """Send the evaluator's health to the server when it changes (staff see it with the other devices)."""
        if self._health == self._reported:
            return
        status, detail = self._health
        try:
            r = await http.post(
                "/api/v1/devices/health",
                json={"status": status, "detail": detail},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as exc:
            log.warning("health report failed: %s", exc)
            return
        if r.status_code == 200:
            self._reported = self._health

    async def on_event(self, msg: dict[str, Any]) -> None:
        """React to one hall event."""
        kind = msg.get("type")
        try:
            data = event_data(msg)
        except ValidationError:
            log.warning("%s event of an unexpected shape; ignored", kind)
            return
        mine = isinstance(data, TicketChange) and data.window == self.window
        if kind == "ticket.completed" and mine:
            assert isinstance(data, TicketChange)
            self.question = Question(data.id, data.number, time.monotonic() + self.ask_s)
            await self._device(self.evaluator.prompt, self.question.number)
        elif self.question is not None and (
            (kind == "ticket.called" and mine)
            or (isinstance(data, EvaluationCreated) and data.ticket == self.question.ticket_id)
        ):
            self.question = None
            await self._device(self.evaluator.cancel)

    async def _events(self) -> None:
        def snapshot(_msg: dict[str, Any]) -> None:
            self.connected.set()

        follower = Follower(
            self.server, self.hall, token=self.token, on_snapshot=snapshot, on_event=self.on_event, resume=False
        )
        await follower.run()

    async def _answer(self, http: httpx.AsyncClient, q: Question, press: KeyPress) -> None:
        body = {"ticket_id": q.ticket_id, "level": press.level, "reasons": list(press.reasons), "channel": "evaluator"}
        r = await http.post(
            f"/api/v1/halls/{self.hall}/evaluations", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        if r.status_code == 201:
            self.posted.append(r.json())
            await self._device(self.evaluator.thanks)
        else:  # 409: rated already (e.g. on the pad a moment before)
            log.warning("evaluation of %s refused: %s %s", q.number, r.status_code, r.text[:200])
            await self._device(self.evaluator.cancel)

    async def _keys(self, http: httpx.AsyncClient) -> None:
        while True:
            await self._report_health(http)
            press = await asyncio.to_thread(self.evaluator.read_key, 0.2)
            q = self.question
            if q is not None and time.monotonic() > q.until:
                self.question = None
                await self._device(self.evaluator.cancel)
                continue
            if press is None or q is None:
                continue  # a key with no question on display is ignored
            self.question = None
            await self._answer(http, q, press)

    async def run(self) -> None:
        """Run until cancelled."""
        async with httpx.AsyncClient(base_url=self.server, timeout=10) as http:
            await asyncio.gather(self._events(), self._keys(http))
