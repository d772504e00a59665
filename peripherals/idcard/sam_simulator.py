"""A SAM ID-card reader simulator speaking the real frames: in process (`sim://`) or on a pseudo-terminal.

`SamSimulator` is the reader's logic: it takes request bytes and gives response bytes, holding a card (or
none), and can be told to lose the card mid-read, to answer chosen commands with failure statuses, or to
stay mute. `SimulatedSamPort` plugs it into `SamReader` without any OS device; `PtySamSimulator` serves it on
the master side of a pseudo-terminal so that a `SamReader` opens the slave path like a real serial port.

Demo: `python -m peripherals.idcard.sam_simulator --pty` prints the slave path; configure
`sam+serial://<that path>` as the kiosk's ID-card reader.

Pseudo-terminal notes: both ends are put in raw mode (`tty.setraw`), otherwise the line discipline echoes
and translates CR/LF inside binary frames. The simulator keeps its own slave descriptor open for its whole
life: when the last slave descriptor closes, reads on the master fail with EIO and `select` reports it
readable forever.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Mapping
from types import FrameType

from ..ptyserve import InProcessPort, PtyServer
from .card import DEMO_CARDS, IdCard, demo_card
from .errors import FrameChecksumError, FrameLengthError
from .sam_protocol import (
    HEADER_SIZE,
    MAX_LENGTH,
    PREAMBLE,
    STATUS_CARD_FOUND,
    STATUS_OK,
    SamCommand,
    decode_request,
    encode_response,
)
from .sam_text import encode_base_info

log = logging.getLogger(__name__)

_COMMANDS = {command.value: command for command in SamCommand}
_SAM_ID = bytes.fromhex("0000000000000000000000000000000a")


class SamSimulator:
    """The behaviour of a SAM reader with one card slot; thread-safe, so tests can change the card live.

    - `card`: the card in the field, or None.
    - `remove_during_read`: answer the next read base information with 41 and lose the card, as when a
      citizen pulls the card away too early.
    - `failures`: answer these commands with these SW3 status bytes (e.g. `{SamCommand.READ_BASE_INFO: 0x33}`).
    - `mute`: answer nothing (a reader that hangs or is unpowered).

    `requests` lists every command received, `find_card_times` when each find card arrived (monotonic).
    """

    def __init__(
        self,
        card: IdCard | None = None,
        *,
        remove_during_read: bool = False,
        failures: Mapping[SamCommand, int] | None = None,
        mute: bool = False,
    ) -> None:
        """Hold `card` (or none) with the given failure behaviour."""
        self._lock = threading.Lock()
        self._card = card
        self._selected = False
        self._buffer = bytearray()
        self.remove_during_read = remove_during_read
        self.failures: dict[SamCommand, int] = dict(failures or {})
        self.mute = mute
        self.requests: list[SamCommand | bytes] = []
        self.find_card_times: list[float] = []

    @property
    def card(self) -> IdCard | None:
        """The card in the field now."""
        with self._lock:
            return self._card

    @card.setter
    def card(self, card: IdCard | None) -> None:
        """Put a card in the field (or take it away with None)."""
        with self._lock:
            self._card = card
            self._selected = False

    def count(self, command: SamCommand) -> int:
        """How many requests of this command arrived."""
        with self._lock:
            return sum(1 for seen in self.requests if seen is command)

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the line and return the bytes to send back (answers to every complete frame).

        Bytes before a preamble are skipped, as a real reader does; a frame whose length is implausible is
        answered with status 11 and skipped.
        """
        out = bytearray()
        with self._lock:
            self._buffer += data
            while True:
                start = self._buffer.find(PREAMBLE)
                if start < 0:
                    del self._buffer[: max(0, len(self._buffer) - len(PREAMBLE) + 1)]
                    break
                del self._buffer[:start]
                if len(self._buffer) < HEADER_SIZE:
                    break
                length = int.from_bytes(self._buffer[len(PREAMBLE) : HEADER_SIZE], "big")
                if not 3 <= length <= MAX_LENGTH:
                    del self._buffer[: len(PREAMBLE)]
                    out += self._answer(encode_response(0x11))
                    continue
                if len(self._buffer) < HEADER_SIZE + length:
                    break
                frame = bytes(self._buffer[: HEADER_SIZE + length])
                del self._buffer[: HEADER_SIZE + length]
                out += self._answer(self._handle(frame))
        return bytes(out)

    def _answer(self, response: bytes) -> bytes:
        """The response as sent: nothing when mute."""
        return b"" if self.mute else response

    def _handle(self, frame: bytes) -> bytes:
        """The response frame to one complete request frame (lock held)."""
        try:
            request = decode_request(frame)
        except FrameChecksumError:
            return encode_response(0x10)
        except FrameLengthError:
            return encode_response(0x11)
        command = _COMMANDS.get(request.command)
        self.requests.append(command or request.command)
        if command is None:
            return encode_response(0x21)
        log.debug("SAM simulator: %s", command.name)
        if command is SamCommand.FIND_CARD:
            self.find_card_times.append(time.monotonic())
        if command in self.failures:
            return encode_response(self.failures[command])
        return self._respond(command)

    def _respond(self, command: SamCommand) -> bytes:
        """What a working reader answers to a command in the current state (lock held)."""
        if command in (SamCommand.RESET_SAM, SamCommand.SAM_STATUS):
            return encode_response(STATUS_OK)
        if command is SamCommand.READ_SAM_ID:
            return encode_response(STATUS_OK, _SAM_ID)
        if command is SamCommand.FIND_CARD:
            return encode_response(STATUS_CARD_FOUND, bytes(4)) if self._card else encode_response(0x80)
        if command is SamCommand.SELECT_CARD:
            if self._card is None:
                return encode_response(0x81)
            self._selected = True
            return encode_response(STATUS_OK, bytes(8))
        # READ_BASE_INFO
        if self._card is None:
            return encode_response(0x41)
        if not self._selected:
            return encode_response(0x81)
        if self.remove_during_read:
            self.remove_during_read = False
            self._card, self._selected = None, False
            return encode_response(0x41)
        return encode_response(STATUS_OK, encode_base_info(self._card))


