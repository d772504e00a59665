"""The public feedback page in headless Chromium: rate a ticket by its link, file and follow a complaint."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from ..feedback.helpers import served
from ..harness import Api
from .test_board import SHOTS


def test_rate_online_then_complain_and_follow(browser: Browser, api: Api) -> None:
    t = served(api, window=1)
    page = browser.new_page(viewport={"width": 480, "height": 1100}, locale="zh-CN")
    try:
        page.goto(f"{api.server.url}/feedback/t1?t={t['track_token']}")
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#rate-number")).to_have_text(str(t["number"]))
        page.click("#levels button[data-level='4']")
        page.click("#reasons button[data-reason='clear']")
        page.fill("#rate-comment", "讲解很耐心")
        page.click("#rate-submit")
        expect(page.locator("#rate-result")).to_contain_text("感谢")
        page.click("#rate-submit", force=True)  # disabled now: one rating per service
        stored = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("auditor1")).json()
        assert [(e["level"], e["reasons"], e["comment"], e["channel"]) for e in stored] == [
            (4, ["clear"], "讲解很耐心", "web")
        ]
        page.select_option("#category", "facility")
        page.fill("#content", "二楼饮水机坏了两天")
        page.uncheck("#anonymous")
        page.fill("#name", "李四")
        page.fill("#phone", "13600002222")
        page.screenshot(path=str(SHOTS / "feedback-public.png"), full_page=True)
        page.click("#complaint-form button[type=submit]")
        expect(page.locator("#complaint-result")).to_contain_text("TS")
        code = page.get_attribute("#complaint-result", "data-code")
        assert code
        rows = api.http.get("/api/v1/halls/t1/complaints", headers=api.auth("approver1")).json()
        assert [(c["code"], c["category"], c["name_masked"], c["phone_masked"]) for c in rows] == [
            (code, "facility", "李*", "136****2222")
        ]
        proof = page.get_attribute("#complaint-result", "data-proof")
        assert proof and proof in (page.text_content("#complaint-result") or "")
        page.fill("#code", code)
        page.fill("#proof", "0000")  # not the phone's last four: nothing is shown
        page.click("#lookup-form button[type=submit]")
        expect(page.locator("#lookup-result")).to_contain_text("Wrong complaint reference or query code")
        page.fill("#proof", proof)
        page.click("#lookup-form button[type=submit]")
        expect(page.locator("dd[data-field=status]")).to_have_text("已提交 / Submitted")
    finally:
        page.close()
