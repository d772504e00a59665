"""The SAM frame protocol of resident ID card readers (GA 467 安全模块): pure functions from values to bytes and back.

A frame is the preamble `AA AA AA 96 69`, a 2-byte big-endian length counting every byte after it (checksum
included), the body, and a 1-byte XOR checksum over the length bytes and the body. A request's body is the
command and parameter bytes and optional data; a response's body is the status `SW1 SW2 SW3` and data, where
SW1/SW2 relay the card's APDU status (usually `00 00`) and SW3 is the reader's own status. No I/O here: the
reader (`sam_reader`) and the simulator (`sam_simulator`) move the bytes.

Hardware notes:
- Readers ship at 115200 baud, 8N1, no flow control (a command `60 0x` changes the speed; we never send it).
- The preamble's first three bytes are for synchronisation; readers ignore bytes before a preamble, but
  answer a request with a bad checksum with status 0x10 and a bad length with 0x11.
- Find card answers `9F` (not `90`) on success, with 4 data bytes (the card's IIN, zeros on most readers);
  select card answers `90` with 8 data bytes (zeros); both fail with 80/81 and no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..errors import ProtocolError
from .errors import FrameChecksumError, FrameLengthError, SamCardStatusError, SamFrameRejected, SamStatusError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2
"""Bytes to read before the length of the rest of the frame is known."""
MAX_LENGTH = 4096
"""Longest length field we accept; the longest real answer (base info with fingerprints) is about 2.3 KB."""

STATUS_OK = 0x90
STATUS_CARD_FOUND = 0x9F


class SamCommand(Enum):
    """The command and parameter bytes of the SAM commands we use."""

    RESET_SAM = b"\x10\xff"
    SAM_STATUS = b"\x11\xff"
    READ_SAM_ID = b"\x12\xff"
    FIND_CARD = b"\x20\x01"
    SELECT_CARD = b"\x20\x02"
    READ_BASE_INFO = b"\x30\x01"

    @property
    def success(self) -> int:
        """The SW3 this command answers on success: 0x9F for find card, 0x90 for every other command."""
        return STATUS_CARD_FOUND if self is SamCommand.FIND_CARD else STATUS_OK


_STATUS: dict[int, tuple[type[SamStatusError], str]] = {
    0x10: (SamFrameRejected, "the reader received a frame with a bad checksum"),
    0x11: (SamFrameRejected, "the reader received a frame with a bad length"),
    0x21: (SamFrameRejected, "the reader rejected the command (unknown command or wrong parameter or order)"),
    0x23: (SamStatusError, "operation not permitted (越权操作)"),
    0x24: (SamStatusError, "unknown error in the reader"),
    0x31: (SamCardStatusError, "the card failed to authenticate the reader (证/卡认证机具失败)"),
    0x32: (SamCardStatusError, "the reader failed to authenticate the card (机具认证证/卡失败)"),
    0x33: (SamCardStatusError, "the card's information failed verification (信息验证失败)"),
    0x40: (SamCardStatusError, "unrecognised card type: not a resident ID card (无法识别的卡类型)"),
    0x41: (SamCardStatusError, "reading the card failed (读证/卡操作失败)"),
    0x47: (SamCardStatusError, "the card failed to give a random number (取随机数失败)"),
    0x60: (SamStatusError, "the SAM failed its self-test and accepts no commands (自检失败)"),
    0x66: (SamStatusError, "the SAM is not authorised for use (SAM 未经授权)"),
    0x80: (SamCardStatusError, "no card found in the field (寻找证/卡失败)"),
    0x81: (SamCardStatusError, "the card could not be selected (选取证/卡失败)"),
    0x91: (SamCardStatusError, "the card holds no content for this item (证/卡中此项无内容)"),
}


def status_message(status: int) -> str:
    """The meaning of a SW3 status byte, for logs and staff (every byte gets an answer)."""
    if status == STATUS_OK:
        return "success"
    if status == STATUS_CARD_FOUND:
        return "card found"
    known = _STATUS.get(status)
    return known[1] if known else f"undocumented status 0x{status:02X}"


def status_error(status: int, *, command: SamCommand | None = None, sw1: int = 0, sw2: int = 0) -> SamStatusError:
    """The exception for a failure status byte: card faults are `CardError`s, rejected frames `ProtocolError`s."""
    cls, message = _STATUS.get(status, (SamStatusError, f"undocumented status 0x{status:02X}"))
    return cls(status, message, command=command.name.lower() if command else "", sw1=sw1, sw2=sw2)


@dataclass(frozen=True, slots=True)
class SamResponse:
    """A decoded response frame: the card's SW1/SW2, the reader's SW3, and the data."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes


