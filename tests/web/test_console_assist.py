"""The 帮办代办 ledger page (/console/assist) in Chromium: a clerk records a case; the month's table,
statistics, key projects and an Excel export."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook  # type: ignore[import-untyped]
from playwright.sync_api import Browser, expect

from ..harness import PASSWORDS, Api
from .test_console_cases import SHOTS, api, server

__all__ = ["api", "server"]  # the fixtures of the console-cases tests, for this module too


def test_a_clerk_records_and_exports_the_ledger(api: Api, browser: Browser, tmp_path: Path) -> None:
    month = date.today().strftime("%Y-%m")
    auth = api.auth("clerk1")
    r = api.http.post(
        "/api/v1/halls/t1/assist/projects",
        json={"name": "精密制造厂房建设", "organisation": "某精密制造公司"},
        headers=auth,
    )
    pid = r.json()["id"]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    for name, due in (("立项备案", yesterday), ("施工许可", "2099-12-31")):
        api.http.post(f"/api/v1/assist/projects/{pid}/milestones", json={"name": name, "due": due}, headers=auth)
    body = {"kind": "proxy", "person": "赵建国", "organisation": "某精密制造公司", "minutes": 40, "outcome": "done"}
    assert api.http.post("/api/v1/halls/t1/assist/records", json=body | {"project_id": pid}, headers=auth).is_success
    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{api.server.url}/console/assist")
        page.fill("#login-user", "clerk1")
        page.fill("#login-pass", PASSWORDS["clerk1"])
        page.click("#login-form button[type=submit]")
        page.wait_for_selector(f"body[data-loaded='{month}']")
        expect(page.locator("#as-table tbody tr")).to_have_count(1)
        form = page.locator("#as-add")
        form.locator("select[name=kind]").select_option("assist")
        form.locator("input[name=person]").fill("李秀英")
        form.locator("input[name=item]").fill("SBYB-SBK-001")
        form.locator("input[name=minutes]").fill("12")
        form.locator("select[name=outcome]").select_option("advice")
        form.locator("button[type=submit]").click()
        expect(page.locator("#as-table tbody tr")).to_have_count(2)
        table = page.inner_text("#as-table")
        assert "李*英" in table and "李秀英" not in table and "赵*国" in table and "社会保障卡申领" in table
        expect(page.locator("#as-stats")).to_contain_text("52")  # minutes in total
        expect(page.locator("#as-projects .as-late")).to_contain_text("立项备案")  # due yesterday, not reached
        page.screenshot(path=str(SHOTS / "console-assist-ledger.png"), full_page=True)
        with page.expect_download() as dl:
            page.click("#export-xlsx")
        target = tmp_path / "ledger.xlsx"
        dl.value.save_as(target)
        wb = load_workbook(target)
        assert wb.worksheets[0].max_row == 3 and wb.sheetnames[1] == f"统计 {month}"
        assert errors == []
    finally:
        page.close()
