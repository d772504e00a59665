"""The byte protocol of the four-key serial evaluator ("EV1"); pure functions, no I/O.

A counter-top evaluator (评价器) has four keys and a small display. It talks 9600 8N1 over RS-232 or
USB CDC-ACM in frames::

    STX 0x02 | CMD (1 byte) | LEN (1 byte, 0-32) | DATA (LEN bytes) | BCC (1 byte) | ETX 0x03

BCC is the XOR of CMD, LEN and every DATA byte. A receiver hunts for STX, drops a frame whose BCC or
ETX is wrong (counting it as noise) and starts again at the next STX, so a frame cut by a cable wiggle
never turns into a wrong key.

Host → evaluator

``0x10 PROMPT``  DATA = the ticket number in ASCII (up to 16 bytes). Lights the keys and shows
                 "请评价 A023". The evaluator answers ``ACK``.
``0x11 CANCEL``  No DATA. The question is over (timed out, next citizen called): keys go dark.
``0x12 THANKS``  No DATA. Shows "谢谢 / Thank you" for a few seconds, then goes dark.

Evaluator → host

``0x80 KEY``     DATA = key (1-4), press (0 short, 1 long ≥ 1.5 s), optionally a reason bitmask.
                 Keys are printed 非常满意 / 满意 / 基本满意 / 不满意; a long press on key 4 means
                 非常不满意 — the usual way four-key models reach the fifth level. A long press on keys
                 1-3 counts as a short one. Reason bits (models with reason buttons): bit 0 等候时间长
                 (slow), 1 服务态度差 (attitude), 2 告知不清楚 (unclear), 3 多次跑腿 (repeat).
                 Keys pressed while no PROMPT is active are sent anyway; the host ignores them.
``0x06 ACK``     DATA = the command byte acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

STX: Final = 0x02
ETX: Final = 0x03
MAX_DATA: Final = 32

PROMPT: Final = 0x10
CANCEL: Final = 0x11
THANKS: Final = 0x12
KEY: Final = 0x80
ACK: Final = 0x06

SHORT: Final = 0
LONG: Final = 1
REASON_BITS: Final = ("slow", "attitude", "unclear", "repeat")
_LEVEL_OF_KEY: Final = {1: 5, 2: 4, 3: 3, 4: 2}


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame."""

    cmd: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class KeyPress:
    """A citizen's answer: the 好差评 level (5 非常满意 … 1 非常不满意) and reason codes."""

    level: int
    reasons: tuple[str, ...] = ()


def bcc(cmd: int, data: bytes) -> int:
    """The XOR check byte over CMD, LEN and DATA."""
    x = cmd ^ len(data)
    for b in data:
        x ^= b
    return x


def encode(cmd: int, data: bytes = b"") -> bytes:
    """One frame as bytes; ValueError for a command or data out of range."""
    if not 0 <= cmd <= 0xFF:
        raise ValueError("command is one byte")
    if len(data) > MAX_DATA:
        raise ValueError(f"at most {MAX_DATA} data bytes")
    return bytes([STX, cmd, len(data), *data, bcc(cmd, data), ETX])


def prompt(number: str) -> bytes:
    """The PROMPT frame for a ticket number (ASCII, as printed on the ticket)."""
    raw = number.encode("ascii")
    if not raw or len(raw) > 16:
        raise ValueError("a ticket number is 1-16 ASCII characters")
    return encode(PROMPT, raw)


def key(key_no: int, press: int = SHORT, reasons: tuple[str, ...] = ()) -> bytes:
    """The KEY frame an evaluator sends (used by the simulator, and to document the format)."""
    if key_no not in _LEVEL_OF_KEY or press not in (SHORT, LONG):
        raise ValueError("key is 1-4, press 0 (short) or 1 (long)")
    data = bytes([key_no, press])
    if reasons:
        data += bytes([sum(1 << REASON_BITS.index(r) for r in set(reasons))])
    return encode(KEY, data)


def key_press(frame: Frame) -> KeyPress | None:
    """The level and reasons a KEY frame means; None for a frame that is not a valid key."""
    if frame.cmd != KEY or len(frame.data) < 2:
        return None
    key_no, press = frame.data[0], frame.data[1]
    if key_no not in _LEVEL_OF_KEY or press not in (SHORT, LONG):
        return None
    level = 1 if key_no == 4 and press == LONG else _LEVEL_OF_KEY[key_no]
    bits = frame.data[2] if len(frame.data) > 2 else 0
    return KeyPress(level, tuple(r for i, r in enumerate(REASON_BITS) if bits & (1 << i)))


def level_key(level: int) -> tuple[int, int]:
    """Which key and press give a level (the simulator's inverse of `key_press`)."""
    if level == 1:
        return 4, LONG
    for k, lv in _LEVEL_OF_KEY.items():
        if lv == level:
            return k, SHORT
    raise ValueError("level is 1-5")


@dataclass
class Decoder:
    """Turns a byte stream into frames; resynchronises on STX after noise or a bad frame."""

    noise: int = 0  # bytes or frames dropped
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return the complete, valid frames in order."""
        self._buf += data
        out: list[Frame] = []
        while True:
            start = self._buf.find(STX)
            if start < 0:
                self.noise += len(self._buf)
                self._buf.clear()
                return out
            if start:
                self.noise += start
                del self._buf[:start]
            if len(self._buf) < 3:
                return out
            cmd, n = self._buf[1], self._buf[2]
            if n > MAX_DATA:
                self.noise += 1
                del self._buf[:1]
                continue
            end = 3 + n + 2
            if len(self._buf) < end:
                return out
            data = bytes(self._buf[3 : 3 + n])
            if self._buf[3 + n] != bcc(cmd, data) or self._buf[end - 1] != ETX:
                self.noise += 1
                del self._buf[:1]  # hunt for the next STX inside what we have
                continue
            out.append(Frame(cmd, data))
            del self._buf[:end]
