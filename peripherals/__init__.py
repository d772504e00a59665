"""Device drivers (ticket printers, ID-card readers, code scanners, PDF documents) with wire-level simulators.

Depends on neither the server nor Kivy. Each device kind has one protocol and backends chosen by a URL
from the configuration (see the architecture doc):

    from peripherals import open_printer, open_id_reader, open_scanner
    printer = open_printer("escpos+serial:///dev/ttyUSB0?baudrate=9600")

A URL that cannot be opened raises `DeviceUnavailable` at once (never a silent fall-back to a dummy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import CardError, DeviceTimeout, DeviceUnavailable, PeripheralError, PrinterError, ProtocolError
from .health import DeviceHealth, HealthStatus

if TYPE_CHECKING:  # the drivers import pyserial, pyscard, reportlab: load them only when asked for
    from .idcard import open_id_reader
    from .printer import open_printer
    from .scanner import open_scanner

__all__ = [
    "CardError",
    "DeviceHealth",
    "DeviceTimeout",
    "DeviceUnavailable",
    "HealthStatus",
    "PeripheralError",
    "PrinterError",
    "ProtocolError",
    "open_id_reader",
    "open_printer",
    "open_scanner",
]

_LAZY = {"open_printer": ".printer", "open_id_reader": ".idcard", "open_scanner": ".scanner"}


def __getattr__(name: str) -> Any:
    """Import a driver entry point on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(name)
