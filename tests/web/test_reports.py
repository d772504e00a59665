"""The reports page (统计分析) in headless Chromium: sign in, charts drawn, the table matches the API, export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from ..feedback import dataset
from ..feedback.helpers import evaluate, served
from ..harness import DISPLAY, Api
from .test_board import SHOTS

CANVAS_INK = """(id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
  return ink;
}"""


def sign_in(browser: Browser, api: Api, user: str = "approver1", password: str = "approver1-pass") -> Page:
    page = browser.new_page(viewport={"width": 1440, "height": 1400}, locale="zh-CN")
    page.goto(f"{api.server.url}/console/reports")
    page.fill("#login-user", user)
    page.fill("#login-pass", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-loaded]", timeout=15_000)
    return page


def set_range(page: Page, start: str, end: str, group: str) -> None:
    before = page.get_attribute("body", "data-loaded")
    page.fill("#from", start)
    page.fill("#to", end)
    page.select_option("#group", group)
    page.dispatch_event("#to", "change")
    page.wait_for_selector(f"body:not([data-loaded='{before}'])")  # a selector, not script: the page's CSP forbids eval
    page.wait_for_timeout(300)  # the later of the change events' refreshes


def test_charts_and_table_match_the_api(browser: Browser, api: Api) -> None:
    day = dataset.today() - timedelta(days=3)
    dataset.load(api, day)
    t = served(api, window=1)
    evaluate(api, ticket_id=t["id"], level=1)  # an open follow-up today
    page = sign_in(browser, api)
    try:
        expect(page.locator("#card-open dd[data-key=followups_open]")).to_have_text("1")
        expect(page.locator("#followups tbody tr")).to_have_count(1)
        set_range(page, day.isoformat(), day.isoformat(), "window")
        data = api.http.get(
            "/api/v1/halls/t1/reports/summary",
            params={"from": day.isoformat(), "group": "window"},
            headers=api.auth("approver1"),
        ).json()
        rows = page.locator("#summary tbody tr")
        expect(rows).to_have_count(len(data["rows"]))
        for i, r in enumerate(data["rows"]):
            cells = rows.nth(i)
            expect(cells.locator("td[data-field=tickets]")).to_have_text(str(r["tickets"]))
            mean = "—" if r["wait_mean_s"] is None else f"{r['wait_mean_s'] / 60:.1f}"
            expect(cells.locator("td[data-field=wait_mean_s]")).to_have_text(mean)
        expect(page.locator("#summary tfoot td[data-field=tickets]")).to_have_text("6")
        # 好评率 (非常满意, 满意, 基本满意) and 差评率 (不满意, 非常不满意) beside the detail by level
        expect(page.locator("#summary tfoot td[data-field=good_rate]")).to_have_text("50.0%")
        expect(page.locator("#summary tfoot td[data-field=bad_rate]")).to_have_text("50.0%")
        expect(page.locator("#summary tfoot td[data-field=levels]")).to_have_text("1 / 0 / 0 / 1 / 0")
        expect(page.locator("#summary tbody tr").last).to_contain_text("未叫号")  # not a blank key
        for canvas in ("chart-queue", "chart-hours", "chart-windows", "chart-satisfaction"):
            assert page.evaluate(CANVAS_INK, canvas) > 500, canvas
        with page.expect_download() as dl:
            page.click("#csv")
        path = dl.value.path()
        assert path is not None
        text = Path(path).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("分组 / Group") and "合计 / Total" in text
    finally:
        page.close()


def test_a_clerk_sees_their_own_figures(browser: Browser, api: Api) -> None:
    mine = [served(api, window=1), served(api, window=1)]
    assert evaluate(api, ticket_id=mine[0]["id"], level=3).status_code == 201  # 基本满意: a good rating
    assert evaluate(api, ticket_id=mine[1]["id"], level=1).status_code == 201  # 非常不满意: a bad one
    served(api, window=2, who="clerk2")  # a colleague's: not in clerk1's figures
    own = api.http.get("/api/v1/halls/t1/reports/mine", headers=api.auth("clerk1")).json()
    assert own["clerk"] == "clerk1"
    for part in ("today", "week"):
        f = own[part]["figures"]
        assert (f["served"], f["evaluations"], f["good_rate"], f["bad_rate"]) == (2, 2, 0.5, 0.5), part
        assert f["service_mean_s"] is not None and f["levels"]["3"] == 1 and f["levels"]["1"] == 1
    assert (
        api.http.get("/api/v1/halls/t1/reports/mine", headers=api.auth("clerk2")).json()["today"]["figures"]["served"]
        == 1
    )
    assert api.http.get("/api/v1/halls/t1/reports/summary", headers=api.auth("clerk1")).status_code == 403
    page = browser.new_page()
    try:
        page.goto(f"{api.server.url}/console/reports")
        page.fill("#login-user", "clerk1")
        page.fill("#login-pass", "clerk1-pass")
        page.click("#login-form button[type=submit]")
        box = page.locator("#clerk-only")
        expect(box).to_be_visible(timeout=10_000)
        expect(page.locator("#mine-today dd[data-key=served]")).to_have_text("2")
        expect(page.locator("#mine-today dd[data-key=evaluations]")).to_have_text("2")
        expect(page.locator("#mine-today dd[data-key=good_rate]")).to_have_text("50.0%")
        expect(page.locator("#mine-week dd[data-key=bad_rate]")).to_have_text("50.0%")
        expect(page.locator("#mine-today dd[data-key=service_mean_s]")).to_contain_text("分")
        expect(page.locator("#mine-today-levels")).to_contain_text("基本满意 1")
        expect(box).to_contain_text("您本人")
        expect(page.locator("#main")).to_be_hidden()
        page.screenshot(path=str(SHOTS / "reports-clerk.png"))
    finally:
        page.close()


def test_screenshot_of_a_month(browser: Browser, api: Api) -> None:
    dataset.load_demo(api)
    for level, window in ((1, 1), (2, 3)):
        t = served(api, window=window, queue="A" if window == 1 else "C")
        assert evaluate(api, who=DISPLAY, ticket_id=t["id"], level=level, reasons=["slow"]).status_code == 201
    page = sign_in(browser, api)
    try:
        end = dataset.today() - timedelta(days=1)
        set_range(page, (end - timedelta(days=29)).isoformat(), end.isoformat(), "window")
        for canvas in ("chart-queue", "chart-hours", "chart-windows", "chart-satisfaction"):
            assert page.evaluate(CANVAS_INK, canvas) > 500, canvas
        page.locator("#to").blur()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "reports-month.png"), full_page=True)
    finally:
        page.close()
