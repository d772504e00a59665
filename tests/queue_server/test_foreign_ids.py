"""Foreigners' permanent residence numbers (2017: 15 characters, ICAO-style check; 2023: 18 digits from 9, GB
11643 check) beside resident and residence-permit numbers, through `validate_identity_number`."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.ids import (
    InvalidIdNumber,
    birth_date,
    check_character,
    icao_check_digit,
    mask_id_number,
    sex,
    validate_id_number,
    validate_identity_number,
    validate_permanent_residence_number,
)

TODAY = date(2026, 12, 6)
PR2017 = "KOR371085031519"  # Korea, Weihai 3710, born 1985-03-15, sequence 1, check 9
PR2023 = "937410198503151210"  # 9, Shandong 37, Korea 410, born 1985-03-15, sequence 121, check 0


def test_both_editions_are_valid_and_canonical() -> None:
    assert validate_permanent_residence_number(PR2017, today=TODAY) == PR2017
    assert validate_permanent_residence_number(" kor 3710 850315 19 ", today=TODAY) == PR2017
    assert validate_permanent_residence_number(PR2023, today=TODAY) == PR2023
    assert validate_identity_number(PR2017, today=TODAY) == PR2017
    assert validate_identity_number(PR2023, today=TODAY) == PR2023
    assert validate_identity_number("11010519491231002x", today=TODAY) == "11010519491231002X"
    assert validate_identity_number("81000019850704123X", today=TODAY) == "81000019850704123X"


def test_the_2023_number_keeps_birth_date_and_sex_where_gb11643_has_them() -> None:
    assert birth_date(PR2023) == date(1985, 3, 15)
    assert sex(PR2023) == "M"
    assert mask_id_number(PR2023) == "9374**********1210"


def test_a_resident_number_check_still_refuses_a_foreign_number() -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(PR2023, today=TODAY)
    assert caught.value.code == "region"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("KOR3710850315", "length"),
        ("KOR37108503151X", "not_digits"),
        ("K0R371085031519", "not_digits"),
        ("KOR371085023119", "birth_date"),  # 31 February
        ("KOR371099123119", "check_digit"),
        ("KOR371085031518", "check_digit"),
        ("837410198503151210", "not_digits"),  # 18 characters not starting with 9
        ("937410198513151210", "birth_date"),
        ("937410202701011210", "birth_date"),  # born after today
        ("937410198503151211", "check_digit"),
    ],
)
def test_bad_numbers_say_why_in_both_languages(value: str, code: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        validate_permanent_residence_number(value, today=TODAY)
    assert caught.value.code == code
    assert "永久居留" in caught.value.message_zh and "permanent residence" in caught.value.message_en
    if value:
        assert value not in str(caught.value)


@given(
    nationality=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    city=st.integers(1100, 6599),
    born=st.dates(date(1920, 1, 1), date(1999, 12, 31)),
    serial=st.integers(0, 9),
)
def test_any_2017_number_with_its_check_digit_is_valid(nationality: str, city: int, born: date, serial: int) -> None:
    first14 = f"{nationality}{city:04d}{born:%y%m%d}{serial}"
    number = first14 + icao_check_digit(first14)
    assert validate_identity_number(number, today=TODAY) == number
    wrong = first14 + str((int(number[-1]) + 1) % 10)
    with pytest.raises(InvalidIdNumber):
        validate_identity_number(wrong, today=TODAY)


@given(
    province=st.integers(11, 65),
    country=st.integers(4, 894),
    born=st.dates(date(1920, 1, 1), date(2026, 12, 6)),
    serial=st.integers(0, 999),
)
def test_any_2023_number_with_its_check_character_is_valid(
    province: int, country: int, born: date, serial: int
) -> None:
    first17 = f"9{province:02d}{country:03d}{born:%Y%m%d}{serial:03d}"
    number = first17 + check_character(first17)
    assert validate_identity_number(number, today=TODAY) == number
    assert birth_date(number) == born
