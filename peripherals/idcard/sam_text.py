"""The 256-byte text block of the cards a SAM reader reads, and the read-base-information payload: pure decode
and encode.

A SAM reader (GA 467 protocol) reads four kinds of card; the text is UCS-2 little-endian in fixed byte
ranges, padded with spaces (`20 00`), and bytes 248–250 tell the kind ("card type", 证件类型标识):

Resident ID card (居民身份证, GA 450; bytes 248–250 blank)::

    name 0–30 · sex 30–32 · nation 32–36 · birth date 36–52 · address 52–122 · ID number 122–158 ·
    issuing authority 158–188 · valid from 188–204 · valid to 204–220 · reserved 220–256

Hong Kong/Macao/Taiwan residents' residence permit (港澳台居民居住证, "J"), after 公安部《港澳台居民居住证
机读信息规范（试行版）》 (2018)::

    name 0–30 · sex 30–32 · reserved 32–36 · birth date 36–52 · address 52–122 · ID number 122–158 ·
    issuing authority 158–188 · valid from 188–204 · valid to 204–220 · pass number 220–238 (通行证号码) ·
    issue count 238–242 (签发次数) · reserved 242–248 · "J" 248–250 · reserved 250–256

Foreigner's permanent residence ID card, 2017 edition (外国人永久居留身份证, "I"), after 公安部《外国人永久
居留身份证机读信息》 data-item table (2017)::

    English name 0–120 · sex 120–122 · number 122–152 (15 characters) · nationality 152–158 (GB/T 2659
    alpha-3) · Chinese name 158–188 · valid from 188–204 · valid to 204–220 · birth date 220–236 ·
    card version 236–240 · code of the office that took the application 240–248 · "I" 248–250 ·
    reserved 250–256

Foreigner's permanent residence ID card, 2023 edition ("五星卡", "Y"), after 国家移民管理局《新版外国人
永久居留身份证机读信息规则》 (2023), laid out like the resident card::

    Chinese name 0–30 · sex 30–32 · renewal count 32–36 (换证次数) · birth date 36–52 · English name
    52–122 · number 122–158 (18 digits starting with 9) · issuing authority 158–188 · valid from 188–204 ·
    valid to 204–220 · English name continued 220–242 · nationality 242–248 · "Y" 248–250 · link to the
    earlier edition's number 250–256

Sex is GB/T 2261.1's code ("1" 男, "2" 女), nation GB 3304's two digits, dates `YYYYMMDD`, and a resident
card valid without end has "长期" as its end date. The payload of a successful read (30 01) is the text
length and the photo length (2 bytes big-endian each: `01 00 04 00`), then the text and the photo; all
four kinds carry a 1024-byte `.wlt` photo.

Hardware notes:
- Rare characters (生僻字) outside the common set are stored as private-use code points that only the
  Ministry's font draws; they pass through unchanged.
- Some readers pad with `00 00` instead of spaces; both are trimmed.
- The byte tests (tests/peripherals/test_idcard_sam_text.py, test_idcard_foreign.py) are built from these
  tables by hand, not captured from real cards.
"""

from __future__ import annotations

from datetime import date
from typing import Final

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
"""Byte ranges of each field in a resident ID card's text block."""

PERMIT_FIELDS: Final[dict[str, tuple[int, int]]] = {
    "name": (0, 30),
    "sex": (30, 32),
    "birth_date": (36, 52),
    "address": (52, 122),
    "id_number": (122, 158),
    "authority": (158, 188),
    "valid_from": (188, 204),
    "valid_to": (204, 220),
    "pass_number": (220, 238),
    "issue_count": (238, 242),
}
"""Byte ranges in a Hong Kong/Macao/Taiwan residence permit's text block (card type "J")."""

PR2017_FIELDS: Final[dict[str, tuple[int, int]]] = {
    "name_en": (0, 120),
    "sex": (120, 122),
    "id_number": (122, 152),
    "nationality": (152, 158),
    "name": (158, 188),
    "valid_from": (188, 204),
    "valid_to": (204, 220),
    "birth_date": (220, 236),
    "edition": (236, 240),
    "authority": (240, 248),
}
"""Byte ranges in a 2017-edition permanent residence card's text block (card type "I")."""

PR2023_FIELDS: Final[dict[str, tuple[int, int]]] = {
    "name": (0, 30),
    "sex": (30, 32),
    "issue_count": (32, 36),
    "birth_date": (36, 52),
    "name_en": (52, 122),
    "id_number": (122, 158),
    "authority": (158, 188),
    "valid_from": (188, 204),
    "valid_to": (204, 220),
    "name_en_more": (220, 242),
    "nationality": (242, 248),
}
"""Byte ranges in a 2023-edition permanent residence card's text block (card type "Y")."""

