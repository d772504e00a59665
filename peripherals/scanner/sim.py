"""Simulated scanners: `SimScanner` (``sim://``, in process) and `PtyScannerSimulator` (serial, on a pseudo-terminal).

`PtyScannerSimulator` speaks the real wire format: it writes each code and its line ending into the
master side of a pseudo-terminal, and the code under test opens the slave side by path exactly as it
would open ``/dev/ttyACM0`` (``serial:///dev/pts/7``). The slave is put in raw mode first so that the
terminal line discipline does not turn CR into LF or echo anything back. Linux and macOS only.
"""

from __future__ import annotations

import contextlib
import os
import threading
import tty

from ..health import DeviceHealth, HealthStatus
from .base import QueuedScanner


class SimScanner(QueuedScanner):
    """``sim://`` — a scanner in process: `scan(code)` makes the code arrive as if scanned.

    `set_health()` lets a test or the demo show a faulty scanner to the health check.
    """

    def __init__(self, url: str = "sim://") -> None:
        """Create a simulated scanner reporting ``ok``."""
        super().__init__(url)
        self._health = DeviceHealth("ok", "simulated scanner")

    def scan(self, code: str) -> None:
        """Deliver `code` as the next scanned code; ValueError for an empty code or one with a line break."""
        if not code or "\r" in code or "\n" in code:
            raise ValueError("a scanned code is non-empty and has no line break")
        self._deliver(code)

    def scan_mrz(self, lines: tuple[str, str]) -> None:
        """Deliver a passport's two MRZ lines (`mrz.mrz_lines(card)`) as a document reader does: two codes."""
        for line in lines:
            self.scan(line)

    def set_health(self, status: HealthStatus, detail: str = "") -> None:
        """Make `health()` report `status` from now on."""
        self._health = DeviceHealth(status, detail)

    def health(self) -> DeviceHealth:
        """The health set by `set_health()` (``ok`` by default); ``offline`` once closed."""
        if self.closed:
            return DeviceHealth("offline", "closed")
        return self._health


class PtyScannerSimulator:
    """A line-mode serial scanner on a pseudo-terminal; open `url` with `open_scanner` to read from it."""

    def __init__(self) -> None:
        """Create the pseudo-terminal pair; the slave stays open here so the pair lives until `close()`."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def url(self) -> str:
        """The scanner URL for the slave side, e.g. ``serial:///dev/pts/7``."""
        return f"serial://{self.path}"

    def scan(self, code: str, ending: str = "\r", encoding: str = "utf-8") -> None:
        """Send `code` followed by `ending` (``"\\r"``, ``"\\n"`` or ``"\\r\\n"``), as a scanner does."""
        if ending not in ("\r", "\n", "\r\n"):
            raise ValueError("ending must be CR, LF or CR LF")
        self.write((code + ending).encode(encoding))

    def scan_mrz(self, lines: tuple[str, str], ending: str = "\r") -> None:
        """Send a passport's two MRZ lines, each with `ending`, in one write (a reader in MRZ mode)."""
        if ending not in ("\r", "\n", "\r\n"):
            raise ValueError("ending must be CR, LF or CR LF")
        self.write("".join(line + ending for line in lines).encode("ascii"))

    def write(self, data: bytes) -> None:
        """Send raw bytes (several codes back to back, half a code, noise)."""
        with self._lock:
            if self._closed:
                raise OSError("the simulated scanner is unplugged")
            view = memoryview(data)
            while view:
                view = view[os.write(self._master, view) :]

    def unplug(self) -> None:
        """Close both sides, as pulling the USB cable does: the reader's next read fails."""
        self.close()

    def close(self) -> None:
        """Close the pseudo-terminal (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def __enter__(self) -> PtyScannerSimulator:
        """Use the simulator in a ``with`` block that closes it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the simulator."""
        self.close()
