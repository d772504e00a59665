"""Line-mode QR/barcode scanners on a serial port (USB CDC-ACM or RS-232), opened through pyserial's `serial_for_url`.

URL forms (``open_scanner`` routes them here):

``serial:///dev/ttyACM0?baudrate=9600``
    A device path; ``serial://COM3`` on Windows.
``serial+loop://``, ``serial+socket://host:7000``, ``serial+spy:///dev/ttyACM0``
    Any pyserial URL, with ``serial+`` in front of its scheme.
``loop://``, ``socket://host:7000``, ``spy://...``, ``rfc2217://...``
    A pyserial URL as is (any scheme pyserial has a ``serial.urlhandler.protocol_<scheme>`` module for).

Query parameters of ours, taken out before the rest goes to pyserial: ``baudrate`` (default 9600; a
USB CDC-ACM scanner ignores it), ``bytesize`` (5-8), ``parity`` (N, E, O, M, S), ``stopbits`` (1, 1.5, 2),
``xonxoff``/``rtscts`` (0/1), ``encoding`` (default utf-8, see `LineAssembler`). Other parameters are
pyserial's own (``loop://?logging=debug``) and are passed through to it.

A reader thread (``scanner-reader:<url>``, a daemon) owns the port from open to close: it reads with a
100 ms timeout so that `close()` is noticed promptly, splits the bytes into codes and hands them to the
`QueuedScanner` plumbing. When the port fails (USB cable pulled: the kernel removes ``/dev/ttyACM0`` and
reads fail), the thread records the error and ends; `health()` then reports ``unplugged`` until the
scanner is closed and opened again.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import serial  # type: ignore[import-untyped]

from ..errors import DeviceUnavailable
from ..health import DeviceHealth
from .base import QueuedScanner
from .lines import LineAssembler

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1
"""How long one read of the port may block; bounds how late `close()` is noticed."""

_PARITIES = {"N": "N", "E": "E", "O": "O", "M": "M", "S": "S"}
_STOPBITS = {"1": 1, "1.5": 1.5, "2": 2}
_BOOL = {"0": False, "1": True, "false": False, "true": True, "no": False, "yes": True}


@dataclass(frozen=True, slots=True)
class SerialTarget:
    """What a ``serial…`` scanner URL means: the port (a path or a pyserial URL) and its settings."""

    port: str
    settings: dict[str, Any] = field(default_factory=dict)
    encoding: str = "utf-8"


def is_pyserial_scheme(scheme: str) -> bool:
    """Whether pyserial has a URL handler for `scheme` (``loop``, ``socket``, ``spy``, ``rfc2217``, …)."""
    if not scheme.isidentifier():
        return False
    try:
        return importlib.util.find_spec(f"serial.urlhandler.protocol_{scheme.lower()}") is not None
    except (ImportError, ValueError):
        return False


def parse_serial_url(url: str) -> SerialTarget:
    """Split a scanner URL into the port for `serial_for_url` and its settings; ValueError if malformed."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in ("baudrate", "bytesize", "parity", "stopbits", "xonxoff", "rtscts", "encoding"):
            ours[key] = value
        else:
            theirs.append((key, value))
    if scheme == "serial":
        if theirs:
            raise ValueError(f"unknown parameter(s) {', '.join(k for k, _ in theirs)} in {url!r}")
        port = parts.netloc + parts.path
        if not port:
            raise ValueError(f"no port in {url!r} (expected serial:///dev/ttyACM0)")
    else:
        inner = scheme.removeprefix("serial+")
        if not is_pyserial_scheme(inner):
            raise ValueError(f"pyserial has no handler for {inner!r}:// in {url!r}")
        # built by hand: urlunsplit would write "loop:" for "loop://", which pyserial does not recognise
        port = f"{inner}://{parts.netloc}{parts.path}" + (f"?{urlencode(theirs)}" if theirs else "")
    settings: dict[str, Any] = {"baudrate": 9600}
    try:
        if "baudrate" in ours:
            settings["baudrate"] = int(ours["baudrate"])
        if "bytesize" in ours:
            settings["bytesize"] = int(ours["bytesize"])
            if settings["bytesize"] not in (5, 6, 7, 8):
                raise ValueError("bytesize must be 5, 6, 7 or 8")
        if "parity" in ours:
            settings["parity"] = _PARITIES[ours["parity"].upper()]
        if "stopbits" in ours:
            settings["stopbits"] = _STOPBITS[ours["stopbits"]]
        for flag in ("xonxoff", "rtscts"):
            if flag in ours:
                settings[flag] = _BOOL[ours[flag].lower()]
    except (KeyError, ValueError) as exc:
        raise ValueError(f"bad serial setting in {url!r}: {exc}") from exc
    return SerialTarget(port=port, settings=settings, encoding=ours.get("encoding", "utf-8"))


class SerialScanner(QueuedScanner):
    """A line-mode scanner on a port opened with `serial.serial_for_url`; see the module doc for URL forms."""

    def __init__(self, url: str) -> None:
        """Open the port and start the reader thread; DeviceUnavailable if the port cannot be opened."""
        super().__init__(url)
        try:
            target = parse_serial_url(url)
            self._lines = LineAssembler(target.encoding)
        except (ValueError, LookupError) as exc:
            raise DeviceUnavailable(f"scanner {url}: {exc}") from exc
        self.target = target
        try:
            self._port = serial.serial_for_url(target.port, timeout=READ_TIMEOUT_S, **target.settings)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceUnavailable(f"scanner {url}: cannot open {target.port}: {exc}") from exc
        self._stopping = threading.Event()
        self._failure: str | None = None
        self._reader = threading.Thread(target=self._run_reader, name=f"scanner-reader:{url}", daemon=True)
        self._reader.start()

    @property
    def port(self) -> Any:
        """The open pyserial port object (for diagnostics, and for writing into a ``loop://`` port in tests)."""
        return self._port

    def _run_reader(self) -> None:
        """Body of the reader thread: read, split into codes, deliver; stop on close or on a port failure."""
        try:
            while not self._stopping.is_set():
                data = self._port.read(self._port.in_waiting or 1)
                if data:
                    for code in self._lines.feed(data):
                        self._deliver(code)
        except (serial.SerialException, OSError) as exc:
            if not self._stopping.is_set():
                self._failure = str(exc) or type(exc).__name__
                log.warning("scanner %s: port failed: %s", self.url, self._failure)

    def health(self) -> DeviceHealth:
        """``ok`` while the reader thread listens; ``unplugged`` after a port failure; ``offline`` once closed."""
        if self.closed:
            return DeviceHealth("offline", "closed")
        if self._failure is not None:
            return DeviceHealth("unplugged", f"{self.target.port}: {self._failure}")
        if not self._reader.is_alive():
            return DeviceHealth("error", f"{self.target.port}: reader thread ended")
        return DeviceHealth("ok", f"listening on {self.target.port}")

    def close(self) -> None:
        """Stop the reader thread, close the port, then stop delivery (idempotent)."""
        if not self.closed:
            self._stopping.set()
            if self._reader is not threading.current_thread():
                self._reader.join(timeout=1.0 + READ_TIMEOUT_S)
            try:
                self._port.close()
            except (serial.SerialException, OSError) as exc:
                log.debug("scanner %s: closing the port: %s", self.url, exc)
        super().close()
