"""The document-capture wire protocol (DCP/1): length-prefixed, CRC-checked frames over a serial line.

Pure functions only (bytes in, values out); the driver and the simulator move the bytes.

Frame layout (all integers big-endian)::

    AA 55 | type (1) | seq (1) | length (4) | payload (length bytes) | crc32 (4, over type…payload)

Requests (kiosk → device), empty payload:
    0x01 CAPTURE  take one page now
    0x02 STATUS   report readiness
Responses (device → kiosk) echo the request's `seq`:
    0x81 IMAGE    payload = format byte (0x01 JPEG, 0x02 PNG) + the image file's bytes
    0x82 STATUS   payload = state byte (0x00 ready, 0x01 no page, 0x02 fault) + UTF-8 detail
    0x8F ERROR    payload = error byte + UTF-8 detail; 0x01 nothing on the platen, 0x02 busy,
                  0x03 device fault, 0x04 unknown request, 0x05 bad frame (checksum or length)

Why this shape: document cameras (高拍仪) and sheet scanners ship vendor SDKs, not a common wire
protocol; a kiosk's device bridge (a microcontroller or a small service beside the SDK) speaks this frame
format to the kiosk over a USB CDC-ACM serial port. The sequence byte lets the reader drop a late answer
to a timed-out request instead of taking it for the next one; the CRC catches a damaged transfer of a large
image. On a USB CDC-ACM port the baud rate is nominal (USB speed); over a real RS-232 line at 115200 baud
a 200 KB JPEG takes about 17 s, so the driver's read timeout grows with the announced length.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import IntEnum

from .errors import FrameError

MAGIC = b"\xaa\x55"
HEADER_SIZE = 8  # magic (2) + type (1) + seq (1) + length (4)
CRC_SIZE = 4
MAX_PAYLOAD = 16 * 1024 * 1024
"""The largest payload either side accepts (16 MiB): a 600 dpi colour A4 JPEG is well under it."""


class FrameType(IntEnum):
    """Request and response frame types."""

    CAPTURE = 0x01
    STATUS = 0x02
    IMAGE = 0x81
    STATUS_REPLY = 0x82
    ERROR = 0x8F


class ImageFormat(IntEnum):
    """The format byte of an IMAGE payload."""

    JPEG = 0x01
    PNG = 0x02


CONTENT_TYPES = {ImageFormat.JPEG: "image/jpeg", ImageFormat.PNG: "image/png"}

ERR_NOTHING = 0x01
ERR_BUSY = 0x02
ERR_FAULT = 0x03
ERR_UNKNOWN = 0x04
ERR_BAD_FRAME = 0x05


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame."""

    type: int
    seq: int
    payload: bytes = b""


def encode_frame(frame_type: int, seq: int, payload: bytes = b"") -> bytes:
    """The bytes of one frame; ValueError for a type or seq outside a byte or a payload over MAX_PAYLOAD."""
    if not 0 <= frame_type <= 0xFF or not 0 <= seq <= 0xFF:
        raise ValueError("frame type and seq are single bytes")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD}")
    body = bytes((frame_type, seq)) + len(payload).to_bytes(4, "big") + payload
    return MAGIC + body + zlib.crc32(body).to_bytes(4, "big")


def payload_length(header: bytes) -> int:
    """The payload length a complete header announces; FrameError for bad magic or an implausible length."""
    if len(header) < HEADER_SIZE or header[:2] != MAGIC:
        raise FrameError("not a capture frame header")
    length = int.from_bytes(header[4:8], "big")
    if length > MAX_PAYLOAD:
        raise FrameError(f"announced payload of {length} bytes is over {MAX_PAYLOAD}")
    return length


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one whole frame; FrameError for a wrong length or checksum."""
    length = payload_length(data)
    if len(data) != HEADER_SIZE + length + CRC_SIZE:
        raise FrameError(f"frame is {len(data)} bytes, its header says {HEADER_SIZE + length + CRC_SIZE}")
    body = data[2 : HEADER_SIZE + length]
    if zlib.crc32(body).to_bytes(4, "big") != data[-CRC_SIZE:]:
        raise FrameError("frame checksum mismatch")
    return Frame(type=data[2], seq=data[3], payload=data[HEADER_SIZE : HEADER_SIZE + length])


def image_payload(data: bytes) -> bytes:
    """The IMAGE payload for an image file's bytes (format from its magic); ValueError if neither JPEG nor PNG."""
    return bytes((sniff_format(data),)) + data


def sniff_format(data: bytes) -> ImageFormat:
    """JPEG or PNG from the first bytes; ValueError otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    raise ValueError("not a JPEG or PNG file")


def parse_image(payload: bytes) -> tuple[bytes, str]:
    """(image bytes, content type) of an IMAGE payload; FrameError for an unknown format or mismatching bytes."""
    if not payload:
        raise FrameError("empty IMAGE payload")
    try:
        fmt = ImageFormat(payload[0])
    except ValueError as exc:
        raise FrameError(f"unknown image format byte 0x{payload[0]:02x}") from exc
    data = payload[1:]
    try:
        if sniff_format(data) is not fmt:
            raise FrameError("image bytes do not match the format byte")
    except ValueError as exc:
        raise FrameError("image bytes are neither JPEG nor PNG") from exc
    return data, CONTENT_TYPES[fmt]


def parse_coded(payload: bytes) -> tuple[int, str]:
    """(code byte, detail text) of a STATUS or ERROR payload; FrameError if empty."""
    if not payload:
        raise FrameError("empty status/error payload")
    return payload[0], payload[1:].decode("utf-8", errors="replace")


class FrameAssembler:
    """Splits a byte stream into frames: skips noise before the magic, keeps partial frames for later."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        """Add bytes; return the frames completed (a damaged frame appears as its FrameError, then is skipped)."""
        self._buf += data
        out: list[Frame | FrameError] = []
        while True:
            start = self._buf.find(MAGIC)
            if start < 0:
                del self._buf[: max(0, len(self._buf) - 1)]  # keep a trailing AA: it may start the magic
                return out
            del self._buf[:start]
            if len(self._buf) < HEADER_SIZE:
                return out
            try:
                length = payload_length(bytes(self._buf[:HEADER_SIZE]))
            except FrameError as exc:
                del self._buf[:2]
                out.append(exc)
                continue
            total = HEADER_SIZE + length + CRC_SIZE
            if len(self._buf) < total:
                return out
            raw = bytes(self._buf[:total])
            del self._buf[:total]
            try:
                out.append(decode_frame(raw))
            except FrameError as exc:
                out.append(exc)
