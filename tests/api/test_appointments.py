"""Appointments, the opening calendar, daily caps and senior lanes over real HTTP, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from queue_server.ids import make_id_number

from ..harness import LiveServer, fresh_database, runtime, serving
from ..notify.conftest import HOOK_SECRET, Receiver

SH = ZoneInfo("Asia/Shanghai")
KIOSK = "kiosk-c-token-0123456789"

CONFIG = """
[server]
demo = true

[notify]                # remote tickets need the phone's code: a gateway on loopback receives it
provider = "webhook"
url = "{url}"
secret = "{secret}"

[[halls]]
code = "cal"
name = "日历测试中心"
name_en = "Calendar Test Centre"
senior_age = 70
checkin_early_min = 30
checkin_late_min = 15
slot_minutes = 30

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 4

  [[halls.queues]]
  code = "B"
  name = "投资建设"
  name_en = "Investment"
  daily_cap = 2

  [[halls.windows]]
  number = 1
  queues = ["A", "B"]

[[halls]]
code = "shut"
name = "休息中心"
name_en = "Closed Centre"
open = ["daily 09:00-17:00"]
holidays = [{holidays}]

  [[halls.queues]]
  code = "A"
  name = "综合"
  name_en = "General"
  slot_capacity = 2

  [[halls.windows]]
  number = 1
  queues = ["A"]

[[users]]
username = "clerk-c"
password = "clerk-c-pass"
role = "clerk"
hall = "cal"

[[devices]]
name = "kiosk-c"
role = "kiosk"
hall = "cal"
token = "kiosk-c-token-0123456789"

