"""The resident ID card's 256-byte text block and the read-base-information payload: pure decode and encode.

The text is UCS-2 little-endian in fixed byte ranges, padded with spaces (`20 00`):

    name 0–30 · sex 30–32 · nation 32–36 · birth date 36–52 · address 52–122 · ID number 122–158 ·
    issuing authority 158–188 · valid from 188–204 · valid to 204–220 · reserved 220–256

Sex is GB/T 2261.1's code ("1" 男, "2" 女), nation GB 3304's two digits, dates `YYYYMMDD`, and a card
valid without end has "长期" as its end date. The payload of a successful read (30 01) is the text length
and the photo length (2 bytes big-endian each: `01 00 04 00`), then the text and the photo.

Hardware notes:
- Rare characters (生僻字) outside the common set are stored as private-use code points that only the
  Ministry's font draws; they pass through unchanged.
- Some readers pad with `00 00` instead of spaces; both are trimmed.
- A foreign permanent resident card (外国人永久居留身份证) says "I" at bytes 248–250 and lays out its text
  differently; it is rejected rather than decoded into nonsense.
"""

from __future__ import annotations

from datetime import date

from ..errors import CardError, ProtocolError
from .card import PHOTO_SIZE, IdCard, Sex, nation_code, nation_name

TEXT_SIZE = 256

FIELDS: dict[str, tuple[int, int]] = {
    "name": (0, 30),
    "sex": (30, 32),
    "nation": (32, 36),
    "birth_date": (36, 52),
    "address": (52, 122),
    "id_number": (122, 158),
    "authority": (158, 188),
    "valid_from": (188, 204),
    "valid_to": (204, 220),
}
"""Byte ranges of each field in the text block."""

CARD_TYPE_RANGE = (248, 250)
NO_END = "长期"
_SEX_CODES: dict[str, Sex] = {"1": "男", "2": "女"}
_PADDING = " \x00"


def _field(block: bytes, name: str) -> str:
    """One field's text with its padding trimmed."""
    start, end = FIELDS[name]
    try:
        return block[start:end].decode("utf-16-le").rstrip(_PADDING)
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"the {name} field is not UCS-2 text") from exc


def _date(block: bytes, name: str) -> date:
    """A `YYYYMMDD` field as a date."""
    text = _field(block, name)
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise ProtocolError(f"the {name} field is not a YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise ProtocolError(f"the {name} field is not a valid date") from exc


def decode_text(block: bytes, photo: bytes) -> IdCard:
    """Decode a 256-byte text block (and keep the photo bytes as they are) into an `IdCard`.

    Raises `ProtocolError` for a block of the wrong size or a field that does not hold what it must, and
    `CardError` for a card of another kind (foreign permanent resident card).
    """
    if len(block) != TEXT_SIZE:
        raise ProtocolError(f"text block of {len(block)} bytes, expected {TEXT_SIZE}")
    if len(photo) != PHOTO_SIZE:
        raise ProtocolError(f"photo of {len(photo)} bytes, expected {PHOTO_SIZE}")
    start, end = CARD_TYPE_RANGE
    if block[start:end] == "I".encode("utf-16-le"):
        raise CardError("foreign permanent resident ID cards are not supported")
    sex = _SEX_CODES.get(_field(block, "sex"))
    if sex is None:
        raise ProtocolError(f"unknown sex code {_field(block, 'sex')!r}")
    try:
        nation = nation_name(_field(block, "nation"))
    except ValueError as exc:
        raise ProtocolError(str(exc)) from exc
    valid_to = None if _field(block, "valid_to") == NO_END else _date(block, "valid_to")
    return IdCard(
        name=_field(block, "name"),
        sex=sex,
        nation=nation,
        birth_date=_date(block, "birth_date"),
        address=_field(block, "address"),
        id_number=_field(block, "id_number"),
        authority=_field(block, "authority"),
        valid_from=_date(block, "valid_from"),
        valid_to=valid_to,
        photo=bytes(photo),
    )


def encode_text(card: IdCard) -> bytes:
    """The 256-byte text block a card with these values stores (for the simulator and tests).

    Raises ValueError when a value does not fit its field.
    """
    values = {
        "name": card.name,
        "sex": "1" if card.sex == "男" else "2",
        "nation": nation_code(card.nation),
        "birth_date": card.birth_date.strftime("%Y%m%d"),
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_to": card.valid_to.strftime("%Y%m%d") if card.valid_to else NO_END,
    }
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    for name, value in values.items():
        start, end = FIELDS[name]
        raw = value.encode("utf-16-le")
        if len(raw) > end - start:
            raise ValueError(f"{name} is longer than its {(end - start) // 2} characters")
        block[start : start + len(raw)] = raw
    return bytes(block)


def decode_base_info(data: bytes) -> IdCard:
    """Decode the data of a successful read-base-information answer (lengths, text, photo)."""
    if len(data) < 4:
        raise ProtocolError(f"base information of {len(data)} bytes has no length fields")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if (text_len, photo_len) != (TEXT_SIZE, PHOTO_SIZE):
        raise ProtocolError(f"base information announces {text_len} text and {photo_len} photo bytes")
    if len(data) != 4 + text_len + photo_len:
        raise ProtocolError(f"base information of {len(data)} bytes, expected {4 + text_len + photo_len}")
    return decode_text(data[4 : 4 + text_len], data[4 + text_len :])


def encode_base_info(card: IdCard) -> bytes:
    """The data a reader sends after `00 00 90` in answer to read base information."""
    return TEXT_SIZE.to_bytes(2, "big") + PHOTO_SIZE.to_bytes(2, "big") + encode_text(card) + card.photo
