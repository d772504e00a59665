"""The public case-query page (办件查询) in headless Chromium against the live server."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from ..harness import Api
from .helpers import ID_NUMBER, NAME, act, new_case


def test_query_shows_the_masked_timeline(browser: Browser, api: Api) -> None:
    c = new_case(api)
    assert act(api, c["number"], "accept").status_code == 200
    page = browser.new_page()
    page.goto(f"{api.server.url}/cases/query")
    page.wait_for_selector("body[data-ready]")
    page.fill("#number", c["number"].lower())
    page.fill("#proof", ID_NUMBER[-4:])
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-status=accepted]")
    expect(page.locator("#status")).to_have_text("已受理 / Accepted")
    expect(page.locator("#timeline li")).to_have_count(2)
    expect(page.locator("#light")).to_have_class("light red")  # 1-day limit: due tomorrow at the latest
    body = page.inner_text("body")
    assert "个体工商户设立登记" in body and NAME not in body and ID_NUMBER not in body
    page.fill("#proof", "0000")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-status=error]")
    expect(page.locator("#error")).to_have_text("办件编号或查询码不正确 / Wrong case number or query code")
    assert page.locator("#result").is_hidden()
    # The link printed on the receipt fills the form and asks at once.
    page.goto(f"{api.server.url}/cases/query?n={c['number']}&p={c['query_token']}")
    page.wait_for_selector("body[data-status=accepted]")
    page.close()
