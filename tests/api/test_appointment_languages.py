"""The citizen's language beyond take-a-number (issue 22, R17), over real HTTP on both databases: a check-in carries
the kiosk's language and 需要语言服务 onto the ticket (the clerk's console shows it), and a language the hall does not
offer is refused with a sentence saying which it offers."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from queue_server.ids import make_id_number

from ..harness import LiveServer, fresh_database, runtime, serving
from ..notify.conftest import HOOK_SECRET, Receiver
from . import test_appointments

gateway = test_appointments.gateway  # the SMS gateway the hall's messages go to (a fixture)

SH = ZoneInfo("Asia/Shanghai")
KIOSK = "kiosk-w-token-0123456789"

CONFIG = """
[server]
demo = true

[notify]
provider = "webhook"
url = "{url}"
secret = "{secret}"

[[halls]]
code = "wh"
name = "威海测试中心"
name_en = "Weihai Test Centre"
languages = ["zh", "en", "ko", "ja"]
checkin_early_min = 30
checkin_late_min = 15
slot_minutes = 30

  [[halls.queues]]
  code = "A"
  name = "出入境"
  name_en = "Exit and entry"
  names = {ko = "출입국", ja = "出入国"}
  slot_capacity = 4

  [[halls.windows]]
  number = 1
  queues = ["A"]

[[users]]
username = "clerk-w"
password = "clerk-w-pass"
role = "clerk"
hall = "wh"

[[devices]]
name = "kiosk-w"
role = "kiosk"
hall = "wh"
token = "kiosk-w-token-0123456789"
"""


@pytest.fixture(scope="module")
def live(backend: str, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp(f"appt-lang-{backend}")
    cfg = tmp / "hall.toml"
    cfg.write_text(CONFIG.replace("{url}", gateway.url).replace("{secret}", HOOK_SECRET), encoding="utf-8")
    with serving(runtime(fresh_database(backend, tmp, name="applang"), tmp / "var", config=cfg)) as srv:
        yield srv


@pytest.fixture
def http(live: LiveServer, gateway: Receiver) -> Iterator[httpx.Client]:
    live.reset()
    gateway.hits.clear()
    with httpx.Client(base_url=live.url, timeout=30) as c:
        yield c


def kiosk() -> dict[str, str]:
    return {"Authorization": f"Bearer {KIOSK}"}


def clerk(http: httpx.Client) -> dict[str, str]:
    r = http.post("/api/v1/auth/token", data={"username": "clerk-w", "password": "clerk-w-pass"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def first_slot(http: httpx.Client) -> str:
    """The next slot's start: it begins within 30 minutes, so its check-in window is open."""
    now = datetime.now(SH)
    for day in (now.date(), now.date() + timedelta(days=1)):
        r = http.get("/api/v1/halls/wh/slots", params={"queue": "A", "date": day.isoformat()})
        assert r.status_code == 200, r.text
        later = [s for s in r.json() if datetime.fromisoformat(str(s["start"])) > now]
        if later:
            return str(later[0]["start"])
    raise AssertionError("no slot today or tomorrow")


def book(http: httpx.Client, serial: int = 1, **kw: object) -> dict[str, object]:
    body = {"queue": "A", "start": first_slot(http), "name": "김민수", "id_number": make_id_number(serial=serial)}
    r = http.post("/api/v1/halls/wh/appointments", json=body | {"phone": "13812345678"} | kw)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_check_in_by_code_carries_the_language_and_the_interpreter_to_the_clerk(http: httpx.Client) -> None:
    code = book(http)["code"]
    body = {"lang": "ko", "interpreter": "ko"}
    r = http.post(f"/api/v1/appointments/{code}/check-in", json=body, headers=kiosk())
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["lang"], t["interpreter"], t["lane"]) == ("ko", "ko", "appointment")
    desk = http.get("/api/v1/halls/wh/console/windows/1", headers=clerk(http))
    assert desk.status_code == 200, desk.text
    assert [w["interpreter"] for w in desk.json()["waiting"] if w["id"] == t["id"]] == ["ko"]


