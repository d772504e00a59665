"""The desk agent: the general desk's ID-card reader and ticket printer, driven by the desk page through the server.

The agent follows its hall's event stream with its device token (a `[[devices]]` entry with `role = "desk"`;
its name is the desk it serves). When the desk page presses 读卡 the server emits `desk.read` for this agent:
it reads the card on its reader (`read(timeout)` of any `IdReader`: SAM serial gives the resident ID card, a
PC/SC reader a card's UID) and posts the result to `/api/v1/desk-agent/cards` — the server keeps it for the
page's one authorized fetch, and only says "card read" in the (public) stream. When the page presses 打印 the
server emits `desk.print`: the agent fetches what the ticket shows (`/api/v1/desk-agent/tickets/{id}`), prints
it as the kiosk's ESC/POS ticket (number, domain, people ahead, time, QR = the ticket's `track_url`) and
reports `printed` or `failed`. Its health (printer and reader) goes to `/api/v1/devices/health` at start, every
`report_s` seconds and after each job, and `offline` when it stops: the desk page uses the browser's print
and the keyboard reader while no agent is connected.

Device calls block, so they run in worker threads (one at a time per device), never on the event loop. Nothing
personal is logged: a card is logged by its masked `repr` at most, a ticket by its number.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError

from hall_client.follower import Follower
from queue_server.schemas import DeskPrint, DeskRead, event_data

from ..errors import CardError, PeripheralError
from ..health import DeviceHealth
from ..idcard.base import IdReader
from ..idcard.card import CardUid, IdCard
from ..printer import TicketData, TicketPrinter

log = logging.getLogger(__name__)

NO_CARD = "未检测到卡片，请将身份证放在读卡器上 / No card on the reader: place the ID card on it"
NO_READER = "本台未接读卡器 / This desk has no card reader"
NO_PRINTER = "本台未接打印机 / This desk has no ticket printer"


class AgentRefused(Exception):
    """The server refused the agent's token for good (not a desk agent's token, or unknown)."""


def card_body(card: IdCard | CardUid | None, error: str | None = None) -> dict[str, Any]:
    """What the agent posts for a read: the ID card's name, number, sex and birth date, a UID, or an error."""
    if isinstance(card, IdCard):
        return {
            "card": {
                "name": card.name,
                "id_number": card.id_number,
                "sex": card.sex,
                "birth_date": card.birth_date.isoformat(),
            }
        }
    if isinstance(card, CardUid):
        return {"uid": card.hex}
    return {"error": error or NO_CARD}


def ticket_data(t: dict[str, Any]) -> TicketData:
    """The printed ticket of the server's answer (`issued_at` is in the hall's zone: printed as it is)."""
    return TicketData(
        hall_name=str(t["hall_name"]),
        hall_name_en=str(t.get("hall_name_en") or ""),
        number=str(t["number"]),
        domain_name=str(t["queue_name"]),
        domain_name_en=str(t.get("queue_name_en") or ""),
        people_ahead=int(t.get("ahead") or 0),
        issued_at=datetime.fromisoformat(str(t["issued_at"])),
        tracking_url=str(t["track_url"]),
        lane=t.get("lane") or "normal",
        estimated_wait_min=round(int(t.get("estimated_wait_s") or 0) / 60),
    )


def combined_health(printer: DeviceHealth | None, reader: DeviceHealth | None) -> tuple[str, str]:
    """One report for the agent: the first device's trouble, else ok; `offline` is kept for a stopped agent
    (a device that does not answer is reported as `error`)."""
    parts, status = [], "ok"
    for label, h in (("printer", printer), ("reader", reader)):
        if h is None:
            parts.append(f"{label}: none")
            continue
        parts.append(f"{label}: {h.status}" + (f" ({h.detail})" if h.detail and not h.ok else ""))
        if status == "ok" and h.status != "ok":
            status = "error" if h.status == "offline" else h.status
    return status, "; ".join(parts)[:200]


