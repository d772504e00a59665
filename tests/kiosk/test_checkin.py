"""Appointment check-in at the kiosk against a live server with slots: the client's retry policy (check-in is not
idempotent) and the Kivy app under Xvfb checking in by QR code and by the code keypad."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from kiosk.client import KioskClient, Refused, Uncertain, Unreachable
from queue_server.ids import make_id_number
from tests.harness import LiveServer, free_port, fresh_database, runtime, serving
from tests.kiosk.test_kivy_kiosk import FONT, ROOT, _need, check_png, publish

SH = ZoneInfo("Asia/Shanghai")
TOKEN = "kiosk-ck-token-0123456789"
CONFIG = """
[server]
demo = true

[[halls]]
code = "ck"
name = "签到测试中心"
name_en = "Check-in Test Centre"
checkin_early_min = 60
checkin_late_min = 15
slot_minutes = 30

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 4

  [[halls.windows]]
  number = 1
  queues = ["A"]

[[devices]]
name = "kiosk-ck"
role = "kiosk"
hall = "ck"
token = "kiosk-ck-token-0123456789"
"""
SERIALS = itertools.count(300)


@pytest.fixture(scope="module")
def live_ck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module: the kiosk never sees the database, so SQLite is enough."""
    tmp = tmp_path_factory.mktemp("kiosk-checkin")
    cfg = tmp / "hall.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    with serving(runtime(fresh_database("sqlite", tmp, name="ck"), tmp / "var", config=cfg)) as srv:
        yield srv


@pytest.fixture
def http(live_ck: LiveServer) -> Iterator[httpx.Client]:
    live_ck.reset()
    with httpx.Client(base_url=live_ck.url, timeout=30) as c:
        yield c


def book(http: httpx.Client, nth: int = 0, serial: int | None = None, **over: str) -> str:
    """Book the `nth` future slot of queue A (0: starts within 30 minutes, inside the check-in window); `over`
    replaces fields of the body (another document)."""
    now = datetime.now(SH)
    slots: list[dict[str, object]] = []
    for day in (now.date(), now.date() + timedelta(days=1)):
        r = http.get("/api/v1/halls/ck/slots", params={"queue": "A", "date": day.isoformat()})
        slots += [s for s in r.json() if datetime.fromisoformat(str(s["start"])) > now]
    body = {
        "queue": "A",
        "start": slots[nth]["start"],
        "name": "张小三",
        "id_number": make_id_number(serial=next(SERIALS) if serial is None else serial),
        "phone": "13812345678",
    }
    r = http.post("/api/v1/halls/ck/appointments", json=body | over)
    assert r.status_code == 201, r.text
    assert r.json()["qr"] == f"HALLAPPT:{r.json()['code']}"
    return str(r.json()["code"])


def client(live: LiveServer, transport: httpx.BaseTransport | None = None) -> KioskClient:
    return KioskClient(live.url, "ck", TOKEN, transport=transport, backoff=0.01, attempts=3)


def tickets(http: httpx.Client, live: LiveServer) -> int:
    from sqlmodel import select

    from queue_server.models import Ticket

    with live.ctx.db.read() as session:
        return len(session.exec(select(Ticket)).all())


