"""Residence permits (card type "J") and foreigners' permanent residence cards ("I" 2017, "Y" 2023): hand-built
text blocks decoded byte range by byte range, encoded back to the same bytes, and read through the SAM
simulator's real frames (in process and on a pseudo-terminal)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from peripherals.errors import ProtocolError
from peripherals.idcard import IdCard, demo_card, demo_foreign_card, demo_permit_card, open_id_reader
from peripherals.idcard.sam_reader import SamReader
from peripherals.idcard.sam_simulator import PtySamSimulator, SamSimulator
from peripherals.idcard.sam_text import card_type, decode_base_info, decode_text, encode_base_info, encode_text
from queue_server.ids import validate_identity_number

PHOTO = bytes((i * 11) % 256 for i in range(1024))
SPACE = b"\x20\x00"
TODAY = date(2026, 12, 6)


def field(text: str, size: int) -> bytes:
    """A field as a card stores it: UCS-2LE, padded with spaces to its size."""
    raw = text.encode("utf-16-le")
    assert len(raw) <= size
    return raw + SPACE * ((size - len(raw)) // 2)


def permit_block() -> bytes:
    """A Macao resident's residence permit, byte range by byte range."""
    data = (
        field("何嘉怡", 30)  # name 0–30
        + b"2\x00"  # sex 30–32: "2" = 女
        + SPACE * 2  # reserved 32–36 (no ethnic group)
        + field("19920218", 16)  # birth date 36–52
        + field("广东省珠海市香洲区情侣中路1号", 70)  # address 52–122
        + field("820000199202180024", 36)  # ID number 122–158 (820000: Macao)
        + field("珠海市公安局", 30)  # issuing authority 158–188
        + field("20230901", 16)  # valid from 188–204
        + field("20280901", 16)  # valid to 204–220
        + field("M12345678", 18)  # pass number 220–238 (回乡证)
        + field("03", 4)  # issue count 238–242
        + SPACE * 3  # reserved 242–248
        + b"J\x00"  # card type 248–250
        + SPACE * 3  # reserved 250–256
    )
    assert len(data) == 256
    return data


def pr2017_block(chinese_name: str = "金民秀") -> bytes:
    """A 2017-edition permanent residence card, byte range by byte range."""
    data = (
        field("KIM MINSU", 120)  # English name 0–120
        + b"1\x00"  # sex 120–122: "1" = 男
        + field("KOR371085031519", 30)  # number 122–152
        + field("KOR", 6)  # nationality 152–158
        + field(chinese_name, 30)  # Chinese name 158–188
        + field("20240110", 16)  # valid from 188–204
        + field("20340110", 16)  # valid to 204–220
        + field("19850315", 16)  # birth date 220–236
        + field("", 4)  # card version 236–240
        + field("3710", 8)  # office that took the application 240–248
        + b"I\x00"  # card type 248–250
        + SPACE * 3  # reserved 250–256
    )
    assert len(data) == 256
    return data


def pr2023_block(english_name: str = "KIM MINSU") -> bytes:
    """A 2023-edition permanent residence card, byte range by byte range (English name split at 35)."""
    data = (
        field("金民秀", 30)  # Chinese name 0–30
        + b"1\x00"  # sex 30–32
        + field("00", 4)  # renewal count 32–36
        + field("19850315", 16)  # birth date 36–52
        + field(english_name[:35], 70)  # English name 52–122
        + field("937410198503151210", 36)  # number 122–158
        + field("中华人民共和国国家移民管理局", 30)  # issuing authority 158–188
        + field("20240110", 16)  # valid from 188–204
        + field("20340110", 16)  # valid to 204–220
        + field(english_name[35:], 22)  # English name continued 220–242
        + field("KOR", 6)  # nationality 242–248
        + b"Y\x00"  # card type 248–250
        + SPACE * 3  # link to the earlier number 250–256
    )
    assert len(data) == 256
    return data


def test_residence_permit_decodes_into_the_card_model() -> None:
    card = decode_text(permit_block(), PHOTO)
    assert card == IdCard(
        name="何嘉怡",
        sex="女",
        nation="",
        birth_date=date(1992, 2, 18),
        address="广东省珠海市香洲区情侣中路1号",
        id_number="820000199202180024",
        authority="珠海市公安局",
        valid_from=date(2023, 9, 1),
        valid_to=date(2028, 9, 1),
        photo=PHOTO,
        document="hmt_residence_permit",
        pass_number="M12345678",
        issue_count=3,
    )
    assert card_type(permit_block()) == "J"
    assert validate_identity_number(card.id_number, today=TODAY) == card.id_number
    assert encode_text(card) == permit_block()