class DeskAgent:
    """Serves one desk's reader and printer to the server at `server` with a desk agent's `token`."""

    def __init__(
        self,
        *,
        server: str,
        token: str,
        reader: IdReader[Any] | None,
        printer: TicketPrinter | None,
        read_timeout: float = 10.0,
        report_s: float = 60.0,
    ) -> None:
        """Configure; nothing runs until `run()`."""
        self.server = server.rstrip("/")
        self.token = token
        self.reader, self.printer = reader, printer
        self.read_timeout, self.report_s = read_timeout, report_s
        self.name = self.hall = ""
        self.connected = asyncio.Event()
        self._reader_lock, self._printer_lock = asyncio.Lock(), asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response | None:
        assert self._http is not None
        try:
            r = await self._http.post(path, json=body, headers=self._auth)
        except httpx.HTTPError as exc:
            log.warning("desk agent: %s failed: %s", path, exc)
            return None
        if r.status_code >= 400:
            log.warning("desk agent: %s answered %s %s", path, r.status_code, r.text[:200])
        return r

    async def report(self, status: str | None = None) -> None:
        """Send the agent's health (the devices' now, or `status`) to the server."""
        if status is None:
            printer = await asyncio.to_thread(self.printer.health) if self.printer else None
            reader = await asyncio.to_thread(self.reader.health) if self.reader else None
            status, detail = combined_health(printer, reader)
        else:
            detail = "desk agent stopped"
        await self._post("/api/v1/devices/health", {"status": status, "detail": detail})

    async def read_card(self, request: str) -> None:
        """Answer a 读卡 request with the card on the reader (or why there is none)."""
        card: IdCard | CardUid | None = None
        error: str | None = None
        if self.reader is None:
            error = NO_READER
        else:
            async with self._reader_lock:
                try:
                    card = await asyncio.to_thread(self.reader.read, self.read_timeout)
                except CardError as exc:
                    error = f"读卡失败，请重新放卡 / The card could not be read: place it again ({type(exc).__name__})"
                except PeripheralError as exc:
                    error = f"读卡器故障 / Card reader fault: {exc}"[:200]
        log.info("desk %s: read %s", self.name, "a card" if card is not None else "no card")
        await self._post("/api/v1/desk-agent/cards", {"request": request, **card_body(card, error)})

    async def print_ticket(self, job: str, ticket_id: int) -> None:
        """Print a ticket of the hall and report the outcome."""
        ok, detail = False, NO_PRINTER
        if self.printer is not None:
            assert self._http is not None
            try:
                r = await self._http.get(f"/api/v1/desk-agent/tickets/{ticket_id}", headers=self._auth)
                r.raise_for_status()
                data = ticket_data(r.json())
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                detail = f"取票失败 / Could not fetch the ticket: {exc}"[:200]
            else:
                async with self._printer_lock:
                    try:
                        await asyncio.to_thread(self.printer.print_ticket, data)
                        ok, detail = True, ""
                    except PeripheralError as exc:
                        health = await asyncio.to_thread(self.printer.health)
                        detail = f"打印机 {health.status} / Printer {health.status}: {exc}"[:200]
                log.info("desk %s: ticket %s %s", self.name, data.number, "printed" if ok else "not printed")
        await self._post("/api/v1/desk-agent/printed", {"job": job, "ticket_id": ticket_id, "ok": ok, "detail": detail})
        if not ok:
            await self.report()  # staff see the printer's trouble at once

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def on_event(self, msg: dict[str, Any]) -> None:
        """Start the job an event asks of this desk (others are ignored)."""
        try:
            data = event_data(msg)
        except ValidationError:
            return
        if isinstance(data, DeskRead) and data.device == self.name:
            self._spawn(self.read_card(data.request))
        elif isinstance(data, DeskPrint) and data.device == self.name:
            self._spawn(self.print_ticket(data.job, data.ticket))

    async def _whoami(self) -> None:
        assert self._http is not None
        r = await self._http.get("/api/v1/auth/me", headers=self._auth)
        if r.status_code in (401, 403):
            raise AgentRefused("the server refused the device token / 设备令牌无效")
        r.raise_for_status()
        me = r.json()
        if me.get("kind") != "device" or me.get("role") != "desk" or not me.get("hall"):
            raise AgentRefused(f'the token is not a desk agent\'s (role {me.get("role")!r}): set role = "desk"')
        self.name, self.hall = str(me["name"]), str(me["hall"])

    async def _reports(self) -> None:
        # The first report says "connected" to the desk page: only once the stream is followed, so that a 读卡
        # pressed right after it is heard.
        await self.connected.wait()
        while True:
            await self.report()
            await asyncio.sleep(self.report_s)

    async def run(self) -> None:
        """Run until cancelled; says `offline` to the server on the way out."""
        async with httpx.AsyncClient(base_url=self.server, timeout=10) as http:
            self._http = http
            await self._whoami()
            log.info(
                "desk agent %s of hall %s: printer %s, reader %s",
                self.name,
                self.hall,
                "yes" if self.printer else "no",
                "yes" if self.reader else "no",
            )

            def snapshot(_msg: dict[str, Any]) -> None:
                self.connected.set()

            follower = Follower(
                self.server, self.hall, token=self.token, on_snapshot=snapshot, on_event=self.on_event, resume=False
            )
            try:
                await asyncio.gather(follower.run(), self._reports())
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.shield(self.report("offline"))
