"""A virtual contactless card for vsmartcard's vpcd driver in pcscd: pyscard then talks to a real pcscd.

vpcd (Debian package `vsmartcard-vpcd`) makes pcscd show the readers `Virtual PCD 00 00` and
`Virtual PCD 00 01`, listening on TCP 35963 and 35964 for a virtual card. This module is that card: it
connects, which inserts it, answers what pcscd relays, and closing the socket removes it.

Wire format, both directions: a 2-byte big-endian length, then the payload. A 1-byte payload from vpcd is
a control: 0 power off, 1 power on, 2 reset (no answer expected), 4 get ATR (answer the ATR). Anything
longer is a command APDU; the answer is the response APDU. The card answers GET UID (`FF CA 00 00 00`) with
its UID and `90 00`, other reader pseudo-APDUs (class FF) with `6A 81`, and everything else with `6D 00`.

Notes: vpcd listens on every interface (0.0.0.0), so a machine with vpcd installed accepts virtual cards
from its network; kiosks in production should not have `vsmartcard-vpcd` installed. vpcd takes one card
per reader: a second connection waits until the first card is removed.

CLI for the demo: `python -m peripherals.idcard.vpcd_card --uid 04A1B2C3D4E5F6` inserts a card until
interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import struct
import threading
import time
from types import FrameType

VPCD_PORT = 35963
"""Port of `Virtual PCD 00 00`; reader `00 01` listens on the next port."""
DEFAULT_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
"""The ATR PC/SC part 3 gives a contactless ISO 14443-A (MIFARE Classic 1K) card."""
GET_UID = bytes.fromhex("FFCA000000")
SW_OK = b"\x90\x00"
SW_FUNCTION_NOT_SUPPORTED = b"\x6a\x81"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"

POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4


def encode_message(payload: bytes) -> bytes:
    """One vpcd message: 2-byte big-endian length, then the payload."""
    return struct.pack(">H", len(payload)) + payload


def answer(message: bytes, *, uid: bytes | None, atr: bytes = DEFAULT_ATR) -> bytes | None:
    """The card's answer to one message from vpcd, or None for controls that need none.

    `uid` None is a card without a UID, which answers GET UID with `6A 81` like a contact card in a reader
    that lacks the pseudo-APDU.
    """
    if len(message) == 1:
        return atr if message[0] == GET_ATR else None
    if message == GET_UID and uid is not None:
        return uid + SW_OK
    if message[:1] == b"\xff":
        return SW_FUNCTION_NOT_SUPPORTED
    return SW_INS_NOT_SUPPORTED


class VirtualCard:
    """A card with a UID (or None: no UID), inserted into a vpcd reader by `insert()`, removed by `remove()`.

    `remove_on_apdu`: drop out (be removed) on receiving the next APDU instead of answering it, as when a
    badge is pulled away mid-read. `apdus` lists the APDUs received.
    """

    def __init__(
        self,
        uid: bytes | None,
        *,
        host: str = "127.0.0.1",
        port: int = VPCD_PORT,
        atr: bytes = DEFAULT_ATR,
        remove_on_apdu: bool = False,
    ) -> None:
        """Describe the card; nothing connects until `insert()`."""
        self.uid = uid
        self.atr = atr
        self.remove_on_apdu = remove_on_apdu
        self.apdus: list[bytes] = []
        self._address = (host, port)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def inserted(self) -> bool:
        """Whether the card's connection to vpcd is open."""
        return self._sock is not None

    def insert(self, timeout: float = 10.0) -> VirtualCard:
        """Connect to vpcd (retrying until it listens, up to `timeout` seconds) and start answering."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection(self._address, timeout=1.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._serve, args=(self._sock,), name="vpcd-card", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        """Close the connection: vpcd reports the card removed at pcscd's next presence poll."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> VirtualCard:
        """Insert the card."""
        return self.insert()

    def __exit__(self, *exc: object) -> None:
        """Remove the card."""
        self.remove()

    def _serve(self, sock: socket.socket) -> None:
        """Answer vpcd's messages until the socket closes."""
        try:
            while True:
                (length,) = struct.unpack(">H", _recv_exact(sock, 2))
                message = _recv_exact(sock, length)
                if len(message) > 1:
                    self.apdus.append(message)
                    if self.remove_on_apdu:
                        self.remove_on_apdu = False
                        self.remove()
                        break
                reply = answer(message, uid=self.uid, atr=self.atr)
                if reply is not None:
                    sock.sendall(encode_message(reply))
        except (EOFError, OSError):
            pass  # removed, or vpcd went away
        if self._sock is sock:  # vpcd went away (pcscd stopped): the card is out
            self._sock = None
            sock.close()


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes from the socket; EOFError when it closes first."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("vpcd closed the connection")
        data += chunk
    return bytes(data)


def main(argv: list[str] | None = None) -> int:
    """CLI: insert a virtual card with the given UID until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m peripherals.idcard.vpcd_card", description=__doc__)
    parser.add_argument("--uid", default="04A1B2C3D4E5F6", help="the card's UID in hex")
    parser.add_argument("--port", type=int, default=VPCD_PORT, help="35963 for Virtual PCD 00 00, 35964 for 00 01")
    args = parser.parse_args(argv)
    done = threading.Event()

    def _quit(signum: int, frame: FrameType | None) -> None:
        """Stop on SIGINT or SIGTERM."""
        done.set()

    # Set explicitly: a shell starting us in the background may have left SIGINT ignored.
    signal.signal(signal.SIGTERM, _quit)
    signal.signal(signal.SIGINT, _quit)
    card = VirtualCard(bytes.fromhex(args.uid), port=args.port).insert()
    print(f"card {args.uid} inserted on port {args.port}; Ctrl-C or SIGTERM removes it", flush=True)
    try:
        while card.inserted and not done.wait(0.5):
            pass
    finally:
        card.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
