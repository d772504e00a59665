"""Tests for queue_server.ids: resident ID numbers, mobile numbers and masking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.ids import (
    InvalidIdNumber,
    InvalidPhone,
    age_on,
    birth_date,
    check_character,
    make_id_number,
    mask_id_number,
    mask_name,
    mask_phone,
    sex,
    validate_id_number,
    validate_phone,
)

TODAY = date(2025, 6, 1)
PROVINCES = [
    *range(11, 16),
    *range(21, 24),
    *range(31, 38),
    *range(41, 47),
    *range(50, 55),
    *range(61, 66),
    71,
    81,
    82,
    83,
]

regions = st.builds(
    lambda province, rest: f"{province:02d}{rest:04d}",
    st.sampled_from(PROVINCES),
    st.integers(0, 9999),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
serials = st.integers(0, 999)
valid_ids = st.builds(make_id_number, regions, births, serials)


def error_code(value: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidIdNumber) as info:
        validate_id_number(value, today=today)
    return info.value.code


# --- known numbers -------------------------------------------------------------------------------


def test_published_example_with_x_check_character() -> None:
    # GB 11643-1999 example: Beijing Chaoyang, born 1949-12-31, female.
    assert check_character("11010519491231002") == "X"
    assert validate_id_number("11010519491231002X", today=TODAY) == "11010519491231002X"
    assert validate_id_number("11010519491231002x", today=TODAY) == "11010519491231002X"
    assert birth_date("11010519491231002X") == date(1949, 12, 31)
    assert sex("11010519491231002X") == "F"


def test_published_example_1880_has_right_check_digit_but_is_before_1900() -> None:
    # GB 11643-1999 example: Guangdong, born 1880-01-01, male. Its check digit is right, but this
    # validator only accepts births from 1900-01-01 on.
    assert check_character("44052418800101001") == "4"
    assert error_code("440524188001010014") == "birth_date"


def test_make_id_number_default_is_valid() -> None:
    number = make_id_number()
    assert number.startswith("371002199001011")
    assert validate_id_number(number, today=TODAY) == number
    assert sex(number) == "M"  # serial 123: 17th digit 3 is odd


def test_make_id_number_fields() -> None:
    number = make_id_number("110105", date(2000, 2, 29), 42)
    assert number[:17] == "11010520000229042"
    assert birth_date(number) == date(2000, 2, 29)
    assert sex(number) == "F"


def test_make_id_number_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_id_number("3710", date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_id_number("371002", date(1990, 1, 1), 1000)
    with pytest.raises(ValueError):
        make_id_number("371002", date(1990, 1, 1), -1)


def test_normalisation_strips_spaces_and_full_width() -> None:
    number = make_id_number("110105", date(1949, 12, 31), 2)
    assert number == "11010519491231002X"
    assert validate_id_number(" 110105 19491231 002x ", today=TODAY) == number
    assert validate_id_number("１１０１０５１９４９１２３１００２ｘ", today=TODAY) == number
    assert validate_id_number("110105\u300019491231002X", today=TODAY) == number


@pytest.mark.parametrize("province", PROVINCES)
def test_every_province_code_accepted(province: int) -> None:
    number = make_id_number(f"{province:02d}0101", date(1980, 5, 5), 7)
    assert validate_id_number(number, today=TODAY) == number


# --- each failure kind ---------------------------------------------------------------------------


def test_empty() -> None:
    assert error_code("") == "empty"
    assert error_code("   ") == "empty"


@pytest.mark.parametrize("value", ["1", "37100219900101123", "3710021990010112345", "371002900101123"])
def test_wrong_length(value: str) -> None:
    assert error_code(value) == "length"


@pytest.mark.parametrize(
    "value",
    [
        "37100219900101A23X",
        "X71002199001011234",
        "3710021990010112Y4",
        "37100219900101123Y",
        "3710021990-1011234",
    ],
)
def test_not_digits(value: str) -> None:
    assert error_code(value) == "not_digits"


def test_x_only_allowed_last() -> None:
    assert error_code("3710021990010112X4") == "not_digits"


def test_non_ascii_digits_rejected() -> None:
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in "37100219900101123")
    assert error_code(arabic_indic + "4") == "not_digits"


@pytest.mark.parametrize("region", ["000000", "100101", "160101", "240101", "390101", "470101", "720101", "840101"])
def test_unknown_region(region: str) -> None:
    assert error_code(make_id_number(region, date(1990, 1, 1), 1)) == "region"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900000", "19000229", "20230229", "19891232"])
def test_impossible_birth_date(birth: str) -> None:
    first17 = f"371002{birth}123"
    assert error_code(first17 + check_character(first17)) == "birth_date"


def test_birth_date_after_today() -> None:
    number = make_id_number(birth=TODAY + timedelta(days=1))
    assert error_code(number) == "birth_date"
    born_today = make_id_number(birth=TODAY)
    assert validate_id_number(born_today, today=TODAY) == born_today


def test_birth_date_before_1900() -> None:
    assert error_code(make_id_number(birth=date(1899, 12, 31))) == "birth_date"
    assert validate_id_number(make_id_number(birth=date(1900, 1, 1)), today=TODAY)


def test_default_today_rejects_future() -> None:
    future = make_id_number(birth=date.today() + timedelta(days=1))
    with pytest.raises(InvalidIdNumber):
        validate_id_number(future)


def test_wrong_check_digit() -> None:
    assert error_code("110105194912310021") == "check_digit"


def test_messages_are_bilingual_and_never_contain_the_number() -> None:
    cases = [
        "",
        "12345",
        "37100219900101A23X",
        make_id_number("000000", date(1990, 1, 1), 1),
        make_id_number(birth=date(1899, 1, 1)),
        "110105194912310021",
    ]
    seen = set()
    for value in cases:
        with pytest.raises(InvalidIdNumber) as info:
            validate_id_number(value, today=TODAY)
        exc = info.value
        assert isinstance(exc, ValueError)
        assert str(exc) == f"{exc.message_zh} / {exc.message_en}"
        assert exc.message_zh
        assert exc.message_en.isascii()
        if len(value) > 5:
            assert value not in str(exc)
            assert value[:6] not in str(exc)
        seen.add(exc.code)
    assert seen == {"empty", "length", "not_digits", "region", "birth_date", "check_digit"}


def test_check_digit_message_wording() -> None:
    with pytest.raises(InvalidIdNumber, match="校验位") as info:
        validate_id_number("110105194912310021", today=TODAY)
    assert "check digit" in info.value.message_en


def test_exception_pickles() -> None:
    import pickle

    with pytest.raises(InvalidIdNumber) as info:
        validate_id_number("1", today=TODAY)
    clone = pickle.loads(pickle.dumps(info.value))
    assert str(clone) == str(info.value)
    assert clone.code == "length"


# --- derived facts -------------------------------------------------------------------------------


def test_sex_from_17th_digit() -> None:
    for serial in range(10):
        expected = "M" if serial % 2 else "F"
        assert sex(make_id_number(serial=serial)) == expected


def test_derived_facts_reject_invalid_numbers() -> None:
    with pytest.raises(InvalidIdNumber):
        birth_date("110105194912310021")
    with pytest.raises(InvalidIdNumber):
        sex("123")
    with pytest.raises(InvalidIdNumber):
        age_on("", TODAY)


def test_age_on() -> None:
    number = make_id_number(birth=date(1990, 6, 15))
    assert age_on(number, date(1990, 6, 15)) == 0
    assert age_on(number, date(2008, 6, 14)) == 17
    assert age_on(number, date(2008, 6, 15)) == 18
    assert age_on(number, date(2025, 12, 31)) == 35
    with pytest.raises(ValueError):
        age_on(number, date(1990, 6, 14))


def test_age_on_leap_day_birthday() -> None:
    number = make_id_number(birth=date(2000, 2, 29))
    assert age_on(number, date(2001, 2, 28)) == 0
    assert age_on(number, date(2001, 3, 1)) == 1
    assert age_on(number, date(2018, 2, 28)) == 17
    assert age_on(number, date(2018, 3, 1)) == 18
    assert age_on(number, date(2004, 2, 28)) == 3
    assert age_on(number, date(2004, 2, 29)) == 4


# --- masking -------------------------------------------------------------------------------------


def test_mask_id_number() -> None:
    assert mask_id_number("37100219900101123X") == "3710**********123X"
    assert mask_id_number("371002 19900101 123x") == "3710**********123X"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ""), ("1", "*"), ("12", "**"), ("123", "*23"), ("371002900101123", "*************23")],
)
def test_mask_id_number_odd_inputs(value: str, expected: str) -> None:
    assert mask_id_number(value) == expected


def test_mask_id_number_never_raises_on_non_strings() -> None:
    assert mask_id_number(None) == ""  # type: ignore[arg-type]
    assert mask_id_number(12345) == "***45"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", ""),
        ("  ", ""),
        ("张", "*"),
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳小明", "欧**明"),
        (" 张 三 ", "张*"),
        ("阿依古丽·买买提", "阿***·**提"),
        ("John Smith", "J*** S****"),
        ("  John   Smith ", "J*** S****"),
        ("J", "*"),
        ("Ann", "A**"),
        ("Mary Jane Watson", "M*** J*** W*****"),
    ],
)
def test_mask_name(name: str, expected: str) -> None:
    assert mask_name(name) == expected


def test_validate_phone_accepts_common_forms() -> None:
    for raw in [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "8613812345678",
        "0086 13812345678",
        "１３８１２３４５６７８",
    ]:
        assert validate_phone(raw) == "13812345678", raw


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12812345678",
        "1381234567",
        "138123456789",
        "+8612812345678",
        "010-12345678",
        "1381234567a",
        "+1 13812345678",
    ],
)
def test_validate_phone_rejects(raw: str) -> None:
    with pytest.raises(InvalidPhone) as info:
        validate_phone(raw)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert str(exc) == f"{exc.message_zh} / {exc.message_en}"
    if raw:
        assert raw not in str(exc)


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("010-12345678") == "**********78"
    assert mask_phone("1") == "*"
    assert mask_phone("") == ""


# --- properties ----------------------------------------------------------------------------------


@given(valid_ids)
def test_make_id_number_always_validates(number: str) -> None:
    assert validate_id_number(number, today=TODAY) == number
    assert validate_id_number(number.lower(), today=TODAY) == number


@given(valid_ids, st.integers(0, 17), st.integers(1, 10))
def test_any_single_character_change_fails(number: str, position: int, shift: int) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    old = alphabet.index(number[position])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == number[position]:  # shift == len(alphabet) for the 10-digit positions
        new = alphabet[(old + 1) % len(alphabet)]
    changed = number[:position] + new + number[position + 1 :]
    assert changed != number
    with pytest.raises(InvalidIdNumber):
        validate_id_number(changed, today=TODAY)
    if position < 17:
        # MOD 11-2 catches every single-digit error on its own, whatever else the change broke.
        assert check_character(changed[:17]) != number[17]


@given(valid_ids)
def test_masked_id_reveals_at_most_8_characters(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number) == 18
    assert sum(ch != "*" for ch in masked) <= 8
    assert all(m in ("*", c) for m, c in zip(masked, number, strict=True))


@given(st.text(max_size=40))
def test_masking_never_raises(value: str) -> None:
    assert isinstance(mask_id_number(value), str)
    assert isinstance(mask_phone(value), str)
    assert isinstance(mask_name(value), str)


@given(st.integers(3, 9), st.integers(0, 999_999_999))
def test_phone_round_trip_and_mask(second: int, rest: int) -> None:
    number = f"1{second}{rest:09d}"
    assert validate_phone(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number
    masked = mask_phone(number)
    assert masked == number[:3] + "****" + number[7:]
