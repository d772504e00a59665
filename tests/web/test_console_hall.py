"""The supervisor view, the role rules of both pages and the screenshots, in headless Chromium.

Fixtures (the module's own live SQLite server, the browser) come from test_console.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from playwright.sync_api import Browser, expect

from queue_server.app import close_past_days

from ..api.test_console_api import book_and_check_in
from ..harness import KIOSK, PASSWORDS, Api
from .test_console import CONSOLE, HALL, SHOTS, api, log_in, server

__all__ = ["api", "server"]  # fixtures used here


def test_roles_on_the_pages_and_an_expired_token_returns_to_login(api: Api, browser: Browser) -> None:
    page = browser.new_page(viewport=CONSOLE)
    try:
        page.goto(f"{api.server.url}/console")
        page.fill("#login-user", "approver1")
        page.fill("#login-pass", PASSWORDS["approver1"])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#fatal-text")).to_contain_text("For window staff only")
        assert page.locator("#desk").is_hidden() and page.locator("#picker").is_hidden()
    finally:
        page.close()
    hall = log_in(browser, api, "auditor1", "/console/hall", HALL)  # watches the hall, changes nothing
    try:
        expect(hall.locator("#windows [data-window]")).to_have_count(5)
        expect(hall.locator("#notice-save")).to_be_disabled()
        expect(hall.locator("#dead")).to_contain_text("No failed messages")  # auditors may read the outbox
    finally:
        hall.close()
    hall = log_in(browser, api, "approver1", "/console/hall", HALL)
    try:
        expect(hall.locator("#dead")).to_contain_text("Not available to your role")
    finally:
        hall.close()
    page = log_in(browser, api, "clerk1", "/console?window=3")
    try:
        page.evaluate("sessionStorage.setItem('hall.staff.token', 'expired.or.forged')")
        page.keyboard.press("F1")  # the server answers 401: back to the login form
        expect(page.locator("#login-form")).to_be_visible()
        page.fill("#login-user", "clerk1")
        page.fill("#login-pass", PASSWORDS["clerk1"])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#win-title")).to_contain_text("3 号窗口")  # back at the same window
    finally:
        page.close()


def test_supervisor_sees_devices_alerts_and_failed_messages(api: Api, browser: Browser) -> None:
    # t1 follows a national arrangement that has no year at all: the view says so, once (the suite's halls
    # keep it off so that no test depends on the day it runs)
    cals = api.server.ctx.calendars
    own = cals["t1"]
    cals["t1"] = replace(own, national_years=frozenset())
    hall = log_in(browser, api, "admin", "/console/hall", HALL, clock=True)
    try:
        r = api.http.post("/api/v1/devices/health", json={"status": "ok"}, headers=api.auth(KIOSK))
        assert r.status_code == 200
        row = hall.locator("#devices tr[data-device='kiosk-t1']")
        expect(row).to_have_attribute("data-status", "ok")
        expect(hall.locator("#alerts")).not_to_contain_text("kiosk-t1")
        year = datetime.now(api.server.ctx.zones["t1"]).year
        expect(hall.locator("#alerts [data-alert='calendar']")).to_have_count(1)
        expect(hall.locator("#alerts [data-alert='calendar']")).to_contain_text(f"{year}")
        expect(hall.locator("#alerts [data-alert='calendar']")).to_contain_text("国务院放假安排")
        r = api.http.post(
            "/api/v1/devices/health", json={"status": "paper_out", "detail": "缺纸"}, headers=api.auth(KIOSK)
        )
        assert r.status_code == 200
        expect(row).to_have_attribute("data-status", "paper_out")
        expect(hall.locator("#alerts [data-alert='device:kiosk-t1']")).to_contain_text("缺纸")
        api.http.post("/api/v1/devices/health", json={"status": "ok"}, headers=api.auth(KIOSK))
        expect(row).to_have_attribute("data-status", "ok")
        seq = api.http.get("/api/v1/halls/t1/board").json()["seq"]
        expect(hall.locator("body")).to_have_attribute("data-seq", str(seq))  # the page has read the server's time
        hall.clock.fast_forward("04:00")  # no heartbeat for four minutes: offline
        expect(row).to_have_attribute("data-status", "offline")
        expect(hall.locator("#alerts [data-alert='device:kiosk-t1']")).to_contain_text("离线")

        for _ in range(3):  # queue A's alert_length is 3
            api.take("A", phone="13812345678")
        close_past_days(api.server.ctx)  # the housekeeping round that raises queue alerts
        expect(hall.locator("#alerts [data-alert='A:length']")).to_contain_text("排队过长")
        expect(hall.locator("#queues tr[data-queue=A]")).to_have_attribute("data-level", "bad")
        expect(hall.locator("#queues tr[data-queue=A] td.num").first).to_have_text("3")

        # the SMS gateway never answers: the "issued" messages die; the supervisor sees and retries them
        hall.clock.run_for(31_000)  # the page re-reads failed messages every 30 s
        dead = hall.locator("#dead tr[data-notification]")
        expect(dead).to_have_count(3, timeout=10_000)
        expect(hall.locator("#dead")).to_contain_text("138****5678")
        assert "13812345678" not in hall.locator("#dead").inner_text()
        dead.first.locator("button").click()
        expect(hall.locator("#flash")).to_contain_text("Requeued")
    finally:
        hall.close()
        cals["t1"] = own


def test_screenshots(api: Api, browser: Browser) -> None:
    """docs/screenshots/console-*.png: a busy morning at window 1 and the hall as a supervisor sees it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    appt = book_and_check_in(api, "张小三")
    page = log_in(browser, api, "clerk1", "/console?window=1")
    r = api.http.post("/api/v1/halls/t1/windows/1/call", json={"ticket_id": appt["id"]}, headers=api.auth("clerk1"))
    assert r.status_code == 200, r.text
    assert api.act(appt["id"], "start").status_code == 200
    for q, n in (("A", 9), ("B", 5), ("C", 6)):
        for i in range(n):
            api.take(q, lane="special" if (q, i) == ("A", 4) else "normal")
    for w, who in ((2, "clerk2"), (3, "clerk1"), (5, "clerk1")):
        api.http.post(f"/api/v1/halls/t1/windows/{w}/status", json={"status": "open"}, headers=api.auth(who))
        assert api.call_next(w, who=who).status_code == 200
    api.http.post(
        "/api/v1/halls/t1/windows/4/status",
        json={"status": "paused", "reason": "午休 Lunch"},
        headers=api.auth("clerk1"),
    )
    api.http.post(
        "/api/v1/devices/health", json={"status": "paper_low", "detail": "约剩 30 张"}, headers=api.auth(KIOSK)
    )
    api.http.post(
        "/api/v1/halls/t1/notice", json={"text": "本中心周六上午 9:00-12:00 提供延时服务"}, headers=api.auth("clerk1")
    )
    close_past_days(api.server.ctx)
    try:
        expect(page.locator("#current")).to_have_attribute("data-status", "serving")
        page.wait_for_timeout(1200)
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(SHOTS / "console-clerk.png"))
        page.keyboard.press("F6")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "console-transfer.png"))
    finally:
        page.close()
    picker = browser.new_page(viewport=CONSOLE)
    try:
        picker.goto(f"{api.server.url}/console")
        picker.screenshot(path=str(SHOTS / "console-login.png"))
    finally:
        picker.close()
    hall = log_in(browser, api, "admin", "/console/hall", HALL)
    try:
        hall.wait_for_timeout(1500)
        hall.screenshot(path=str(SHOTS / "console-hall.png"))
    finally:
        hall.close()