def test_a_check_in_by_document_carries_them_too_and_without_a_body_none(http: httpx.Client) -> None:
    book(http, serial=2)
    body = {"id_number": make_id_number(serial=2), "lang": "ja", "interpreter": "ja"}
    r = http.post("/api/v1/halls/wh/appointments/check-in", json=body, headers=kiosk())
    assert r.status_code == 201, r.text
    assert (r.json()["lang"], r.json()["interpreter"]) == ("ja", "ja")
    code = book(http, serial=3)["code"]
    plain = http.post(f"/api/v1/appointments/{code}/check-in", headers=kiosk())  # no body: as before
    assert plain.status_code == 201, plain.text
    assert plain.json()["interpreter"] is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"interpreter": "ru"}, "offers no interpreter in 'ru' (en, ko, ja)"),
        ({"lang": "xx"}, "lang"),
        ({"interpreter": "zh"}, "interpreter"),
    ],
)
def test_a_language_the_hall_does_not_offer_is_refused(http: httpx.Client, body: dict[str, str], says: str) -> None:
    code = book(http, serial=4)["code"]
    r = http.post(f"/api/v1/appointments/{code}/check-in", json=body, headers=kiosk())
    assert r.status_code == 422, r.text
    assert says in str(r.json()["detail"])
    by_doc = {"id_number": make_id_number(serial=4)} | body
    assert http.post("/api/v1/halls/wh/appointments/check-in", json=by_doc, headers=kiosk()).status_code == 422
    assert http.get(f"/api/v1/appointments/{code}").json()["status"] == "booked"  # nothing happened


def sent(gateway: Receiver, kind: str, timeout: float = 15.0) -> str:
    """The text of the first message of `kind` the gateway received (waiting for the outbox to send it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [h.json["text"] for h in list(gateway.hits) if h.json.get("kind") == kind]
        if texts:
            return str(texts[0])
        time.sleep(0.05)
    raise AssertionError(f"no {kind} message reached the gateway within {timeout} s")


def test_a_booking_keeps_the_browsers_language_for_its_message_and_check_in(
    http: httpx.Client, gateway: Receiver
) -> None:
    start = first_slot(http)
    body = {
        "queue": "A",
        "start": start,
        "name": "김민수",
        "id_number": make_id_number(serial=5),
        "phone": "13812345678",
    }
    r = http.post("/api/v1/halls/wh/appointments", json=body, headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
    assert r.status_code == 201, r.text
    assert r.json()["lang"] == "ko"
    text = sent(gateway, "appointment_booked")
    assert text.startswith("您已预约") and " / " in text  # Chinese first …
    assert "예약 완료" in text and "Booked" not in text  # … then Korean, not English
    t = http.post(f"/api/v1/appointments/{r.json()['code']}/check-in", headers=kiosk()).json()
    assert (t["lang"], t["interpreter"]) == ("ko", None)  # the ticket speaks the booking's language
    cancelled = {"queue": "A", "start": start, "name": "田中", "id_number": make_id_number(serial=6), "lang": "ja"}
    code = http.post("/api/v1/halls/wh/appointments", json=cancelled | {"phone": "13812345679"}).json()["code"]
    assert http.post(f"/api/v1/appointments/{code}/cancel").status_code == 200
    text = sent(gateway, "appointment_cancelled")
    assert text.startswith("您预约的") and "取り消されました" in text


def test_a_booking_without_a_language_stays_chinese_and_english(http: httpx.Client, gateway: Receiver) -> None:
    assert book(http, serial=7)["lang"] is None
    text = sent(gateway, "appointment_booked")
    assert text.startswith("您已预约") and "Booked:" in text


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext (poppler-utils) reads it."""
    f = tmp_path / "confirmation.pdf"
    f.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(f), "-"], capture_output=True, check=True, timeout=60)
    return out.stdout.decode()


