"""The demo hall (config/demo.toml, twelve domains) after a morning of activity, on a live server: what the board
tests and their screenshots (`scripts/screenshots`) show.

The morning is deterministic: the same tickets, calls, pauses and notice every time, and no service is completed,
so the waiting estimates come from the configured service times, not from how fast the test ran.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from ..harness import LiveServer, fresh_database, runtime, serving

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "demo.toml"
HALL = "demo"
KIOSK_TOKEN = "demo-kiosk-1-token"  # the demo's published device tokens
LOBBY_TOKEN = "demo-lobby-board-token"
WINDOW_TOKEN = "demo-window-1-display-token"
CLERK = ("clerk2", "demo-clerk2")  # a clerk of the demo hall who may work at any window
# The time the screenshots show (the boards' clocks are fixed to it).
SHOT_TIME = datetime(2026, 12, 7, 10, 42, 7, tzinfo=ZoneInfo("Asia/Shanghai"))

# Tickets taken per domain, in this order (round robin, so arrival times interleave like a real morning).
TAKEN = {"A": 16, "B": 6, "C": 11, "D": 13, "E": 7, "F": 4, "G": 5, "H": 1, "J": 9, "K": 3, "L": 2, "M": 10}
# Calls, oldest first: the window that calls next, and whether the clerk then starts the service.
CALLS = [(5, True), (6, True), (8, True), (9, False), (10, True), (2, True), (11, False), (12, True), (1, True)]
CALLS += [(3, False)]
PAUSED = {4: ("paused", "午休 Lunch break"), 7: ("closed", "")}
# Staff often type the label themselves: the boards must not show "通知：" twice.
NOTICE = (
    "通知：本中心周六上午 9:00-12:00 提供延时服务，请携带身份证原件办理。"
    "Extended hours on Saturday 9:00-12:00; please bring your ID card."
)


def seed(http: httpx.Client) -> None:
    """Play the morning on a fresh demo-hall server."""
    kiosk = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
    r = http.post("/api/v1/auth/token", data={"username": CLERK[0], "password": CLERK[1]})
    assert r.status_code == 200, r.text
    staff = {"Authorization": f"Bearer {r.json()['access_token']}"}
    left = dict(TAKEN)
    while any(left.values()):
        for code in TAKEN:
            if left[code]:
                left[code] -= 1
                r = http.post(f"/api/v1/halls/{HALL}/tickets", json={"queue": code}, headers=kiosk)
                assert r.status_code == 201, r.text
    for window, start in CALLS:
        r = http.post(f"/api/v1/halls/{HALL}/windows/{window}/call-next", headers=staff)
        assert r.status_code == 200, r.text
        if start:
            r = http.post(f"/api/v1/tickets/{r.json()['id']}/start", headers=staff)
            assert r.status_code == 200, r.text
    for window, (status, reason) in PAUSED.items():
        body = {"status": status, "reason": reason}
        r = http.post(f"/api/v1/halls/{HALL}/windows/{window}/status", json=body, headers=staff)
        assert r.status_code == 200, r.text
    r = http.post(f"/api/v1/halls/{HALL}/notice", json={"text": NOTICE}, headers=staff)
    assert r.status_code == 200, r.text


def board_state(http: httpx.Client) -> dict[str, Any]:
    """The server's board snapshot (`{"seq", "data"}`)."""
    r = http.get(f"/api/v1/halls/{HALL}/board")
    assert r.status_code == 200, r.text
    return dict(r.json())


@contextmanager
def serving_morning() -> Iterator[LiveServer]:
    """A live server of the demo hall (SQLite: the boards never see the database) after the morning."""
    tmp = Path(tempfile.mkdtemp(prefix="hall-morning-"))
    try:
        url = fresh_database("sqlite", tmp, name="morning")
        with serving(runtime(url, tmp / "var", config=DEMO_CONFIG), heartbeat_s=1.0) as srv:
            with httpx.Client(base_url=srv.url, timeout=30) as http:
                seed(http)
            yield srv
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
