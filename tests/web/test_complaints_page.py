"""投诉受理 (/console/complaints) in headless Chromium, on both databases: a complaint from the kiosk to closure.

The kiosk posts the complaint as it does (HTTP with its token); the supervisor (approver) routes it to a
clerk, the clerk sees only what is routed to them and answers, the supervisor closes it; the answer
reaches the complainant's phone through the outbox, masked for staff. Deadlines are working days of the
hall's calendar and overdue complaints come first. Screenshots at 1366×768 and the reflow when narrower.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import update

from kiosk.client import KioskClient
from queue_server.feedback.models import Complaint

from ..harness import KIOSK, Api, LiveServer
from .test_console import CONSOLE, SHOTS, log_in
from .test_desk import desk_server, fits, shot

__all__ = ["desk_server"]  # fixtures used here

SH = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"
ANSWER = "经核实，窗口人员已批评教育并整改，感谢您的监督。"


@pytest.fixture
def api(desk_server: LiveServer) -> Iterator[Api]:
    """A client of the module's server, whose database was just emptied."""
    desk_server.reset()
    client = Api(desk_server)
    yield client
    client.close()


def complain(api: Api, content: str, *, kiosk: bool, phone: str = "") -> dict[str, object]:
    """File a complaint as the kiosk does (its own client, token and Idempotency-Key), or anonymously on the web."""
    if kiosk:
        client = KioskClient(api.server.url, "t1", KIOSK)
        try:
            return client.file_complaint(category="service", content=content, phone=phone, key=str(uuid4()))
        finally:
            client.close()
    r = api.http.post("/api/v1/halls/t1/complaints", json={"category": "facility", "content": content})
    assert r.status_code == 201, r.text
    return dict(r.json())


