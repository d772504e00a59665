"""SAM frames: exact request bytes, response decoding (malformed, short, bad header, bad checksum), statuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peripherals.errors import CardError, PeripheralError, ProtocolError
from peripherals.idcard.errors import (
    FrameChecksumError,
    FrameLengthError,
    SamCardStatusError,
    SamFrameRejected,
    SamStatusError,
)
from peripherals.idcard.sam_protocol import (
    SamCommand,
    SamResponse,
    check_status,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    frame_length,
    status_error,
    status_message,
    xor_checksum,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize(
    ("command", "frame"),
    [
        (SamCommand.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
        (SamCommand.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
        (SamCommand.READ_BASE_INFO, "AA AA AA 96 69 00 03 30 01 32"),
        (SamCommand.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
        (SamCommand.RESET_SAM, "AA AA AA 96 69 00 03 10 FF EC"),
        (SamCommand.READ_SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
    ],
)
def test_request_frames_exact_bytes(command: SamCommand, frame: str) -> None:
    assert encode_request(command) == h(frame)


def test_request_with_data_counts_it_in_length_and_checksum() -> None:
    assert encode_request(SamCommand.FIND_CARD, b"\x01\x02") == h("AA AA AA 96 69 00 05 20 01 01 02 27")


def test_response_frames_exact_bytes() -> None:
    assert encode_response(0x9F, bytes(4)) == h("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
    assert encode_response(0x80) == h("AA AA AA 96 69 00 04 00 00 80 84")
    assert encode_response(0x90, bytes(8)) == h("AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C")
    assert encode_response(0x41, sw1=0x6F, sw2=0x00) == h("AA AA AA 96 69 00 04 6F 00 41 2A")


def test_xor_checksum() -> None:
    assert xor_checksum(b"") == 0
    assert xor_checksum(h("00 03 20 01")) == 0x22


def test_decode_good_response() -> None:
    assert decode_response(h("AA AA AA 96 69 00 08 00 00 9F 01 02 03 04 93")) == SamResponse(
        0, 0, 0x9F, h("01 02 03 04")
    )
    assert decode_response(h("AA AA AA 96 69 00 04 00 00 90 94")) == SamResponse(0, 0, 0x90, b"")


@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        ("AA AA AA 96 68 00 04 00 00 90 94", ProtocolError, "bad frame header"),
        ("55 AA AA 96 69 00 04 00 00 90 94", ProtocolError, "bad frame header"),
        ("AA AA AA 96 69 00 04 00 00 90 95", FrameChecksumError, "bad checksum 0x95 .computed 0x94"),
        ("AA AA AA 96 69 00 08 00 00 9F 00 00", FrameLengthError, "short frame"),
        ("AA AA AA 96 69 00", FrameLengthError, "short frame"),
        ("", FrameLengthError, "short frame"),
        ("AA AA AA 96 69 00 04 00 00 90 94 00", FrameLengthError, "overlong frame"),
        ("AA AA AA 96 69 00 00", FrameLengthError, "implausible frame length 0"),
        ("AA AA AA 96 69 FF FF 00", FrameLengthError, "implausible frame length 65535"),
        ("AA AA AA 96 69 00 03 00 90 93", FrameLengthError, "below the minimum"),
    ],
)
def test_malformed_responses_are_protocol_errors(frame: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        decode_response(h(frame))
    assert isinstance(info.value, ProtocolError)


def test_frame_length_of_a_header() -> None:
    assert frame_length(h("AA AA AA 96 69 05 08")) == 0x0508


def test_decode_request_for_the_simulator() -> None:
    request = decode_request(h("AA AA AA 96 69 00 03 30 01 32"))
    assert (request.command, request.data) == (h("30 01"), b"")
    with pytest.raises(FrameChecksumError):
        decode_request(h("AA AA AA 96 69 00 03 30 01 33"))


@given(st.sampled_from(list(SamCommand)), st.binary(max_size=64))
def test_request_round_trip(command: SamCommand, data: bytes) -> None:
    request = decode_request(encode_request(command, data))
    assert (request.command, request.data) == (command.value, data)


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.binary(max_size=2000))
def test_response_round_trip(sw1: int, sw2: int, sw3: int, data: bytes) -> None:
    assert decode_response(encode_response(sw3, data, sw1=sw1, sw2=sw2)) == SamResponse(sw1, sw2, sw3, data)


@given(st.binary(min_size=1, max_size=40), st.integers(0, 10_000))
def test_any_single_bit_flip_in_a_frame_is_caught(data: bytes, position: int) -> None:
    frame = bytearray(encode_response(0x90, data))
    index = position % len(frame)
    frame[index] ^= 0x01
    with pytest.raises(ProtocolError):
        decode_response(bytes(frame))


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (0x10, SamFrameRejected, "checksum"),
        (0x11, SamFrameRejected, "length"),
        (0x21, SamFrameRejected, "command"),
        (0x23, SamStatusError, "not permitted"),
        (0x24, SamStatusError, "unknown error"),
        (0x31, SamCardStatusError, "card failed to authenticate the reader"),
        (0x32, SamCardStatusError, "reader failed to authenticate the card"),
        (0x33, SamCardStatusError, "verification"),
        (0x40, SamCardStatusError, "unrecognised card type"),
        (0x41, SamCardStatusError, "reading the card failed"),
        (0x47, SamCardStatusError, "random number"),
        (0x60, SamStatusError, "self-test"),
        (0x66, SamStatusError, "not authorised"),
        (0x80, SamCardStatusError, "no card found"),
        (0x81, SamCardStatusError, "could not be selected"),
        (0x91, SamCardStatusError, "no content"),
        (0x5A, SamStatusError, "undocumented status 0x5A"),
    ],
)
def test_every_status_maps_to_a_clear_error(status: int, kind: type[SamStatusError], words: str) -> None:
    error = status_error(status, command=SamCommand.READ_BASE_INFO)
    assert type(error) is kind
    assert error.status == status
    assert words in str(error) and words in status_message(status)
    assert str(error).startswith(f"SAM status 0x{status:02X} after read_base_info: ")
    assert isinstance(error, PeripheralError)
    assert isinstance(error, CardError) == (kind is SamCardStatusError)
    assert isinstance(error, ProtocolError) == (kind is SamFrameRejected)


def test_check_status_accepts_only_the_commands_success_byte() -> None:
    found = SamResponse(0, 0, 0x9F, bytes(4))
    assert check_status(found, SamCommand.FIND_CARD) is found
    assert check_status(SamResponse(0, 0, 0x90, b""), SamCommand.SELECT_CARD).sw3 == 0x90
    with pytest.raises(ProtocolError, match="unexpected status 0x90 after find_card"):
        check_status(SamResponse(0, 0, 0x90, b""), SamCommand.FIND_CARD)
    with pytest.raises(ProtocolError, match="unexpected status 0x9F after read_base_info"):
        check_status(found, SamCommand.READ_BASE_INFO)
    with pytest.raises(SamCardStatusError, match=r"0x41 .* \(card SW 6F 00\)") as info:
        check_status(SamResponse(0x6F, 0x00, 0x41, b""), SamCommand.READ_BASE_INFO)
    assert (info.value.sw1, info.value.sw2, info.value.command) == (0x6F, 0x00, "read_base_info")