[[devices]]
name = "kiosk-s"
role = "kiosk"
hall = "shut"
token = "kiosk-s-token-0123456789"
"""


def hall_config(holidays: str = "", gateway_url: str = "http://127.0.0.1:9/hook") -> str:
    """CONFIG with its holidays and notification gateway filled in (the default gateway: nobody listens)."""
    return CONFIG.replace("{holidays}", holidays).replace("{url}", gateway_url).replace("{secret}", HOOK_SECRET)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Receiver]:
    """The SMS gateway the hall's messages (and remote tickets' codes) go to."""
    g = Receiver().start()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def live3(backend: str, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp(f"appt-{backend}")
    today = datetime.now(SH).date()
    holidays = ", ".join(f'"{today + timedelta(days=d)}"' for d in (-1, 0, 1))
    cfg = tmp / "hall.toml"
    text = hall_config(holidays, gateway.url)
    cfg.write_text(text, encoding="utf-8")
    url = fresh_database(backend, tmp, name="appt")
    with serving(runtime(url, tmp / "var", config=cfg)) as srv:
        yield srv


@pytest.fixture
def http(live3: LiveServer) -> Iterator[httpx.Client]:
    live3.reset()
    with httpx.Client(base_url=live3.url, timeout=30) as c:
        yield c


def kiosk() -> dict[str, str]:
    return {"Authorization": f"Bearer {KIOSK}"}


def next_slots(http: httpx.Client, queue: str = "A", hall: str = "cal") -> list[dict[str, object]]:
    now = datetime.now(SH)
    out = []
    for day in (now.date(), now.date() + timedelta(days=1)):
        r = http.get(f"/api/v1/halls/{hall}/slots", params={"queue": queue, "date": day.isoformat()})
        assert r.status_code == 200, r.text
        out += [s for s in r.json() if datetime.fromisoformat(str(s["start"])) > now]
    return out


def book(http: httpx.Client, start: object, serial: int = 1, **kw: object) -> httpx.Response:
    body = {
        "queue": "A",
        "start": start,
        "name": "张小三",
        "id_number": make_id_number(serial=serial),
        "phone": "13812345678",
    }
    return http.post("/api/v1/halls/cal/appointments", json=body | kw)


def test_slots_list_capacity_and_bookings(http: httpx.Client) -> None:
    slots = next_slots(http)
    assert slots and all(s["capacity"] == 4 and s["booked"] == 0 for s in slots)
    r = book(http, slots[2]["start"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "booked" and body["queue"] == "A"
    assert body["name_masked"] == "张*三" and "13812345678" not in r.text
    assert body["qr"].endswith(body["code"])
    again = next(s for s in next_slots(http) if s["start"] == slots[2]["start"])
    assert again["booked"] == 1
    assert (
        http.get("/api/v1/halls/cal/slots", params={"queue": "B", "date": date.today().isoformat()}).status_code == 404
    )


def test_twenty_concurrent_bookings_for_four_seats(http: httpx.Client) -> None:
    start = next_slots(http)[3]["start"]
    results: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(base_url=str(http.base_url), timeout=30) as c:
            code = book(c, start, serial=100 + i).status_code
        with lock:
            results.append(code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] * 4 + [409] * 16
    slot = next(s for s in next_slots(http) if s["start"] == start)
    assert slot["booked"] == 4


def test_one_active_appointment_per_person_queue_and_day(http: httpx.Client) -> None:
    slots = next_slots(http)
    assert book(http, slots[1]["start"], serial=7).status_code == 201
    r = book(http, slots[2]["start"], serial=7)
    if datetime.fromisoformat(str(slots[1]["start"])).date() == datetime.fromisoformat(str(slots[2]["start"])).date():
        assert r.status_code == 409


def test_cancel_frees_the_seat_and_reschedule_moves_it(http: httpx.Client) -> None:
    slots = next_slots(http)
    code = book(http, slots[4]["start"]).json()["code"]
    moved = http.post(f"/api/v1/appointments/{code}/reschedule", json={"start": slots[5]["start"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == slots[5]["start"]
    counts = {s["start"]: s["booked"] for s in next_slots(http)}
    assert counts[slots[4]["start"]] == 0 and counts[slots[5]["start"]] == 1
    assert http.post(f"/api/v1/appointments/{code}/cancel").json()["status"] == "cancelled"
    assert {s["start"]: s["booked"] for s in next_slots(http)}[slots[5]["start"]] == 0
    assert http.post(f"/api/v1/appointments/{code}/cancel").status_code == 409
    assert http.get(f"/api/v1/appointments/{code}").json()["status"] == "cancelled"


def test_check_in_in_time_gives_an_appointment_ticket(http: httpx.Client) -> None:
    first = next_slots(http)[0]  # starts within 30 minutes: inside the early window
    code = book(http, first["start"]).json()["code"]
    r = http.post(f"/api/v1/appointments/{code}/check-in", headers=kiosk())
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["lane"] == "appointment" and t["number"] == "A001" and t["appointment"] == code
    assert t["phone_masked"] == "138****5678"
    assert t["track_url"] == f"{str(http.base_url).rstrip('/')}/track/{t['track_token']}"  # no public_url: its own
    assert http.post(f"/api/v1/appointments/{code}/check-in", headers=kiosk()).status_code == 409


def test_check_in_too_early_says_when(http: httpx.Client) -> None:
    later = next_slots(http)[4]  # two hours ahead
    code = book(http, later["start"]).json()["code"]
    r = http.post(f"/api/v1/appointments/{code}/check-in", headers=kiosk())
    assert r.status_code == 409
    assert "Too early" in r.json()["detail"]


def test_check_in_by_id_number(http: httpx.Client) -> None:
    first = next_slots(http)[0]
    book(http, first["start"], serial=55)
    r = http.post(
        "/api/v1/halls/cal/appointments/check-in", json={"id_number": make_id_number(serial=55)}, headers=kiosk()
    )
    assert r.status_code == 201, r.text
    none = http.post("/api/v1/halls/cal/appointments/check-in", json={"id_number": make_id_number(serial=56)})
    assert none.status_code == 404


def test_bad_bookings(http: httpx.Client) -> None:
    slots = next_slots(http)
    off = datetime.fromisoformat(str(slots[1]["start"])) + timedelta(minutes=7)
    assert book(http, off.isoformat()).status_code == 422  # not a slot boundary
    past = datetime.now(SH) - timedelta(hours=2)
    assert book(http, past.replace(minute=0, second=0, microsecond=0).isoformat()).status_code == 422
    assert book(http, slots[1]["start"], id_number="110105194912310021").status_code == 422
    assert book(http, slots[1]["start"], queue="B").status_code == 404  # B takes no appointments


def test_closed_hall_refuses_tickets_naming_the_next_opening(http: httpx.Client) -> None:
    # hall `shut` has holidays yesterday, today and tomorrow: it opens again in two days at 09:00
    r = http.post(
        "/api/v1/halls/shut/tickets", json={"queue": "A"}, headers={"Authorization": "Bearer kiosk-s-token-0123456789"}
    )
    assert r.status_code == 409
    opens = datetime.now(SH).date() + timedelta(days=2)
    assert f"{opens} 09:00" in r.json()["detail"]
    assert f"opens again on {opens} at 09:00" in r.json()["detail"]
    today = http.get("/api/v1/halls/shut/slots", params={"queue": "A", "date": datetime.now(SH).date().isoformat()})
    assert today.json() == []
    later = http.get("/api/v1/halls/shut/slots", params={"queue": "A", "date": opens.isoformat()}).json()
    assert len(later) == 16 and later[0]["start"].startswith(f"{opens}T09:00")


def test_daily_cap_and_no_gap(http: httpx.Client) -> None:
    nums = [http.post("/api/v1/halls/cal/tickets", json={"queue": "B"}, headers=kiosk()) for _ in range(3)]
    assert [r.status_code for r in nums] == [201, 201, 409]
    assert [r.json()["number"] for r in nums[:2]] == ["B001", "B002"]
    assert "2" in nums[2].json()["detail"]


def test_senior_gets_the_special_lane(http: httpx.Client) -> None:
    old = make_id_number(birth=date(1940, 5, 1))
    young = make_id_number(birth=date(1990, 5, 1))
    r1 = http.post("/api/v1/halls/cal/tickets", json={"queue": "A", "id_number": old}, headers=kiosk())
    r2 = http.post("/api/v1/halls/cal/tickets", json={"queue": "A", "id_number": young}, headers=kiosk())
    assert r1.json()["lane"] == "special"
    assert r2.json()["lane"] == "normal"


def test_public_booking_is_rate_limited(http: httpx.Client, live3: LiveServer) -> None:
    live3.ctx.limiter.clear()
    slots = next_slots(http)
    codes = [book(http, slots[i % len(slots)]["start"], serial=300 + i).status_code for i in range(21)]
    assert codes[-1] == 429
    assert all(c in (201, 409) for c in codes[:20])
    live3.ctx.limiter.clear()
    # a kiosk's token is not limited like an anonymous caller
    r = http.post(
        "/api/v1/halls/cal/appointments",
        json={"queue": "A", "start": slots[0]["start"], "name": "李四", "id_number": make_id_number(serial=999)},
        headers=kiosk(),
    )
    assert r.status_code in (201, 409)


def remote(
    http: httpx.Client, gateway: Receiver, phone: str = "13900001111", hall: str = "cal", queue: str = "A"
) -> httpx.Response:
    return gateway.remote_ticket(http, hall, queue, phone)


def test_remote_ticket_one_per_phone_and_hall(http: httpx.Client, gateway: Receiver) -> None:
    first = remote(http, gateway)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["channel"] == "remote" and body["status"] == "waiting" and body["phone_masked"] == "139****1111"
    second = remote(http, gateway)
    assert second.status_code == 409
    assert body["number"] in second.json()["detail"]
    assert remote(http, gateway, phone="13900002222").status_code == 201  # another phone
    assert http.post(f"/api/v1/track/{body['track_token']}/cancel").json()["status"] == "cancelled"
    assert remote(http, gateway).status_code == 201  # nothing open any more: allowed again


def test_remote_ticket_refused_while_closed_and_for_bad_phones(http: httpx.Client, gateway: Receiver) -> None:
    closed = remote(http, gateway, hall="shut")
    assert closed.status_code == 409
    assert "opens again" in closed.json()["detail"]
    assert remote(http, gateway, phone="12345").status_code == 422
    assert remote(http, gateway, phone="12345").json()["detail"].count("/") >= 1  # a sentence in both languages


def test_remote_tickets_are_rate_limited_per_phone(http: httpx.Client, gateway: Receiver) -> None:
    codes = []
    for _ in range(8):
        r = remote(http, gateway, phone="13900003333")
        codes.append(r.status_code)
        if r.status_code == 201:
            http.post(f"/api/v1/track/{r.json()['track_token']}/cancel")
    assert codes[:6] == [201] * 6
    assert codes[6:] == [429, 429]


def test_idempotency_key_returns_the_first_booking(http: httpx.Client) -> None:
    start = next_slots(http)[6]["start"]
    key = {"Idempotency-Key": "kiosk-book-7f3c9e21"} | kiosk()
    first = http.post("/api/v1/halls/cal/appointments", json=book_body(start, serial=21), headers=key)
    assert first.status_code == 201, first.text
    again = http.post("/api/v1/halls/cal/appointments", json=book_body(start, serial=21), headers=key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert next(s for s in next_slots(http) if s["start"] == start)["booked"] == 1  # one seat, not two
    other_key = {"Idempotency-Key": "kiosk-book-other"} | kiosk()
    dup = http.post("/api/v1/halls/cal/appointments", json=book_body(start, serial=21), headers=other_key)
    assert dup.status_code == 409 and "already" in dup.json()["detail"]
    wrong = http.post("/api/v1/halls/cal/appointments", json=book_body(start, serial=21, queue="B"), headers=key)
    assert wrong.status_code == 409 and "Idempotency-Key" in wrong.json()["detail"]


def book_body(start: object, serial: int, **kw: object) -> dict[str, object]:
    body = {"queue": "A", "start": start, "name": "张小三", "id_number": make_id_number(serial=serial)}
    return body | {"phone": "13812345678", "channel": "kiosk"} | kw


PASSPORT = {"id_type": "passport", "id_number": "M12345678", "nationality": "KOR"}


def test_book_and_check_in_with_a_passport(http: httpx.Client) -> None:
    first = next_slots(http)[0]
    body = {"queue": "A", "start": first["start"], "name": "KIM MINSU", "channel": "kiosk"} | PASSPORT
    r = http.post("/api/v1/halls/cal/appointments", json=body, headers=kiosk())
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["id_type"] == "passport" and a["nationality"] == "KOR"
    assert a["id_number_masked"] == "*******78" and "M12345678" not in r.text
    # the same number with another nationality, or as an ID number, is someone else
    for other in ({"nationality": "JPN"}, {"id_type": None, "nationality": None}):
        miss = http.post("/api/v1/halls/cal/appointments/check-in", json=PASSPORT | other, headers=kiosk())
        assert miss.status_code in (404, 422), miss.text
    r = http.post(
        "/api/v1/halls/cal/appointments/check-in", json=PASSPORT | {"id_number": "m1234 5678"}, headers=kiosk()
    )
    assert r.status_code == 201, r.text
    assert r.json()["appointment"] == a["code"] and r.json()["lane"] == "appointment"
    assert r.json()["id_number_masked"] == "*******78"
    assert http.get(f"/api/v1/appointments/{a['code']}").json()["status"] == "checked_in"


def test_documents_are_checked_by_their_type(http: httpx.Client) -> None:
    start = next_slots(http)[2]["start"]
    pr2017, pr2023 = "KOR371085031519", "937410198503151210"
    cases = [
        ({"id_type": "foreign_permanent", "id_number": pr2017[:-1] + "8"}, "永久居留身份证号码校验位不正确"),
        ({"id_type": "foreign_permanent", "id_number": pr2023[:-1] + "1"}, "residence ID number's check digit"),
        ({"id_type": "resident", "id_number": make_id_number(serial=5)[:-1] + "Z"}, "ID number"),
        ({"id_type": "resident", "id_number": make_id_number("810000", serial=5)}, "choose that document type"),
        ({"id_type": "hk_mo_tw_permit", "id_number": make_id_number(serial=5)}, "starts with 81, 82 or 83"),
        ({"id_type": "passport", "id_number": "M12345678"}, "needs the holder's nationality"),
        ({"id_type": "passport", "id_number": "M12345678", "nationality": "KRX"}, "Unknown nationality"),
        ({"id_type": "passport", "id_number": "M1234-5678", "nationality": "KOR"}, "5 to 9 letters and digits"),
        ({"id_type": "visa", "id_number": "M12345678"}, "id_type"),
    ]
    for over, says in cases:
        r = book(http, start, **over)
        assert r.status_code == 422, (over, r.text)
        assert says in str(r.json()["detail"]), (over, r.text)
        assert str(over["id_number"]) not in r.text
    good = [
        {"id_type": "foreign_permanent", "id_number": pr2017},
        {"id_type": "foreign_permanent", "id_number": pr2023},
        {"id_type": "hk_mo_tw_permit", "id_number": make_id_number("810000", serial=6)},
        {"id_type": "passport", "id_number": "E12345678", "nationality": "chn"},
        {"id_number": make_id_number(serial=7)},  # no id_type: as before, a resident's
    ]
    later = next_slots(http)[2:]
    for i, over in enumerate(good):
        r = book(http, later[i % 3]["start"], **over)  # four seats a slot
        assert r.status_code == 201, (over, r.text)
    assert r.json()["id_type"] == "resident" and r.json()["nationality"] is None
