"""Identity documents by type (`queue_server.identity`): validation per type, look-up keys, masks."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.identity import ID_TYPES, document, nationality_code
from queue_server.ids import InvalidIdNumber, make_id_number

TODAY = date(2026, 12, 6)
PR2017, PR2023 = "KOR371085031519", "937410198503151210"


def test_without_a_type_the_number_says_what_it_is() -> None:
    assert document(None, make_id_number(), today=TODAY).id_type == "resident"
    assert document(None, make_id_number("820000"), today=TODAY).id_type == "hk_mo_tw_permit"
    assert document(None, PR2017.lower(), today=TODAY).id_type == "foreign_permanent"
    assert document(None, PR2023, today=TODAY).id_type == "foreign_permanent"


def test_a_passport_needs_a_known_nationality_and_its_key_carries_it() -> None:
    p = document("passport", " m1234 5678 ", "kor", today=TODAY)
    assert (p.number, p.nationality, p.masked) == ("M12345678", "KOR", "*******78")
    assert p.key == "passport:KOR:M12345678" != document("passport", "M12345678", "JPN").key
    assert document("passport", "C01X00T47", "D").nationality == "DEU"  # Germany's MRZ code
    assert document("passport", "123456789", "XXA").nationality == "XXA"  # ICAO: stateless person
    with pytest.raises(InvalidIdNumber, match="nationality") as e:
        document("passport", "M12345678")
    assert e.value.code == "nationality_empty"
    for bad in ("KRX", "K0R", "KOREA"):
        with pytest.raises(InvalidIdNumber) as e:
            nationality_code(bad)
        assert e.value.code == "nationality"
    for bad in ("M123", "M12345678901", "M1234-567", "护照123456"):
        with pytest.raises(InvalidIdNumber) as e:
            document("passport", bad, "KOR")
        assert e.value.code == "passport_format"


def test_each_type_uses_its_own_check() -> None:
    with pytest.raises(InvalidIdNumber) as e:
        document("foreign_permanent", PR2017[:-1] + "8", today=TODAY)
    assert e.value.code == "check_digit" and "永久居留" in str(e.value)
    with pytest.raises(InvalidIdNumber) as e:
        document("foreign_permanent", make_id_number(), today=TODAY)
    assert e.value.code in ("length", "not_digits")
    with pytest.raises(InvalidIdNumber) as e:
        document("resident", PR2023, today=TODAY)
    assert e.value.code == "region"
    with pytest.raises(InvalidIdNumber) as e:
        document("resident", make_id_number("810000"), today=TODAY)
    assert e.value.code == "is_permit"
    with pytest.raises(InvalidIdNumber) as e:
        document("hk_mo_tw_permit", make_id_number(), today=TODAY)
    assert e.value.code == "not_permit"


@given(
    born=st.dates(date(1920, 1, 1), date(2020, 12, 31)),
    serial=st.integers(0, 999),
    region=st.sampled_from(["371002", "110105", "810000", "830000"]),
)
def test_typed_and_untyped_give_the_same_key_as_before(born: date, serial: int, region: str) -> None:
    number = make_id_number(region, born, serial)
    untyped = document(None, number, today=TODAY)
    assert untyped.key == number  # the keyed hash of every booking made before types existed still matches
    typed = document(untyped.id_type, number.lower(), today=TODAY)
    assert typed == untyped and typed.id_type in ID_TYPES
    # no passport's key is ever an ID number's
    assert document("passport", number[-9:], "CHN").key != number
