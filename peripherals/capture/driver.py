"""`SerialCamera`: captures document pages from a DCP/1 device (see `protocol`) over any pyserial-like port.

The port is anything with pyserial's `read`/`write`/`reset_input_buffer`/`close` and a settable `timeout`: a
real port from `serial.serial_for_url` (so `loop://`, `socket://`, `spy://` work too) or the simulator's
in-process port. One request at a time, under a lock (the kiosk captures from a worker thread while the
health heartbeat may ask for the status from another).

Hardware notes:
- A document camera needs 0.5–2 s to focus and expose; a sheet scanner longer. `capture()` therefore waits
  up to its `timeout` for the first byte of the answer, then as long as the announced length needs at the
  port's nominal speed (plus a margin), so a large image on a slow line is not cut off.
- The input buffer is flushed before each request, and an answer whose sequence byte is not the request's
  is dropped: a late answer to a timed-out request is never taken for the next one.
- A vanished port (USB cable pulled) raises `OSError`/`SerialException` on the next read or write; that is
  re-raised as `DeviceUnavailable`, and `health()` then says ``unplugged``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from ..errors import DeviceTimeout, DeviceUnavailable, PeripheralError, ProtocolError
from ..health import DeviceHealth
from .errors import CaptureError, FrameError, NothingToCapture
from .protocol import ERR_NOTHING, Frame, FrameAssembler, FrameType, encode_frame, parse_coded, parse_image

READ_SLICE_S = 0.05
"""How long one read of the port may block; bounds how late a deadline is noticed."""

try:
    import termios

    _PORT_ERRORS: tuple[type[Exception], ...] = (OSError, termios.error)
except ImportError:  # Windows
    _PORT_ERRORS = (OSError,)


@dataclass(frozen=True, slots=True)
class Page:
    """One captured page: the image file's bytes and its content type (``image/jpeg`` or ``image/png``)."""

    data: bytes
    content_type: str


class DocumentCamera(Protocol):
    """What the kiosk needs of a document scanner or camera: one page per call."""

    def capture(self, timeout: float = 10.0) -> Page:
        """Capture one page; NothingToCapture, CaptureError, DeviceTimeout or DeviceUnavailable on failure."""
        ...

    def health(self) -> DeviceHealth:
        """The device's state for staff (``ok``, ``error``, ``unplugged``, ``offline``)."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


class SerialPort(Protocol):
    """The part of pyserial's `Serial` the driver uses (the simulator's in-process port has it too)."""

    timeout: float | None

    def write(self, data: bytes, /) -> int | None:
        """Send bytes."""
        ...

    def read(self, size: int = 1, /) -> bytes:
        """Receive up to `size` bytes, waiting at most `timeout` seconds."""
        ...

    def reset_input_buffer(self) -> None:
        """Drop received bytes not read yet."""
        ...

    def close(self) -> None:
        """Close the port."""
        ...


class SerialCamera:
    """A DCP/1 capture device on a serial port (see the module doc)."""

    def __init__(self, port: SerialPort, *, description: str = "capture device", baudrate: int = 115200) -> None:
        """Use an open `port`; `baudrate` only sizes the read timeout of large images."""
        self._port = port
        self._port.timeout = READ_SLICE_S
        self.description = description
        self._bytes_per_s = max(baudrate // 10, 1)
        self._lock = threading.Lock()
        self._seq = 0
        self._closed = False
        self._failure: str | None = None

    def capture(self, timeout: float = 10.0) -> Page:
        """Capture one page (see `DocumentCamera.capture`)."""
        frame = self._request(FrameType.CAPTURE, timeout)
        if frame.type == FrameType.IMAGE:
            data, content_type = parse_image(frame.payload)
            return Page(data, content_type)
        if frame.type == FrameType.ERROR:
            code, detail = parse_coded(frame.payload)
            raise (NothingToCapture if code == ERR_NOTHING else CaptureError)(code, detail)
        raise FrameError(f"unexpected answer type 0x{frame.type:02x} to CAPTURE")

    def health(self) -> DeviceHealth:
        """Ask the device for its status (1 s at most); ``unplugged`` after a port failure, ``offline`` once closed."""
        if self._closed:
            return DeviceHealth("offline", "closed")
        if self._failure is not None:
            return DeviceHealth("unplugged", f"{self.description}: {self._failure}")
        try:
            frame = self._request(FrameType.STATUS, 1.0)
            state, detail = parse_coded(frame.payload)
        except PeripheralError as exc:
            return DeviceHealth("unplugged" if self._failure else "error", f"{self.description}: {exc}")
        if frame.type != FrameType.STATUS_REPLY:
            return DeviceHealth("error", f"{self.description}: unexpected answer 0x{frame.type:02x}")
        if state == 0x02:
            return DeviceHealth("error", f"{self.description}: {detail or 'fault'}")
        return DeviceHealth("ok", f"{self.description}: {detail or 'ready'}")

    def close(self) -> None:
        """Close the port (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                with contextlib.suppress(*_PORT_ERRORS):
                    self._port.close()

    def __enter__(self) -> SerialCamera:
        """Use the camera in a ``with`` block that closes it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the camera."""
        self.close()

    def _request(self, kind: FrameType, timeout: float) -> Frame:
        """Send one request and wait for the answer with the same sequence byte."""
        with self._lock:
            if self._closed:
                raise DeviceUnavailable(f"{self.description} is closed")
            self._seq = (self._seq + 1) & 0xFF
            seq = self._seq
            try:
                self._port.reset_input_buffer()
                self._port.write(encode_frame(kind, seq))
                return self._await(seq, timeout)
            except _PORT_ERRORS as exc:
                self._failure = str(exc) or type(exc).__name__
                raise DeviceUnavailable(f"{self.description}: port failed: {self._failure}") from exc

    def _await(self, seq: int, timeout: float) -> Frame:
        """Read until a whole frame answering `seq` arrives; DeviceTimeout past the deadline."""
        frames = FrameAssembler()
        deadline = time.monotonic() + timeout
        received = 0
        while True:
            chunk = self._port.read(65536)
            if chunk:
                if received == 0 and len(chunk) >= 8:  # the header: allow the transfer time of the payload
                    announced = int.from_bytes(chunk[4:8], "big") if chunk[:2] == b"\xaa\x55" else 0
                    deadline = max(deadline, time.monotonic() + 2.0 + 1.5 * announced / self._bytes_per_s)
                received += len(chunk)
                for item in frames.feed(chunk):
                    if isinstance(item, ProtocolError):
                        raise item
                    if item.seq == seq:
                        return item
            elif time.monotonic() > deadline:
                raise DeviceTimeout(f"{self.description}: no answer within {timeout:.1f} s")
