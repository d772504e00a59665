"""总服务台 (/console/desk) in headless Chromium, on both databases: a full day of the desk.

A walk-in ticket with the card reader (it types the ID number like a keyboard) and a QR to print, a
hotline booking checked in, a missed call put back in its queue, a home visit requested — every step
checked against the API as well, and the page's fit at 1366×768 and its reflow when narrower.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from peripherals.idcard import demo_card
from peripherals.idcard.sam_simulator import PtySamSimulator, SamSimulator
from peripherals.printer.simulator import PtySimulator
from queue_server.ids import make_id_number
from queue_server.models import AuditLog, DeskCard, Event

from ..api.test_console_api import console_config
from ..api.test_desk_api import desk_config
from ..harness import DESK, KIOSK, Api, LiveServer, fresh_database, runtime, serving
from .test_console import CONSOLE, SHOTS, log_in

PHONE = "13812345678"
WALKIN_ID = make_id_number(birth=date(1950, 3, 4), serial=21)  # a senior: the server puts them in lane special
CALLER_ID = make_id_number(birth=date(1988, 5, 6), serial=22)
SENIOR_ID = make_id_number(birth=date(1941, 7, 8), serial=23)
ROOT = Path(__file__).resolve().parents[2]


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


def agent_state(api: Api) -> dict[str, object]:
    """The desk agent desk-t1 as the desk page sees it (GET …/desk/setup)."""
    setup = api.http.get("/api/v1/halls/t1/desk/setup", headers=api.auth("clerk1")).json()
    return dict(next(a for a in setup["agents"] if a["name"] == "desk-t1"))


def start_agent(api: Api, reader_url: str, printer_url: str) -> subprocess.Popen[bytes]:
    """`python -m peripherals.desk_agent` as a hall runs it, with desk-t1's token; returns once it reported."""
    cmd = [sys.executable, "-m", "peripherals.desk_agent", "--server", api.server.url, "--token", DESK]
    cmd += ["--id-reader", reader_url, "--printer", printer_url, "--read-timeout", "3"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not agent_state(api)["online"]:
        assert proc.poll() is None, (proc.stderr.read() if proc.stderr else b"").decode()
        assert time.monotonic() < deadline, "the desk agent did not report"
        time.sleep(0.2)
    return proc


def stop_agent(proc: subprocess.Popen[bytes]) -> str:
    """Stop the agent as a hall's service manager would (SIGTERM); its log."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")


def test_the_desk_reads_the_card_and_prints_on_its_own_devices(api: Api, browser: Browser, backend: str) -> None:
    """读卡 from a SAM reader and 打印 on an ESC/POS printer, both over pseudo-terminals, through the desk agent;
    without the agent the page says so and falls back to the browser's print."""
    card = demo_card()
    page = open_desk(browser, api)
    proc: subprocess.Popen[bytes] | None = None
    with PtySamSimulator(SamSimulator(card)) as sam, PtySimulator() as printer:
        try:
            # no agent yet: 读卡 says so, 打印 goes to the browser and says so
            expect(page.locator("#desk-devices")).to_have_attribute("data-online", "false")
            page.click("#walkin-read")
            expect(page.locator("#flash")).to_contain_text("未连接总服务台读卡器")
            page.click("#walkin-queues button[data-queue='B']")
            page.click("#walkin-take")
            expect(page.locator("#issued .fd-ticket-number")).to_have_text("B001")
            page.click("#print")
            expect(page.locator("#flash")).to_contain_text("未连接总服务台打印机，已改用浏览器打印")
            expect(page.locator("body")).to_have_attribute("data-printed-via", "browser")
            expect(page.locator("body")).to_have_attribute("data-printed", "B001")

            # the agent starts: the page sees it connected (its health report is a hall event)
            proc = start_agent(api, sam.url, printer.url)
            expect(page.locator("#desk-devices")).to_have_attribute("data-online", "true", timeout=15_000)

            # 读卡 fills the walk-in form from the SAM reader (the card's data never in the public stream)
            page.click("#walkin-read")
            expect(page.locator("#walkin-id")).to_have_value(card.id_number, timeout=15_000)
            expect(page.locator("body")).to_have_attribute("data-card-read", "walkin")
            page.click("#walkin-queues button[data-queue='C']")
            page.click("#walkin-take")
            number = page.locator("#issued .fd-ticket-number")
            expect(number).to_have_text("C001")
            ticket = next(
                t
                for t in api.http.get("/api/v1/halls/t1/tickets", headers=api.auth("clerk1")).json()
                if t["number"] == "C001"
            )
            assert ticket["id_number_masked"] == card.id_number[:4] + "**********" + card.id_number[-4:]

            # 打印 on the desk's ESC/POS printer: the number and the QR = the ticket's track_url, in the bytes
            qr_url = page.locator("#issued .fd-qr").get_attribute("data-url") or ""
            page.click("#print")
            expect(page.locator("#flash")).to_contain_text("已在总服务台打印机打印", timeout=15_000)
            expect(page.locator("body")).to_have_attribute("data-printed-via", "desk", timeout=15_000)
            page.screenshot(path=str(SHOTS / shot("console-desk-devices", backend)))
            doc = printer.printer.wait_for_documents(1, timeout=20)[0]
            assert doc.qr_payloads == [qr_url] and "/track/" in qr_url
            assert any("C001" in line for line in doc.text_lines)
            assert any("社会事务" in line for line in doc.text_lines)
            sent = bytes(printer.printer.job_bytes)
            assert b"C001" in sent and qr_url.encode() in sent and b"\x1d(k" in sent  # GS ( k: the QR code
            assert card.id_number.encode() not in sent and card.name.encode("gb18030") not in sent

            # the booking dialog's 读卡 fills the caller's name and ID number
            page.click("#open-booking")
            page.click("#book-read")
            expect(page.locator("#book-id")).to_have_value(card.id_number, timeout=15_000)
            expect(page.locator("#book-name")).to_have_value(card.name)
            page.click("#booking-cancel")
            page.click("#open-visit")  # and the home-visit request's
            page.click("#visit-read")
            expect(page.locator("#visit-id")).to_have_value(card.id_number, timeout=15_000)
            expect(page.locator("#visit-name")).to_have_value(card.name)
            page.click("#visit-cancel")

            # nothing of the card in the hall's event stream, and the one fetch is audited and gone
            with api.server.ctx.db.read() as s:
                texts = [str(x) for x in s.execute(select(Event.data)).scalars()]
                left = s.execute(select(func.count()).select_from(DeskCard)).scalar_one()
                looks = s.execute(select(AuditLog.actor).where(AuditLog.action == "desk_card")).scalars().all()
            assert any("desk.card_read" in t or "request" in t for t in texts)
            assert not any(card.id_number in t or card.name in t for t in texts)
            assert left == 0 and looks == ["clerk1"] * 3  # three reads, each fetched once by the clerk

            # the agent stops: it says so, and the page prints through the browser again
            log = stop_agent(proc)
            assert card.id_number not in log and card.name not in log
            expect(page.locator("#desk-devices")).to_have_attribute("data-online", "false", timeout=15_000)
            page.click("#print")
            expect(page.locator("#flash")).to_contain_text("已改用浏览器打印")
            expect(page.locator("body")).to_have_attribute("data-printed-via", "browser")
            assert len(printer.printer.documents) == 1
        finally:
            if proc is not None:
                stop_agent(proc)
            page.close()
