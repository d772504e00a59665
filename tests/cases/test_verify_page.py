"""The certificate verification page (/verify/<code>, the QR code on a 电子证照) in headless Chromium."""

from __future__ import annotations

from ..harness import Api, shots_dir
from .helpers import NAME
from .test_certificates import approved

SHOTS = shots_dir()  # a temporary folder unless HALL_SHOTS_DIR says (tests/harness.py)


from playwright.sync_api import Browser, expect  # noqa: E402


def test_verify_page_valid_revoked_unknown(browser: Browser, api: Api) -> None:
    view = approved(api)
    code = view["certificates"][0]["code"]
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone that scanned the QR code
    r = page.goto(f"{api.server.url}/verify/{code}")
    assert r is not None and "script-src 'self'" in r.headers["content-security-policy"]
    page.wait_for_selector("body[data-status=valid]")
    expect(page.locator("#badge")).to_have_text("有效 / Valid")
    expect(page.locator("#name")).to_contain_text("个体工商户营业执照")
    body = page.inner_text("body")
    assert NAME not in body and view["number"] not in body and NAME[0] in page.inner_text("#holder")
    page.screenshot(path=str(SHOTS / "verify-valid.png"), full_page=True)
    reason = "以欺骗手段取得登记 / obtained by deception"
    r2 = api.http.post(f"/api/v1/certificates/{code}/revoke", json={"reason": reason}, headers=api.auth("approver1"))
    assert r2.status_code == 200, r2.text
    page.reload()
    page.wait_for_selector("body[data-status=revoked]")
    expect(page.locator("#badge")).to_have_text("已吊销 / Revoked")
    expect(page.locator("#reason")).to_have_text(reason)
    page.screenshot(path=str(SHOTS / "verify-revoked.png"), full_page=True)
    page.goto(f"{api.server.url}/verify/{'Z' * 32}")
    page.wait_for_selector("body[data-status=unknown]")
    expect(page.locator("#badge")).to_have_text("未找到此证照 / Unknown certificate")
    assert page.locator("#detail").is_hidden()
    page.screenshot(path=str(SHOTS / "verify-unknown.png"), full_page=True)
    page.close()
