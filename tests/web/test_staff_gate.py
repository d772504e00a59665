"""The staff pages' login form and fatal box come from login.js: each page's HTML holds one placeholder, and
in Chromium every page shows the form titled after the page, signs in with it, and the fatal box's 退出登录
leads back to the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from ..harness import PASSWORDS, Api
from .test_console import CONSOLE, SHOTS

PAGES = [  # path, title (the page's <title>), who signs in, what shows once signed in
    ("/console", "窗口叫号台", "clerk1", "#desk:visible, #picker:visible"),
    ("/console/hall", "大厅监控", "approver1", "#hall"),
    ("/console/cases", "办件审批与出件", "approver1", "#bo"),
    ("/console/desk", "总服务台", "clerk1", "#hall"),
    ("/console/complaints", "投诉受理", "approver1", "#hall"),
    ("/console/reports", "统计分析", "approver1", "#main"),
]


@pytest.mark.parametrize(("path", "title", "user", "shown"), PAGES)
def test_every_staff_page_draws_the_one_login_form(
    api: Api, browser: Browser, path: str, title: str, user: str, shown: str
) -> None:
    html = api.http.get(path).text
    assert html.count('id="staff-gate"') == 1 and "login-form" not in html and 'id="fatal"' not in html
    page = browser.new_page(viewport=CONSOLE)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{api.server.url}{path}")
        form = page.locator("#login-form")
        expect(form).to_be_visible()
        expect(form.locator("h1")).to_contain_text(title)
        expect(page.locator("#fatal")).to_be_hidden()
        expect(page.locator("#staff-gate")).to_have_count(0)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"login{path.removeprefix('/console').replace('/', '-')}.png"))
        page.fill("#login-user", user)
        page.fill("#login-pass", "wrong-password")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-error")).not_to_be_empty()
        page.fill("#login-pass", PASSWORDS[user])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login")).to_be_hidden()
        expect(page.locator(shown).first).to_be_visible()
        assert errors == []
    finally:
        page.close()


def test_the_fatal_box_logs_out_to_the_form(api: Api, browser: Browser) -> None:
    page = browser.new_page(viewport=CONSOLE)
    try:
        page.goto(f"{api.server.url}/console/desk")
        page.fill("#login-user", "auditor1")  # the general desk is for clerks
        page.fill("#login-pass", PASSWORDS["auditor1"])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#fatal-text")).to_contain_text("auditor")
        page.click("#fatal-logout")
        expect(page.locator("#login-form")).to_be_visible()
        expect(page.locator("#fatal")).to_be_hidden()
    finally:
        page.close()
