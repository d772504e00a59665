"""Ticket printers (ESC/POS): encoder, ticket layout, transports, real-time status, and a simulator.

    from peripherals.printer import TicketData, open_printer

    printer = open_printer("escpos+serial:///dev/ttyUSB0?baudrate=9600&paper=80")
    printer.health()              # DeviceHealth("ok") / paper_low / paper_out / cover_open / offline / error
    printer.print_ticket(data)    # PrinterError (nothing sent) when the printer cannot print

Modules: `encoder` (bytes of each command, pure), `layout` (`TicketData` → bytes of one ticket, pure),
`status` (`DLE EOT` answers → `DeviceHealth`, pure), `url` (the URL grammar), `transports` (serial through
`serial_for_url`, TCP 9100, in-process simulator), `driver` (`TicketPrinter`, `open_printer`), `simdevice`
and `simulator` (the simulated printer and its pseudo-terminal and TCP servers).
"""

from __future__ import annotations

from .driver import EscposPrinter, TicketPrinter, open_printer
from .encoder import PAPER_58, PAPER_80, EscposEncoder, Paper, display_width, status_request
from .layout import Lane, TicketData, lane_mark, render_ticket
from .status import decode_health
from .url import PrinterUrl, parse_printer_url

__all__ = [
    "PAPER_58",
    "PAPER_80",
    "EscposEncoder",
    "EscposPrinter",
    "Lane",
    "Paper",
    "PrinterUrl",
    "TicketData",
    "TicketPrinter",
    "decode_health",
    "display_width",
    "lane_mark",
    "open_printer",
    "parse_printer_url",
    "render_ticket",
    "status_request",
]
