"""DCP/1 framing: exact bytes, round trips, and a byte stream split anywhere."""

from __future__ import annotations

import itertools
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peripherals.capture.errors import FrameError
from peripherals.capture.protocol import (
    Frame,
    FrameAssembler,
    FrameType,
    decode_frame,
    encode_frame,
    image_payload,
    parse_coded,
    parse_image,
)
from peripherals.errors import ProtocolError

JPEG = b"\xff\xd8\xff\xe0fakejpeg"
PNG = b"\x89PNG\r\n\x1a\nfakepng"


def test_capture_request_bytes_are_exact() -> None:
    body = bytes([0x01, 0x07, 0, 0, 0, 0])
    assert encode_frame(FrameType.CAPTURE, 7) == b"\xaa\x55" + body + zlib.crc32(body).to_bytes(4, "big")


def test_image_frame_round_trip() -> None:
    raw = encode_frame(FrameType.IMAGE, 200, image_payload(PNG))
    frame = decode_frame(raw)
    assert frame == Frame(FrameType.IMAGE, 200, b"\x02" + PNG)
    assert parse_image(frame.payload) == (PNG, "image/png")
    assert parse_image(image_payload(JPEG)) == (JPEG, "image/jpeg")


def test_damaged_frames_are_refused() -> None:
    raw = bytearray(encode_frame(FrameType.IMAGE, 1, image_payload(JPEG)))
    raw[12] ^= 0xFF
    with pytest.raises(FrameError, match="checksum"):
        decode_frame(bytes(raw))
    with pytest.raises(FrameError, match="header says"):
        decode_frame(encode_frame(FrameType.STATUS, 1, b"ab")[:-1])
    with pytest.raises(ProtocolError):  # FrameError is one of the package's protocol errors
        parse_image(b"\x01" + PNG)  # says JPEG, carries PNG
    with pytest.raises(FrameError):
        parse_image(b"\x09" + JPEG)
    with pytest.raises(ValueError):
        image_payload(b"MZ\x90\x00 an exe")
    assert parse_coded(b"\x01nothing") == (1, "nothing")


def test_an_implausible_length_is_reported_and_skipped() -> None:
    bogus = b"\xaa\x55\x81\x01" + (1 << 30).to_bytes(4, "big")
    good = encode_frame(FrameType.STATUS_REPLY, 3, b"\x00ready")
    out = FrameAssembler().feed(bogus + good)
    assert isinstance(out[0], FrameError)
    assert out[-1] == Frame(FrameType.STATUS_REPLY, 3, b"\x00ready")


@given(
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=5),
    noise=st.binary(max_size=20).filter(lambda b: b"\xaa" not in b),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_frames_survive_any_split_and_leading_noise(payloads: list[bytes], noise: bytes, cuts: list[int]) -> None:
    stream = noise + b"".join(encode_frame(FrameType.IMAGE, i, p) for i, p in enumerate(payloads))
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    asm = FrameAssembler()
    got: list[Frame | FrameError] = []
    for a, b in itertools.pairwise(points):
        got += asm.feed(stream[a:b])
    assert got == [Frame(FrameType.IMAGE, i, p) for i, p in enumerate(payloads)]
