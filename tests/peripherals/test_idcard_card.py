"""IdCard and CardUid values: the ethnic-group table, GB 11643 check characters, privacy masks."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peripherals.idcard import CardUid, IdCard, demo_card, gb11643_check_char, mask_id_number, mask_name
from peripherals.idcard.card import NATIONS, nation_code, nation_name


def test_nation_table_has_the_56_groups_in_gb3304_order() -> None:
    assert len(NATIONS) == 56
    assert list(NATIONS) == [f"{n:02d}" for n in range(1, 57)]
    assert len(set(NATIONS.values())) == 56
    assert (NATIONS["01"], NATIONS["02"], NATIONS["03"], NATIONS["05"]) == ("汉", "蒙古", "回", "维吾尔")
    assert (NATIONS["08"], NATIONS["10"], NATIONS["11"], NATIONS["29"]) == ("壮", "朝鲜", "满", "柯尔克孜")
    assert (NATIONS["44"], NATIONS["55"], NATIONS["56"]) == ("俄罗斯", "珞巴", "基诺")


def test_nation_lookups_both_ways_and_unknown_codes() -> None:
    assert nation_name("01") == "汉"
    assert nation_name("98") == "外国血统中国籍人士"
    assert nation_code("基诺") == "56"
    with pytest.raises(ValueError, match="unknown ethnic-group code"):
        nation_name("57")
    with pytest.raises(ValueError, match="unknown ethnic group"):
        nation_code("火星")


def test_check_character_of_published_examples() -> None:
    # The example of GB 11643-1999 itself, and one ending in a digit.
    assert gb11643_check_char("11010519491231002") == "X"
    assert gb11643_check_char("44052418800101001") == "4"
    demo = demo_card()
    assert gb11643_check_char(demo.id_number[:17]) == demo.id_number[17]


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_character_satisfies_mod_11_2(first17: str) -> None:
    number = first17 + gb11643_check_char(first17)
    weights = [pow(2, 17 - i, 11) for i in range(18)]
    values = [10 if c == "X" else int(c) for c in number]
    assert sum(v * w for v, w in zip(values, weights, strict=True)) % 11 == 1


def test_check_character_rejects_bad_input() -> None:
    for bad in ("1234", "1101051949123100X", "１１０１０５１９４９１２３１００２"):
        with pytest.raises(ValueError):
            gb11643_check_char(bad)


def test_masks() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("王") == "*"
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_id_number("1234") == "****"


def test_repr_never_shows_name_id_number_address_or_birthday() -> None:
    card = demo_card()
    text = repr(card)
    assert card.name not in text and card.id_number not in text and card.address not in text
    assert "1990-03-07" not in text and "19900307" not in text
    assert "李**" in text and "371***********" in text and "photo=<1024 bytes>" in text
    assert str(card) == text
    assert "长期" in repr(dataclasses.replace(card, valid_to=None))


def test_idcard_is_frozen_and_validates() -> None:
    card = demo_card()
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.name = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="sex"):
        dataclasses.replace(card, sex="M")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1024"):
        dataclasses.replace(card, photo=b"\x00" * 10)
    assert dataclasses.replace(card, valid_to=None).valid_to is None
    assert card == dataclasses.replace(card)
    assert card.birth_date == date(1990, 3, 7)


def test_card_uid() -> None:
    uid = CardUid(uid=bytes.fromhex("04a1b2c3"), reader="R 00 00")
    assert uid.hex == "04A1B2C3"
    assert uid == CardUid(b"\x04\xa1\xb2\xc3", "R 00 00")
    assert isinstance(demo_card(), IdCard)
