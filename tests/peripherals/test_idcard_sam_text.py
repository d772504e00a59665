"""The 256-byte UCS-2LE text block and the read-base-information payload, decoded from hand-built bytes."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peripherals.errors import CardError, ProtocolError
from peripherals.idcard import IdCard, demo_card
from peripherals.idcard.sam_text import decode_base_info, decode_text, encode_base_info, encode_text

PHOTO = bytes((i * 7) % 256 for i in range(1024))
SPACE = b"\x20\x00"


def field(text: str, size: int) -> bytes:
    """A field as a card stores it: UCS-2LE, padded with spaces to its size."""
    raw = text.encode("utf-16-le")
    assert len(raw) <= size
    return raw + SPACE * ((size - len(raw)) // 2)


def block(*, sex: bytes = b"\x32\x00", nation: bytes = b"\x30\x00\x33\x00", valid_to: str = "长期") -> bytes:
    """A female 回 citizen's text block, byte range by byte range."""
    data = (
        field("马丽", 30)  # name 0–30
        + sex  # sex 30–32: "2" = 女
        + nation  # nation 32–36: "03" = 回
        + field("19491231", 16)  # birth date 36–52
        + field("北京市东城区东华门街道100号", 70)  # address 52–122
        + field("11010519491231002X", 36)  # ID number 122–158
        + field("北京市公安局东城分局", 30)  # authority 158–188
        + field("20100517", 16)  # valid from 188–204
        + field(valid_to, 16)  # valid to 204–220
        + SPACE * 18  # reserved 220–256
    )
    assert len(data) == 256
    return data


def test_decoder_on_a_hand_built_block_with_no_end_date() -> None:
    card = decode_text(block(), PHOTO)
    assert card == IdCard(
        name="马丽",
        sex="女",
        nation="回",
        birth_date=date(1949, 12, 31),
        address="北京市东城区东华门街道100号",
        id_number="11010519491231002X",
        authority="北京市公安局东城分局",
        valid_from=date(2010, 5, 17),
        valid_to=None,
        photo=PHOTO,
    )


def test_decoder_with_an_end_date_male_and_han() -> None:
    card = decode_text(block(sex=b"1\x00", nation=b"0\x001\x00", valid_to="20300517"), PHOTO)
    assert (card.sex, card.nation, card.valid_to) == ("男", "汉", date(2030, 5, 17))


def test_zero_padding_is_trimmed_like_spaces() -> None:
    data = bytearray(block())
    data[4:30] = bytes(26)  # name "马丽" followed by NULs instead of spaces
    assert decode_text(bytes(data), PHOTO).name == "马丽"


def test_photo_is_kept_raw() -> None:
    photo = bytes(range(256))[::-1] * 4
    assert decode_text(block(), photo).photo == photo


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (block()[:255], "text block of 255 bytes"),
        (block(sex=b"9\x00"), "unknown sex code '9'"),
        (block(nation=b"5\x007\x00"), "unknown ethnic-group code '57'"),
        (block(valid_to="20301332"), "valid_to field is not a valid date"),
        (block(valid_to="2030"), "valid_to field is not a YYYYMMDD date"),
        (block()[:36] + b"\x00\xd8" + block()[38:], "birth_date field is not UCS-2 text"),
    ],
)
def test_bad_blocks_are_protocol_errors(data: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        decode_text(data, PHOTO)


def test_wrong_photo_size_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="photo of 1023 bytes"):
        decode_text(block(), PHOTO[:-1])


def test_an_unknown_card_type_is_refused() -> None:
    data = block()[:248] + "Z".encode("utf-16-le") + block()[250:]
    with pytest.raises(CardError, match="unknown card type 'Z'"):
        decode_text(data, PHOTO)


def test_encode_text_is_the_hand_built_layout() -> None:
    card = decode_text(block(), PHOTO)
    assert encode_text(card) == block()


def test_encode_rejects_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="name is longer than its 15 characters"):
        encode_text(dataclasses.replace(demo_card(), name="名" * 16))


def test_base_info_payload() -> None:
    payload = encode_base_info(demo_card())
    assert payload[:4] == bytes.fromhex("01 00 04 00")
    assert len(payload) == 4 + 256 + 1024
    assert payload[-1024:] == demo_card().photo
    assert decode_base_info(payload) == demo_card()


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"\x01\x00", "no length fields"),
        (bytes.fromhex("01 00 03 FF") + bytes(256 + 1023), "announces 256 text and 1023 photo bytes"),
        (bytes.fromhex("01 00 04 00") + bytes(100), "base information of 104 bytes, expected 1284"),
    ],
)
def test_bad_base_info_payloads(payload: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        decode_base_info(payload)


_text = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=15)


@given(
    name=_text,
    address=st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=35),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    nation=st.integers(1, 56),
    valid_to=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)
def test_round_trip(name: str, address: str, birth: date, nation: int, valid_to: date | None) -> None:
    from peripherals.idcard.card import NATIONS

    card = dataclasses.replace(
        demo_card(), name=name, address=address, birth_date=birth, nation=NATIONS[f"{nation:02d}"], valid_to=valid_to
    )
    assert decode_base_info(encode_base_info(card)) == card