CARD_TYPE_RANGE = (248, 250)
CARD_TYPE_PERMIT = "J"
CARD_TYPE_PR2017 = "I"
CARD_TYPE_PR2023 = "Y"
NO_END = "长期"
_SEX_CODES: dict[str, Sex] = {"1": "男", "2": "女"}
_PADDING = " \x00"


def _raw(block: bytes, name: str, span: tuple[int, int]) -> str:
    """One field's text, padding kept."""
    start, end = span
    try:
        return block[start:end].decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"the {name} field is not UCS-2 text") from exc


def _text(block: bytes, name: str, layout: dict[str, tuple[int, int]] = FIELDS) -> str:
    """One field's text with its padding trimmed."""
    return _raw(block, name, layout[name]).rstrip(_PADDING)


def _field(block: bytes, name: str) -> str:
    """One field of a resident card's block, trimmed."""
    return _text(block, name)


def _parse_date(text: str, name: str) -> date:
    """A `YYYYMMDD` text as a date."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise ProtocolError(f"the {name} field is not a YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise ProtocolError(f"the {name} field is not a valid date") from exc


def _date(block: bytes, name: str, layout: dict[str, tuple[int, int]] = FIELDS) -> date:
    """A `YYYYMMDD` field as a date."""
    return _parse_date(_text(block, name, layout), name)


def _sex(block: bytes, layout: dict[str, tuple[int, int]]) -> Sex:
    code = _text(block, "sex", layout)
    sex = _SEX_CODES.get(code)
    if sex is None:
        raise ProtocolError(f"unknown sex code {code!r}")
    return sex


def _count(block: bytes, layout: dict[str, tuple[int, int]]) -> int | None:
    """A 签发次数/换证次数 field as a number; None when blank."""
    text = _text(block, "issue_count", layout)
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise ProtocolError("the issue_count field is not a number")
    return int(text)


def card_type(block: bytes) -> str:
    """The card-type letter at bytes 248–250 ("" for a resident ID card, "J", "I" or "Y")."""
    start, end = CARD_TYPE_RANGE
    return _raw(block, "card type", (start, end)).strip(_PADDING)


def decode_text(block: bytes, photo: bytes) -> IdCard:
    """Decode a 256-byte text block (and keep the photo bytes as they are) into an `IdCard` of its kind.

    Raises `ProtocolError` for a block of the wrong size or a field that does not hold what it must, and
    `CardError` for a card type this reader does not know.
    """
    if len(block) != TEXT_SIZE:
        raise ProtocolError(f"text block of {len(block)} bytes, expected {TEXT_SIZE}")
    if len(photo) != PHOTO_SIZE:
        raise ProtocolError(f"photo of {len(photo)} bytes, expected {PHOTO_SIZE}")
    kind = card_type(block)
    if kind == CARD_TYPE_PERMIT:
        return _decode_permit(block, photo)
    if kind == CARD_TYPE_PR2017:
        return _decode_pr2017(block, photo)
    if kind == CARD_TYPE_PR2023:
        return _decode_pr2023(block, photo)
    if kind:
        raise CardError(f"unknown card type {kind!r}")
    sex = _sex(block, FIELDS)
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


def _decode_permit(block: bytes, photo: bytes) -> IdCard:
    f = PERMIT_FIELDS
    return IdCard(
        name=_text(block, "name", f),
        sex=_sex(block, f),
        nation="",
        birth_date=_date(block, "birth_date", f),
        address=_text(block, "address", f),
        id_number=_text(block, "id_number", f),
        authority=_text(block, "authority", f),
        valid_from=_date(block, "valid_from", f),
        valid_to=_date(block, "valid_to", f),
        photo=bytes(photo),
        document="hmt_residence_permit",
        pass_number=_text(block, "pass_number", f),
        issue_count=_count(block, f),
    )


def _decode_pr2017(block: bytes, photo: bytes) -> IdCard:
    f = PR2017_FIELDS
    name_en = _text(block, "name_en", f)
    return IdCard(
        name=_text(block, "name", f) or name_en,
        sex=_sex(block, f),
        nation="",
        birth_date=_date(block, "birth_date", f),
        address="",
        id_number=_text(block, "id_number", f),
        authority=_text(block, "authority", f),
        valid_from=_date(block, "valid_from", f),
        valid_to=_date(block, "valid_to", f),
        photo=bytes(photo),
        document="foreign_permanent_resident",
        name_en=name_en,
        nationality=_text(block, "nationality", f),
        edition="2017",
    )


def _decode_pr2023(block: bytes, photo: bytes) -> IdCard:
    f = PR2023_FIELDS
    # The English name runs on into its continuation field: join them before trimming, so that a space
    # falling on the boundary is kept.
    name_en = (_raw(block, "name_en", f["name_en"]) + _raw(block, "name_en_more", f["name_en_more"])).rstrip(_PADDING)
    return IdCard(
        name=_text(block, "name", f) or name_en,
        sex=_sex(block, f),
        nation="",
        birth_date=_date(block, "birth_date", f),
        address="",
        id_number=_text(block, "id_number", f),
        authority=_text(block, "authority", f),
        valid_from=_date(block, "valid_from", f),
        valid_to=_date(block, "valid_to", f),
        photo=bytes(photo),
        document="foreign_permanent_resident",
        name_en=name_en,
        nationality=_text(block, "nationality", f),
        issue_count=_count(block, f),
        edition="2023",
    )


def _ymd(day: date | None) -> str:
    if day is None:
        raise ValueError("this card needs a date here")
    return day.strftime("%Y%m%d")


def _sex_code(card: IdCard) -> str:
    if card.sex is None:
        raise ValueError("a SAM card always has a sex")
    return "1" if card.sex == "男" else "2"


def _fill(values: dict[str, str], layout: dict[str, tuple[int, int]], kind: str = "") -> bytes:
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    for name, value in values.items():
        start, end = layout[name]
        raw = value.encode("utf-16-le")
        if len(raw) > end - start:
            raise ValueError(f"{name} is longer than its {(end - start) // 2} characters")
        block[start : start + len(raw)] = raw
    if kind:
        block[CARD_TYPE_RANGE[0] : CARD_TYPE_RANGE[1]] = kind.encode("utf-16-le")
    return bytes(block)


def encode_text(card: IdCard) -> bytes:
    """The 256-byte text block a card with these values stores (for the simulator and tests).

    Raises ValueError when a value does not fit its field, or for a passport (which has no chip text).
    """
    count = "" if card.issue_count is None else f"{card.issue_count:02d}"
    if card.document == "hmt_residence_permit":
        values = {
            "name": card.name,
            "sex": _sex_code(card),
            "birth_date": _ymd(card.birth_date),
            "address": card.address,
            "id_number": card.id_number,
            "authority": card.authority,
            "valid_from": _ymd(card.valid_from),
            "valid_to": _ymd(card.valid_to),
            "pass_number": card.pass_number,
            "issue_count": count,
        }
        return _fill(values, PERMIT_FIELDS, CARD_TYPE_PERMIT)
    if card.document == "foreign_permanent_resident" and card.edition == "2017":
        values = {
            "name_en": card.name_en,
            "sex": _sex_code(card),
            "id_number": card.id_number,
            "nationality": card.nationality,
            "name": "" if card.name == card.name_en else card.name,
            "valid_from": _ymd(card.valid_from),
            "valid_to": _ymd(card.valid_to),
            "birth_date": _ymd(card.birth_date),
            "edition": "",
            "authority": card.authority,
        }
        return _fill(values, PR2017_FIELDS, CARD_TYPE_PR2017)
    if card.document == "foreign_permanent_resident":
        first = PR2023_FIELDS["name_en"]
        split = (first[1] - first[0]) // 2
        values = {
            "name": "" if card.name == card.name_en else card.name,
            "sex": _sex_code(card),
            "issue_count": count,
            "birth_date": _ymd(card.birth_date),
            "name_en": card.name_en[:split],
            "id_number": card.id_number,
            "authority": card.authority,
            "valid_from": _ymd(card.valid_from),
            "valid_to": _ymd(card.valid_to),
            "name_en_more": card.name_en[split:],
            "nationality": card.nationality,
        }
        return _fill(values, PR2023_FIELDS, CARD_TYPE_PR2023)
    if card.document != "resident":
        raise ValueError(f"a {card.document} has no SAM text block")
    values = {
        "name": card.name,
        "sex": _sex_code(card),
        "nation": nation_code(card.nation),
        "birth_date": card.birth_date.strftime("%Y%m%d"),
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": _ymd(card.valid_from),
        "valid_to": card.valid_to.strftime("%Y%m%d") if card.valid_to else NO_END,
    }
    return _fill(values, FIELDS)


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
