"""The Kivy kiosk under Xvfb in a closed hall (24-hour mode) against a live server and the TCP printer simulator:
the closed screen names the next opening, and a citizen books a slot with the (simulated) ID card and a mobile
number typed on the keypad, all by touch; the server holds one appointment and the printer the booking slip."""

from __future__ import annotations

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
from sqlmodel import select

from peripherals.printer.simulator import TcpSimulator
from queue_server.models import Appointment
from tests.harness import LiveServer, fresh_database, runtime, serving
from tests.kiosk.test_kivy_kiosk import FONT, ROOT, _need, check_png, publish

SH = ZoneInfo("Asia/Shanghai")
TOKEN = "kiosk-cl-token-0123456789"


def config(today: str) -> str:
    """A hall closed today (a holiday) that takes bookings in queue A."""
    return f"""
[server]
demo = true

[[halls]]
code = "cl"
name = "闭馆测试中心"
name_en = "Closed Test Centre"
open = ["daily 08:30-12:00", "daily 13:30-17:00"]
holidays = ["{today}"]
slot_minutes = 30

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 2

  [[halls.queues]]
  code = "B"
  name = "社会事务"
  name_en = "Social affairs"

  [[halls.windows]]
  number = 1
  queues = ["A", "B"]

[[devices]]
name = "kiosk-cl"
role = "kiosk"
hall = "cl"
token = "{TOKEN}"
"""


@pytest.fixture(scope="module")
def live_cl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose hall is closed now; SQLite is enough (the kiosk never sees the database)."""
    tmp = tmp_path_factory.mktemp("kiosk-closed")
    cfg = tmp / "hall.toml"
    cfg.write_text(config(datetime.now(SH).date().isoformat()), encoding="utf-8")
    with serving(runtime(fresh_database("sqlite", tmp, name="cl"), tmp / "var", config=cfg)) as srv:
        yield srv


def run(live: LiveServer, shots: Path, script: str, *extra: str) -> str:
    """The kiosk under Xvfb with `script`; its log."""
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")
    env = os.environ | {"KIVY_NO_ARGS": "1", "KIVY_HOME": str(ROOT / ".kivyhome"), "KIVY_LOG_MODE": "PYTHON"}
    env["PYTHONPATH"] = str(ROOT)
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "kiosk"]
    cmd += ["--server", live.url, "--hall", "cl", "--token", TOKEN, "--script", script]
    cmd += ["--screenshot-dir", str(shots), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=150, check=False)
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    assert "kiosk script:" not in log, log[-4000:]
    return log


def test_closed_hall_books_a_slot_by_touch_and_prints_the_slip(live_cl: LiveServer, tmp_path: Path) -> None:
    live_cl.reset()
    script = ",".join(
        [
            "wait:closed",
            "sleep:0.5",
            "shot:closed",
            "book",
            "wait:book_domain",
            "shot:book-domain",
            "bookdomain:A",
            "wait:book_day",
            "shot:book-day",
            "day:0",
            "wait:book_slot",
            "shot:book-slot",
            "slot:1",
            "wait:book_card",
            "shot:book-card",
            "card",
            "wait:phone",
            "phone:1281234567",  # ten digits starting 12: refused with a plain sentence
            "phoneok",
            "shot:phone-invalid",
            "phonedel",
            "phonedel",
            "phonedel",
            "phonedel",
            "phonedel",
            "phonedel",
            "phonedel",
            "phonedel",
            "phonedel",
            "phonedel",
            "phone:13812345678",
            "phoneok",
            "wait:book_confirm",
            "shot:book-confirm",
            "double:bookconfirm",  # a double tap books once
            "wait:booked",
            "sleep:0.5",
            "shot:booked",
            "lang",
            "shot:booked-en",
        ]
    )
    with TcpSimulator() as printer:
        log = run(live_cl, tmp_path, script, "--printer", printer.url, "--id-reader", "sim://")
        docs = printer.printer.wait_for_documents(1, timeout=10)
    assert "kiosk mode: closed" in log
    with live_cl.ctx.db.read() as session:
        rows = session.exec(select(Appointment)).all()
    assert len(rows) == 1, log[-3000:]
    a = rows[0]
    assert a.queue == "A" and a.channel == "kiosk" and a.status == "booked"
    assert a.name_masked == "李*明" and a.phone_masked == "138****5678"
    now = datetime.now(SH)
    start = a.slot_start.astimezone(SH) if a.slot_start.tzinfo else a.slot_start.replace(tzinfo=SH)
    assert now.date() < start.date() <= now.date() + timedelta(days=3)  # the next working day (today: holiday)
    assert f"{start:%H:%M}" == "09:00"  # the second slot of the day
    slip = docs[0]
    assert slip.qr_payloads == [f"HALLAPPT:{a.code}"]
    text = "\n".join(slip.text_lines)
    assert a.code in text and f"{start:%m-%d %H:%M}" in text
    assert "13812345678" not in text and "李小明" not in text  # masked personal data only (here: none)
    assert a.code not in log  # never the booking code in the log (httpx's request lines are silenced)
    with httpx.Client(base_url=live_cl.url) as http:
        assert http.get(f"/api/v1/appointments/{a.code}").json()["status"] == "booked"
    for name in ("closed", "book-domain", "book-day", "book-slot", "book-card", "phone-invalid", "book-confirm"):
        check_png(tmp_path / f"kiosk-{name}.png", (1920, 1080))
    for name in ("booked", "booked-en"):
        check_png(tmp_path / f"kiosk-{name}.png", (1920, 1080))
    for p in tmp_path.glob("kiosk-*.png"):
        publish(p)
