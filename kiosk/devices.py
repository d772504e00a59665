"""The kiosk's devices as one service the app and its parts use: the ticket printer, the ID-card reader, the code
scanner (appointment QR codes, a passport's MRZ lines), and the health poll (server answer, printer status).

`Devices` opens them by URL, runs their workers on threads and hands what they read to the callbacks of `open`
(on the worker thread: the app moves them to the Kivy thread). Device calls run under `lock`; a part prints with
`print_slip`, which answers what became of the slip.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Literal

from .documents import id_type_of

log = logging.getLogger("kiosk")
HEALTH_POLL_S = 3.0  # how often the home screen's banner is checked (server answer, printer status)
Printed = Literal["printed", "paper_out", "fault", "none"]  # "none": no printer


def holder_name(card: Any) -> str:
    """The card holder's name as the kiosk shows it (masked): a foreigner's card by its English name."""
    name = str(getattr(card, "name", "") or "")
    if getattr(card, "document", "resident") == "foreign_permanent_resident":
        return str(getattr(card, "name_en", "") or "") or name
    return name


class Devices:
    """Printer, ID-card reader and scanner, opened from their URLs (None: not there)."""

    def __init__(self, printer_url: str | None, id_reader_url: str | None, scanner_url: str | None) -> None:
        """Nothing is opened yet (`open`, on a worker thread)."""
        self.printer_url, self.id_reader_url, self.scanner_url = printer_url, id_reader_url, scanner_url
        self.printer: Any = None
        self.reader: Any = None
        self.scanner: Any = None  # the code scanner (the --script runner scans with a sim:// one)
        self.sim: Any = None  # the simulated reader's SAM (sim:// only): the demo card goes in on a tap
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.card_wanted = False  # set on the Kivy thread: whether the screen shown takes a card now
        self.sim_card_kind = "demo"  # which demo card `insert_demo_card` places (a key of peripherals DEMO_CARDS)
        self.opened = threading.Event()  # `open` has run (the --script runner starts then: the demo card's button)

    def open(
        self,
        *,
        on_card: Callable[[str, str, str], None],
        on_card_failed: Callable[[], None],
        on_code: Callable[[str], None],
        on_passport: Callable[[str, str, str], None],
        on_demo_reader: Callable[[], None],
    ) -> None:
        """Open every configured device and start its worker; callbacks run on the workers' threads."""
        from peripherals import open_id_reader, open_printer

        try:
            with self.lock:
                if self.printer_url:
                    self.printer = open_printer(self.printer_url)
                if self.id_reader_url in ("sim://", "sim://?card=none"):  # the demo: no card until one is "inserted"
                    from peripherals.idcard.sam_reader import SamReader
                    from peripherals.idcard.sam_simulator import SamSimulator, SimulatedSamPort

                    self.sim = SamSimulator(None)
                    self.reader = SamReader(SimulatedSamPort(self.sim), description="simulated SAM reader")
                    on_demo_reader()
                elif self.id_reader_url:
                    self.reader = open_id_reader(self.id_reader_url)
                if self.reader is not None:
                    _thread(lambda: self._card_loop(on_card, on_card_failed))
                if self.scanner_url:
                    from peripherals import open_scanner

                    self.scanner = open_scanner(self.scanner_url)
                    _thread(lambda: self._scan_loop(on_code, on_passport))
        finally:
            self.opened.set()

    def close(self) -> None:
        """End the workers, close the scanner."""
        self.stopping.set()
        with self.lock:
            if self.scanner is not None:
                self.scanner.close()

    def printer_health(self) -> Any:
        """The printer's health, None without a printer."""
        with self.lock:
            return self.printer.health() if self.printer is not None else None

    def health_loop(self, ping: Callable[[], bool], changed: Callable[[bool, str], None]) -> None:
        """Every HEALTH_POLL_S: does the server answer, can the printer print? `changed(server_ok, printer problem)`
        on every change (the problem is "" when the printer can print)."""
        seen: tuple[bool, str] | None = None
        while not self.stopping.is_set():
            server_ok = ping()
            health = self.printer_health()
            printer = "" if health is None or health.status in ("ok", "paper_low") else str(health.status)
            if (server_ok, printer) != seen:
                seen = (server_ok, printer)
                log.info("kiosk health: server %s, printer %s", "ok" if server_ok else "unreachable", printer or "ok")
                changed(server_ok, printer)
            self.stopping.wait(HEALTH_POLL_S)

    def print_slip(self, data: Any) -> Printed:
        """Print a slip (`peripherals.printer.TicketData`) on the ticket printer; what became of it."""
        return self._printing(lambda printer: printer.print_ticket(data))

    def print_document(self, render: Callable[[Any], Any]) -> Printed:
        """Print a layout of a part's own (`render(paper)` → a `PrintJob` for the printer's paper width, e.g. the
        self-submission receipt) on the ticket printer; what became of it."""
        return self._printing(lambda printer: printer.print_job(render(printer.paper)))

    def _printing(self, job: Callable[[Any], object]) -> Printed:
        from peripherals import PrinterError

        with self.lock:
            if self.printer is None:
                return "none"
            try:
                job(self.printer)
                return "printed"
            except PrinterError:
                return "paper_out" if self.printer.health().status == "paper_out" else "fault"

    def insert_demo_card(self) -> None:
        """Demo only: put the demo card on the simulated reader (a person placing their card)."""
        from peripherals.idcard import DEMO_CARDS, demo_card

        if self.sim is not None:
            self.sim.card = DEMO_CARDS.get(self.sim_card_kind, demo_card)()

    def _scan_loop(self, on_code: Callable[[str], None], on_passport: Callable[[str, str, str], None]) -> None:
        """The scanner's worker: every code to `on_code`. A passport's MRZ lines (a document reader in MRZ mode
        sends them as two codes) go to an `MrzAssembler` instead, never to `on_code`; a complete, valid zone is a
        passport read (`on_passport(number, nationality, name)`)."""
        from peripherals.scanner.mrz import MrzAssembler, MrzError, is_mrz_line

        zone = MrzAssembler()
        while not self.stopping.is_set():
            try:
                payload = self.scanner.read(timeout=0.5)
            except Exception as e:  # a scanner fault: log it, keep the kiosk running
                log.warning("kiosk scanner: %s", type(e).__name__)
                self.stopping.wait(2.0)
                continue
            if payload and is_mrz_line(str(payload)):
                try:
                    passport = zone.feed(str(payload))
                except MrzError as e:  # a misread line: the citizen lays the passport down again
                    log.warning("kiosk passport: %s", e)
                    continue
                if passport is not None:
                    on_passport(passport.id_number, passport.nationality, passport.name_en)
            elif payload:
                zone.feed(str(payload))  # a stray code between the two lines starts the zone over
                on_code(str(payload))

    def _card_loop(self, on_card: Callable[[str, str, str], None], on_failed: Callable[[], None]) -> None:
        """The ID-card reader's worker: reads while a screen takes a card; each card goes to `on_card` once, as
        (number, the holder's name as shown, the server's `id_type` of the document: `kiosk.documents`).

        A card left on the reader is handed over once, until a read finds the reader empty (it was taken away).
        """
        last: str | None = None
        while not self.stopping.is_set():
            if not self.card_wanted:
                self.stopping.wait(0.2)
                continue
            try:
                card = self.reader.read(timeout=1.0)
            except Exception as e:  # unreadable, removed mid-read, a reader fault: say so, keep listening
                log.warning("kiosk ID card: %s", type(e).__name__)
                on_failed()
                self.stopping.wait(1.0)
                continue
            number = str(getattr(card, "id_number", "") or "") if card is not None else ""
            if not number:
                last = None
                continue
            if number == last:
                continue
            last = number
            if self.sim is not None:
                self.sim.card = None  # the demo citizen takes the card back
            on_card(number, holder_name(card), id_type_of(card))


def _thread(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, daemon=True).start()
