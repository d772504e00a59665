"""Code scanners (QR codes and barcodes of appointments and tickets), chosen by URL.

    from peripherals import open_scanner
    scanner = open_scanner("serial:///dev/ttyACM0?baudrate=9600")
    code = scanner.read(timeout=5.0)          # pull ...
    scanner.on_code(lambda code: ...)          # ... or push, on the scanner's delivery thread

A passport's machine-readable zone arrives as two codes; `MrzAssembler` pairs them into an `IdCard` (`mrz`).

Schemes: ``serial://`` and pyserial URLs (`serial_scanner`), ``keyboard://`` (`wedge`), ``sim://``
(`sim`). Every scanner follows the `CodeScanner` protocol; see `base` for which thread runs callbacks.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from ..errors import DeviceUnavailable
from .base import CodeCallback, CodeScanner, QueuedScanner
from .lines import LineAssembler
from .mrz import MrzAssembler, MrzError, demo_passport, is_mrz_line, mrz_lines, parse_td3
from .serial_scanner import SerialScanner, is_pyserial_scheme, parse_serial_url
from .sim import PtyScannerSimulator, SimScanner
from .wedge import KeyboardWedgeScanner, WedgeAssembler

__all__ = [
    "CodeCallback",
    "CodeScanner",
    "KeyboardWedgeScanner",
    "LineAssembler",
    "MrzAssembler",
    "MrzError",
    "PtyScannerSimulator",
    "QueuedScanner",
    "SerialScanner",
    "SimScanner",
    "WedgeAssembler",
    "demo_passport",
    "is_mrz_line",
    "mrz_lines",
    "open_scanner",
    "parse_serial_url",
    "parse_td3",
]


def open_scanner(url: str) -> CodeScanner:
    """Open the scanner named by `url`; DeviceUnavailable for an unknown scheme or a port that cannot be opened."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "serial" or scheme.startswith("serial+") or is_pyserial_scheme(scheme):
        return SerialScanner(url)
    if scheme == "keyboard":
        return _open_keyboard(url)
    if scheme == "sim":
        return SimScanner(url)
    raise DeviceUnavailable(f"scanner {url}: unknown scheme {scheme!r} (use serial://, keyboard:// or sim://)")


def _open_keyboard(url: str) -> KeyboardWedgeScanner:
    """Build a keyboard-wedge feeder from ``keyboard://?max_gap_ms=50&min_length=4``."""
    params = dict(parse_qsl(urlsplit(url).query))
    unknown = set(params) - {"max_gap_ms", "min_length"}
    if unknown:
        raise DeviceUnavailable(f"scanner {url}: unknown parameter(s) {', '.join(sorted(unknown))}")
    try:
        return KeyboardWedgeScanner(
            url,
            max_gap_s=float(params.get("max_gap_ms", "50")) / 1000.0,
            min_length=int(params.get("min_length", "4")),
        )
    except ValueError as exc:
        raise DeviceUnavailable(f"scanner {url}: {exc}") from exc
