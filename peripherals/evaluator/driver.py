"""Evaluator drivers: the four-key serial evaluator (`SerialEvaluator`) and an in-process one (`SimEvaluator`).

Both follow `Evaluator`: the host shows a question with `prompt(number)`, ends it with `cancel()` or
`thanks()`, and takes the citizen's answer with `read_key(timeout)`. Serial ports are opened only
through pyserial's ``serial_for_url`` (URL forms as for scanners: ``serial:///dev/ttyUSB0?baudrate=9600``,
``serial+socket://host:7000``, ``loop://`` …), so the simulator on a pseudo-terminal and a real port
differ by one string.

A reader thread (``evaluator-reader:<url>``) owns reading: it decodes frames, hands KEY frames to a
queue and ACKs to the writer. `prompt()` waits up to `ACK_TIMEOUT_S` for the ACK and raises
DeviceTimeout without one — a dead evaluator is an error the bridge reports, never a silent no-op.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Protocol

import serial  # type: ignore[import-untyped]

from ..errors import DeviceTimeout, DeviceUnavailable
from ..health import DeviceHealth
from ..scanner.serial_scanner import parse_serial_url
from . import protocol as p

log = logging.getLogger(__name__)
READ_TIMEOUT_S = 0.1
ACK_TIMEOUT_S = 1.0


class Evaluator(Protocol):
    """What the bridge needs of an evaluation device."""

    def prompt(self, number: str) -> None:
        """Ask the citizen to rate the service of ticket `number`."""

    def cancel(self) -> None:
        """End the question without an answer."""

    def thanks(self) -> None:
        """Thank the citizen (the answer was stored)."""

    def read_key(self, timeout: float) -> p.KeyPress | None:
        """The next answer, or None after `timeout` seconds."""

    def health(self) -> DeviceHealth:
        """The device's health."""

    def close(self) -> None:
        """Release the device."""


class SimEvaluator:
    """``sim://`` — an evaluator in process: `press(level)` answers as a citizen would."""

    def __init__(self, url: str = "sim://") -> None:
        """Create a simulated evaluator."""
        self.url = url
        self.shown: str | None = None  # the number of the question on display, None when dark
        self.log: list[str] = []  # "prompt:A001", "cancel", "thanks", in order
        self._keys: queue.Queue[p.KeyPress] = queue.Queue()

    def prompt(self, number: str) -> None:
        """Show the question."""
        self.shown = number
        self.log.append(f"prompt:{number}")

    def cancel(self) -> None:
        """Go dark."""
        self.shown = None
        self.log.append("cancel")

    def thanks(self) -> None:
        """Show the thanks."""
        self.shown = None
        self.log.append("thanks")

    def press(self, level: int, reasons: tuple[str, ...] = ()) -> None:
        """A citizen presses the key of `level`."""
        self._keys.put(p.KeyPress(level, reasons))

    def read_key(self, timeout: float) -> p.KeyPress | None:
        """The next press, or None after `timeout`."""
        try:
            return self._keys.get(timeout=timeout)
        except queue.Empty:
            return None

    def health(self) -> DeviceHealth:
        """Always ``ok``."""
        return DeviceHealth("ok", "simulated evaluator")

    def close(self) -> None:
        """Nothing to release."""


class SerialEvaluator:
    """The four-key evaluator on a serial line, speaking `protocol` (EV1)."""

    def __init__(self, url: str) -> None:
        """Open the port and start the reader; DeviceUnavailable if it cannot be opened."""
        self.url = url
        try:
            target = parse_serial_url(url)
        except ValueError as exc:
            raise DeviceUnavailable(f"evaluator {url}: {exc}") from exc
        try:
            self._port: Any = serial.serial_for_url(target.port, timeout=READ_TIMEOUT_S, **target.settings)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceUnavailable(f"evaluator {url}: cannot open {target.port}: {exc}") from exc
        self._decoder = p.Decoder()
        self._keys: queue.Queue[p.KeyPress] = queue.Queue()
        self._acks: queue.Queue[int] = queue.Queue()
        self._write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._failure: str | None = None
        self._reader = threading.Thread(target=self._run, name=f"evaluator-reader:{url}", daemon=True)
        self._reader.start()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                data = self._port.read(64)
                if not data:
                    continue
                for frame in self._decoder.feed(data):
                    if frame.cmd == p.ACK and frame.data:
                        self._acks.put(frame.data[0])
                    elif (press := p.key_press(frame)) is not None:
                        self._keys.put(press)
        except (serial.SerialException, OSError) as exc:
            if not self._stopping.is_set():
                self._failure = str(exc)
                log.warning("evaluator %s failed: %s", self.url, exc)

    def _send(self, frame: bytes, cmd: int) -> None:
        if self._failure:
            raise DeviceUnavailable(f"evaluator {self.url}: {self._failure}")
        with self._write_lock:
            while not self._acks.empty():  # stale ACKs of earlier commands
                self._acks.get_nowait()
            try:
                self._port.write(frame)
                self._port.flush()
            except (serial.SerialException, OSError) as exc:
                raise DeviceUnavailable(f"evaluator {self.url}: {exc}") from exc
            try:
                while self._acks.get(timeout=ACK_TIMEOUT_S) != cmd:
                    pass
            except queue.Empty:
                raise DeviceTimeout(f"evaluator {self.url} did not acknowledge 0x{cmd:02x}") from None

    def prompt(self, number: str) -> None:
        """Show the question for `number`; keys pressed before it are dropped."""
        while not self._keys.empty():
            self._keys.get_nowait()
        self._send(p.prompt(number), p.PROMPT)

    def cancel(self) -> None:
        """End the question."""
        self._send(p.encode(p.CANCEL), p.CANCEL)

    def thanks(self) -> None:
        """Show the thanks."""
        self._send(p.encode(p.THANKS), p.THANKS)

    def read_key(self, timeout: float) -> p.KeyPress | None:
        """The next key press, or None after `timeout`."""
        try:
            return self._keys.get(timeout=timeout)
        except queue.Empty:
            return None

    def health(self) -> DeviceHealth:
        """``ok`` while the port works; ``unplugged`` after a read failed."""
        if self._failure:
            return DeviceHealth("unplugged", self._failure)
        return DeviceHealth("ok", f"{self._decoder.noise} noise bytes")

    def close(self) -> None:
        """Stop the reader and close the port."""
        self._stopping.set()
        self._reader.join(timeout=1.0)
        try:
            self._port.close()
        except (serial.SerialException, OSError) as exc:
            log.debug("closing evaluator %s: %s", self.url, exc)


def open_evaluator(url: str) -> Evaluator:
    """Open the evaluator named by `url` (``sim://`` or a serial URL); DeviceUnavailable otherwise."""
    if url.startswith("sim://"):
        return SimEvaluator(url)
    return SerialEvaluator(url)
