"""`SamReader`: reads resident ID cards through a SAM reader over any pyserial-like port (find, select, read).

The port is anything with pyserial's `read`/`write`/`reset_input_buffer`/`close` and a settable `timeout`:
a real serial port from `serial.serial_for_url` (so `loop://`, `socket://`, `spy://` work too) or the
in-process simulator's port. This module only moves bytes; `sam_protocol` and `sam_text` turn them into
values.

Hardware notes:
- The reader finds a card only when asked: we poll find card (20 01), never more often than every 300 ms
  (faster polling makes some readers drop answers and heats the RF field for nothing), and keep that spacing
  across calls of `read()`, so a caller looping on `read(0.1)` cannot poll faster either.
- A read of the base information takes about 0.5–1 s on real readers (the card answers slowly), so the
  answer timeout is generous (2 s by default).
- A card pulled away mid-read makes select answer 81 or read answer 41; one more find card (after the
  poll interval) then answers 80. That pair is how we tell "card removed" from a damaged card.
- A late answer to a timed-out command would be taken for the answer to the next one, so the input buffer
  is flushed before every request.
- While a card stays on the reader, every read returns it again; callers de-duplicate.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Protocol

from ..errors import DeviceTimeout, DeviceUnavailable, ProtocolError
from ..health import DeviceHealth
from .card import IdCard
from .errors import CardRemoved, SamCardStatusError, SamStatusError
from .sam_protocol import (
    HEADER_SIZE,
    SamCommand,
    SamResponse,
    check_status,
    decode_response,
    encode_request,
    frame_length,
)
from .sam_text import decode_base_info

MIN_POLL_INTERVAL = 0.3
"""Seconds between two find-card requests, at least."""

try:
    import termios

    _PORT_ERRORS: tuple[type[Exception], ...] = (OSError, termios.error)
except ImportError:  # Windows
    _PORT_ERRORS = (OSError,)
"""What a port raises when its device vanished: pyserial's `SerialException` is an `OSError`, but flushing a
vanished POSIX port lets `termios.error` (not an `OSError`) escape."""

_NO_CARD = 0x80
_REMOVAL_SIGNS = (0x41, 0x80, 0x81)


class SerialPort(Protocol):
    """The part of pyserial's `Serial` the reader uses (the simulator's in-process port has it too)."""

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


class SamReader:
    """A resident ID card reader speaking the SAM protocol over a serial port (implements `IdReader[IdCard]`)."""

    def __init__(
        self,
        port: SerialPort,
        *,
        description: str = "SAM reader",
        answer_timeout: float = 2.0,
        poll_interval: float = MIN_POLL_INTERVAL,
    ) -> None:
        """Use an open port; `poll_interval` below 300 ms is raised to 300 ms (see the module notes)."""
        self._port = port
        self._description = description
        self._answer_timeout = answer_timeout
        self._poll_interval = max(MIN_POLL_INTERVAL, poll_interval)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._last_find = -float("inf")

    def __enter__(self) -> SamReader:
        """Use as a context manager that closes the reader."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the reader."""
        self.close()

    def __repr__(self) -> str:
        """Name the reader by its description (the URL without secrets)."""
        return f"SamReader({self._description!r})"

    def read(self, timeout: float) -> IdCard | None:
        """Wait up to `timeout` seconds for an ID card and read its base information; None if none came.

        Raises `CardRemoved` when the card left mid-read, another `CardError` when the card could not be
        read, `DeviceTimeout` when the reader stops answering, `ProtocolError` for garbled answers, and
        `DeviceUnavailable` when the port is gone or the reader was closed.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if not self._wait_for_poll_slot(deadline):
                return None
            if self._find_card():
                return self._read_present_card()

    def health(self) -> DeviceHealth:
        """Ask the SAM for its status (11 FF): ok, offline (no answer), unplugged (port gone) or error."""
        if self._closed.is_set():
            return DeviceHealth("offline", "reader closed")
        try:
            self._command(SamCommand.SAM_STATUS, timeout=min(self._answer_timeout, 1.0))
        except DeviceTimeout:
            return DeviceHealth("offline", f"{self._description}: no answer")
        except DeviceUnavailable as exc:
            return DeviceHealth("unplugged", str(exc))
        except (SamStatusError, ProtocolError) as exc:
            return DeviceHealth("error", str(exc))
        return DeviceHealth("ok", self._description)

    def close(self) -> None:
        """Close the port; a `read()` waiting in another thread raises `DeviceUnavailable` soon after."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._lock, contextlib.suppress(*_PORT_ERRORS):  # a port whose device vanished: nothing left to release
            self._port.close()

    def _wait_for_poll_slot(self, deadline: float) -> bool:
        """Sleep until the next find card may be sent; False (after sleeping to the deadline) if past it."""
        slot = self._last_find + self._poll_interval
        now = time.monotonic()
        if slot > deadline:
            if self._closed.wait(max(0.0, deadline - now)):
                raise DeviceUnavailable(f"{self._description} was closed")
            return False
        if slot > now and self._closed.wait(slot - now):
            raise DeviceUnavailable(f"{self._description} was closed")
        return True

    def _find_card(self) -> bool:
        """Send find card once: True for a card in the field, False for none (80)."""
        self._last_find = time.monotonic()
        response = self._command(SamCommand.FIND_CARD, check=False)
        if response.sw3 == _NO_CARD:
            return False
        check_status(response, SamCommand.FIND_CARD)  # raises unless 9F
        return True

    def _read_present_card(self) -> IdCard:
        """Select the found card and read its base information, telling a removed card from a bad one."""
        try:
            self._command(SamCommand.SELECT_CARD)
            response = self._command(SamCommand.READ_BASE_INFO)
        except SamCardStatusError as exc:
            if exc.status in _REMOVAL_SIGNS and self._card_gone():
                raise CardRemoved(f"card removed during {exc.command or 'read'}") from exc
            raise
        return decode_base_info(response.data)

    def _card_gone(self) -> bool:
        """After a failed select or read: one more find card (poll spacing kept) says whether the card left."""
        self._wait_for_poll_slot(float("inf"))
        return not self._find_card()

    def _command(self, command: SamCommand, *, check: bool = True, timeout: float | None = None) -> SamResponse:
        """Send one request and return its decoded answer (status-checked unless `check` is False)."""
        deadline = time.monotonic() + (self._answer_timeout if timeout is None else timeout)
        with self._lock:
            if self._closed.is_set():
                raise DeviceUnavailable(f"{self._description} was closed")
            try:
                self._port.reset_input_buffer()
                self._port.write(encode_request(command))
                header = self._receive(HEADER_SIZE, deadline, command, first=True)
                body = self._receive(frame_length(header), deadline, command, first=False)
            except _PORT_ERRORS as exc:  # the device went away
                raise DeviceUnavailable(f"{self._description}: {exc}") from exc
        response = decode_response(header + body)
        return check_status(response, command) if check else response

    def _receive(self, size: int, deadline: float, command: SamCommand, *, first: bool) -> bytes:
        """Read exactly `size` bytes by the deadline: `DeviceTimeout` if nothing came, `ProtocolError` if some."""
        data = bytearray()
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._port.timeout = remaining
            data += self._port.read(size - len(data))
        if len(data) == size:
            return bytes(data)
        if first and not data:
            raise DeviceTimeout(f"{self._description}: no answer to {command.name.lower()}")
        raise ProtocolError(f"short frame from {self._description}: {len(data)} of {size} bytes, then silence")