class SimulatedSamPort(InProcessPort):
    """A pyserial-like port whose other end is a `SamSimulator` in this process (the `sim://` backend)."""


class PtySamSimulator(PtyServer):
    """Serves a `SamSimulator` on a pseudo-terminal: open `slave_path` as the reader's serial port."""

    thread_name = "sam-simulator"

    def __init__(self, simulator: SamSimulator | None = None) -> None:
        """Serve `simulator` (default: one holding the demo card) once `start()` is called."""
        self.simulator = simulator if simulator is not None else SamSimulator(demo_card())
        super().__init__(self.simulator)

    @property
    def url(self) -> str:
        """The reader URL for `open_id_reader`."""
        return f"sam+serial://{self.slave_path}"


def main(argv: list[str] | None = None) -> int:
    """CLI: serve a simulated SAM reader on a pseudo-terminal until interrupted; print the slave path."""
    parser = argparse.ArgumentParser(prog="python -m peripherals.idcard.sam_simulator", description=__doc__)
    parser.add_argument("--pty", action="store_true", required=True, help="serve on a pseudo-terminal")
    parser.add_argument("--no-card", action="store_true", help="start with no card in the field")
    parser.add_argument(
        "--card",
        choices=["demo", *DEMO_CARDS],
        default="demo",
        help="which demo card: a resident's (demo), an HK/Macao/Taiwan permit, a foreigner's 2017/2023 card",
    )
    parser.add_argument("--remove-mid-read", action="store_true", help="lose the card during the first read")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command to stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    card = demo_card() if args.card == "demo" else DEMO_CARDS[args.card]()
    simulator = SamSimulator(None if args.no_card else card, remove_during_read=args.remove_mid_read)
    done = threading.Event()

    def _quit(signum: int, frame: FrameType | None) -> None:
        """Stop on SIGINT or SIGTERM."""
        done.set()

    signal.signal(signal.SIGTERM, _quit)
    signal.signal(signal.SIGINT, _quit)
    with PtySamSimulator(simulator) as pty:
        print(pty.slave_path, flush=True)
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
