"""Self-submission with a foreigner's permanent residence card or a passport (`applicant.id_type`), over HTTP on
both databases: stored masked, found again by the same document, a wrong check digit refused with a sentence."""

from __future__ import annotations

from ..harness import KIOSK, Api
from .helpers import post_case, submission

PR2023 = "937410198503151210"


def applicant(**over: object) -> dict[str, object]:
    return {"name": "KIM MINSU", "phone": "13812345678"} | over


def test_a_permanent_residence_card_submits_and_finds_its_case(api: Api) -> None:
    r = post_case(api, submission(applicant=applicant(id_type="foreign_permanent", id_number=PR2023)))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    view = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1")).json()
    assert view["id_type"] == "foreign_permanent" and view["id_number_masked"] == "9374**********1210"
    found = api.http.post(
        "/api/v1/halls/t1/cases/search",
        json={"id_number": PR2023, "id_type": "foreign_permanent"},
        headers=api.auth("clerk1"),
    )
    assert [c["number"] for c in found.json()] == [number]


def test_a_passport_submits_and_is_found_only_with_its_nationality(api: Api) -> None:
    passport = {"id_type": "passport", "id_number": "M12345678", "nationality": "KOR"}
    r = post_case(api, submission(applicant=applicant(**passport)))
    assert r.status_code == 201, r.text
    assert "M12345678" not in r.text
    number = r.json()["number"]
    view = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1")).json()
    assert (view["id_type"], view["nationality"], view["id_number_masked"]) == ("passport", "KOR", "*******78")
    look = api.http.post("/api/v1/halls/t1/cases/lookup", json=passport, headers=api.auth(KIOSK))
    assert [c["number"] for c in look.json()] == [number]
    other = api.http.post(
        "/api/v1/halls/t1/cases/lookup",
        json=passport | {"nationality": "RUS"},
        headers=api.auth(KIOSK),
    )
    assert other.json() == []


def test_a_wrong_check_digit_is_422_saying_so(api: Api) -> None:
    bad = PR2023[:-1] + "1"
    r = post_case(api, submission(applicant=applicant(id_type="foreign_permanent", id_number=bad)))
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "永久居留身份证号码校验位不正确" in detail and "check digit is wrong" in detail
    assert bad not in r.text
    r = post_case(api, submission(applicant=applicant(id_type="passport", id_number="M12345678")))
    assert r.status_code == 422 and "nationality" in r.json()["detail"]
