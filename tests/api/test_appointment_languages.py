"""The citizen's language beyond take-a-number (issue 22, R17), over real HTTP on both databases: a check-in carries
the kiosk's language and 需要语言服务 onto the ticket (the clerk's console shows it), and a language the hall does not
offer is refused with a sentence saying which it offers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from queue_server.ids import make_id_number

from ..harness import LiveServer, fresh_database, runtime, serving
from ..notify.conftest import HOOK_SECRET, Receiver
from .test_appointments import gateway  # noqa: F401 - the SMS gateway the hall's messages go to (a fixture)

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
def live(backend: str, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver) -> Iterator[LiveServer]:  # noqa: F811
    tmp = tmp_path_factory.mktemp(f"appt-lang-{backend}")
    cfg = tmp / "hall.toml"
    cfg.write_text(CONFIG.replace("{url}", gateway.url).replace("{secret}", HOOK_SECRET), encoding="utf-8")
    with serving(runtime(fresh_database(backend, tmp, name="applang"), tmp / "var", config=cfg)) as srv:
        yield srv


@pytest.fixture
def http(live: LiveServer, gateway: Receiver) -> Iterator[httpx.Client]:  # noqa: F811
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
