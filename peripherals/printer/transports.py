"""Transports: move bytes to and from a printer, nothing else. Each implements one `_raw(bytes)`/`read` pair.

Like python-escpos' printer classes, a transport has one method that sends (`_raw`) and one that receives
(`read`); everything else (`write`, `query`, `discard_input`) is built on those two here. Library errors
(pyserial's `SerialException`, `OSError`) are caught at this boundary: opening raises `DeviceUnavailable`,
a failure while printing raises `PrinterError`.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import serial  # type: ignore[import-untyped]

from ..errors import DeviceUnavailable, PrinterError

if TYPE_CHECKING:
    from .simdevice import SimulatedPrinter

WRITE_TIMEOUT = 10.0  # seconds a write may block (serial flow control, a full TCP window) before it fails
CONNECT_TIMEOUT = 5.0


class Transport(ABC):
    """A byte pipe to one printer."""

    description: str = ""

    @abstractmethod
    def _raw(self, data: bytes) -> None:
        """Send `data` to the printer (all of it, or raise `PrinterError`)."""

    @abstractmethod
    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes the printer sent, waiting at most `timeout` seconds; b"" if none came."""

    def close(self) -> None:  # noqa: B027 - transports without resources need not override it
        """Release the port or connection (idempotent)."""

    def write(self, data: bytes) -> None:
        """Send `data` to the printer."""
        self._raw(data)

    def discard_input(self) -> None:
        """Drop bytes already received (a late answer to an earlier query must not be taken for a new one)."""
        while self.read(256, 0.0):
            pass

    def query(self, request: bytes, timeout: float) -> bytes:
        """Send `request` and return the first byte of the answer, or b"" if none came within `timeout`."""
        self.discard_input()
        self._raw(request)
        return self.read(1, timeout)


class SerialTransport(Transport):
    """A serial port opened only through pyserial's `serial_for_url`, so `loop://`, `socket://`, `spy://` work.

    Quirks: `serial_for_url` is given the device path or pyserial URL as is; 8N1 framing (what every
    receipt printer uses). `flush()` after each write waits for the bytes to leave the UART (tcdrain),
    so a status query that follows is not stuck behind a job. With `loop://` every byte written comes back,
    so a status query reads the request's own first byte (0x10), which is not a status byte: health says
    `error`, useful only for byte-level tests.
    """

    def __init__(self, port: str, baudrate: int = 9600, **flow: bool) -> None:
        """Open `port` (path or pyserial URL); `flow` takes rtscts/dsrdtr/xonxoff. Raises `DeviceUnavailable`."""
        self.description = f"serial {port} at {baudrate} baud"
        try:
            self._serial: Any = serial.serial_for_url(
                port, baudrate=baudrate, timeout=0.0, write_timeout=WRITE_TIMEOUT, **flow
            )
        except (serial.SerialException, OSError, ValueError, KeyError) as exc:
            # KeyError: pyserial 3.5's loop:// handler fails to format its own message on an unknown option.
            raise DeviceUnavailable(f"cannot open printer port {port!r}: {exc}") from exc

    def _raw(self, data: bytes) -> None:
        """Write and drain; a vanished port or a write blocked by flow control raises `PrinterError`."""
        try:
            self._serial.write(data)
            self._serial.flush()
        except (serial.SerialException, OSError) as exc:
            raise PrinterError(f"cannot write to the printer on {self.description}: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Wait up to `timeout` for a first byte, then take what else has arrived (pyserial's `read(size)` would
        wait for all `size` bytes). The timeout is set only when it changes: on a real port that is a tcsetattr.
        """
        try:
            if self._serial.timeout != timeout:
                self._serial.timeout = timeout
            data = bytes(self._serial.read(1))
            waiting = self._serial.in_waiting if data and size > 1 else 0
            return data + bytes(self._serial.read(min(size - 1, waiting))) if waiting else data
        except (serial.SerialException, OSError) as exc:
            raise PrinterError(f"cannot read from the printer on {self.description}: {exc}") from exc

    def close(self) -> None:
        """Close the port."""
        self._serial.close()


class TcpTransport(Transport):
    """Raw TCP to a network printer (the "JetDirect" port 9100 of printers with an Ethernet card).

    Quirks: many network printers allow one connection at a time and close it after some idle minutes; when
    the printer closed the connection, the next write connects again (data is never sent twice: a write that
    failed half-way raises `PrinterError`). Some cheap network modules never answer `DLE EOT`, so health
    reports them offline; use a serial connection for those if status matters. Nagle is turned off so a
    status request leaves at once.
    """

    def __init__(self, host: str, port: int = 9100) -> None:
        """Connect to `host:port`; refused or unreachable raises `DeviceUnavailable`."""
        self.address = (host, port)
        self.description = f"tcp {host}:{port}"
        self._sock: socket.socket | None = None
        try:
            self._connect()
        except OSError as exc:
            raise DeviceUnavailable(f"cannot connect to the printer at {host}:{port}: {exc}") from exc

    def _connect(self) -> socket.socket:
        """Open the connection."""
        sock = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        return sock

    def _drop(self) -> None:
        """Forget a connection the printer closed or broke."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _raw(self, data: bytes) -> None:
        """Send all of `data`, connecting again first if the printer had closed the connection."""
        try:
            sock = self._sock or self._connect()
            sock.settimeout(WRITE_TIMEOUT)
            sock.sendall(data)
        except OSError as exc:
            self._drop()
            raise PrinterError(f"cannot send to the printer at {self.description}: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Receive up to `size` bytes; b"" on timeout, and on end of stream (the connection is then dropped)."""
        if self._sock is None:
            return b""
        try:
            self._sock.settimeout(timeout)
            data = self._sock.recv(size)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as exc:
            self._drop()
            raise PrinterError(f"cannot read from the printer at {self.description}: {exc}") from exc
        if not data:
            self._drop()
        return data

    def close(self) -> None:
        """Close the connection."""
        self._drop()


class SimTransport(Transport):
    """The in-process simulator (`sim://`): bytes go straight into a `SimulatedPrinter`, answers come back.

    The simulator answers synchronously, so `read` never waits: when the simulator is `offline` it has no
    answer and `read` returns b"" at once (a real silent printer would cost the whole timeout).
    """

    def __init__(self, simulator: SimulatedPrinter) -> None:
        """Wrap `simulator` (available afterwards as `.simulator`, for tests and the demo)."""
        self.simulator = simulator
        self.description = "simulator"
        self._inbox = bytearray()

    def _raw(self, data: bytes) -> None:
        """Feed `data` to the simulator and keep its answers for `read`."""
        self._inbox += self.simulator.feed(data)

    def read(self, size: int, timeout: float) -> bytes:
        """The simulator's pending answers (up to `size` bytes), b"" if there are none."""
        data = bytes(self._inbox[:size])
        del self._inbox[:size]
        return data
