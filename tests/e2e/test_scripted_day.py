"""A scripted day over real HTTP: appointments, walk-ins, priority citizens, a remote ticket, two windows;
every message reaches the local SMS gateway exactly once."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from queue_server.ids import make_id_number

from ..harness import clear_of_midnight, fresh_database, runtime, serving
from ..notify.conftest import HOOK_SECRET, Receiver

SH = ZoneInfo("Asia/Shanghai")
KIOSK = {"Authorization": "Bearer kiosk-d-token-0123456789"}
CONFIG = """
[server]
demo = true

[notify]
provider = "webhook"
url = "{url}"
secret = "{secret}"

[[halls]]
code = "day"
name = "一日中心"
name_en = "Day Centre"
notify_ahead = 2
max_priority_streak = 2

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 4

  [[halls.queues]]
  code = "B"
  name = "社会事务"
  name_en = "Social affairs"

  [[halls.windows]]
  number = 1
  queues = ["A", "B"]

  [[halls.windows]]
  number = 2
  queues = ["B", "A"]

[[users]]
username = "clerk-d"
password = "clerk-d-pass"
role = "clerk"
hall = "day"

[[devices]]
name = "kiosk-d"
role = "kiosk"
hall = "day"
token = "kiosk-d-token-0123456789"
"""


def test_scripted_day(backend: str, tmp_path: Path) -> None:
    clear_of_midnight(SH)  # the day's hall keeps Shanghai time: its day must not end halfway through
    gateway = Receiver().start()
    try:
        cfg = tmp_path / "hall.toml"
        cfg.write_text(CONFIG.replace("{url}", gateway.url).replace("{secret}", HOOK_SECRET), encoding="utf-8")
        url = fresh_database(backend, tmp_path, name="day")
        with (
            serving(runtime(url, tmp_path / "var", config=cfg)) as srv,
            httpx.Client(base_url=srv.url, timeout=30) as http,
        ):
            run_day(http, gateway)
    finally:
        gateway.stop()


def run_day(http: httpx.Client, gateway: Receiver) -> None:
    phones: dict[str, str] = {}  # ticket number or booking code -> phone
    expected: Counter[tuple[str, str]] = Counter()
    now = datetime.now(SH)
    slots = [  # the first slot still to come: after 23:30 it is tomorrow's first, inside the check-in window
        s
        for day in (now.date(), now.date() + timedelta(days=1))
        for s in http.get("/api/v1/halls/day/slots", params={"queue": "A", "date": day.isoformat()}).json()
    ]
    slot = next(s for s in slots if datetime.fromisoformat(s["start"]) > now)

    # 1. Three citizens booked the first slot on the web yesterday.
    codes = []
    for i in range(3):
        phone = f"1380000010{i}"
        body = {
            "queue": "A",
            "start": slot["start"],
            "name": "预约人",
            "id_number": make_id_number(serial=500 + i),
            "phone": phone,
        }
        r = http.post("/api/v1/halls/day/appointments", json=body)
        assert r.status_code == 201, r.text
        codes.append(r.json()["code"])
        expected["appointment_booked", r.json()["code"]] += 1

    # 2. Walk-ins at the kiosk: ordinary (some with a phone), a soldier, a senior; one remote ticket.
    tickets = []

    def take(queue: str, phone: str | None = None, **extra: object) -> dict[str, object]:
        body: dict[str, object] = {"queue": queue, **extra}
        if phone:
            body["phone"] = phone
        r = http.post("/api/v1/halls/day/tickets", json=body, headers=KIOSK)
        assert r.status_code == 201, r.text
        t = r.json()
        tickets.append(t)
        if phone:
            phones[t["number"]] = phone
            expected["issued", t["number"]] += 1
        return dict(t)

    for i in range(5):
        take("A" if i % 2 == 0 else "B", f"1390000020{i}" if i != 3 else None)
    soldier = take("B", "13900000300", lane="military")
    senior = take("A", "13900000400", id_number=make_id_number(birth=date(1941, 3, 3), serial=7))
    assert senior["lane"] == "special"
    asked = http.post("/api/v1/halls/day/remote-tickets/verify", json={"queue": "B", "phone": "13900000500"})
    assert asked.status_code == 202, asked.text
    expected["verify_code", "verify"] += 1
    code = gateway.code_for("13900000500")  # the phone proves itself with the code it was sent
    r = http.post("/api/v1/halls/day/remote-tickets", json={"queue": "B", "phone": "13900000500", "code": code})
    assert r.status_code == 201
    tickets.append(r.json())
    phones[r.json()["number"]] = "13900000500"
    expected["issued", r.json()["number"]] += 1

    # 3. The appointment holders check in at the kiosk.
    for code in codes:
        c = http.post(f"/api/v1/appointments/{code}/check-in", headers=KIOSK)
        assert c.status_code == 201, c.text
        tickets.append(c.json())
        phones[c.json()["number"]] = f"1380000010{codes.index(code)}"
        expected["issued", c.json()["number"]] += 1  # the appointment's phone is told its number too

    # 4. Two windows serve everybody; the third ordinary A ticket does not come (过号).
    token = http.post("/api/v1/auth/token", data={"username": "clerk-d", "password": "clerk-d-pass"}).json()
    clerk = {"Authorization": f"Bearer {token['access_token']}"}
    order: list[str] = []
    absent = tickets[4]["number"]
    for _ in range(40):
        progressed = False
        for window in (1, 2):
            r = http.post(f"/api/v1/halls/day/windows/{window}/call-next", headers=clerk)
            if r.status_code != 200:
                continue
            progressed = True
            t = r.json()
            order.append(t["number"])
            if t["number"] in phones:
                expected["called", t["number"]] += 1
            action = "no-show" if t["number"] == absent else "complete"
            if action == "no-show" and t["number"] in phones:
                expected["no_show", t["number"]] += 1
            assert http.post(f"/api/v1/tickets/{t['id']}/{action}", headers=clerk).status_code == 200
        if not progressed:
            break
    assert sorted(order) == sorted(str(t["number"]) for t in tickets)  # everybody was called once
    assert order.index(str(soldier["number"])) < 2 and order.index(str(senior["number"])) < 2  # priority first

    # 5. The gateway got every message once, signed; "N ahead" at most once per ticket.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(1 for h in gateway.hits if h.json["kind"] != "ahead") < sum(
        expected.values()
    ):
        time.sleep(0.05)
    time.sleep(0.3)
    got = Counter((h.json["kind"], h.json["ticket"]) for h in gateway.hits)
    aheads = {k: n for k, n in got.items() if k[0] == "ahead"}
    assert all(n == 1 for n in aheads.values()) and aheads
    assert Counter({k: n for k, n in got.items() if k[0] != "ahead"}) == expected
    assert len({h.json["id"] for h in gateway.hits}) == len(gateway.hits)
    for h in gateway.hits:
        assert (
            h.headers["X-Hall-Signature"]
            == "sha256=" + hmac.new(HOOK_SECRET.encode(), h.body, hashlib.sha256).hexdigest()
        )
