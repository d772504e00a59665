"""总服务台 (/console/desk) in headless Chromium, on both databases: a full day of the desk.

A walk-in ticket with the card reader (it types the ID number like a keyboard) and a QR to print, a
hotline booking checked in, a missed call put back in its queue, a home visit requested — every step
checked against the API as well, and the page's fit at 1366×768 and its reflow when narrower.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from queue_server.ids import make_id_number

from ..api.test_console_api import console_config
from ..api.test_desk_api import desk_config
from ..harness import KIOSK, Api, LiveServer, fresh_database, runtime, serving
from .test_console import CONSOLE, SHOTS, browser, log_in

__all__ = ["browser"]  # fixture used here

PHONE = "13812345678"
WALKIN_ID = make_id_number(birth=date(1950, 3, 4), serial=21)  # a senior: the server puts them in lane special
CALLER_ID = make_id_number(birth=date(1988, 5, 6), serial=22)
SENIOR_ID = make_id_number(birth=date(1941, 7, 8), serial=23)


@pytest.fixture(scope="module")
def desk_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on this backend with appointments in queue A (console_config)."""
    tmp = tmp_path_factory.mktemp(f"desk-{backend}")
    cfg = desk_config(tmp, base=console_config(tmp))
    with serving(runtime(fresh_database(backend, tmp, name="desk"), tmp / "var", config=cfg), heartbeat_s=1.0) as srv:
        yield srv


@pytest.fixture
def api(desk_server: LiveServer) -> Iterator[Api]:
    """A client of the module's server, whose database was just emptied."""
    desk_server.reset()
    client = Api(desk_server)
    yield client
    client.close()


def open_desk(browser: Browser, api: Api, user: str = "clerk1") -> Page:
    page = log_in(browser, api, user, "/console/desk")
    page.wait_for_selector("body[data-ready]", timeout=10_000)
    return page


def shot(name: str, backend: str) -> str:
    """A screenshot's file name: the published one on SQLite, suffixed with the backend otherwise."""
    return f"{name}.png" if backend == "sqlite" else f"{name}-{backend}.png"


def fits(page: Page) -> tuple[int, int, int, int]:
    """(scrollWidth, innerWidth, scrollHeight, innerHeight) of the page."""
    dims = page.evaluate(
        "[document.documentElement.scrollWidth, innerWidth, document.documentElement.scrollHeight, innerHeight]"
    )
    return int(dims[0]), int(dims[1]), int(dims[2]), int(dims[3])


