"""A foreigner's permanent residence number (2017 and 2023 editions) takes a number like a resident ID number,
over real HTTP on both databases; a wrong check digit is refused in Chinese and English."""

from __future__ import annotations

from ..harness import KIOSK, Api

PR2017 = "KOR371085031519"
PR2023 = "937410198503151210"


def test_both_editions_take_a_number_masked_and_revealed_to_a_clerk(api: Api) -> None:
    old = api.take("A", id_number=PR2017.lower())
    new = api.take("A", id_number=PR2023)
    assert old["id_number_masked"] == "KOR3*******1519"
    assert new["id_number_masked"] == "9374**********1210"
    r = api.http.get(f"/api/v1/tickets/{old['id']}", headers=api.auth("clerk1"))
    assert PR2017 not in r.text
    r = api.http.post(f"/api/v1/tickets/{old['id']}/reveal", headers=api.auth("clerk1"))
    assert r.json()["id_number"] == PR2017


def test_a_wrong_check_digit_is_422_in_both_languages(api: Api) -> None:
    for bad in (PR2017[:-1] + "8", PR2023[:-1] + "1"):
        r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "id_number": bad}, headers=api.auth(KIOSK))
        assert r.status_code == 422
        assert bad not in r.text
        assert "永久居留身份证号码校验位不正确" in r.text and "check digit" in r.text
    assert api.take("A")["number"] == "A001"
