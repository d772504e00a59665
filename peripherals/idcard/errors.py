"""ID-card reader errors: refinements of the package's one hierarchy (`peripherals.errors`), never a second one.

Catch the `peripherals.errors` classes (`CardError`, `ProtocolError`, …) in callers; the classes here add
what a caller may want to branch on (the SAM status byte, the frame fault) without new roots.
"""

from __future__ import annotations

from ..errors import CardError, PeripheralError, ProtocolError


class CardRemoved(CardError):
    """The card left the reader while it was being read (a citizen pulled the ID card away too early)."""

    def __init__(self, detail: str = "card removed during read") -> None:
        """Say where the card was lost; the message always contains "card removed"."""
        super().__init__(detail if "card removed" in detail else f"card removed: {detail}")


class FrameChecksumError(ProtocolError):
    """A SAM frame whose XOR checksum does not match its content."""


class FrameLengthError(ProtocolError):
    """A SAM frame that is shorter or longer than its length field says, or whose length is implausible."""


class SamStatusError(PeripheralError):
    """The SAM reader answered with a failure status (SW3); `status` is that byte, `sw1`/`sw2` the card's SW.

    Raised as such for faults of the reader itself (self-test failed, SAM not authorised, unknown error);
    the subclasses below also inherit `CardError` or `ProtocolError` so that callers can handle them the same
    way as the other readers' errors.
    """

    def __init__(self, status: int, message: str, *, command: str = "", sw1: int = 0, sw2: int = 0) -> None:
        """Build the message "SAM status 0xNN after <command>: <meaning>" (nothing personal in it)."""
        self.status = status
        self.sw1 = sw1
        self.sw2 = sw2
        self.command = command
        where = f" after {command}" if command else ""
        card_sw = f" (card SW {sw1:02X} {sw2:02X})" if (sw1, sw2) != (0, 0) else ""
        super().__init__(f"SAM status 0x{status:02X}{where}: {message}{card_sw}")


class SamCardStatusError(SamStatusError, CardError):
    """A failure status about the card: none found, not selected, authentication or read failure."""


class SamFrameRejected(SamStatusError, ProtocolError):
    """The reader rejected our request frame (checksum, length or command error at the reader)."""