def test_2017_permanent_residence_card_decodes_into_the_card_model() -> None:
    card = decode_text(pr2017_block(), PHOTO)
    assert card == IdCard(
        name="金民秀",
        sex="男",
        nation="",
        birth_date=date(1985, 3, 15),
        address="",
        id_number="KOR371085031519",
        authority="3710",
        valid_from=date(2024, 1, 10),
        valid_to=date(2034, 1, 10),
        photo=PHOTO,
        document="foreign_permanent_resident",
        name_en="KIM MINSU",
        nationality="KOR",
        edition="2017",
    )
    assert card.foreign
    assert card == dataclasses.replace(demo_foreign_card("2017"), photo=PHOTO)
    assert encode_text(card) == pr2017_block()
    assert validate_identity_number(card.id_number, today=TODAY) == "KOR371085031519"


def test_a_foreigner_without_a_chinese_name_is_named_in_english() -> None:
    card = decode_text(pr2017_block(chinese_name=""), PHOTO)
    assert (card.name, card.name_en) == ("KIM MINSU", "KIM MINSU")
    assert encode_text(card) == pr2017_block(chinese_name="")


def test_2023_permanent_residence_card_decodes_into_the_card_model() -> None:
    card = decode_text(pr2023_block(), PHOTO)
    assert card == dataclasses.replace(demo_foreign_card("2023"), photo=PHOTO)
    assert (card.name, card.name_en, card.nationality, card.edition) == ("金民秀", "KIM MINSU", "KOR", "2023")
    assert card.id_number == "937410198503151210" and card.issue_count == 0
    assert encode_text(card) == pr2023_block()
    assert validate_identity_number(card.id_number, today=TODAY) == card.id_number


def test_2023_english_name_runs_on_into_its_continuation_field() -> None:
    long_name = "WOLFESCHLEGELSTEINHAUSEN BARTHOLOMEW ALEXANDER"  # 46 characters, a space at 36
    assert len(long_name) == 46
    card = decode_text(pr2023_block(long_name), PHOTO)
    assert card.name_en == long_name
    assert encode_text(card) == pr2023_block(long_name)
    long_name = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHI JONES"  # the space falls on the boundary (index 35)
    assert decode_text(pr2023_block(long_name), PHOTO).name_en == long_name


def test_bad_foreign_blocks_are_protocol_errors() -> None:
    data = bytearray(pr2017_block())
    data[120:122] = b"9\x00"
    with pytest.raises(ProtocolError, match="unknown sex code '9'"):
        decode_text(bytes(data), PHOTO)
    data = bytearray(pr2023_block())
    data[204:220] = field("长期", 16)  # only a resident card may be valid without end
    with pytest.raises(ProtocolError, match="valid_to field is not a YYYYMMDD date"):
        decode_text(bytes(data), PHOTO)
    data = bytearray(permit_block())
    data[238:242] = field("x", 4)
    with pytest.raises(ProtocolError, match="issue_count field is not a number"):
        decode_text(bytes(data), PHOTO)


@pytest.mark.parametrize("card", [demo_permit_card(), demo_foreign_card("2017"), demo_foreign_card("2023")])
def test_base_info_round_trip(card: IdCard) -> None:
    assert decode_base_info(encode_base_info(card)) == card
    assert validate_identity_number(card.id_number, today=TODAY) == card.id_number


def test_repr_masks_the_foreign_names_and_numbers() -> None:
    text = repr(demo_foreign_card("2023"))
    for secret in ("金民秀", "KIM MINSU", "937410198503151210", "19850315"):
        assert secret not in text
    assert "document='foreign_permanent_resident'" in text and "nationality='KOR'" in text
    assert "H12345678" not in repr(demo_permit_card())


@pytest.mark.parametrize(
    ("name", "card"),
    [
        ("permit", demo_permit_card()),
        ("foreign2017", demo_foreign_card("2017")),
        ("foreign2023", demo_foreign_card("2023")),
    ],
)
def test_sim_reader_reads_each_foreign_card(name: str, card: IdCard) -> None:
    with open_id_reader(f"sim://?card={name}") as reader:
        assert reader.read(timeout=3) == card


def test_a_foreign_card_over_a_pseudo_terminal_then_a_resident_card() -> None:
    simulator = SamSimulator(demo_foreign_card("2023"))
    with PtySamSimulator(simulator) as pty:
        reader = open_id_reader(pty.url)
        assert isinstance(reader, SamReader)
        try:
            assert reader.read(timeout=5) == demo_foreign_card("2023")
            simulator.card = demo_card()
            assert reader.read(timeout=5) == demo_card()
        finally:
            reader.close()