class Flaky(httpx.BaseTransport):
    """Fails the first check-in POST in the way given, then behaves."""

    def __init__(self, how: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.how, self.posts = how, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
            if self.posts == 1 and self.how == "connect":  # never left the kiosk
                raise httpx.ConnectError("refused", request=request)
            if self.posts == 1 and self.how == "lost-before":  # timed out before the server got it
                raise httpx.ReadTimeout("timeout", request=request)
            if self.posts == 1 and self.how == "lost-after":  # the server checked in, the answer was lost
                self.inner.handle_request(request).read()
                raise httpx.ReadTimeout("answer lost", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_check_in_by_code_then_again_refused(http: httpx.Client, live_ck: LiveServer) -> None:
    code = book(http)
    c = client(live_ck)
    try:
        t = c.check_in(code)
        assert t["lane"] == "appointment" and t["appointment"] == code and t["number"] == "A001" and t["note"] == ""
        with pytest.raises(Refused) as again:
            c.check_in(code)
        assert again.value.status == 409 and "checked_in" in again.value.sentence
        with pytest.raises(Refused) as unknown:
            c.check_in("ZZZZ2222")
        assert unknown.value.status == 404
    finally:
        c.close()


def test_too_early_says_from_when(http: httpx.Client, live_ck: LiveServer) -> None:
    code = book(http, nth=5)  # about three hours ahead
    c = client(live_ck)
    try:
        with pytest.raises(Refused) as early:
            c.check_in(code)
        assert early.value.status == 409 and "Too early: check in from" in early.value.sentence
    finally:
        c.close()


def test_check_in_by_id_card_and_none_found(http: httpx.Client, live_ck: LiveServer) -> None:
    book(http, serial=77)
    c = client(live_ck)
    try:
        t = c.check_in_by_id(make_id_number(serial=77))
        assert t["lane"] == "appointment"
        with pytest.raises(Refused) as none:
            c.check_in_by_id(make_id_number(serial=78))
        assert none.value.status == 404 and "No appointment" in none.value.sentence
    finally:
        c.close()


@pytest.mark.parametrize("how", ["connect", "lost-before"])
def test_a_request_that_never_arrived_is_sent_again(http: httpx.Client, live_ck: LiveServer, how: str) -> None:
    code = book(http)
    transport, retries = Flaky(how), list[int]()
    c = KioskClient(live_ck.url, "ck", TOKEN, transport=transport, backoff=0.01)
    try:
        t = c.check_in(code, on_retry=retries.append)
    finally:
        c.close()
    assert t["appointment"] == code and transport.posts == 2 and retries == [1]
    assert tickets(http, live_ck) == 1


def test_a_lost_answer_is_never_resent_the_appointment_is_looked_up(http: httpx.Client, live_ck: LiveServer) -> None:
    code = book(http)
    transport = Flaky("lost-after")
    c = KioskClient(live_ck.url, "ck", TOKEN, transport=transport, backoff=0.01)
    try:
        with pytest.raises(Uncertain):
            c.check_in(code)
    finally:
        c.close()
    assert transport.posts == 1 and tickets(http, live_ck) == 1
    assert http.get(f"/api/v1/appointments/{code}").json()["status"] == "checked_in"


def test_by_id_a_lost_answer_is_uncertain_and_not_resent(http: httpx.Client, live_ck: LiveServer) -> None:
    book(http, serial=90)
    transport = Flaky("lost-before")
    c = KioskClient(live_ck.url, "ck", TOKEN, transport=transport, backoff=0.01)
    try:
        with pytest.raises(Uncertain):
            c.check_in_by_id(make_id_number(serial=90))
    finally:
        c.close()
    assert transport.posts == 1 and tickets(http, live_ck) == 0


def test_no_server_is_unreachable_after_a_few_tries() -> None:
    c = KioskClient(f"http://127.0.0.1:{free_port()}", "ck", TOKEN, backoff=0.01, attempts=2)
    retries: list[int] = []
    try:
        with pytest.raises(Unreachable) as e:
            c.check_in("ABCD2345", on_retry=retries.append)
    finally:
        c.close()
    assert type(e.value) is Unreachable and retries == [1]  # refused connections: sent again, never uncertain


def run_kiosk(live: LiveServer, script: str, shots: Path) -> str:
    """The Kivy kiosk under Xvfb with the sim:// printer and scanner, running `script`; its log."""
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")
    env = os.environ | {
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(ROOT / ".kivyhome"),
        "KIVY_LOG_MODE": "PYTHON",
        "PYTHONPATH": str(ROOT),
    }
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "kiosk"]
    cmd += ["--server", live.url, "--hall", "ck", "--token", TOKEN, "--script", script]
    cmd += ["--screenshot-dir", str(shots), "--printer", "sim://", "--scanner", "sim://"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=120, check=False)
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    assert "kiosk script:" not in log, log[-4000:]
    return log


def test_kivy_kiosk_checks_in_by_qr_and_by_keypad(http: httpx.Client, live_ck: LiveServer, tmp_path: Path) -> None:
    now_code, early_code = book(http), book(http, nth=5)
    script = ",".join(
        [
            "wait:home",
            "shot:checkin-home",
            "checkin",
            "wait:checkin",
            f"key:{early_code[:3]}X",
            "backspace",
            "shot:checkin",
            "home",
            "checkin",
            f"scan:HALLAPPT:{now_code}",
            "wait:ticket",
            "shot:checkin-ticket",
            "home",
            "checkin",
            f"key:{early_code}",
            "submit",
            "wait:error",
            "shot:checkin-too-early",
        ]
    )
    log = run_kiosk(live_ck, script, tmp_path)
    assert "kiosk checked in: A001 lane appointment" in log, log[-4000:]
    assert http.get(f"/api/v1/appointments/{now_code}").json()["status"] == "checked_in"
    assert http.get(f"/api/v1/appointments/{early_code}").json()["status"] == "booked"
    for name in ("checkin-home", "checkin", "checkin-ticket", "checkin-too-early"):
        check_png(tmp_path / f"kiosk-{name}.png", (1920, 1080))
        publish(tmp_path / f"kiosk-{name}.png")


def test_kivy_kiosk_checks_in_with_the_passport_booked_with(
    http: httpx.Client, live_ck: LiveServer, tmp_path: Path
) -> None:
    """Booked with a passport (number and nationality), checked in at the kiosk by laying the same passport on the
    sim:// scanner: the appointment is found by the passport's keyed hash; its number never reaches the log."""
    from peripherals.scanner.mrz import demo_passport

    passport = demo_passport()
    code = book(
        http, name=passport.name_en, id_type="passport", id_number=passport.id_number, nationality=passport.nationality
    )
    script = ",".join(["wait:home", "checkin", "wait:checkin", "passport", "wait:ticket", "shot:checkin-passport"])
    log = run_kiosk(live_ck, script, tmp_path)
    assert "kiosk passport read for check-in" in log, log[-4000:]
    assert "kiosk checked in: A001 lane appointment" in log, log[-4000:]
    assert http.get(f"/api/v1/appointments/{code}").json()["status"] == "checked_in"
    assert passport.id_number not in log and "KIM" not in log
    check_png(tmp_path / "kiosk-checkin-passport.png", (1920, 1080))
    publish(tmp_path / "kiosk-checkin-passport.png")
