"""网上申报 · 网上预审: the citizen's application page in headless Chromium at a phone's size (390×844), against a
live server on both databases whose citizens' messages go to a real SMS gateway on loopback (the phone's code
is read there). The citizen applies with the phone code; the clerk returns it with a notice; the citizen sees
the notice, fixes and resubmits; the clerk passes it; the citizen books a slot. An output item is ready at
once; a wrong code is told in words. Screenshots (web-apply-*.png) go to tests/harness.py shots_dir().
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from ..cases.helpers import ID_NUMBER, NAME, pdf, served
from ..cases.test_prereview import config, staff
from ..conftest import CI
from ..harness import LiveServer, shots_dir
from ..notify.conftest import Receiver

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
SHOTS = shots_dir()
if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    if CI:
        pytest.fail(f"{CHROMIUM} is required in CI", pytrace=False)
    pytest.skip("chromium is not installed (Debian package chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright  # noqa: E402

PHONE_SIZE: ViewportSize = {"width": 390, "height": 844}
PC: ViewportSize = {"width": 1280, "height": 800}
PHONE = "13912345600"
UPLOAD_MS = 30_000  # an upload is checked in worker processes: slow on a loaded machine


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver
) -> Iterator[LiveServer]:
    """One server per backend for the module (queue A takes bookings)."""
    yield from served(request.param, tmp_path_factory, "apply", config(gateway.url))


def jpeg_file(name: str, colour: tuple[int, int, int]) -> dict[str, Any]:
    """A real JPEG as Playwright's file payload."""
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(buf, "JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def open_page(browser: Browser, url: str, viewport: ViewportSize = PHONE_SIZE) -> Page:
    """A phone-sized page on `url`, ready; uncaught script errors fail the test."""
    page = browser.new_page(viewport=viewport, is_mobile=viewport is PHONE_SIZE, has_touch=True, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready]")
    page.__dict__["errors"] = errors
    return page


def shot(page: Page, name: str, full: bool = True) -> None:
    """A screenshot of the page (the whole length on a phone)."""
    page.screenshot(path=str(SHOTS / f"web-apply-{name}.png"), full_page=full)


def no_sideways(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]  # type: ignore[index]


def send_code(page: Page, gateway: Receiver, box: str = "#phone-box") -> None:
    """Type the phone, ask for the code, read it at the gateway and type it."""
    after = len(gateway.hits)
    page.fill(f"{box} [data-role=phone]", PHONE)
    page.click(f"{box} .send")
    expect(page.locator(f"{box} .send")).to_be_disabled()
    page.fill(f"{box} [data-role=code]", gateway.code_for(PHONE, after))


def submitted(page: Page, gateway: Receiver, name: str) -> tuple[str, str]:
    """Prove the phone, take the filled form's screenshot `name`, submit: the number and query code shown."""
    send_code(page, gateway)
    no_sideways(page)
    shot(page, name)
    page.click("#submit")
    expect(page.locator("#done")).to_be_visible(timeout=UPLOAD_MS)
    return page.locator("#done-number").inner_text(), page.locator("#done-code").inner_text()


def test_apply_return_fix_pass_and_book_on_a_phone(srv: LiveServer, gateway: Receiver, browser: Browser) -> None:
    page = open_page(browser, f"{srv.url}/cases/apply")
    try:
        expect(page.locator("#hall-name")).to_contain_text("测试政务服务中心")
        page.fill("#item-q", "gtgsh")  # 个体工商户 by its pinyin initials
        items = page.locator("#items button.item")
        expect(items).to_have_count(1)
        no_sideways(page)
        shot(page, "1-item", full=False)
        items.first.click()
        expect(page.locator("#item-head")).to_contain_text("个体工商户设立登记")
        page.locator("label.situation", has_text="经营者本人").click()
        expect(page.locator("#materials li.material")).to_have_count(3)
        premises = page.locator("li.material[data-material=premises]")
        expect(premises.locator(".tag.later")).to_be_visible()  # 容缺 and 告知承诺 are told
        expect(premises.locator(".tag.commit")).to_be_visible()
        expect(page.locator(".legend")).to_contain_text("受理后在期限内补交")
        page.fill("[data-field=business_name]", "小三")
        page.fill("[data-field=scope]", "日用百货零售")
        page.locator("li.material[data-material=application] input[type=file]").set_input_files(
            {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": pdf()}
        )
        page.locator("li.material[data-material=id_card] input[type=file]").set_input_files(
            jpeg_file("身份证.jpg", (200, 180, 40))
        )
        premises.locator("[data-later]").check()
        page.fill("#name", NAME)
        page.fill("#id-number", ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"))
        page.click("#submit")
        expect(page.locator("#error")).to_contain_text("校验位")  # the check character, before anything is sent
        page.fill("#id-number", ID_NUMBER)
        number, code = submitted(page, gateway, "2-form")
        assert len(number) == 13 and len(code) == 8
        shot(page, "3-submitted", full=False)

        clerk = staff_client(srv)
        view = clerk.get(f"/api/v1/cases/{number}").json()
        assert view["status"] == "prereview" and view["channel"] == "web" and view["phone_masked"] == "139****5600"
        assert sorted(m["material"] for m in view["materials"]) == ["application", "id_card"]
        fixes = [
            {"kind": "material", "code": "id_card", "problem": "身份证照片模糊，请重新拍摄"},
            {"kind": "field", "code": "business_name", "problem": "名称须有组织形式，如“店”"},
        ]
        r = clerk.post(f"/api/v1/cases/{number}/prereview/return", json={"fixes": fixes, "note": "其余材料齐全"})
        assert r.status_code == 200, r.text

        page.click("#done-open")
        expect(page.locator("body")).to_have_attribute("data-status", "prereview_returned")
        notice = page.locator("#fix ol.notice li")
        expect(notice).to_have_count(2)
        expect(notice.nth(0)).to_contain_text("身份证照片模糊")
        expect(page.locator("#fix .note")).to_contain_text("其余材料齐全")
        expect(page.locator("#fix [data-field=business_name]")).to_have_value("小三")
        no_sideways(page)
        shot(page, "4-returned")
        page.fill("#fix [data-field=business_name]", "小三日用百货店")
        page.locator("#fix li.material[data-material=id_card] input[type=file]").set_input_files(
            jpeg_file("身份证2.jpg", (30, 90, 200))
        )
        page.click("#fix button.primary")
        expect(page.locator("body")).to_have_attribute("data-status", "prereview", timeout=UPLOAD_MS)

        view = clerk.get(f"/api/v1/cases/{number}").json()
        assert [m["material"] for m in view["materials"]].count("id_card") == 2
        r = clerk.post(f"/api/v1/cases/{number}/prereview/pass", json={"note": "齐全"})
        assert r.status_code == 200 and r.json()["status"] == "prereview_passed"

        page.goto(f"{srv.url}/cases/apply?n={number}&p={code}")  # the link a text message could carry
        expect(page.locator("body")).to_have_attribute("data-status", "prereview_passed")
        slot = page.locator("#slots button.slot").first
        expect(slot).to_be_visible()
        shot(page, "5-passed")
        slot.click()
        expect(page.locator(".appointment")).to_contain_text("预约码")
        no_sideways(page)
        shot(page, "6-booked")
        assert clerk.get(f"/api/v1/cases/{number}").json()["appointment_code"]
        text = page.inner_text("body")
        assert ID_NUMBER not in text and PHONE not in text and NAME not in text  # masked on the page
        assert page.__dict__["errors"] == []
    finally:
        page.close()


def staff_client(srv: LiveServer) -> httpx.Client:
    """A clerk's client of the server."""
    c = httpx.Client(base_url=srv.url, timeout=30)
    c.headers.update(staff(c, "clerk1"))
    return c


def test_an_output_item_is_ready_at_once_and_a_wrong_code_is_told(
    srv: LiveServer, gateway: Receiver, browser: Browser
) -> None:
    page = open_page(browser, f"{srv.url}/cases/apply", PC)  # on a PC this time
    try:
        page.fill("#item-q", "异地就医")
        page.locator("#items button.item").first.click()
        expect(page.locator("#item-head")).to_contain_text("无须到窗口")
        page.locator("label.situation", has_text="异地长期居住").click()
        for m, colour in (("id_card", (10, 10, 10)), ("residence", (90, 90, 90))):
            page.locator(f"li.material[data-material={m}] input[type=file]").set_input_files(
                jpeg_file(f"{m}.jpg", colour)
            )
        page.fill("#name", NAME)
        page.fill("#id-number", ID_NUMBER)
        after = len(gateway.hits)
        page.fill("#phone-box [data-role=phone]", PHONE)
        page.click("#phone-box .send")
        right = gateway.code_for(PHONE, after)
        page.fill("#phone-box [data-role=code]", f"{(int(right) + 1) % 1_000_000:06d}")
        page.click("#submit")
        expect(page.locator("#error")).to_contain_text("验证码不正确")
        expect(page.locator("#done")).to_be_hidden()
        shot(page, "pc-wrong-code", full=False)
        page.fill("#phone-box [data-role=code]", right)
        page.click("#submit")
        expect(page.locator("#done")).to_be_visible(timeout=UPLOAD_MS)
        number = page.locator("#done-number").inner_text()
        r = staff_client(srv).post(f"/api/v1/cases/{number}/prereview/pass", json={})
        assert r.status_code == 200 and r.json()["status"] == "result_ready"
        page.click("#done-open")
        expect(page.locator("body")).to_have_attribute("data-status", "result_ready")
        expect(page.locator("#case .good")).to_contain_text("办理结果已可领取")
        shot(page, "pc-output", full=False)
        assert page.__dict__["errors"] == []
    finally:
        page.close()
