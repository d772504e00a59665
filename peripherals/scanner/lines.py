"""Turning a serial scanner's byte stream into codes: a pure assembler, no I/O.

Line-mode QR/barcode scanners (USB CDC-ACM "virtual COM" mode, or RS-232) send each decoded code followed
by a suffix that is set by scanning a configuration barcode in the scanner's manual: CR (the factory
default of most Honeywell, Newland and Zebra models), LF, or CR LF. The suffix is not always the same
across a hall's fleet, so every one of the three ends a code, and the empty "line" between the CR and the
LF of a CR LF pair is dropped. Bytes arrive in arbitrary chunks (a USB packet may hold half a code, or the
end of one code and the start of the next), so the assembler keeps the unfinished tail between calls.
"""

from __future__ import annotations

import codecs

TERMINATORS = b"\r\n"
"""Each of these bytes ends a code."""

DEFAULT_MAX_LENGTH = 4096
"""A QR code holds at most 2953 bytes (version 40, level L); a longer unterminated run is line noise."""


class LineAssembler:
    """Collects bytes and returns each complete code, decoded, without its terminator.

    `encoding` is what the scanner sends: ``utf-8`` for most modern scanners (a QR code with Chinese text
    arrives as UTF-8 when the scanner passes bytes through), ``gb18030`` for scanners set to a Chinese
    code page. Undecodable bytes become U+FFFD rather than an exception: a garbled code is then rejected by
    whatever looks it up, which tells the citizen to scan again. A run of more than `max_length` bytes
    without a terminator is discarded (counted in `discarded`), so a scanner stuck sending noise cannot
    grow memory without bound.
    """

    def __init__(self, encoding: str = "utf-8", max_length: int = DEFAULT_MAX_LENGTH) -> None:
        """Start with an empty buffer; raise LookupError for an unknown encoding."""
        codecs.lookup(encoding)
        if max_length < 1:
            raise ValueError("max_length must be positive")
        self.encoding = encoding
        self.max_length = max_length
        self.discarded = 0
        self._buffer = bytearray()

    @property
    def pending(self) -> bytes:
        """The bytes of the unfinished code received so far."""
        return bytes(self._buffer)

    def feed(self, data: bytes) -> list[str]:
        """Add a chunk of bytes; return the codes it completed, oldest first (often none)."""
        codes: list[str] = []
        for byte in data:
            if byte in TERMINATORS:
                if self._buffer:
                    codes.append(self._buffer.decode(self.encoding, errors="replace"))
                    self._buffer.clear()
                continue
            if len(self._buffer) >= self.max_length:
                self._buffer.clear()
                self.discarded += 1
            self._buffer.append(byte)
        return codes

    def reset(self) -> None:
        """Forget the unfinished code (after the port was reopened, say)."""
        self._buffer.clear()
