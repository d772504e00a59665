"""The ticket printer: the `TicketPrinter` protocol, its ESC/POS implementation, and `open_printer(url)`."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Protocol, Self, assert_never, runtime_checkable

from ..errors import PrinterError, ProtocolError
from ..health import DeviceHealth
from .encoder import STATUS_OFFLINE_CAUSE, STATUS_PAPER, STATUS_PRINTER, Paper, status_request
from .layout import TicketData, render_ticket
from .status import decode_health, no_answer
from .transports import SerialTransport, SimTransport, TcpTransport, Transport
from .url import parse_printer_url


@runtime_checkable
class TicketPrinter(Protocol):
    """What the kiosk needs from a ticket printer, whatever the backend."""

    paper: Paper

    def health(self) -> DeviceHealth:
        """The printer's state now (ok, paper_low, paper_out, cover_open, offline, error)."""
        ...

    def print_ticket(self, data: TicketData) -> None:
        """Print one ticket, or raise `PrinterError` without printing anything when the printer cannot."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


class EscposPrinter:
    """A `TicketPrinter` speaking ESC/POS over a `Transport` (serial, TCP or the simulator).

    `print_ticket` asks for the status first and refuses (raising `PrinterError`, before a single byte of
    the job is sent) unless the printer is ok or only low on paper: a job sent to a printer that is out of
    paper sits in its buffer and comes out, stale, when staff change the roll, while the citizen was already
    told to photograph the number on the screen.

    One lock serialises `health` and `print_ticket`, so a health poll from another thread never slips a
    status request between the check and the job, nor reads the answer meant for the other caller.
    """

    def __init__(self, transport: Transport, paper: Paper, status_timeout: float = 1.0) -> None:
        """Drive the printer behind `transport`, on `paper`, waiting `status_timeout` s for each status answer."""
        self.transport = transport
        self.paper = paper
        self.status_timeout = status_timeout
        self._lock = threading.RLock()

    def health(self) -> DeviceHealth:
        """Ask `DLE EOT 1`, `2` and `4`; no answer within the timeout is `offline`, a garbled answer `error`."""
        with self._lock:
            return self._health()

    def _health(self) -> DeviceHealth:
        """`health` without the lock."""
        answers: list[int] = []
        for n in (STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER):
            try:
                answer = self.transport.query(status_request(n), self.status_timeout)
            except PrinterError as exc:
                return DeviceHealth("offline", str(exc))
            if not answer:
                return no_answer(n, self.status_timeout)
            answers.append(answer[0])
        try:
            return decode_health(*answers)
        except ProtocolError as exc:
            return DeviceHealth("error", str(exc))

    def print_ticket(self, data: TicketData) -> None:
        """Check the status, then send the whole ticket as one write; raises `PrinterError` if not ready."""
        job = render_ticket(data, self.paper)  # encode first: a layout error must not leave half a job
        with self._lock:
            health = self._health()
            if not health.ok:
                raise PrinterError(f"printer not ready ({health.status}): {health.detail}")
            self.transport.write(job)

    def print_job(self, job: bytes) -> None:
        """Like `print_ticket` for a job encoded elsewhere (a receipt): check the status, then one write."""
        with self._lock:
            health = self._health()
            if not health.ok:
                raise PrinterError(f"printer not ready ({health.status}): {health.detail}")
            self.transport.write(job)

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()

    def __enter__(self) -> Self:
        """Use as a context manager that closes the transport."""
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Close on leaving the block."""
        self.close()


def open_printer(url: str) -> TicketPrinter:
    """Open the ticket printer a URL names (grammar in `peripherals.printer.url`); raises `DeviceUnavailable`.

    Only the port or connection is opened here; whether the printer answers is `health()`'s business, so a
    printer switched off at start-up is reported offline rather than stopping the kiosk.
    """
    parsed = parse_printer_url(url)
    transport: Transport
    if parsed.kind == "serial":
        transport = SerialTransport(parsed.target, parsed.baudrate, **parsed.flow)
    elif parsed.kind == "tcp":
        transport = TcpTransport(parsed.target, parsed.port)
    elif parsed.kind == "sim":
        from .simdevice import SimulatedPrinter

        transport = SimTransport(SimulatedPrinter(parsed.paper.columns, state=parsed.sim_state))
    else:
        assert_never(parsed.kind)
    return EscposPrinter(transport, parsed.paper, parsed.timeout)