@dataclass(frozen=True, slots=True)
class SamRequest:
    """A decoded request frame: the two command/parameter bytes and the data."""

    command: bytes
    data: bytes


def xor_checksum(data: bytes) -> int:
    """The XOR of every byte (the frame checksum is this over the length bytes and the body)."""
    result = 0
    for byte in data:
        result ^= byte
    return result


def _frame(body: bytes) -> bytes:
    """Wrap a body in preamble, length and checksum."""
    length = len(body) + 1
    if length > MAX_LENGTH:
        raise ValueError(f"frame body of {len(body)} bytes is too long")
    counted = length.to_bytes(2, "big") + body
    return PREAMBLE + counted + bytes([xor_checksum(counted)])


def encode_request(command: SamCommand, data: bytes = b"") -> bytes:
    """The request frame for a command; e.g. find card is `AA AA AA 96 69 00 03 20 01 22`."""
    return _frame(command.value + data)


def encode_response(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    """A response frame (what a reader sends); e.g. card found is `AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97`."""
    return _frame(bytes([sw1, sw2, sw3]) + data)


def frame_length(header: bytes) -> int:
    """Check the first `HEADER_SIZE` bytes of a frame and return how many bytes follow them.

    Raises `ProtocolError` for a wrong preamble and `FrameLengthError` for an implausible length.
    """
    if len(header) < HEADER_SIZE:
        raise FrameLengthError(f"short frame: {len(header)} bytes, a header alone is {HEADER_SIZE}")
    if header[: len(PREAMBLE)] != PREAMBLE:
        raise ProtocolError(f"bad frame header {header[: len(PREAMBLE)].hex(' ')} (expected aa aa aa 96 69)")
    length = int.from_bytes(header[len(PREAMBLE) : HEADER_SIZE], "big")
    if not 1 <= length <= MAX_LENGTH:
        raise FrameLengthError(f"implausible frame length {length}")
    return length


def _body(frame: bytes, minimum: int) -> bytes:
    """Validate a whole frame (header, exact length, checksum) and return its body (without checksum)."""
    length = frame_length(frame[:HEADER_SIZE])
    if len(frame) != HEADER_SIZE + length:
        kind = "short" if len(frame) < HEADER_SIZE + length else "overlong"
        raise FrameLengthError(f"{kind} frame: {len(frame)} bytes, its length field says {HEADER_SIZE + length}")
    if length < minimum:
        raise FrameLengthError(f"frame length {length} is below the minimum {minimum}")
    counted = frame[len(PREAMBLE) : -1]
    if xor_checksum(counted) != frame[-1]:
        raise FrameChecksumError(f"bad checksum 0x{frame[-1]:02X} (computed 0x{xor_checksum(counted):02X})")
    return frame[HEADER_SIZE:-1]


def decode_response(frame: bytes) -> SamResponse:
    """Decode a complete response frame; `ProtocolError` (or a subclass) if it is malformed."""
    body = _body(frame, minimum=4)
    return SamResponse(sw1=body[0], sw2=body[1], sw3=body[2], data=body[3:])


def decode_request(frame: bytes) -> SamRequest:
    """Decode a complete request frame (the simulator's side); `ProtocolError` (or a subclass) if malformed."""
    body = _body(frame, minimum=3)
    return SamRequest(command=body[:2], data=body[2:])


def check_status(response: SamResponse, command: SamCommand) -> SamResponse:
    """Return the response if it reports the command's success status, else raise the status's error.

    A success byte of the wrong kind (90 to find card, 9F to anything else) is a `ProtocolError`.
    """
    if response.sw3 == command.success:
        return response
    if response.sw3 in (STATUS_OK, STATUS_CARD_FOUND):
        raise ProtocolError(f"unexpected status 0x{response.sw3:02X} after {command.name.lower()}")
    raise status_error(response.sw3, command=command, sw1=response.sw1, sw2=response.sw2)
