"""The ESC/POS printer simulator, reachable three ways: in-process, on a pseudo-terminal, and on TCP.

* in-process: `open_printer("sim://")` wraps a `SimulatedPrinter` directly (see `SimTransport`);
* `PtySimulator`: a pseudo-terminal (`os.openpty()` + `tty.setraw`) whose slave path the real serial
  transport opens (`escpos+serial:///dev/pts/N`), with a thread serving the master side;
* `TcpSimulator`: a TCP server on 127.0.0.1 for the port-9100 transport (`escpos+tcp://127.0.0.1:PORT`).

Both servers run one thread around a selector and stop promptly (a pipe wakes the thread; no polling).
The pseudo-terminal is set raw: in the default cooked mode the line discipline would echo every byte back,
turn `LF` into `CR LF` and swallow `^C`/`^Z` bytes, none of which a real serial line does. The server keeps
its own slave descriptor open, so the master never reads EIO between two clients.

Demo::

    python -m peripherals.printer.simulator --pty [--paper 58] [--state paper_low]

prints the slave path and then every ticket it receives as text; typing a state name (ok, paper_low,
paper_out, cover_open, offline) on its standard input switches the printer to that state.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import signal
import socket
import sys
import threading
import tty
from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from .simdevice import Barcode, Document, Feed, Line, QrCode, Raster, SimulatedPrinter

__all__ = [
    "Barcode",
    "Document",
    "Feed",
    "Line",
    "PtySimulator",
    "QrCode",
    "Raster",
    "SimulatedPrinter",
    "TcpSimulator",
]

STATES = ("ok", "paper_low", "paper_out", "cover_open", "offline")


class _Server(ABC):
    """A thread that moves bytes between its file descriptors and a `SimulatedPrinter`."""

    def __init__(self, printer: SimulatedPrinter | None) -> None:
        """Serve `printer` (a fresh 48-column one if None)."""
        self.printer = printer or SimulatedPrinter()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._loop, name=type(self).__name__, daemon=True)
        self._dropped = threading.Event()

    @property
    @abstractmethod
    def url(self) -> str:
        """The printer URL that reaches this server."""

    def start(self) -> Self:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close every descriptor (idempotent)."""
        if self._wake_w < 0:
            return
        os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join()
        for key in list(self._selector.get_map().values()):
            self._selector.unregister(key.fileobj)
            self._close(key.fileobj)
        self._selector.close()
        os.close(self._wake_w)
        self._wake_w = -1

    def drop_clients(self, timeout: float = 5.0) -> None:
        """Close every client connection, as a network printer does after some idle minutes (returns when done)."""
        self._dropped.clear()
        os.write(self._wake_w, b"d")
        if not self._dropped.wait(timeout):
            raise TimeoutError("the simulator thread did not drop its clients")

    def _drop_clients(self) -> None:
        """Close client connections (only the TCP server has any)."""
        return None  # a pseudo-terminal has no client connections to drop

    def _loop(self) -> None:
        """Wait for readable descriptors and hand them to `_readable` until woken to stop."""
        while True:
            for key, _ in self._selector.select():
                if key.fileobj != self._wake_r:
                    self._readable(key.fileobj)
                    continue
                wake = os.read(self._wake_r, 64)
                if b"x" in wake:
                    return
                self._drop_clients()
                self._dropped.set()

    @abstractmethod
    def _readable(self, fileobj: Any) -> None:
        """Handle one readable descriptor."""

    def _close(self, fileobj: Any) -> None:
        """Close a descriptor or socket."""
        if isinstance(fileobj, int):
            os.close(fileobj)
        else:
            fileobj.close()

    def __enter__(self) -> Self:
        """Start on entering the block."""
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Stop on leaving the block."""
        self.stop()


class PtySimulator(_Server):
    """The simulated printer behind a pseudo-terminal; open `path` (or `url`) as a serial port."""

    def __init__(self, printer: SimulatedPrinter | None = None) -> None:
        """Create the pseudo-terminal pair, raw, and serve its master side."""
        super().__init__(printer)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._selector.register(self._master, selectors.EVENT_READ)

    @property
    def url(self) -> str:
        """`escpos+serial:///dev/pts/N`."""
        return f"escpos+serial://{self.path}"

    def _readable(self, fileobj: Any) -> None:
        """Bytes from the serial client: feed them, write the answers back."""
        try:
            data = os.read(self._master, 4096)
        except OSError:  # EIO: no slave is open (cannot happen while we hold ours)
            return
        answers = self.printer.feed(data)
        if answers:
            os.write(self._master, answers)

    def stop(self) -> None:
        """Stop serving and close both ends of the pseudo-terminal."""
        if self._wake_w >= 0:
            super().stop()
            os.close(self._slave)


class TcpSimulator(_Server):
    """The simulated printer as a TCP server (a network printer's port 9100), on 127.0.0.1 by default."""

    def __init__(self, printer: SimulatedPrinter | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (port 0: any free port; see `address`)."""
        super().__init__(printer)
        self._listener = socket.create_server((host, port))
        self._listener.setblocking(False)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._selector.register(self._listener, selectors.EVENT_READ)

    @property
    def url(self) -> str:
        """`escpos+tcp://127.0.0.1:PORT`."""
        return f"escpos+tcp://{self.address[0]}:{self.address[1]}"

    def _drop_clients(self) -> None:
        """Close every accepted connection (the listener stays)."""
        for key in list(self._selector.get_map().values()):
            if isinstance(key.fileobj, socket.socket) and key.fileobj is not self._listener:
                self._selector.unregister(key.fileobj)
                key.fileobj.close()

    def _readable(self, fileobj: Any) -> None:
        """Accept a client, or feed a client's bytes and send the answers back; forget closed clients."""
        if fileobj is self._listener:
            try:
                conn, _ = self._listener.accept()
            except BlockingIOError:
                return
            conn.setblocking(True)
            self._selector.register(conn, selectors.EVENT_READ)
            return
        try:
            data = fileobj.recv(4096)
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(fileobj)
            fileobj.close()
            return
        answers = self.printer.feed(data)
        if answers:
            with contextlib.suppress(OSError):  # the client went away; its close is seen on the next read
                fileobj.sendall(answers)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM: leave the serving loop the way Ctrl-C does."""
    raise SystemExit(0)


def _serve_cli(argv: Sequence[str] | None = None) -> int:
    """Run the simulator on a pseudo-terminal and/or TCP, dumping tickets, until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m peripherals.printer.simulator", description="ESC/POS printer simulator"
    )
    parser.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal and print its path")
    parser.add_argument("--tcp", type=int, metavar="PORT", help="serve on 127.0.0.1:PORT (0: any free port)")
    parser.add_argument("--paper", choices=("58", "80"), default="80", help="paper width in mm (default 80)")
    parser.add_argument("--state", choices=STATES, default="ok", help="initial printer state")
    args = parser.parse_args(argv)
    if not args.pty and args.tcp is None:
        parser.error("give --pty, --tcp PORT or both")

    columns = 32 if args.paper == "58" else 48

    def show(doc: Document) -> None:
        print(doc.render(columns), flush=True)
        for text in doc.qr_payloads:
            print(f"QR payload: {text}", flush=True)

    printer = SimulatedPrinter(columns, state=args.state, on_document=show)
    servers: list[_Server] = []
    if args.pty:
        servers.append(PtySimulator(printer).start())
    if args.tcp is not None:
        servers.append(TcpSimulator(printer, port=args.tcp).start())
    for server in servers:
        print(f"{server.url}  {getattr(server, 'path', '')}".rstrip(), flush=True)
    print(f"printer state: {args.state}; type one of {', '.join(STATES)} to change it", flush=True)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        for line in sys.stdin:
            if line.strip() in STATES:
                printer.set_state(line.strip())
                print(f"printer state: {line.strip()}", flush=True)
        while True:  # standard input closed (running in the background): serve until a signal
            signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_serve_cli())