def listed(api: Api, who: str) -> list[dict[str, object]]:
    r = api.http.get("/api/v1/halls/t1/complaints", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return list(r.json())


def test_a_kiosk_complaint_to_closure(
    api: Api, browser: Browser, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    mine = complain(api, "3号窗口工作人员态度生硬，没有一次性告知所需材料。", kiosk=True, phone=PHONE)
    old = complain(api, "大厅空调太冷，等候区座位不够。", kiosk=False)  # anonymous, from the web
    day = datetime.now(SH).date() - timedelta(days=1)
    while day.weekday() >= 5:  # the web complaint's deadline was the last working day: it is overdue now
        day -= timedelta(days=1)
    due = datetime.combine(day, time(17, 0), tzinfo=SH)
    with api.server.ctx.db.write() as s:
        s.execute(update(Complaint).where(Complaint.code == old["code"]).values(deadline=due))
    rows = listed(api, "approver1")
    assert [r["code"] for r in rows] == [old["code"], mine["code"]]  # overdue first
    fresh = rows[1]
    assert date.fromisoformat(str(fresh["deadline_day"])).weekday() < 5  # a working day, never a weekend
    assert fresh["working_days_left"] == 5 and fresh["reply_via"] == "sms" and fresh["phone_masked"] == "138****5678"

    boss = log_in(browser, api, "approver1", "/console/complaints")
    clerk = None
    try:
        boss.wait_for_selector("body[data-loaded='2']")
        items = boss.locator("#cp-list li[data-code]")
        expect(items).to_have_count(2)
        expect(items.first).to_have_attribute("data-code", str(old["code"]))
        expect(items.first).to_contain_text("已逾期")
        expect(boss.locator("#cp-summary")).to_contain_text("逾期 1")
        for weekend in ("周六", "周日"):
            expect(items.nth(1)).not_to_contain_text(weekend)

        boss.locator(f"#cp-list li[data-code='{mine['code']}']").click()
        detail = boss.locator("#cp-detail")
        expect(detail).to_contain_text("自助终端")  # filed at the kiosk
        expect(detail).to_contain_text("138****5678")
        expect(detail).to_contain_text("答复以短信发送至 138****5678")
        boss.select_option("#cp-handler", "clerk1")
        boss.click("#cp-assign")
        expect(detail).to_have_attribute("data-status", "assigned")
        expect(boss.locator("#cp-detail")).to_contain_text("clerk1")

        clerk = log_in(browser, api, "clerk1", "/console/complaints")  # the assignee sees only their own
        clerk.wait_for_selector("body[data-loaded='1']")
        expect(clerk.locator("#cp-list li[data-code]")).to_have_count(1)
        expect(clerk.locator("#cp-assign")).to_have_count(0)  # routing is the supervisor's
        clerk.fill("#cp-answer-text", ANSWER)
        clerk.click("#cp-answer")
        expect(clerk.locator("#cp-detail")).to_have_attribute("data-status", "answered")
        expect(clerk.locator("#cp-close")).to_have_count(0)

        expect(detail).to_have_attribute("data-status", "answered")  # the supervisor's page follows the stream
        expect(detail.locator(".cp-answer")).to_have_text(ANSWER)
        boss.click("#cp-close")
        expect(detail).to_have_attribute("data-status", "closed")
        boss.click("#cp-filters button[data-filter='closed']")
        expect(boss.locator("#cp-list li[data-code]")).to_have_count(1)
        boss.click("#cp-filters button[data-filter='open']")
        boss.locator(f"#cp-list li[data-code='{old['code']}']").click()
        expect(detail).to_contain_text("查询码")  # anonymous: read with the reference and query code
        boss.screenshot(path=str(SHOTS / shot("console-complaints", backend)))
        width, inner_w, height, inner_h = fits(boss)
        assert width <= inner_w and height <= inner_h, (width, inner_w, height, inner_h)
        boss.set_viewport_size({"width": 900, "height": 900})
        width, inner_w, _h, _ih = fits(boss)
        assert width <= inner_w, (width, inner_w)
        boss.screenshot(path=str(SHOTS / shot("console-complaints-narrow", backend)), full_page=True)
        boss.set_viewport_size(CONSOLE)
    finally:
        boss.close()
        if clerk is not None:
            clerk.close()

    # the complainant gets the answer on the phone they left: in the outbox, masked for staff
    sent = api.http.get("/api/v1/halls/t1/notifications", headers=api.auth("clerk1")).json()
    reply = [n for n in sent if n["kind"] == "feedback_reply"]
    assert len(reply) == 1 and reply[0]["phone"] == "138****5678" and ANSWER in reply[0]["text"]
    status = api.http.get(f"/api/v1/complaints/{mine['code']}", params={"proof": mine["query_code"]}).json()
    assert status["status"] == "closed" and status["answer"] == ANSWER
    server_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))  # not ours
    assert "notify" in server_log  # the outbox's sender logged the message it sent (log provider) …
    assert PHONE not in server_log and str(mine["query_code"]) not in server_log  # … without the phone or the proof


def test_who_sees_complaints(api: Api, browser: Browser) -> None:
    complain(api, "取号机打印不清楚，看不清号码。", kiosk=True)
    assert len(listed(api, "auditor1")) == 1  # supervisors see every complaint
    assert listed(api, "clerk1") == []  # a clerk only those routed to them
    page = log_in(browser, api, "auditor1", "/console/complaints")
    try:
        page.wait_for_selector("body[data-loaded='1']")
        page.locator("#cp-list li[data-code]").click()
        expect(page.locator("#cp-detail")).to_contain_text("Auditors read only")
        expect(page.locator("#cp-assign")).to_have_count(0)
        expect(page.locator("#cp-answer")).to_have_count(0)
    finally:
        page.close()
    page = log_in(browser, api, "clerk1", "/console/complaints")
    try:
        page.wait_for_selector("body[data-loaded='0']")
        expect(page.locator("#cp-list")).to_contain_text("没有投诉")
        expect(page.locator("#cp-scope")).to_contain_text("Only complaints routed to you")
    finally:
        page.close()
    handlers = api.http.get("/api/v1/halls/t1/complaint-handlers", headers=api.auth("approver1")).json()
    assert {h["role"] for h in handlers} <= {"clerk", "approver", "admin"} and "auditor1" not in str(handlers)
