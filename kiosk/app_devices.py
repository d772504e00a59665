"""The kiosk app's devices: opening them, the scanner's worker, the ID card, printing, the health heartbeat.

Mixed into `KioskApp` (which declares the state used here); device calls run on worker threads under one lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from .client import KioskClientError
from .flow import PrintState

if TYPE_CHECKING:
    from .client import KioskClient
    from .flow import CheckInRequest, Flow

log = logging.getLogger("kiosk")
HEALTH_POLL_S = 3.0  # how often the home screen's banner is checked (server answer, printer status)


def holder_name(card: Any) -> str:
    """The card holder's name as the kiosk shows it (masked): a foreigner's card by its English name."""
    name = str(getattr(card, "name", "") or "")
    if getattr(card, "document", "resident") == "foreign_permanent_resident":
        return str(getattr(card, "name_en", "") or "") or name
    return name


class DeviceApp:
    """Printer, ID-card reader and scanner in the Kivy app."""

    if TYPE_CHECKING:
        flow: Flow
        client: KioskClient
        printer_url: str | None
        id_reader_url: str | None
        scanner_url: str | None
        scanner: Any
        qr: str
        demo_card: bool
        _names: tuple[str, str]
        _tz: Any
        printer_problem: str
        _printer: Any
        _reader: Any
        _sim: Any
        _card_wanted: bool
        _stopping: threading.Event
        _device_lock: threading.Lock

        def render(self) -> None: ...
        def _do(self, fn: Callable[[float], Any]) -> Any: ...
        def _later(self, fn: Callable[[], object], *, render: bool = False) -> None: ...
        def _start_check_in(self, req: CheckInRequest | None) -> None: ...
        @staticmethod
        def _background(fn: Callable[[], None]) -> None: ...

    def _open_devices(self) -> None:
        from peripherals import open_id_reader, open_printer

        with self._device_lock:
            if self.printer_url:
                self._printer = open_printer(self.printer_url)
            if self.id_reader_url in ("sim://", "sim://?card=none"):  # the demo: no card until one is "inserted"
                from peripherals.idcard.sam_reader import SamReader
                from peripherals.idcard.sam_simulator import SamSimulator, SimulatedSamPort

                self._sim = SamSimulator(None)
                self._reader = SamReader(SimulatedSamPort(self._sim), description="simulated SAM reader")
                self._later(lambda: setattr(self, "demo_card", True))
            elif self.id_reader_url:
                self._reader = open_id_reader(self.id_reader_url)
            if self._reader is not None:
                self._background(self._card_loop)
            if self.scanner_url:
                from peripherals import open_scanner

                self.scanner = open_scanner(self.scanner_url)
                self._background(self._scan_loop)
        self._background(self._health_loop)
        self._heartbeat()

    def _health_loop(self) -> None:
        """Every HEALTH_POLL_S: does the server answer, can the printer print? Changes go to the Kivy thread."""
        seen: tuple[bool, str] | None = None
        while not self._stopping.is_set():
            server_ok = self.client.ping()
            with self._device_lock:
                health = self._printer.health() if self._printer is not None else None
            printer = "" if health is None or health.status in ("ok", "paper_low") else str(health.status)
            if (server_ok, printer) != seen:
                seen = (server_ok, printer)
                log.info("kiosk health: server %s, printer %s", "ok" if server_ok else "unreachable", printer or "ok")
                self._later(partial(self.set_health, server_ok, printer), render=True)
            self._stopping.wait(HEALTH_POLL_S)

    def set_health(self, server_ok: bool, printer: str) -> None:
        """What the health poll found (Kivy thread): the flow pauses ticketing while the server is away."""
        self.flow.paused = not server_ok
        self.printer_problem = printer

    def _scan_loop(self) -> None:
        """The scanner's worker: every code goes to the flow on the Kivy thread (it ignores codes off-screen).

        A passport's MRZ lines (a document reader in MRZ mode sends them as two codes) go to an `MrzAssembler`
        instead, never to the code check-in; a complete, valid zone is a passport read (`passport_arrived`).
        """
        from peripherals.scanner.mrz import MrzAssembler, MrzError, is_mrz_line

        zone = MrzAssembler()
        while not self._stopping.is_set():
            try:
                payload = self.scanner.read(timeout=0.5)
            except Exception as e:  # a scanner fault: log it, keep the kiosk running
                log.warning("kiosk scanner: %s", type(e).__name__)
                self._stopping.wait(2.0)
                continue
            if payload and is_mrz_line(str(payload)):
                try:
                    passport = zone.feed(str(payload))
                except MrzError as e:  # a misread line: the citizen lays the passport down again
                    log.warning("kiosk passport: %s", e)
                    continue
                if passport is not None:
                    got = partial(self.passport_arrived, passport.id_number, passport.nationality, passport.name_en)
                    self._later(got, render=True)
            elif payload:
                zone.feed(str(payload))  # a stray code between the two lines starts the zone over
                self._later(self._scanned_later(str(payload)))

    def passport_arrived(self, number: str = "", nationality: str = "", name: str = "") -> None:
        """A passport's zone was read (Kivy thread): on the check-in screen the appointment booked with it; on
        the booking's card step the holder (name, number, nationality); on take-a-number's screens an ordinary
        number (the passport's number and name stay in the kiosk)."""
        if self.flow.screen == "book_card":
            self.flow.book_card_read(name, number, time.monotonic(), nationality=nationality)
            log.info("kiosk passport read for booking")
        elif self.flow.screen == "checkin":
            now = time.monotonic()
            self._start_check_in(self.flow.checkin_card(number, now, id_type="passport", nationality=nationality))
            log.info("kiosk passport read for check-in")
        elif self.flow.wants_card:
            self.flow.passport_read(time.monotonic())
            if self.flow.screen in ("domain", "confirm"):
                log.info("kiosk passport read for take-a-number")
        else:
            log.info("kiosk passport read on screen %s: not used there", self.flow.screen)

    def _scanned_later(self, payload: str) -> Callable[[], None]:
        """What the Kivy thread does with one scanned payload."""

        def run() -> None:
            log.info("kiosk scanned a code")  # never the code itself: it is the holder's proof
            self._start_check_in(self._do(lambda now: self.flow.scanned(payload, now)))

        return run

    def _heartbeat(self) -> None:
        """Report the printer's health to the server (staff see paper out there)."""
        with self._device_lock:
            health = self._printer.health() if self._printer is not None else None
        status, detail = (health.status, health.detail or "") if health is not None else ("ok", "no printer")
        try:
            self.client.report_health(status, detail)
        except KioskClientError as e:
            log.warning("kiosk health report: %s", e)

    sim_card_kind = "demo"  # which demo card tap_sim_card places: "demo" or a key of peripherals.idcard.DEMO_CARDS

    def tap_sim_card(self) -> None:
        """Demo only: put the demo card on the simulated reader (a person placing their card)."""
        from peripherals.idcard import DEMO_CARDS, demo_card

        if self._sim is not None:
            self._sim.card = DEMO_CARDS.get(self.sim_card_kind, demo_card)()
        self.flow.touch(time.monotonic())

    def card_wanted(self) -> bool:
        """Whether the screen shown takes an ID card (take-a-number's screens, check-in, booking)."""
        return self.flow.wants_card or self.flow.screen in ("checkin", "book_card")

    def _card_loop(self) -> None:
        """The ID-card reader's worker: reads while a screen takes a card; each card goes to the Kivy thread once.

        A card left on the reader is handed over once, until a read finds the reader empty (it was taken away).
        """
        last: str | None = None
        while not self._stopping.is_set():
            if not self._card_wanted:
                self._stopping.wait(0.2)
                continue
            try:
                card = self._reader.read(timeout=1.0)
            except Exception as e:  # unreadable, removed mid-read, a reader fault: say so, keep listening
                log.warning("kiosk ID card: %s", type(e).__name__)
                self._later(lambda: self.flow.card_failed(time.monotonic()), render=True)
                self._stopping.wait(1.0)
                continue
            number = str(getattr(card, "id_number", "") or "") if card is not None else ""
            if not number:
                last = None
                continue
            if number == last:
                continue
            last = number
            if self._sim is not None:
                self._sim.card = None  # the demo citizen takes the card back
            name = holder_name(card)
            self._later(partial(self.card_arrived, number, name), render=True)

    def card_arrived(self, number: str, name: str) -> None:
        """A card was read (Kivy thread): booking, check-in or take-a-number, by the screen shown."""
        now = time.monotonic()
        if self.flow.screen == "book_card":
            self.flow.book_card_read(name, number, now)
        elif self.flow.screen == "checkin":
            self._start_check_in(self.flow.checkin_card(number, now))
        else:
            self.flow.card_read(number, now)
            if self.flow.screen in ("domain", "confirm"):
                log.info("kiosk ID card read for take-a-number")

    def _print(self, ticket: dict[str, Any]) -> None:
        from peripherals import PrinterError
        from peripherals.printer import TicketData

        state: PrintState = "fault"
        issued = datetime.fromisoformat(str(ticket["issued_at"]).replace("Z", "+00:00"))
        d = next((x for x in self.flow.domains if x.code == ticket.get("queue")), None)
        with self._device_lock:
            printer = self._printer
            if printer is not None:
                data = TicketData(
                    hall_name=self._names[0],
                    hall_name_en=self._names[1],
                    number=str(ticket["number"]),
                    domain_name=d.name if d else str(ticket.get("queue")),
                    domain_name_en=d.name_en if d else "",
                    people_ahead=int(ticket.get("ahead") or 0),
                    issued_at=issued.astimezone(self._tz),  # the hall's clock, whatever this computer's zone
                    tracking_url=str(ticket.get("track_url") or ""),  # the answer's, as it is
                    lane=ticket.get("lane") or "normal",
                    estimated_wait_min=round(int(ticket.get("estimated_wait_s") or 0) / 60),
                )
                try:
                    printer.print_ticket(data)
                    state = "printed"
                except PrinterError:
                    state = "paper_out" if printer.health().status == "paper_out" else "fault"
        log.info("kiosk print: %s %s", ticket.get("number"), state)
        if state != "printed":
            self._heartbeat()  # staff learn at once

        def done() -> None:
            self.flow.printed(state)
            self.render()
            log.info("kiosk screen: ticket %s shown, print %s, qr %s", ticket.get("number"), state, bool(self.qr))

        self._later(done)
