"""The citizen's tracking page in headless Chromium at a phone's size (390×844), against the live server on both
databases: from the kiosk's answer to its `track_url`, live through the call (no reload), the rating of the
finished service, and the cancel of another ticket. Screenshots of each state go to tests/harness.py shots_dir()."""

from __future__ import annotations

import time
import uuid
from typing import Any

from playwright.sync_api import Browser, Page, ViewportSize, expect

from ..harness import KIOSK, Api
from .test_board import SHOTS

PHONE: ViewportSize = {"width": 390, "height": 844}
CALL_WITHIN_MS = 2000  # the promise: the window on the phone within 2 s of the call
# Vibrations are recorded (headless Chromium has no motor); a marker tells a reload from a live update.
SPY = "window.__vibrations = []; navigator.vibrate = (p) => { window.__vibrations.push(p); return true; };"


def kiosk_takes(api: Api, queue: str, **body: Any) -> dict[str, Any]:
    """Take a number as the kiosk does: its device token and an idempotency key; the answer."""
    headers = api.auth(KIOSK) | {"Idempotency-Key": uuid.uuid4().hex}
    r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": queue, "channel": "kiosk", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def open_page(chromium: Browser, url: str) -> Page:
    """A phone-sized page on `url`, ready (its first state shown), marked to notice a reload."""
    page = chromium.new_page(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale="zh-CN")
    page.add_init_script(SPY)
    page.goto(url)
    page.wait_for_selector("body[data-ready]")
    page.evaluate("window.__same_page = true")
    return page


def shot(page: Page, name: str) -> None:
    """A screenshot of the phone's screen."""
    page.screenshot(path=str(SHOTS / f"track-{name}.png"))


def test_follow_call_rate_and_cancel_from_the_phone(browser: Browser, api: Api) -> None:
    first = kiosk_takes(api, "A")
    mine = kiosk_takes(api, "A", phone="13912345678")
    assert mine["track_url"] == f"{api.server.url}/track/{mine['track_token']}"
    api.http.post("/api/v1/halls/t1/notice", json={"text": "今日 12:00-13:00 不午休"}, headers=api.auth("clerk1"))
    page = open_page(browser, mine["track_url"])
    try:
        expect(page.locator("#number")).to_have_text(mine["number"])
        expect(page.locator("#queue-name")).to_have_text("市场准入")
        expect(page.locator("#headline")).to_have_text("前面还有 1 人")
        expect(page.locator("#headline-en")).to_have_text("1 person ahead of you")
        expect(page.locator("#detail")).to_contain_text("预计等候约")
        expect(page.locator("#notice")).to_have_text("今日 12:00-13:00 不午休")
        expect(page.locator("#cancel")).to_be_visible()
        text = page.inner_text("body")
        for personal in ("13912345678", "5678", "139****"):
            assert personal not in text
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        shot(page, "waiting")

        assert api.call_next(1).json()["id"] == first["id"]  # the one ahead is called: nobody ahead now
        expect(page.locator("#headline")).to_have_text("下一位就是您")
        assert api.act(first["id"], "complete").status_code == 200
        assert api.call_next(1).json()["id"] == mine["id"]
        called = time.monotonic()
        expect(page.locator("#headline")).to_have_text("请到 1 号窗口", timeout=CALL_WITHIN_MS)
        shown_after = time.monotonic() - called
        expect(page.locator("#headline-en")).to_have_text("Please go to window 1")
        assert page.evaluate("window.__same_page") is True, "the page reloaded"
        expect(page.locator("body")).to_have_attribute("data-alerts", "1")
        assert page.evaluate("window.__vibrations.length") == 1
        expect(page.locator("#cancel-box")).to_be_hidden()
        assert page.title().startswith("请到 1 号窗口")
        page.wait_for_selector("#state:not(.flash)")  # the flash of the call is over
        shot(page, "called")
        print(f"the call reached the page {shown_after * 1000:.0f} ms after the clerk's call answered")

        assert api.act(mine["id"], "recall").status_code == 200
        expect(page.locator("#detail")).to_contain_text("再次呼叫")
        expect(page.locator("body")).to_have_attribute("data-alerts", "2")

        assert api.act(mine["id"], "complete").status_code == 200
        expect(page.locator("#headline")).to_have_text("办理完成")
        expect(page.locator("#rate")).to_be_visible()
        page.click("#levels button[data-level='5']")
        page.click("#reasons button[data-reason='friendly']")
        page.fill("#rate-comment", "很耐心")
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "done-rating")
        page.click("#rate-submit")
        expect(page.locator("#rate-result")).to_contain_text("感谢")
        expect(page.locator("#detail")).to_have_text("已评价，感谢您的反馈")  # the stream says: evaluated
        expect(page.locator("#rate-submit")).to_be_hidden()
        shot(page, "rated")
        stored = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("auditor1")).json()
        assert [(e["ticket_number"], e["level"], e["reasons"], e["comment"], e["channel"]) for e in stored] == [
            (mine["number"], 5, ["friendly"], "很耐心", "web")
        ]
        assert page.evaluate("window.__same_page") is True, "the page reloaded"
    finally:
        page.close()

    other = kiosk_takes(api, "B")
    page = open_page(browser, other["track_url"])
    try:
        expect(page.locator("#headline")).to_have_text("下一位就是您")
        page.click("#cancel")
        expect(page.locator("#confirm")).to_be_visible()
        shot(page, "cancel-confirm")
        page.click("#confirm-yes")
        expect(page.locator("#headline")).to_have_text("已取消")
        expect(page.locator("#cancel-box")).to_be_hidden()
        shot(page, "cancelled")
        staff = api.http.get(f"/api/v1/tickets/{other['id']}", headers=api.auth("clerk1")).json()
        assert staff["status"] == "cancelled"
    finally:
        page.close()


def test_a_missed_ticket_shows_the_rejoin_rule_and_an_unknown_link_says_so(
    browser: Browser,
    api: Api,
) -> None:
    t = kiosk_takes(api, "C")
    page = open_page(browser, t["track_url"])
    try:
        assert api.call_next(3).json()["id"] == t["id"]
        expect(page.locator("#headline")).to_have_text("请到 3 号窗口")
        assert api.act(t["id"], "no-show").status_code == 200
        expect(page.locator("#headline")).to_have_text("已过号")
        expect(page.locator("#rule-text")).to_contain_text("总服务台")
        expect(page.locator("#rule-text-en")).to_contain_text("information desk")
        shot(page, "missed")
    finally:
        page.close()
    page = open_page(browser, f"{api.server.url}/track/no-such-ticket")
    try:
        expect(page.locator("#headline")).to_have_text("没有这张票")
        expect(page.locator("#cancel-box")).to_be_hidden()
    finally:
        page.close()