def test_a_full_day_at_the_general_desk(api: Api, browser: Browser, backend: str) -> None:
    page = open_desk(browser, api)
    try:
        # 1. a walk-in: domain C, the ID card read by the desk's reader (it types like a keyboard), a phone
        page.click("#walkin-queues button[data-queue='C']")
        page.click("#walkin-id")
        page.keyboard.type(WALKIN_ID)
        page.fill("#walkin-phone", PHONE)
        page.click("#walkin-take")
        number = page.locator("#issued .fd-ticket-number")
        expect(number).to_have_text("C001")
        expect(page.locator("#issued .fd-ticket-domain")).to_contain_text("社会事务")
        expect(page.locator("#issued .fd-qr svg.qr")).to_be_visible()
        qr_url = page.locator("#issued .fd-qr").get_attribute("data-url") or ""
        tickets = api.http.get("/api/v1/halls/t1/tickets", params={"status": "waiting"}, headers=api.auth("clerk1"))
        walkin = next(t for t in tickets.json() if t["number"] == "C001")
        assert walkin["channel"] == "counter" and walkin["lane"] == "special"  # the senior's lane, from the card
        assert walkin["phone_masked"] == "138****5678"
        token = qr_url.rsplit("/", 1)[-1]
        assert "/track/" in qr_url and api.http.get(f"/api/v1/track/{token}").json()["number"] == "C001"
        page_of_qr = api.http.get(qr_url)  # the QR is the answer's track_url: the citizen's live tracking page
        assert page_of_qr.status_code == 200 and page_of_qr.headers["content-type"].startswith("text/html")
        expect(page.locator("#walkin-id")).to_have_value("")  # nothing personal left on the screen

        # printing: the print layout is the ticket alone (80 mm), with the number and the QR
        page.click("#print")
        expect(page.locator("body")).to_have_attribute("data-printed", "C001")
        page.emulate_media(media="print")
        expect(page.locator("#print-ticket .pt-number")).to_have_text("C001")
        expect(page.locator("#print-ticket .pt-qr svg")).to_be_visible()
        expect(page.locator("#hall")).to_be_hidden()
        page.emulate_media(media="screen")

        # a vip ticket in another domain, no card
        page.click("#walkin-queues button[data-queue='A']")
        page.click("#walkin-lanes button[data-lane='vip']")
        page.click("#walkin-take")
        expect(number).to_have_text("A001")
        expect(page.locator("#issued .lane-vip")).to_be_visible()

        # 2. a hotline booking (电话预约) for a caller, then 3. its check-in at the desk
        page.click("#open-booking")
        expect(page.locator("#booking-dialog")).to_be_visible()
        page.wait_for_selector("#book-slot option[value*='T']", state="attached")  # the day's free slots
        page.fill("#book-name", "王小明")
        page.fill("#book-phone", "13900001111")
        page.fill("#book-id", CALLER_ID)
        page.click("#booking-save")
        expect(page.locator("#booking-dialog")).to_be_hidden()
        expect(page.locator("#flash")).to_contain_text("预约码")
        row = page.locator("#appts li[data-code]")
        expect(row).to_have_count(1)
        code = row.get_attribute("data-code")
        expect(row).to_contain_text("王*明")
        expect(row).to_contain_text("139****1111")
        expect(row).to_contain_text("电话")  # channel: phone
        row.locator("button.fd-act").click()
        expect(row.locator(".badge")).to_have_attribute("data-status", "checked_in")
        expect(number).to_have_text("A002")
        page.fill("#appt-q", "1111")  # the caller gives the phone's last four digits
        page.click("#appt-search button[type=submit]")
        expect(page.locator("#appts li[data-code]")).to_have_count(1)
        page.fill("#appt-q", "9999")
        page.click("#appt-search button[type=submit]")
        expect(page.locator("#appts")).to_contain_text("No appointment found")
        page.click("#appt-all")
        expect(page.locator("#appts li[data-code]")).to_have_count(1)
        appt = api.http.get(f"/api/v1/appointments/{code}").json()
        assert appt["status"] == "checked_in"
        t = next(
            x
            for x in api.http.get("/api/v1/halls/t1/tickets", headers=api.auth("clerk1")).json()
            if x["number"] == "A002"
        )
        assert t["lane"] == "appointment"

        # 4. a missed call (过号) comes back: the list follows the stream, 重新排队 puts it at the end of its queue
        missed = api.take("B", who=KIOSK)
        later = api.take("B", who=KIOSK)
        call = api.http.post(
            "/api/v1/halls/t1/windows/2/call", json={"number": missed["number"]}, headers=api.auth("clerk2")
        )
        assert call.status_code == 200, call.text
        assert api.act(missed["id"], "no-show", who="clerk2").status_code == 200
        early = api.http.post(
            "/api/v1/halls/t1/windows/2/call", json={"number": missed["number"]}, headers=api.auth("clerk2")
        )
        assert early.status_code == 409 and "总服务台" in early.json()["detail"]  # not "没有这张票": the way back
        item = page.locator(f"#noshows li[data-number='{missed['number']}']")
        expect(item).to_contain_text("2 号窗口")
        item.locator("button[data-rejoin]").click()
        expect(page.locator("#flash")).to_contain_text("已重新排队")
        expect(page.locator("#noshows li[data-number]")).to_have_count(0)
        back = api.http.get(f"/api/v1/tickets/{missed['id']}", headers=api.auth("clerk1")).json()
        assert back["status"] == "waiting" and back["number"] == missed["number"]
        assert back["arrived_at"] > later["arrived_at"]  # the hall's rule: back at the end of its queue
        again = api.http.post(
            "/api/v1/halls/t1/windows/2/call", json={"number": missed["number"]}, headers=api.auth("clerk2")
        )
        assert again.status_code == 200 and again.json()["status"] == "called"  # its number can be called again
        # the hall's rule (rejoin_* keys) is the one the page states, and it allows one rejoin only
        expect(page.locator("#rejoin-rule")).to_contain_text("30 分钟内")
        expect(page.locator("#rejoin-rule")).to_contain_text("at most 1 time a ticket")
        assert api.act(missed["id"], "no-show", who="clerk2").status_code == 200
        expect(item.locator(".fd-refusal")).to_contain_text("上限 1 次")
        expect(item.locator("button[data-rejoin]")).to_be_disabled()

        # 5. a home visit (预约上门) for a senior who cannot come
        page.click("#open-visit")
        page.select_option("#visit-queue", "C")
        page.fill("#visit-name", "孙大爷")
        page.fill("#visit-phone", "13700001111")
        page.fill("#visit-id", SENIOR_ID)
        page.fill("#visit-address", "环翠区文化西路 1 号")
        page.fill("#visit-reason", "行动不便，办理养老认证")
        page.click("#visit-save")
        expect(page.locator("#visit-dialog")).to_be_hidden()
        visit = page.locator("#visits li[data-code]")
        expect(visit).to_have_count(1)
        expect(visit).to_contain_text("孙*爷")
        expect(visit.locator(".badge")).to_have_attribute("data-status", "requested")
        listed = api.http.get("/api/v1/halls/t1/home-visits", headers=api.auth("clerk1")).json()
        assert [v["status"] for v in listed] == ["requested"]

        # nothing personal in full on the page, and it fits the desk's 1366×768 screen
        text = page.locator("body").inner_text()
        for secret in (PHONE, "13900001111", "13700001111", WALKIN_ID, CALLER_ID, SENIOR_ID, "文化西路"):
            assert secret not in text
        page.click("#walkin-queues button[data-queue='A']")
        page.screenshot(path=str(SHOTS / shot("console-desk", backend)))
        name = page.locator("#hall-name").text_content()
        page.locator("#hall-name").evaluate("e => { e.textContent = e.textContent.repeat(4); }")  # a long hall name
        width, inner_w, height, inner_h = fits(page)
        assert width <= inner_w and height <= inner_h, (width, inner_w, height, inner_h)
        page.set_viewport_size({"width": 900, "height": 900})  # narrower: the panels stack, no sideways scroll
        width, inner_w, _h, _ih = fits(page)
        assert width <= inner_w, (width, inner_w)
        page.locator("#hall-name").evaluate("(e, text) => { e.textContent = text; }", name)
        page.screenshot(path=str(SHOTS / shot("console-desk-narrow", backend)), full_page=True)
        page.set_viewport_size(CONSOLE)
    finally:
        page.close()


def test_the_desk_is_for_clerks_and_tells_others_so(api: Api, browser: Browser) -> None:
    page = log_in(browser, api, "approver1", "/console/desk")
    try:
        expect(page.locator("#fatal-text")).to_contain_text("For desk staff")
        assert page.locator("#hall").is_hidden()
    finally:
        page.close()
    r = api.http.get("/api/v1/halls/t1/desk/no-shows", headers=api.auth("approver1"))
    assert r.status_code == 403
