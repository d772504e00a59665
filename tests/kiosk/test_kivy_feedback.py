"""The kiosk's 投诉建议 tile under Xvfb, driven by touches, against a live server and the TCP printer simulator:
a complaint with preset lines, a typed note and a mobile number (double-tapped submit files it once, the
reference is shown and printed, staff see the phone masked); and an anonymous one from the closed hall's screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from peripherals.printer.simulator import TcpSimulator
from queue_server.feedback.models import Complaint
from tests.conftest import sqlite_only
from tests.harness import KIOSK, Api, LiveServer
from tests.kiosk.test_kivy_booking import TOKEN as CLOSED_TOKEN
from tests.kiosk.test_kivy_booking import live_cl
from tests.kiosk.test_kivy_kiosk import FONT, ROOT, _need, check_png, kiosk_tools, publish

__all__ = ["kiosk_tools", "live_cl"]  # fixtures shared with the kiosk's other Kivy tests


def run(url: str, hall: str, token: str, shots: Path, script: list[str], *extra: str) -> str:
    """`python -m kiosk.feedback --script …` under Xvfb to its end; its log."""
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")
    env = os.environ | {"KIVY_NO_ARGS": "1", "KIVY_HOME": str(ROOT / ".kivyhome"), "KIVY_LOG_MODE": "PYTHON"}
    env["PYTHONPATH"] = str(ROOT)
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "kiosk.feedback"]
    cmd += ["--server", url, "--hall", hall, "--token", token, "--script", ",".join(script)]
    cmd += ["--screenshot-dir", str(shots), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=150, check=False)
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    assert "kiosk script:" not in log, log[-4000:]  # an unknown step or a screen that never came
    return log


@sqlite_only
@pytest.mark.usefixtures("kiosk_tools")
def test_complaint_with_phone_by_touch_is_filed_once_shown_and_printed(api: Api, tmp_path: Path) -> None:
    script = [
        "wait:home",
        "shot:feedback-home",
        "fbtile",
        "wait:fb_category",
        "shot:feedback-category",
        "fbcat:service",
        "wait:fb_reasons",
        "fb:fb_next",  # nothing chosen yet: a plain sentence, no step further
        "shot:feedback-reasons-missing",
        "fbchip:0",
        "fbchip:3",
        "fbnote:W3 14:20",
        "shot:feedback-reasons",
        "fb:fb_next",
        "wait:fb_contact",
        "shot:feedback-contact",
        "fb:fb_with_phone",
        "wait:fb_phone",
        "phone:13912345678",
        "shot:feedback-phone",
        "phoneok",
        "wait:fb_review",
        "shot:feedback-review",
        "fbdouble:fb_submit",  # a double tap files one complaint
        "wait:fb_done",
        "sleep:0.3",
        "shot:feedback-done",
        "lang",
        "shot:feedback-done-en",
    ]
    with TcpSimulator() as printer:
        log = run(api.server.url, "t1", KIOSK, tmp_path, script, "--printer", printer.url)
        docs = printer.printer.wait_for_documents(1, timeout=10)
    rows = api.http.get("/api/v1/halls/t1/complaints", headers=api.auth("approver1")).json()
    assert len(rows) == 1, log[-3000:]
    c = rows[0]
    assert (c["channel"], c["category"], c["anonymous"]) == ("kiosk", "service", False)
    assert c["phone_masked"] == "139****5678"
    assert c["content"] == "工作人员态度生硬；推诿扯皮；W3 14:20"
    assert "13912345678" not in str(rows)
    code = c["code"]
    public = api.http.get(f"/api/v1/complaints/{code}", params={"proof": "5678"}).json()  # the phone's last four
    assert public["status"] == "submitted"
    text = "\n".join(docs[0].text_lines)
    assert code in text and "13912345678" not in text
    proof = text.split("查询码 ")[1].split()[0]  # the query code is printed for the complainant only
    assert api.http.get(f"/api/v1/complaints/{code}", params={"proof": proof}).json()["code"] == code
    assert proof not in log
    at = log.find(code)  # the reference is not logged (the number is: the script steps type it)
    assert at < 0, log[max(0, at - 400) : at + 100]
    assert "kiosk complaint slip: printed" in log
    for name in ("home", "category", "reasons-missing", "reasons", "contact", "phone", "review", "done", "done-en"):
        check_png(tmp_path / f"kiosk-feedback-{name}.png", (1920, 1080))
    for p in tmp_path.glob("kiosk-feedback-*.png"):
        publish(p)


@pytest.mark.usefixtures("kiosk_tools")
def test_anonymous_complaint_from_the_closed_hall_screen(live_cl: LiveServer, tmp_path: Path) -> None:
    live_cl.reset()
    script = [
        "wait:closed",
        "sleep:0.3",
        "shot:feedback-closed",
        "fbtile",
        "wait:fb_category",
        "fbcat:facility",
        "wait:fb_reasons",
        "fbchip:0",
        "fb:fb_next",
        "wait:fb_contact",
        "fb:fb_anonymous",
        "wait:fb_review",
        "fb:fb_submit",
        "wait:fb_done",
    ]
    run(live_cl.url, "cl", CLOSED_TOKEN, tmp_path, script)
    with live_cl.ctx.db.read() as session:
        rows = session.exec(select(Complaint)).all()
    assert len(rows) == 1
    c = rows[0]
    assert (c.channel, c.category, c.content, c.anonymous) == ("kiosk", "facility", "自助机故障", True)
    assert c.phone_enc is None and c.name_enc is None
    check_png(tmp_path / "kiosk-feedback-closed.png", (1920, 1080))
    publish(tmp_path / "kiosk-feedback-closed.png")
