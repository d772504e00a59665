"""秒批秒办 at the window: a case whose rules failed shows the clerk which rules and why (Chromium)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from ..cases.helpers import KIOSK, jpeg, post_case, submission
from ..harness import Api
from .test_console_cases import api, case_view, desk, done, open_by_number, server, shot

__all__ = ["api", "server"]  # the fixtures of the console-cases tests, for this module too

DISHONEST = "371002199001018025"  # on the simulated credit source's 失信 list (config/shared-data)


def test_the_clerk_sees_the_rules_a_submission_did_not_meet(api: Api, browser: Browser) -> None:
    body = submission(form={"business_name": "好运来食品店", "scope": "预包装食品销售"})
    body["applicant"] |= {"id_number": DISHONEST}
    r = post_case(api, body, [("file.id_card", ("id.jpg", jpeg(), "image/jpeg"))], who=KIOSK)
    assert r.status_code == 201 and r.json()["smart_approved"] is False, r.text
    page = desk(browser, api)
    try:
        open_by_number(page, r.json()["number"])
        sec = case_view(page).locator("section.smart-check")
        expect(sec.locator("h4")).to_contain_text("智能审批未通过（4/7 条规则）")
        expect(sec.locator("li")).to_have_count(4)
        expect(sec.locator("li[data-rule='credit']")).to_contain_text("失信被执行人")
        expect(sec.locator("li[data-rule='scope']")).to_contain_text("食品")
        expect(sec.locator("li[data-rule='premises']")).to_contain_text("未上传")
        expect(case_view(page).locator("button[data-outcome='accept']")).to_be_visible()  # never refused
        shot(page, "smart-failed")
    finally:
        done(page)
