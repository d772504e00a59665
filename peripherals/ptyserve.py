"""Serving a wire-level simulator on a pseudo-terminal, shared by the simulators of every device kind.

A simulator is anything with `feed(bytes) -> bytes`: the bytes a driver wrote in, the device's answer out. `PtyServer`
opens a raw pseudo-terminal, hands the slave's path to the driver (as a `…+serial://` URL built by the subclass), and
answers from a daemon thread until stopped — so a driver's real serial code path (pyserial on a tty) is exercised.
`InProcessPort` is the same peer behind a pyserial-like object in the driver's own process (`sim://`).
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Protocol, Self


class Peer(Protocol):
    """The device side of a wire protocol."""

    def feed(self, data: bytes) -> bytes:
        """Take bytes the host sent; return the device's answer (possibly empty)."""
        ...


class InProcessPort:
    """A pyserial-like port whose other end is a `Peer` in this process (the `sim://` backends of the drivers)."""

    def __init__(self, simulator: Peer) -> None:
        """Connect to the simulator."""
        self.simulator = simulator
        self.timeout: float | None = 1.0
        self._incoming = bytearray()
        self._ready = threading.Condition()
        self._closed = False

    def write(self, data: bytes, /) -> int:
        """Hand bytes to the simulator and queue its answer."""
        if self._closed:
            raise OSError("port closed")
        answer = self.simulator.feed(bytes(data))
        with self._ready:
            self._incoming += answer
            self._ready.notify_all()
        return len(data)

    def read(self, size: int = 1, /) -> bytes:
        """Return up to `size` queued bytes, waiting at most `timeout` seconds for the first one."""
        with self._ready:
            self._ready.wait_for(lambda: self._incoming or self._closed, timeout=self.timeout)
            if self._closed:
                raise OSError("port closed")
            data = bytes(self._incoming[:size])
            del self._incoming[:size]
            return data

    def reset_input_buffer(self) -> None:
        """Drop queued bytes."""
        with self._ready:
            self._incoming.clear()

    def close(self) -> None:
        """Close the port; a waiting `read()` raises."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()


class PtyServer:
    """Serve one `Peer` on a raw pseudo-terminal; subclasses name the thread and build the driver URL."""

    thread_name = "pty-simulator"

    def __init__(self, peer: Peer) -> None:
        """Serve `peer` once `start()` is called."""
        self.peer = peer
        self.slave_path = ""
        self._master = self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Open the pseudo-terminal in raw mode and start serving on a daemon thread."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.slave_path = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close both ends (a driver still open then sees its device vanish)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def __enter__(self) -> Self:
        """Start serving."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self.stop()

    def _serve(self) -> None:
        """Read requests from the master side and write the peer's answers back (large answers in pieces)."""
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.05)
            if not readable:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.05)  # no slave open at this instant; keep serving
                continue
            view = memoryview(self.peer.feed(data))
            while view and not self._stop.is_set():
                _, writable, _ = select.select([], [self._master], [], 0.1)
                if writable:
                    view = view[os.write(self._master, view) :]