def test_the_confirmation_pdf_is_in_the_bookings_language(http: httpx.Client, tmp_path: Path) -> None:
    code = str(book(http, serial=8, lang="ko")["code"])
    r = http.get(f"/api/v1/appointments/{code}/confirmation.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.headers["cache-control"] == "no-store"
    text = pdf_text(r.content, tmp_path)
    assert code in text and "预约确认单" in text and "예약 확인서" in text  # Chinese first, then Korean
    assert "출입국" in text and "Appointment Confirmation" not in text  # the service's Korean name
    assert "김*수" in text and make_id_number(serial=8) not in text  # masked only
    plain = str(book(http, serial=9)["code"])
    text = pdf_text(http.get(f"/api/v1/appointments/{plain}/confirmation.pdf").content, tmp_path)
    assert "Appointment Confirmation" in text and "예약 확인서" not in text  # no language: English


def test_the_confirmation_pdf_needs_the_holders_code(http: httpx.Client) -> None:
    code = str(book(http, serial=10)["code"])
    other = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    r = http.get(f"/api/v1/appointments/{other}/confirmation.pdf")
    assert r.status_code == 404 and "No appointment" in r.json()["detail"]
    assert http.post(f"/api/v1/appointments/{code}/cancel").status_code == 200
    r = http.get(f"/api/v1/appointments/{code}/confirmation.pdf")
    assert r.status_code == 409 and "no confirmation" in r.json()["detail"]


def test_refusals_are_chinese_first_then_the_requests_or_the_bookings_language(http: httpx.Client) -> None:
    ru = {"Accept-Language": "ru-RU,ru;q=0.9"}
    r = http.get("/api/v1/appointments/ABCDEFGH", headers=ru)
    assert r.status_code == 404 and r.json()["detail"] == "没有这个预约 / Записи с таким кодом нет"
    code = str(book(http, serial=11, lang="ko")["code"])
    again = {"queue": "A", "start": first_slot(http), "name": "김민수", "id_number": make_id_number(serial=11)}
    r = http.post("/api/v1/halls/wh/appointments", json=again, headers={"Accept-Language": "ko"})
    assert r.status_code == 409
    assert r.json()["detail"] == "您当天已有该业务的预约 / 같은 날 이 업무의 예약이 이미 있습니다"
    assert http.post(f"/api/v1/appointments/{code}/cancel").status_code == 200
    r = http.post(f"/api/v1/appointments/{code}/cancel", headers={"Accept-Language": "ja"})  # the request's
    assert r.status_code == 409
    assert r.json()["detail"] == "预约当前为 cancelled，不能取消 / 予約の状態が cancelled のため、取り消せません"
    r = http.post(f"/api/v1/appointments/{code}/check-in", headers=kiosk())  # no language asked: the booking's
    assert r.status_code == 409
    assert r.json()["detail"] == "预约当前为 cancelled，不能签到 / 현재 예약 상태(cancelled)에서는 접수할 수 없습니다"
    r = http.post("/api/v1/halls/wh/appointments/check-in", json={"id_number": make_id_number(serial=12)}, headers=ru)
    assert r.status_code == 404 and r.json()["detail"] == "今天没有找到您的预约 / На сегодня ваша запись не найдена"
    r = http.post(f"/api/v1/appointments/{code}/reschedule", json={"start": first_slot(http)})
    assert r.status_code == 409 and "시간을 바꿀 수 없습니다" in r.json()["detail"]  # the booking's, again
    r = http.post(f"/api/v1/appointments/{code}/cancel")
    assert r.json()["detail"] == "预约当前为 cancelled，不能取消 / 현재 예약 상태(cancelled)에서는 취소할 수 없습니다"
    other = str(book(http, serial=13)["code"])  # booked without a language, asked without one: English
    assert http.post(f"/api/v1/appointments/{other}/cancel").status_code == 200
    r = http.post(f"/api/v1/appointments/{other}/cancel")
    assert r.json()["detail"] == "预约当前为 cancelled，不能取消 / Cannot cancel an appointment that is cancelled"
